"""Database helpers for the hot paths, and the pool's check of its connections."""

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import InterfaceError, OperationalError, connection
from psycopg import pq

# What PostgreSQL being down, frozen or restarting looks like from here: a refused or broken
# connection, no connection from the pool in time (psycopg_pool.PoolTimeout is an OperationalError),
# a connection already closed; raw from psycopg or wrapped by Django.
UNAVAILABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
# Seconds a client is told to wait before trying again while the database is unavailable.
RETRY_AFTER_S = 5


def is_database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, UNAVAILABLE)


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


_last_unanswered_check = [float("-inf")]  # when a check last went unanswered, in this process


def check_pooled_connection(conn: psycopg.Connection, *, timeout: float) -> None:
    """The pool's check of a connection before handing it out: an empty query answered within
    `timeout` seconds, else the connection is closed and the pool makes another.

    A connection left from before a PostgreSQL restart fails here instead of in the request; unlike
    psycopg_pool's `ConnectionPool.check_connection`, a server that accepts but never answers
    (frozen, or behind a dead link) fails the check too instead of holding the request forever.
    The pool checks its idle connections one after the other: once one went unanswered, the others
    checked within the next second are dropped at once (a request would otherwise wait for each)."""
    pgconn = conn.pgconn
    try:
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            raise psycopg.OperationalError("the pooled connection is not idle")
        if time.monotonic() - _last_unanswered_check[0] < 1:
            raise psycopg.OperationalError("PostgreSQL left a check unanswered a moment ago")
        deadline = time.monotonic() + timeout
        pgconn.send_query(b"")
        while pgconn.flush():  # psycopg's connections are non-blocking: the query may not be out yet
            _wait(pgconn.socket, deadline, write=True)
        pgconn.consume_input()
        while pgconn.is_busy():
            _wait(pgconn.socket, deadline)
            pgconn.consume_input()
        while (result := pgconn.get_result()) is not None:
            if result.status == pq.ExecStatus.FATAL_ERROR:
                raise psycopg.OperationalError(result.get_error_message())
    except Exception:
        conn.close()
        raise


def _wait(fileno: int, deadline: float, *, write: bool = False) -> None:
    remaining = max(0.0, deadline - time.monotonic())
    readable, writable, _errors = select.select([] if write else [fileno], [fileno] if write else [], [], remaining)
    if not readable and not writable:
        _last_unanswered_check[0] = time.monotonic()
        raise psycopg.OperationalError("PostgreSQL did not answer the pool's check in time")
