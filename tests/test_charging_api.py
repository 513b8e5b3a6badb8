"""The charging API: the analyses with filters as query parameters (cached per data generation),
the imports it queues and reports, the uploads it takes, and nothing of another tenant."""

import io

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from charging.analyses import NAMES, analysis
from charging.models import ChargingSession, ImportRun, ImportStatus
from tests.charging_data import charging_load, files_of, files_source, session
from tests.test_celery_worker import wait_for, worker  # noqa: F401  (the real worker fixture)


@pytest.fixture
def data(alpha):
    with schema_context(alpha.slug):
        charging_load(sessions=[
            session("OK1", start="2026-03-02 10:00:00"),
            session("OK2", start="2026-03-03 11:00:00", site="RENNES"),
            session("EVI", start="2026-03-04 12:00:00", outcome=1, ds=8192, step=8),
            session("FEB", start="2026-02-10 09:00:00", outcome=1, ds=1234, step=1),
        ])  # fmt: skip
    connection.set_schema_to_public()
    return alpha


def test_an_analysis_answers_its_headline_figures_as_named_fields(data):
    response = data.api().get("/api/v1/charging/analyses/general", {"period": "month", "d1": "2026-03-01"})
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("analysis", "total", "ok", "failed", "success_pct")} == {
        "analysis": "general", "total": 3, "ok": 2, "failed": 1, "success_pct": 66.67}  # fmt: skip
    assert body["filters"] == {"period": "month", "d1": "2026-03-01", "d2": "2026-03-31"}
    assert [row["site"] for row in body["tables"]["sites"]["rows"]] == ["CESSON", "RENNES"]
    assert body["data_as_of"] is not None


def test_the_default_period_is_the_month_of_the_newest_session(data):
    body = data.api().get("/api/v1/charging/analyses/general").json()
    assert (body["filters"]["d1"], body["total"]) == ("2026-03-01", 3)


def test_a_bad_filter_is_a_400_naming_it(data):
    response = data.api().get("/api/v1/charging/analyses/general", {"period": "fortnight", "sites": "NOWHERE"})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "period": "Choose one of: day, month, yesterday, week, all, range.",
        "sites": "Unknown site: NOWHERE.",
    }


def test_a_repeated_request_is_answered_from_the_cache_until_an_import_changes_the_data(data):
    api = data.api()
    query = {"period": "all", "sites": "cesson"}
    assert api.get("/api/v1/charging/analyses/general", query).json()["total"] == 3
    with schema_context(data.slug):
        ChargingSession.objects.filter(external_id="OK1").delete()  # behind the import's back
    connection.set_schema_to_public()
    assert api.get("/api/v1/charging/analyses/general", query).json()["total"] == 3
    with schema_context(data.slug):
        charging_load(sessions=[session("NEW", start="2026-03-05 10:00:00")])
    connection.set_schema_to_public()
    assert api.get("/api/v1/charging/analyses/general", query).json()["total"] == 3  # 2 left + NEW


def test_another_tenants_analysis_shows_none_of_this_ones_sessions(data, beta):
    body = beta.api().get("/api/v1/charging/analyses/general", {"period": "all"}).json()
    assert (body["total"], body["tables"]["sites"]["rows"]) == (0, [])
    assert beta.api().get("/api/v1/charging/analyses/general", {"sites": "cesson"}).status_code == 400


def test_a_read_only_key_may_read_analyses_but_not_start_an_import(data):
    reader = data.api(data.read_token)
    assert reader.get("/api/v1/charging/analyses/general").status_code == 200
    assert reader.post("/api/v1/charging/refresh", {}, content_type="application/json").status_code == 403


def test_an_upload_is_queued_then_imported_with_its_report(data, django_capture_on_commit_callbacks):
    with schema_context(data.slug):
        source = files_source()
    connection.set_schema_to_public()
    name, content = files_of(sessions=[session("UP1"), session("UP2", energy=-1)])["sessions"]
    upload = io.BytesIO(content)
    upload.name = name
    with django_capture_on_commit_callbacks(execute=True):
        response = data.api().post("/api/v1/charging/uploads", {"source": source.pk, "sessions": upload})
    assert response.status_code == 202
    job = data.api().get(f"/api/v1/charging/imports/{response.json()['id']}").json()
    assert {k: job[k] for k in ("status", "rows_read", "rows_created", "rows_rejected")} == {
        "status": "succeeded", "rows_read": 2, "rows_created": 1, "rows_rejected": 1}  # fmt: skip
    assert job["rejects"] == [{"table": "sessions", "id": "UP2", "reason": "Energy (Kwh): -1.0 is negative"}]


def test_an_upload_of_a_pdf_is_refused_naming_the_file(data):
    with schema_context(data.slug):
        source = files_source()
    connection.set_schema_to_public()
    upload = io.BytesIO(b"%PDF-1.4")
    upload.name = "sessions.pdf"
    response = data.api().post("/api/v1/charging/uploads", {"source": source.pk, "sessions": upload})
    assert response.status_code == 400
    assert response.json()["fields"] == {"sessions": "sessions.pdf: only .csv and .xlsx files can be imported."}


def test_refresh_of_an_unknown_source_is_a_400(data):
    response = data.api().post("/api/v1/charging/refresh", {"source": 999999}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"source": "No charging source 999999 here."}


def test_an_import_of_another_tenant_is_not_found(data, beta):
    with schema_context(data.slug):
        run_id = ImportRun.objects.order_by("-pk").values_list("pk", flat=True).first()
    connection.set_schema_to_public()
    assert beta.api().get(f"/api/v1/charging/imports/{run_id}").status_code == 404


