"""Exports of tables (series, asset lists, charging analyses): CSV (streamed), Excel (XlsxWriter,
constant memory) and a PDF report (fpdf2, with a chart drawn from its primitives).

A `Table` is what every export takes: titled columns and rows, datetimes aware and shown in the
table's time zone.
"""

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": (XLSX_TYPE, "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = ""
    kind: str = "text"  # text | number | int | datetime

    @property
    def heading(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[Column]
    rows: Iterable[Sequence]
    subtitle: str = ""
    summary: Sequence[tuple[str, str]] = ()
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Chart:
    series: list[tuple[str, list[tuple[datetime, float | None]]]] = field(default_factory=list)
    unit: str = ""


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _cell_text(value, kind: str, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if kind == "datetime":
        return value.astimezone(zone).isoformat()
    if kind == "number" and isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


# A spreadsheet reads a cell starting with one of these as a formula (`=HYPERLINK(…)`, `@SUM(…)`,
# `-2+3+cmd|…`); OWASP's advice: a leading single quote makes it text. Numbers (-18.2) stay numbers.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _inert(text: str) -> str:
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_escape(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_cell(value, kind: str, zone: ZoneInfo) -> str:
    text = _cell_text(value, kind, zone)
    return _csv_escape(_inert(text) if kind == "text" else text)


def csv_lines(table: Table) -> Iterator[str]:
    """Header then one line per row, produced as the rows are read (for StreamingHttpResponse)."""
    zone = ZoneInfo(table.time_zone)
    kinds = [column.kind for column in table.columns]
    yield ",".join(_csv_escape(_inert(column.heading)) for column in table.columns) + "\r\n"
    for row in table.rows:
        yield ",".join(_csv_cell(value, kind, zone) for value, kind in zip(row, kinds, strict=True)) + "\r\n"


def _sheet_name(title: str) -> str:
    cleaned = "".join("-" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return (cleaned or "Export")[:31]


def xlsx_bytes(table: Table) -> bytes:
    import xlsxwriter

    zone = ZoneInfo(table.time_zone)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True})
    sheet = workbook.add_worksheet(_sheet_name(table.title))
    bold = workbook.add_format({"bold": True})
    title = workbook.add_format({"bold": True, "font_size": 14})
    header = workbook.add_format({"bold": True, "bottom": 1, "bg_color": "#E8EEF4"})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    row_index = 0
    sheet.write(row_index, 0, table.title, title)
    row_index += 1
    if table.subtitle:
        sheet.write(row_index, 0, table.subtitle)
        row_index += 1
    for label, value in table.summary:
        sheet.write(row_index, 0, label, bold)
        sheet.write(row_index, 1, value)
        row_index += 1
    row_index += 1
    header_row = row_index
    for column_index, column in enumerate(table.columns):
        sheet.write(header_row, column_index, column.heading, header)
        sheet.set_column(
            column_index, column_index, 20 if column.kind == "datetime" else max(12, len(column.heading) + 2)
        )
    sheet.freeze_panes(header_row + 1, 0)
    for row in table.rows:
        row_index += 1
        for column_index, (value, column) in enumerate(zip(row, table.columns, strict=True)):
            if value is None:
                continue
            if column.kind == "datetime":
                sheet.write_datetime(row_index, column_index, value.astimezone(zone).replace(tzinfo=None), when)
            elif column.kind in ("number", "int"):
                sheet.write_number(row_index, column_index, value)
            else:
                sheet.write_string(row_index, column_index, str(value))
    sheet.autofilter(header_row, 0, max(row_index, header_row), len(table.columns) - 1)
    workbook.close()
    return buffer.getvalue()


# fpdf2's core fonts speak latin-1: the few symbols beyond it get a readable stand-in.
_STAND_INS = str.maketrans({"→": "->", "←": "<-", "≤": "<=", "≥": ">=", "—": "-", "–": "-", "…": "...", "’": "'",
                            "“": '"', "”": '"', "€": "EUR", "•": "-"})  # fmt: skip


def _latin1(text: str) -> str:
    return str(text).translate(_STAND_INS).encode("latin-1", "replace").decode("latin-1")


COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75)]


