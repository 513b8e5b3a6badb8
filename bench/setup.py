"""Shared by the benchmarks: a fresh database of their own on the same server the tests use."""

import os
from urllib.parse import urlsplit, urlunsplit

from config.embedded import use_local_services


def recreate_database(name: str) -> None:
    """Point DATABASE_URL at a fresh bench database on the same server."""
    import psycopg

    use_local_services(database=name, redis_db=10)
    if not os.environ.get("DATABASE_URL"):
        from config import embedded

        os.environ["DATABASE_URL"] = embedded.postgres_url()
    parts = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
