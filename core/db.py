"""Database helpers for the hot paths."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection


@contextmanager
def bound_cursor() -> Iterator[psycopg.Cursor]:
    """A psycopg cursor that sends parameters separately from the statement (server-side binding),
    on the current connection and in its transaction, for statements run on every API call.

    Django's cursors bind on the client: each call re-parses the statement and quotes every
    parameter (each element of a list) in Python, and PostgreSQL plans it afresh. Here psycopg
    prepares a statement once it has run a few times on a connection, and values travel as they
    are. Django's cursor is opened first, so the tenant's search path is set (django-tenants)."""
    with connection.cursor() as django_cursor, psycopg.Cursor(django_cursor.cursor.connection) as cursor:
        yield cursor