def _draw_chart(pdf, chart: Chart, x: float, y: float, width: float, height: float) -> None:
    """One frame, one polyline per series. Series of different magnitudes (volts and percent) each
    get their own vertical scale, stated in the legend, so that none is flattened by another."""
    points = [(t, v) for _label, series in chart.series for t, v in series if v is not None]
    if not points:
        return
    t_min = min(t for t, _v in points).timestamp()
    t_max = max(t for t, _v in points).timestamp()
    t_span = (t_max - t_min) or 1.0
    pdf.set_draw_color(120, 120, 120)
    pdf.rect(x, y, width, height)
    pdf.set_font("helvetica", size=7)
    pdf.set_text_color(80, 80, 80)
    first, last = min(t for t, _v in points), max(t for t, _v in points)
    pdf.text(x, y + height + 4, first.strftime("%Y-%m-%d %H:%M"))
    label = last.strftime("%Y-%m-%d %H:%M")
    pdf.text(x + width - pdf.get_string_width(label), y + height + 4, label)
    for index, (name, series) in enumerate(chart.series):
        values = [v for _t, v in series if v is not None]
        if not values:
            continue
        v_min, v_max = min(values), max(values)
        v_span = (v_max - v_min) or 1.0
        red, green, blue = COLOURS[index % len(COLOURS)]
        pdf.set_draw_color(red, green, blue)
        previous = None
        for t, v in series:
            if v is None:
                previous = None
                continue
            point = (x + (t.timestamp() - t_min) / t_span * width, y + height - (v - v_min) / v_span * height)
            if previous is not None:
                pdf.line(*previous, *point)
            previous = point
        pdf.set_text_color(red, green, blue)
        legend = f"{name} ({v_min:.4g} - {v_max:.4g})"
        pdf.text(x + 2 + (index % 3) * 90, y + height + 9 + (index // 3) * 4, _latin1(legend)[:60])
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


def pdf_bytes(table: Table, *, chart: Chart | None = None, max_rows: int = 2000) -> bytes:
    from fpdf import FPDF

    class Report(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("helvetica", size=8)
            self.cell(0, 8, f"Page {self.page_no()} / {{nb}}", align="C")

    zone = ZoneInfo(table.time_zone)
    pdf = Report(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 15)
    pdf.cell(0, 9, _latin1(table.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    if table.subtitle:
        pdf.cell(0, 6, _latin1(table.subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=8)
    generated = datetime.now(UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    pdf.cell(0, 5, f"Voltwatch - generated {generated}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("helvetica", size=9)
    for label, value in table.summary:
        pdf.cell(45, 5, _latin1(label))
        pdf.cell(0, 5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    if chart is not None and chart.series:
        pdf.ln(3)
        top = pdf.get_y()
        _draw_chart(pdf, chart, pdf.l_margin + 12, top, pdf.epw - 14, 60)
        pdf.set_y(top + 72)
    rows = iter(table.rows)
    shown = []
    for row in rows:
        if len(shown) == max_rows:
            remaining = 1 + sum(1 for _ in rows)
            break
        shown.append(row)
    else:
        remaining = 0
    pdf.set_font("helvetica", size=7)
    width = pdf.epw / max(1, len(table.columns))
    with pdf.table(col_widths=[width] * len(table.columns), text_align="LEFT", line_height=4) as grid:
        heading = grid.row()
        for column in table.columns:
            heading.cell(_latin1(column.heading))
        for row in shown:
            cells = grid.row()
            for value, column in zip(row, table.columns, strict=True):
                text = _cell_text(value, column.kind, zone)
                if column.kind == "datetime" and value is not None:
                    text = value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
                elif column.kind == "number" and isinstance(value, float):
                    text = f"{value:.6g}"  # a report is read, not re-computed: six digits are plenty
                cells.cell(_latin1(text))
    if remaining:
        pdf.ln(2)
        pdf.set_font("helvetica", "I", 8)
        pdf.cell(0, 5, f"... {remaining} more rows: use the CSV or Excel export.")
    return bytes(pdf.output())


STREAM_LINES = 1000


async def _streamed(lines: Iterator[str]):
    """Lines read in the request's sync thread (where its database connection and tenant schema
    are), a thousand at a time: under ASGI a sync iterator would be read whole before sending."""
    from asgiref.sync import sync_to_async

    def chunk() -> str:
        return "".join(line for _index, line in zip(range(STREAM_LINES), lines, strict=False))

    while part := await sync_to_async(chunk)():
        yield part


def download(table: Table, fmt: str, filename: str, *, request=None, chart: Chart | None = None):
    """The file of an export: CSV streamed as its rows are read (asynchronously under ASGI), Excel in
    constant memory, or the PDF report (with `chart`)."""
    from django.core.handlers.asgi import ASGIRequest
    from django.http import HttpResponse, StreamingHttpResponse

    content_type, extension = EXPORT_FORMATS[fmt]
    if fmt == "csv":
        lines = csv_lines(table)
        reply = StreamingHttpResponse(_streamed(lines) if isinstance(request, ASGIRequest) else lines,
                                      content_type=content_type)  # fmt: skip
    elif fmt == "xlsx":
        reply = HttpResponse(xlsx_bytes(table), content_type=content_type)
    else:
        reply = HttpResponse(pdf_bytes(table, chart=chart), content_type=content_type)
    reply["Content-Disposition"] = content_disposition(f"{filename}.{extension}")
    return reply
