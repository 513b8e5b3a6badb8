"""A task that meets PostgreSQL down (config.celery.DatabaseOutageTask): one warning, no traceback."""

import logging

import pytest
from django.db import OperationalError

from config.celery import app


@app.task(name="tests.outage_probe")
def outage_probe(error: str):
    if error == "database":
        raise OperationalError("couldn't get a connection after 1.50 sec")
    raise ValueError("a real bug")


def test_a_task_that_meets_the_database_down_gives_up_with_one_warning(caplog):
    caplog.set_level(logging.WARNING, logger="config.celery")

    results = [outage_probe.apply(args=["database"]) for _ in range(3)]

    assert [(result.successful(), result.result) for result in results] == [(True, None)] * 3
    assert [record.getMessage() for record in caplog.records if record.name == "config.celery"] == [
        "tests.outage_probe skipped: the database is unavailable (couldn't get a connection after 1.50 sec)"
    ]


def test_a_task_that_fails_for_another_reason_still_fails():
    result = outage_probe.apply(args=["bug"])

    assert result.failed()
    with pytest.raises(ValueError, match="a real bug"):
        result.get(propagate=True)
