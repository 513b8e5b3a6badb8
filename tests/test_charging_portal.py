"""The Charging section of the portal: the analyses page and its tabs, the filters in the address,
exports, the session list, the sources and their imports, per role and per tenant."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from charging.explain import derivation
from charging.models import ChargingSession, ChargingSource, ImportRun, SourceKind
from tests.charging_data import SESSION_HEADER, as_csv, charging_load, files_source, session

MARCH = [
    session("OK1", start="2026-03-02 10:00:00"),
    session("OK2", start="2026-03-03 11:00:00", outcome=None),
    session("EVI1", start="2026-03-04 12:00:00", outcome=1, ds=8192, step=8),
    session("DS1", start="2026-03-05 13:00:00", outcome=1, ds=1234, step=2),
    session("R1", site="RENNES", start="2026-03-06 14:00:00", outcome=1, ds=0, evi=12, step=1),
]


@pytest.fixture
def data(alpha):
    with schema_context(alpha.slug):
        charging_load(sessions=MARCH)
    return alpha


def page(response) -> str:
    return response.content.decode()


# --- The pages, per role ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
@pytest.mark.parametrize("path", ["/charging/", "/charging/sessions/", "/charging/sources/", "/charging/tab/general/"])
def test_every_charging_page_opens_for_every_role(data, role, path):
    assert data.http(role).get(path).status_code == 200


def test_the_navigation_leads_to_the_charging_page_not_the_placeholder(alpha):
    html = page(alpha.http("viewer").get("/"))
    assert 'href="/charging/"' in html
    assert "coming soon" not in page(alpha.http("viewer").get("/charging/")).lower()


def test_the_page_shows_the_general_tab_figures_as_cards(data):
    html = page(data.http("viewer").get("/charging/?tab=general&period=month&d1=2026-03-01"))
    assert 'data-figure="total"><div class="muted">Total</div><div class="stat">5</div>' in html
    assert 'data-figure="failed"><div class="muted">Failed</div><div class="stat">3</div>' in html
    assert 'data-figure="success_pct"><div class="muted">Success rate</div><div class="stat">40.00 %</div>' in html


def test_the_tab_shows_its_notes_its_chart_data_and_the_table_of_the_chart(data):
    html = page(data.http("viewer").get("/charging/tab/general/?period=month&d1=2026-03-01"))
    assert "A failure whose error type or moment is not selected counts as OK" in html
    assert '<script id="chart-general-moments" type="application/json">' in html
    assert 'canvas data-chart="chart-general-moments"' in html
    assert 'id="table-moments"' in html and 'href="#table-moments"' in html
    assert "<script>" not in html  # the CSP allows no inline script


def test_every_table_has_its_csv_and_xlsx_exports_with_the_filters(data):
    html = page(data.http("viewer").get("/charging/tab/general/?period=month&d1=2026-03-01&sites=cesson"))
    assert 'href="/charging/export/general/sites.csv?period=month&amp;d1=2026-03-01&amp;sites=cesson"' in html
    assert 'href="/charging/export/general/sites.xlsx?period=month&amp;d1=2026-03-01&amp;sites=cesson"' in html


# --- Filters in the address --------------------------------------------------------------------------


def test_a_tab_pushes_the_page_address_with_its_filters(data):
    response = data.http("viewer").get(
        "/charging/tab/general/?period=month&d1=2026-03-17&sites=rennes&sites=cesson&types=EVI", HTTP_HX_REQUEST="true"
    )
    assert (
        response["HX-Push-Url"] == "/charging/?tab=general&period=month&d1=2026-03-01&sites=cesson%2Crennes&types=EVI"
    )


def test_the_bookmarked_address_gives_back_the_same_form(data):
    html = page(data.http("viewer").get("/charging/?tab=general&period=range&d1=2026-03-02&d2=2026-03-04&sites=rennes"))
    assert '<option value="range" selected>' in html
    assert 'name="d1" value="2026-03-02"' in html and 'name="d2" value="2026-03-04"' in html
    assert '<option value="rennes" selected>RENNES</option>' in html
    assert '<option value="" >All sites</option>' in html  # a site is chosen: not "all"


def test_the_tab_links_keep_the_shared_filters(data):
    html = page(data.http("viewer").get("/charging/?tab=general&period=day&d1=2026-03-04"))
    assert 'href="/charging/?tab=general&amp;period=day&amp;d1=2026-03-04"' in html


def test_an_invalid_filter_shows_the_field_and_the_reason_not_an_error_page(data):
    response = data.http("viewer").get("/charging/?tab=general&period=range&d1=2026-13-01&sites=nowhere")
    assert response.status_code == 400
    html = page(response)
    assert 'data-field="d1">Start date: “2026-13-01” is not a date: use YYYY-MM-DD.</li>' in html
    assert 'data-field="sites">Sites: Unknown site: nowhere.</li>' in html
    assert 'id="f-d1" type="date" name="d1" value="2026-13-01"' in html


def test_an_invalid_filter_in_a_tab_request_says_why_in_the_form(data):
    response = data.http("viewer").get("/charging/tab/general/?period=fortnight", HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # HTMX swaps it in
    assert "HX-Push-Url" not in response
    html = page(response)
    assert 'id="filter-errors" class="errorlist" role="alert" hx-swap-oob="true">' in html
    assert 'data-field="period">Period: Choose one of: day, month, yesterday, week, all, range.</li>' in html


def test_an_unknown_tab_is_a_404(data):
    assert data.http("viewer").get("/charging/tab/nope/").status_code == 404


# --- Exports -----------------------------------------------------------------------------------------


def test_the_csv_export_of_a_table_is_exact(data):
    response = data.http("viewer").get("/charging/export/general/sites.csv?period=month&d1=2026-03-01")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="charging-general-sites-20260301-20260331.csv"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).decode() == (
        "Site,Sessions,OK,Failed,Failed: Before charge,Failed: Charge,Failed: End of charge,% OK,% failed\r\n"
        "CESSON,4,2,2,1,1,0,50,50\r\n"
        "RENNES,1,0,1,1,0,0,0,100\r\n"
    )


def test_the_xlsx_export_reads_back_with_openpyxl(data):
    response = data.http("viewer").get("/charging/export/general/moments.xlsx?period=month&d1=2026-03-01")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)]
    header = rows.index(("Moment", "Failed"))
    assert rows[header + 1 :] == [("Init", 2), ("Charge", 1)]


def test_an_export_of_an_unknown_table_or_format_is_a_404(data):
    viewer = data.http("viewer")
    assert viewer.get("/charging/export/general/nope.csv").status_code == 404
    assert viewer.get("/charging/export/general/sites.pdf").status_code == 404


# --- Another tenant's data ----------------------------------------------------------------------------


def test_beta_sees_nothing_of_alpha_charging(data, beta):
    client = beta.http("admin")
    html = page(client.get("/charging/?tab=general&period=all"))
    assert 'data-figure="total"><div class="muted">Total</div><div class="stat">0</div>' in html
    assert "RENNES" not in html and "CESSON" not in html
    assert "EVI1" not in page(client.get("/charging/sessions/?period=all"))
    with schema_context(data.slug):
        run = ImportRun.objects.first()
        source = ChargingSource.objects.first()
    assert client.get(f"/charging/imports/{run.pk}/").status_code == 404
    assert client.get(f"/charging/sources/{source.pk}/").status_code == 404


# --- Freshness -------------------------------------------------------------------------------------------


def test_every_charging_page_says_when_the_data_is_from_and_which_source_is_unreachable(data):
    with schema_context(data.slug):
        ChargingSource.objects.update(
            last_success_at=datetime(2026, 3, 7, 9, 30, tzinfo=UTC),
            unreachable_since=datetime(2026, 3, 7, 11, 0, tzinfo=UTC),
            last_error="Access denied for user 'kpi'",
        )
    with schema_context(data.slug):
        pk = ChargingSource.objects.get().pk
    for path in ("/charging/", "/charging/sessions/", "/charging/sources/", f"/charging/sources/{pk}/"):
        html = page(data.http("admin").get(path))
        assert "Data as of 2026-03-07 10:30 CET" in html, path
        assert "Source Exports unreachable since 2026-03-07 12:00 CET (Access denied for user &#x27;kpi&#x27;)" in html


def test_without_a_source_the_banner_says_so(alpha):
    assert "No charging data source yet." in page(alpha.http("viewer").get("/charging/"))


# --- The session list ------------------------------------------------------------------------------------


def test_the_session_list_shows_every_session_with_its_derivation(data):
    html = page(data.http("viewer").get("/charging/sessions/?period=month&d1=2026-03-01"))
    assert "5 sessions" in html
    assert "DS 8192 → EVI error; step 8 → Charge" in html
    assert 'href="https://elto.nidec-asi-online.com/Charge/detail?id=EVI1"' in html


def test_the_session_list_searches_id_mac_and_vehicle(data):
    html = page(data.http("viewer").get("/charging/sessions/?period=month&d1=2026-03-01&q=ds1"))
    assert "1 session<" in html and ">DS1</a>" in html and ">OK1</a>" not in html


def test_the_session_list_keeps_failures_counted_under_the_filters(data):
    html = page(data.http("viewer").get("/charging/sessions/?period=month&d1=2026-03-01&status=failed&types=EVI"))
    assert "2 sessions" in html and ">EVI1</a>" in html and ">R1</a>" in html and ">DS1</a>" not in html


def test_the_session_list_pages_by_keyset(data, monkeypatch):
    monkeypatch.setattr("charging.views.analyses.PAGE_SIZE", 2)
    client = data.http("viewer")
    html = page(client.get("/charging/sessions/?period=month&d1=2026-03-01"))
    assert ">R1</a>" in html and ">DS1</a>" in html and ">EVI1</a>" not in html
    next_url = html.split('class="btn btn-small" href="')[-1].split('"')[0].replace("&amp;", "&")
    html = page(client.get(next_url))
    assert ">EVI1</a>" in html and ">OK2</a>" in html and ">R1</a>" not in html


def test_the_session_export_streams_the_filtered_list(data):
    response = data.http("viewer").get("/charging/sessions/export.csv?period=month&d1=2026-03-01&sites=rennes")
    assert b"".join(response.streaming_content).decode() == (
        'ID,Site,Project,Charge point,Start,End,Duration (s),"Outcome (0 good, 1 error)",OK,Error type,Moment,'
        "Advanced moment,Energy (kWh),Mean power (kW),Max power (kW),SOC start (%),SOC end (%),EVI error code,"
        "Downstream code,EVI step during error,MAC address,Vehicle,900 V charge,Warnings,Derivation\r\n"
        "R1,RENNES,Borne Express,PDC1,2026-03-06T14:00:00+01:00,2026-03-06T14:30:00+01:00,1800,1,no,Erreur_EVI,Init,"
        "Avant charge,"
        '20,40,60,20,80,12,0,1,AA:BB:CC:00:00:01,,no,,"DS 0, EVI 12 → EVI error; step 1 → Init (Before charge)"\r\n'
    )


# --- Derivations explained --------------------------------------------------------------------------------


class Raw:
    def __init__(self, outcome=1, ds=0, evi=0, step=None):
        self.outcome, self.downstream_code, self.evi_code, self.evi_step = outcome, ds, evi, step


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (Raw(ds=8192, step=8), "DS 8192 → EVI error; step 8 → Charge"),
        (Raw(ds=0, evi=12, step=None), "DS 0, EVI 12 → EVI error; no step → Unknown"),
        (
            Raw(ds=1234, step=3),
            "DS 1234 → Downstream error; step 3 → End of charge (an unlisted step counts as the end of charge)",
        ),
        (
            Raw(ds=1234, step=-1),
            "DS 1234 → Downstream error; step -1 → End of charge (an unlisted step counts as the end of charge)",
        ),
        (Raw(ds=8192, step=12), "DS 8192 → EVI error; step 12 → End of charge"),
        (Raw(ds=8192, step=5), "DS 8192 → EVI error; step 5 → Lock connector (Before charge)"),
        (Raw(ds=0, evi=0), "Failed, DS 0 and EVI 0 → Erreur_Unknow_S (moment Unknown)"),
        (Raw(outcome=None), "OK (outcome NULL counts as 0)"),
        (Raw(outcome=0, ds=8192), "OK (outcome 0)"),
    ],
)
def test_a_derivation_says_how_type_and_moment_follow_from_the_codes(raw, text):
    with translation.override("en"):
        assert derivation(raw) == text


# --- Sources and imports ----------------------------------------------------------------------------------


def test_only_an_admin_configures_sources(data):
    with schema_context(data.slug):
        pk = ChargingSource.objects.get().pk
    for role in ("operator", "viewer"):
        client = data.http(role)
        assert client.get("/charging/sources/new/").status_code == 403
        assert client.get(f"/charging/sources/{pk}/").status_code == 403
        assert client.post(f"/charging/sources/{pk}/delete/").status_code == 403
        assert 'href="/charging/sources/new/"' not in page(client.get("/charging/sources/"))
    assert data.http("admin").get("/charging/sources/new/").status_code == 200


def test_a_viewer_cannot_import_upload_or_test(data):
    with schema_context(data.slug):
        pk = ChargingSource.objects.get().pk
    viewer = data.http("viewer")
    for action in ("import", "upload", "test"):
        assert viewer.post(f"/charging/sources/{pk}/{action}/").status_code == 403
    with schema_context(data.slug):
        ChargingSource.objects.create(name="KPI", kind=SourceKind.MYSQL, host="db.example", user="kpi")
    assert "Import now" not in page(viewer.get("/charging/sources/"))
    assert "Import now" in page(data.http("operator").get("/charging/sources/"))


def test_an_operator_queues_an_import_and_a_full_re_import(data):
    with schema_context(data.slug):
        source = ChargingSource.objects.get()
    operator = data.http("operator")
    response = operator.post(f"/charging/sources/{source.pk}/import/", {"full": "1"})
    with schema_context(data.slug):
        run = ImportRun.objects.order_by("-pk").first()
        assert (run.trigger, run.full, run.status, run.requested_by.email) == (
            "portal",
            True,
            "queued",
            "operator@alpha.test",
        )
    assert response.status_code == 302 and response["Location"] == f"/charging/imports/{run.pk}/"
    html = page(operator.get(f"/charging/imports/{run.pk}/"))
    assert f'data-import-run="{run.pk}"' in html and 'hx-trigger="every 2s"' in html and "<progress" in html


def test_the_progress_fragment_stops_polling_once_the_run_is_over(data):
    with schema_context(data.slug):
        run = ImportRun.objects.get()
    html = page(data.http("viewer").get(f"/charging/imports/{run.pk}/progress/"))
    assert "every 2s" not in html
    assert 'data-status="succeeded"' in html and "5 read, 5 created, 0 updated, 0 rejected" in html


def test_an_admin_creates_a_source_and_the_password_is_never_shown_back(alpha):
    admin = alpha.http("admin")
    fields = {
        "name": "KPI", "kind": "mysql", "host": "db.example", "port": 3306, "database": "Charges", "user": "kpi",
        "password": "s3cret-pass", "sessions_table": "kpi_sessions", "faults_table": "kpi_defauts_log",
        "vehicles_table": "mac_lookup", "link_template": "https://console/x?id={id}", "time_zone": "Europe/Paris",
        "margin_hours": 48, "enabled": "on",
    }  # fmt: skip
    assert admin.post("/charging/sources/new/", fields).status_code == 302
    with schema_context(alpha.slug):
        source = ChargingSource.objects.get(name="KPI")
    form = page(admin.get(f"/charging/sources/{source.pk}/"))
    assert "s3cret-pass" not in form
    assert "A password is stored." in form
    assert admin.post(f"/charging/sources/{source.pk}/", {**fields, "password": "", "host": "db2"}).status_code == 302
    with schema_context(alpha.slug):
        source.refresh_from_db()
        assert (source.host, source.password) == ("db2", "s3cret-pass")


def test_a_mysql_source_without_host_is_refused_with_the_reason(alpha):
    response = alpha.http("admin").post("/charging/sources/new/", {"name": "X", "kind": "mysql", "port": 3306})
    assert response.status_code == 400
    assert "A MySQL source needs its host." in page(response)


def test_test_connection_answers_with_the_reason_it_failed(alpha):
    with schema_context(alpha.slug):
        source = ChargingSource.objects.create(name="Down", kind=SourceKind.MYSQL, host="127.0.0.1", port=1, user="u")
    html = page(alpha.http("operator").post(f"/charging/sources/{source.pk}/test/", HTTP_HX_REQUEST="true"))
    assert 'data-testid="connection-report"' in html and "Failed" in html


def test_an_upload_queues_an_import_of_the_files(alpha):
    with schema_context(alpha.slug):
        source = files_source()
    upload = SimpleUploadedFile("sessions.csv", as_csv(MARCH[:1], SESSION_HEADER), content_type="text/csv")
    response = alpha.http("operator").post(f"/charging/sources/{source.pk}/upload/", {"sessions": upload})
    assert response.status_code == 302
    with schema_context(alpha.slug):
        run = ImportRun.objects.get()
        assert (run.trigger, list(run.uploads.values_list("table", "filename"))) == (
            "upload",
            [("sessions", "sessions.csv")],
        )


def test_an_upload_of_a_wrong_file_says_why(alpha):
    with schema_context(alpha.slug):
        source = files_source()
    upload = SimpleUploadedFile("sessions.pdf", b"%PDF", content_type="application/pdf")
    response = alpha.http("operator").post(f"/charging/sources/{source.pk}/upload/", {"sessions": upload})
    assert response.status_code == 400
    assert "sessions.pdf: only .csv and .xlsx files can be imported." in page(response)


def test_the_import_detail_lists_the_rejects_with_id_and_reason(alpha):
    with schema_context(alpha.slug):
        run = charging_load(sessions=[session("GOOD"), session("BAD", start="not a date")])
    html = page(alpha.http("viewer").get(f"/charging/imports/{run.pk}/"))
    assert "<td>sessions</td><td>BAD</td><td>" in html
    with schema_context(alpha.slug):
        assert list(ChargingSession.objects.values_list("external_id", flat=True)) == ["GOOD"]


# --- Any Result renders ------------------------------------------------------------------------------------


def test_any_result_renders_its_figures_tables_charts_and_links(alpha):
    from django.template.loader import render_to_string

    from charging.analyses.base import Chart, Column, Result, Table
    from charging.views.analyses import result_view

    hours = Table(
        "hours",
        "Per hour",
        [Column("site", "Site"), Column("h10", "10 h", "int"), Column("h11", "11 h", "int")],
        [{"site": "CESSON", "h10": 4, "h11": 0}, {"site": "RENNES", "h10": 2, "h11": None}],
    )
    sessions = Table(
        "sessions",
        "Sessions",
        [
            Column("id", "ID", "link"),
            Column("start", "Start", "datetime"),
            Column("pct", "Share", "pct"),
            Column("kwh", "Energy", "float"),
        ],
        [{"id": "S-9", "start": datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "pct": 33.333, "kwh": Decimal("12.3456")}],
        note="Only OK ones.",
    )
    heat = [{"label": "CESSON", "data": [4, 0]}, {"label": "RENNES", "data": [2, None]}]
    result = Result(
        name="demo",
        figures={"count": 2, "rate_pct": 12.5, "rows": [1, 2]},
        tables=[hours, sessions],
        charts=[
            Chart("heat", "Site × hour", "heatmap", ["10 h", "11 h"], heat, "hours"),
            Chart("bars", "Per hour", "stacked-bar", ["10 h", "11 h"], [{"label": "CESSON", "data": [4, 0]}], "hours"),
        ],
        notes=["Hours are the clock hours of the start."],
    )
    with schema_context(alpha.slug):
        files_source(link_template="https://console.example/s/{id}")
        html = render_to_string("charging/_result.html", {"result": result_view(result, "demo", {"period": "all"})})
    squeezed = " ".join(html.split())
    assert 'data-figure="count"><div class="muted">Count</div><div class="stat">2</div>' in html
    assert 'data-figure="rate_pct"><div class="muted">Rate %</div><div class="stat">12.50 %</div>' in html
    assert 'data-figure="rows"' not in html  # a list is no headline figure
    assert "Hours are the clock hours of the start." in html and "Only OK ones." in html
    cell = '<td class="heat" style="--heat: {}%">{}</td>'
    assert '<th scope="row">CESSON</th>' + cell.format(70, 4) + cell.format(0, 0) in html  # shade and number
    assert '<th scope="row">RENNES</th>' + cell.format(35, 2) + cell.format(0, "") in html
    assert '<script id="chart-demo-bars" type="application/json">' in html
    assert '<a href="https://console.example/s/S-9" target="_blank" rel="noopener">S-9</a>' in html
    assert '<td data-sort="2026-03-02T09:00:00+00:00">2026-03-02 10:00</td>' in squeezed  # the source's zone
    assert '<td data-sort="33.333" class="num">33.33 %</td>' in squeezed
    assert '<td data-sort="12.3456" class="num">12.35</td>' in squeezed  # a SQL Decimal, as a number
    assert 'href="/charging/export/demo/sessions.xlsx?period=all"' in html


class FakeAnalysis:
    """An analysis with parameters of its own, as the registry gives modules."""

    NAME = "fake"
    TITLE = "Fake"
    NOTES = []
    PARAMS = ("zoom_site", "month", "points_only")
    PARAM_HELP = {"month": "YYYY-MM"}

    @staticmethod
    def run(filters):
        from charging.analyses.base import Result
        from charging.filters import InvalidFilter

        if filters.extra.get("month") == "13":
            raise InvalidFilter({"month": "“13” is not a month: use YYYY-MM."})
        return Result(name="fake", figures={"asked": ",".join(f"{k}={v}" for k, v in sorted(filters.extra.items()))})


@pytest.fixture
def fake_analysis(monkeypatch):
    from charging.analyses import NAMES, analysis

    monkeypatch.setattr("charging.views.analyses.NAMES", [*NAMES, "fake"])
    monkeypatch.setattr(
        "charging.views.analyses.analysis", lambda name: FakeAnalysis if name == "fake" else analysis(name)
    )


def test_an_analysis_gets_its_own_parameters_as_inputs_of_the_right_kind(data, fake_analysis):
    html = page(data.http("viewer").get("/charging/?tab=fake&zoom_site=rennes&month=2026-03&points_only=1"))
    assert '<option value="rennes" selected>RENNES</option>' in html  # a site: chosen among the sites
    assert 'id="p-month" type="month" name="month" value="2026-03"' in html
    assert 'id="p-points_only" type="checkbox" name="points_only" value="1" checked' in html
    assert '<div class="help">YYYY-MM</div>' in html
    assert '<div class="stat">month=2026-03,points_only=1,zoom_site=rennes</div>' in html


def test_an_invalid_parameter_of_an_analysis_shows_its_reason_not_an_error_page(data, fake_analysis):
    response = data.http("viewer").get("/charging/?tab=fake&month=13")
    assert response.status_code == 400
    assert 'data-field="month">Month: “13” is not a month: use YYYY-MM.</li>' in page(response)
    tab = data.http("viewer").get("/charging/tab/fake/?month=13", HTTP_HX_REQUEST="true")
    assert tab.status_code == 200 and "HX-Push-Url" not in tab
    assert data.http("viewer").get("/charging/export/fake/x.csv?month=13").status_code == 400


def test_the_page_speaks_french_to_a_french_reader(data):
    with schema_context(data.slug):
        ChargingSource.objects.update(last_success_at=datetime(2026, 3, 7, 9, 30, tzinfo=UTC))
    html = page(data.http("viewer", HTTP_ACCEPT_LANGUAGE="fr").get("/charging/?tab=general&period=month&d1=2026-03-01"))
    assert "Données à jour au 2026-03-07 10:30 CET" in html
    assert '<div class="muted">Taux de réussite</div><div class="stat">40,00 %</div>' in html
    assert "Un échec dont le type d’erreur ou le moment n’est pas sélectionné compte comme OK." in html
    assert 'data-updated-text="%(title)s : mis à jour."' in html
    with schema_context(data.slug):
        run = ImportRun.objects.get()
    html = page(data.http("viewer", HTTP_ACCEPT_LANGUAGE="fr").get(f"/charging/imports/{run.pk}/"))
    counts = "%(read)s lues, %(created)s créées, %(updated)s mises à jour, %(rejected)s rejetées"
    assert f'data-counts-text="{counts}"' in html


def test_a_tab_is_kept_until_an_import_changes_the_data(data, monkeypatch):
    viewer = data.http("viewer")
    url = "/charging/tab/general/?period=month&d1=2026-03-01"
    assert '<div class="stat">5</div>' in page(viewer.get(url))
    monkeypatch.setattr("charging.analyses.general.run", lambda filters: pytest.fail("computed again"))
    assert '<div class="stat">5</div>' in page(viewer.get(url))  # from the cache
    monkeypatch.undo()
    with schema_context(data.slug):
        charging_load(sessions=[session("NEW", start="2026-03-09 10:00:00")])
    assert 'data-figure="total"><div class="muted">Total</div><div class="stat">6</div>' in page(viewer.get(url))


def test_each_source_has_its_upload_form_with_ids_of_its_own(data):
    with schema_context(data.slug):
        other = files_source(name="Other exports")
        first = ChargingSource.objects.exclude(pk=other.pk).get()
    html = page(data.http("operator").get("/charging/sources/"))
    for source in (first, other):
        assert f'action="/charging/sources/{source.pk}/upload/"' in html
        assert f'<label for="upload-{source.pk}-sessions">' in html and f'id="upload-{source.pk}-sessions"' in html


def test_a_signed_out_htmx_request_sends_the_page_to_the_sign_in(data):
    from django.test import Client

    anonymous = Client(HTTP_HOST=data.host)
    response = anonymous.get(
        "/charging/tab/general/?period=all",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://{data.host}/charging/?tab=general&period=all",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=/charging/%3Ftab%3Dgeneral%26period%3Dall"
    assert anonymous.get("/charging/tab/general/").status_code == 302  # a plain request: the usual redirect


def test_the_pivot_shades_each_count_and_still_shows_it(data):
    html = page(data.http("viewer").get("/charging/tab/pivot/?period=month&d1=2026-03-01&site=cesson"))
    # CESSON's one EVI failure (DS 8192, step 8) is the largest cell of its table: the strongest shade.
    assert '<td data-sort="1" class="num heat" style="--heat: 68%">1</td>' in html
