"""Date-times through the API's model serializers (silences here): in UTC both ways, 2000 to 2099."""

import pytest


def create_silence(world, starts_at: str, ends_at: str):
    return world.api().post(
        "/api/v1/alerts/silences/",
        {"starts_at": starts_at, "ends_at": ends_at, "comment": "maintenance"},
        content_type="application/json",
    )


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [
        ("0527-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "starts_at"),
        ("1999-12-31T23:59:59Z", "2026-03-01T10:00:00Z", "starts_at"),
        ("2026-03-01T10:00:00Z", "2100-01-01T00:00:00Z", "ends_at"),
        ("2026-03-01T10:00:00Z", "9999-12-31T23:59:59-01:00", "ends_at"),
        ("0001-01-01T00:00:00+01:00", "2026-03-01T10:00:00Z", "starts_at"),
    ],
)
def test_a_date_time_outside_2000_to_2099_is_refused_by_name(alpha, starts_at, ends_at, field):
    response = create_silence(alpha, starts_at, ends_at)

    assert response.status_code == 400
    assert response.json()["fields"] == {field: "Give a date-time between 2000-01-01 and 2099-12-31."}


def test_date_times_come_back_in_utc_whatever_the_tenants_zone(alpha):
    assert alpha.tenant.timezone == "Europe/Paris"

    response = create_silence(alpha, "2026-03-01T11:00:00+01:00", "2026-03-01T12:30:00+01:00")

    assert response.status_code == 201
    body = response.json()
    assert (body["starts_at"], body["ends_at"]) == ("2026-03-01T10:00:00Z", "2026-03-01T11:30:00Z")
    assert body["created_at"].endswith("Z")


def test_a_naive_date_time_is_taken_as_utc(alpha):
    response = create_silence(alpha, "2026-03-01T10:00:00", "2026-03-01T11:00:00")

    assert response.status_code == 201
    assert response.json()["starts_at"] == "2026-03-01T10:00:00Z"


def test_the_earliest_and_latest_moments_of_the_range_are_accepted(alpha):
    response = create_silence(alpha, "2000-01-01T00:00:00Z", "2099-12-31T23:59:59Z")

    assert response.status_code == 201
    body = response.json()
    assert (body["starts_at"], body["ends_at"]) == ("2000-01-01T00:00:00Z", "2099-12-31T23:59:59Z")
