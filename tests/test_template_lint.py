"""The template's own Python is clean under ruff, with the repository's configuration."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import TEMPLATE


def ruff() -> str:
    return shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")


def test_ruff_check():
    subprocess.run([ruff(), "check", "--config", "pyproject.toml", "."], cwd=TEMPLATE, check=True)


def test_ruff_format():
    subprocess.run(
        [ruff(), "format", "--check", "--config", "pyproject.toml", "."], cwd=TEMPLATE, check=True
    )
