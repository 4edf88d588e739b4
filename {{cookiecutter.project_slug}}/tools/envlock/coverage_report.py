"""Coverage across the matrix: one data file per Python (and platform), combined later.

`nox -s tests` runs each Python's tests under ``coverage run`` with its own data file,
``.coverage.<X.Y>-<platform>``; CI uploads these from every runner. `nox -s coverage`
combines whatever data files are there (coverage's ``combine`` reads ``.coverage.*``)
and reports against ``fail_under`` in pyproject.toml.
"""

from __future__ import annotations

import sys
from pathlib import Path

from envlock import EnvlockError

__all__ = ["data_file", "data_files", "run_environment"]

PREFIX = ".coverage."


def data_file(python: str, platform: str = sys.platform) -> str:
    """The data file of one test run: ``.coverage.3.12-linux``."""
    return f"{PREFIX}{python}-{platform}"


def run_environment(python: str, platform: str = sys.platform) -> dict[str, str]:
    """What the tests of ``python`` run with, so that each Python keeps its own data."""
    return {"COVERAGE_FILE": data_file(python, platform)}


def data_files(root: Path) -> list[Path]:
    """The data files waiting to be combined, or an error saying how to make them."""
    found = sorted(p for p in root.glob(f"{PREFIX}*") if p.is_file())
    if not found:
        raise EnvlockError(
            "there is no coverage data yet: `nox -s tests` writes it (one file per Python), "
            "then `nox -s coverage` combines it"
        )
    return found
