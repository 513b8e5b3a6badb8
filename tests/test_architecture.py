"""The house's floors (pyproject.toml, [tool.importlinter]): core depends on no project app, each app
only on the floors below it, no app on another's pages, and no cycle between an app's modules."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import BASE_DIR

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_import_contracts_hold():
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=BASE_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
