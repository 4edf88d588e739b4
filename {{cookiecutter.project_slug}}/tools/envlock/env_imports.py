"""Whether an environment can import a module, asked of its own Python (nothing is
imported: ``importlib.util.find_spec`` only looks)."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["has_module"]


def has_module(python: Path, module: str) -> bool:
    result = subprocess.run(
        [
            str(python),
            "-I",
            "-c",
            f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)",
        ],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0