def test_an_upload_is_imported_by_a_real_worker_through_the_broker(worlds, worker):  # noqa: F811
    alpha = worlds["alpha"]
    with alpha.blocker.unblock(), schema_context(alpha.slug):
        source = files_source("Worker exports")
    connection.set_schema_to_public()
    name, content = files_of(sessions=[session("W1"), session("W2", pdc="PDC9")])["sessions"]
    upload = io.BytesIO(content)
    upload.name = name
    with alpha.blocker.unblock():
        response = alpha.api().post("/api/v1/charging/uploads", {"source": source.pk, "sessions": upload})
    assert response.status_code == 202
    run_id = response.json()["id"]

    def finished():
        with alpha.blocker.unblock(), schema_context(alpha.slug):
            run = ImportRun.objects.get(pk=run_id)
        connection.set_schema_to_public()
        return run if run.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED) else None

    run = wait_for(finished, worker)
    try:
        assert (run.status, run.rows_created, run.error) == ("succeeded", 2, "")
        assert "Traceback" not in worker.log.read_text()
    finally:
        with alpha.blocker.unblock(), schema_context(alpha.slug):
            source.delete()
        connection.set_schema_to_public()


@pytest.mark.parametrize("name", NAMES)
def test_each_analysis_answers_the_figures_its_openapi_names(data, name):
    response = data.api().get(f"/api/v1/charging/analyses/{name}", {"period": "all"})
    assert response.status_code == 200
    body = response.json()
    declared = set(analysis(name).FIGURES)
    assert declared <= set(body), declared - set(body)
    assert set(body) - declared == {"analysis", "filters", "data_as_of", "sources", "tables", "charts", "notes"}


def test_the_openapi_documents_one_operation_per_analysis(data):
    schema = data.api().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    paths = schema.json()["paths"] if schema.status_code == 200 else {}
    assert {f"/api/v1/charging/analyses/{name}" for name in NAMES} <= set(paths)


def test_the_session_list_gives_every_field_and_its_derivation_newest_first(data):
    body = data.api().get("/api/v1/charging/sessions", {"period": "month", "d1": "2026-03-01"}).json()
    assert (body["count"], body["next"]) == (3, None)
    assert [s["id"] for s in body["results"]] == ["EVI", "OK2", "OK1"]
    first = body["results"][0]
    assert {k: first[k] for k in ("site", "charge_point", "error_type", "moment", "derivation", "link")} == {
        "site": "cesson", "charge_point": "PDC1", "error_type": "Erreur_EVI", "moment": "Charge",
        "derivation": "DS 8192 → EVI error; step 8 → Charge",
        "link": "https://elto.nidec-asi-online.com/Charge/detail?id=EVI",
    }  # fmt: skip
    assert first["started_at"] == "2026-03-04T11:00:00Z"


def test_the_session_list_pages_by_cursor_and_filters_by_status_and_text(data):
    api = data.api()
    page = api.get("/api/v1/charging/sessions", {"period": "all", "page_size": 2}).json()
    assert [s["id"] for s in page["results"]] == ["EVI", "OK2"]
    rest = api.get(page["next"]).json()
    assert ([s["id"] for s in rest["results"]], rest["next"]) == (["OK1", "FEB"], None)
    failed = api.get("/api/v1/charging/sessions", {"period": "all", "status": "failed", "types": "EVI"}).json()
    assert [s["id"] for s in failed["results"]] == ["EVI"]  # FEB failed, but Downstream: filtered out, counts OK
    assert api.get("/api/v1/charging/sessions", {"period": "all", "q": "ok2"}).json()["count"] == 1


def test_a_bad_cursor_or_page_size_is_a_400_naming_it(data):
    api = data.api()
    assert api.get("/api/v1/charging/sessions", {"cursor": "yesterday"}).json()["fields"] == {
        "cursor": "Use the `next` address of the previous page."}  # fmt: skip
    assert list(api.get("/api/v1/charging/sessions", {"page_size": "0"}).json()["fields"]) == ["page_size"]
    assert api.get("/api/v1/charging/sessions/export/pdf").status_code == 400


def test_the_session_list_exports_as_csv(data):
    response = data.api().get("/api/v1/charging/sessions/export/csv", {"period": "all", "status": "failed"})
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["EVI", "FEB"]


def test_refresh_without_a_database_source_says_to_upload_the_files(data):
    response = data.api().post("/api/v1/charging/refresh", {}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["fields"]["source"].startswith("No database source to read here")


def test_refresh_queues_a_job_to_poll_and_reports_a_source_that_is_down(data, django_capture_on_commit_callbacks):
    from charging.models import ChargingSource
    from tests.conftest import free_port

    with schema_context(data.slug):
        ChargingSource.objects.create(name="KPI", host="127.0.0.1", port=free_port(), user="u", database="Charges")
    connection.set_schema_to_public()
    with django_capture_on_commit_callbacks(execute=True):
        response = data.api().post("/api/v1/charging/refresh", {"full": True}, content_type="application/json")
    assert response.status_code == 202
    [job] = response.json()["jobs"]
    assert (job["status"], job["full"], job["trigger"]) == ("queued", True, "api")
    polled = data.api().get(job["url"].replace("http://testserver", "")).json()
    assert polled["status"] == "failed"
    assert polled["error"].startswith("Nothing answers at this host and port")
