"""The 13 analyses of CHARGING.md, by the names of the API (`/api/v1/charging/analyses/<name>`), in
the order of the tabs. Each module has `NAME`, `TITLE`, `NOTES` (the one-line explanations of what
could surprise), `PARAMS` (its own query parameters, besides the shared filters) and
`run(filters) -> Result`, computed in PostgreSQL."""

import importlib
from types import ModuleType

MODULES = {
    "overview": "overview",
    "general": "general",
    "sites": "sites",
    "charge-points": "charge_points",
    "statistics": "statistics",
    "pivot": "pivot",
    "multiple-attempts": "multiple_attempts",
    "suspicious": "suspicious",
    "errors-by-moment": "errors_by_moment",
    "specific-error": "specific_error",
    "alerts": "recurring_errors",
    "evolution": "evolution",
    "faults": "faults",
}
NAMES = list(MODULES)


def analysis(name: str) -> ModuleType:
    """The module of an analysis; KeyError for a name that is none."""
    return importlib.import_module(f"charging.analyses.{MODULES[name]}")
