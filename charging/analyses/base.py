"""What every analysis returns: its headline figures (named, as the API gives them), its tables,
its charts (each with the key of the table that says the same in text) and the one-line notes that
explain a figure that could surprise an operator. Pages, API and exports all render this."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, float, pct, date, datetime, link (a session ID with its link)


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    note: str = ""

    def as_json(self) -> dict:
        return {"title": str(self.title), "columns": [c.key for c in self.columns], "rows": self.rows}


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # bar, stacked-bar, pie, line, heatmap, histogram
    labels: list
    datasets: list[dict]  # [{"label": ..., "data": [...]}]; a heatmap: {"label": row, "data": [...]} per row
    table: str  # the key of the table giving the same figures


@dataclass
class Result:
    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    @staticmethod
    def _chart_json(chart: Chart) -> dict:
        return {"key": chart.key, "title": str(chart.title), "kind": chart.kind, "labels": chart.labels,
                "datasets": chart.datasets, "table": chart.table}  # fmt: skip

    def as_json(self) -> dict:
        return {
            **self.figures,
            "tables": {t.key: t.as_json() for t in self.tables},
            "charts": [self._chart_json(c) for c in self.charts],
            "notes": [str(n) for n in self.notes],
        }
