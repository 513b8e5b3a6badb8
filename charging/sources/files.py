"""The same three tables, exported as CSV or XLSX files (a customer whose MySQL we cannot reach).
The files are the import's `UploadedTable` rows; each is read whole (a file is an export, not a
stream), in batches like the database."""

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from django.utils.translation import gettext as _

from charging import rows as session_rows
from charging.sources import columns
from charging.sources.base import BATCH_ROWS, SESSION_BATCH_ROWS, SessionBatch, SourceUnavailable

EXTENSIONS = (".csv", ".xlsx")


def _csv_rows(content: bytes) -> tuple[list[str], Iterator[list]]:
    text = content.decode("utf-8-sig", errors="replace")
    sample = text[:10_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, [])
    return [name.strip() for name in header], reader


def _xlsx_rows(content: bytes) -> tuple[list[str], Iterator[list]]:
    from openpyxl import load_workbook  # only the XLSX path pays for it

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise SourceUnavailable(_("The file is not a readable XLSX workbook: %(error)s") % {"error": error})
    rows = workbook.active.iter_rows(values_only=True)
    header = next(rows, ())
    return [str(name).strip() if name is not None else "" for name in header], rows


def _open(table: str, filename: str, content: bytes) -> tuple[list[str], Iterator]:
    if filename.lower().endswith(".xlsx"):
        header, rows = _xlsx_rows(content)
    elif filename.lower().endswith(".csv"):
        header, rows = _csv_rows(content)
    else:
        raise SourceUnavailable(_("%(file)s: only .csv and .xlsx files can be read.") % {"file": filename})
    missing = columns.missing_columns(table, header)
    if missing:
        raise SourceUnavailable(
            _("%(file)s lacks the columns %(columns)s.") % {"file": filename, "columns": ", ".join(missing)}
        )
    return header, rows


def _filled(rows: Iterator) -> Iterator:
    for row in rows:
        if any(value not in (None, "") for value in row):
            yield row  # not the blank lines at the end of an export


def table_rows(table: str, filename: str, content: bytes) -> Iterator[list[dict]]:
    """Batches of `table`'s rows in the file, with our field names."""
    header, rows = _open(table, filename, content)
    wanted = columns.fields_of(table, header)
    positions = [(header.index(column), field) for column, field in wanted]
    batch: list[dict] = []
    for row in _filled(rows):
        batch.append({field: row[index] if index < len(row) else None for index, field in positions})
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def session_batches(filename: str, content: bytes) -> Iterator[SessionBatch]:
    """The file's sessions, each value read from its text (or the spreadsheet's own value) as the
    database would give it: then they go the same way as a database's rows."""
    header, rows = _open("sessions", filename, content)
    known = dict(columns.fields_of("sessions", header))
    position = {known[column]: index for index, column in enumerate(header) if column in known}
    picks = [position.get(name) for name in session_rows.SESSION_FIELDS]
    converters = [session_rows.session_converter(name) for name in session_rows.SESSION_FIELDS]
    batch: list[tuple] = []
    for row in _filled(rows):
        width = len(row)
        batch.append(tuple(row[i] if i is not None and i < width else None for i in picks))
        if len(batch) >= SESSION_BATCH_ROWS:
            yield SessionBatch(*session_rows.typed_sessions(batch, converters))
            batch = []
    if batch:
        yield SessionBatch(*session_rows.typed_sessions(batch, converters))


class FilesReader:
    """Reads the files uploaded for one import run; a table without a file is left as it is."""

    def __init__(self, uploads: dict[str, tuple[str, bytes]]):
        self.uploads = uploads

    def _rows(self, table: str) -> Iterator[list[dict]]:
        if table in self.uploads:
            filename, content = self.uploads[table]
            yield from table_rows(table, filename, content)

    def count_sessions(self, since: datetime | None) -> int | None:
        return None

    def sessions(self, since: datetime | None) -> Iterator[SessionBatch]:
        if "sessions" in self.uploads:  # an export is read whole: the upsert skips what is unchanged
            yield from session_batches(*self.uploads["sessions"])

    def faults(self) -> Iterator[list[dict]]:
        return self._rows("faults")

    def vehicles(self) -> Iterator[list[dict]]:
        return self._rows("vehicles")

    def close(self) -> None:
        pass
