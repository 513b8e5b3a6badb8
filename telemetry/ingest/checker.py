"""The threshold checker: one loop (`manage.py check_thresholds`, started by the launcher and by
docker compose) that checks every tenant's unchecked readings about once a second.

Each round finds, in one query over every active tenant's schema, the tenants with readings
waiting, and checks each of them (`telemetry.ingest.thresholds.check_unchecked`). Several checkers may
run: the marks they claim are leased, never checked twice at once. A database that is down pauses
the loop; it resumes where the marks say.
"""

import logging
import time

from django.db import close_old_connections, connection
from django_tenants.utils import schema_context
from psycopg import sql

from core.db import is_database_unavailable
from telemetry.ingest.thresholds import TABLE, check_unchecked
from tenants.selectors import active_schema_names

logger = logging.getLogger(__name__)
TENANTS_REFRESH_S = 30  # a new tenant's readings are checked within this


def schemas_with_unchecked(schemas: list[str]) -> list[str]:
    """Those of `schemas` that have readings to check now (a mark not leased, or whose lease ran
    out), in one round trip however many tenants there are."""
    if not schemas:
        return []
    waiting = sql.SQL(
        "SELECT {name} WHERE EXISTS (SELECT 1 FROM {table} WHERE lease_expires IS NULL OR lease_expires < now())"
    )
    query = sql.SQL(" UNION ALL ").join(
        waiting.format(name=sql.Literal(schema), table=sql.Identifier(schema, TABLE)) for schema in schemas
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        return [row[0] for row in cursor.fetchall()]


def check_round(schemas: list[str]) -> int:
    """Check every tenant of `schemas` that has readings waiting; the number of assets checked.
    A tenant whose check fails is logged and left for a later round (its lease expires)."""
    checked = 0
    for schema in schemas_with_unchecked(schemas):
        try:
            with schema_context(schema):
                checked += check_unchecked()
        except Exception as exc:
            if is_database_unavailable(exc):
                raise
            logger.exception("threshold check failed for %s", schema)
    return checked


class ThresholdChecker:
    def __init__(self, interval: float):
        self.interval = interval
        self._schemas: list[str] = []
        self._schemas_at = float("-inf")

    def schemas(self) -> list[str]:
        if time.monotonic() - self._schemas_at > TENANTS_REFRESH_S:
            with schema_context("public"):
                self._schemas = active_schema_names()
            self._schemas_at = time.monotonic()
        return self._schemas

    def run_once(self) -> int:
        close_old_connections()
        return check_round(self.schemas())

    def run_forever(self) -> None:
        unreachable = False
        while True:
            started = time.monotonic()
            try:
                self.run_once()
                if unreachable:
                    logger.warning("threshold checks resumed: PostgreSQL is reachable again")
                    unreachable = False
            except Exception as exc:
                if not is_database_unavailable(exc):
                    logger.exception("threshold checks failed; trying again in %s s", self.interval)
                elif not unreachable:
                    logger.warning("threshold checks paused: PostgreSQL is unreachable (%s)", exc)
                    unreachable = True
                connection.close()
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))
