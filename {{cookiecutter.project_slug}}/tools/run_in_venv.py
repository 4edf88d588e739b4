"""Run a tool from the project's environment (.venv, or the conda prefix .conda) without
activating it, offline: ``python tools/run_in_venv.py ruff check``. The pre-commit hooks
and `nox -s hooks` use it.

With ``--skip-without-env`` (the pre-commit hooks) a project that has no environment yet
skips the command with a line that says so, since before `nox -s setup` there is no locked
tool to run it with; a fresh project passes its hooks offline. An environment that lacks
the tool is always an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from envlock.layout import find_executable  # tools/ is sys.path[0]; standard library only

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = (".venv", ".conda")


def find_tool(root: Path, name: str, platform: str = sys.platform) -> Path | None:
    """``name`` from .venv, else from .conda; None when neither has it."""
    for env in ENVIRONMENTS:
        found = find_executable(root / env, name, platform)
        if found:
            return found
    return None


def main(argv: list[str]) -> int:
    skip_without_env = argv[:1] == ["--skip-without-env"]
    if skip_without_env:
        argv = argv[1:]
    if not argv:
        print(
            "usage: python tools/run_in_venv.py [--skip-without-env] COMMAND [ARGS...]",
            file=sys.stderr,
        )
        return 2
    executable = find_tool(ROOT, argv[0])
    has_env = any((ROOT / name).is_dir() for name in ENVIRONMENTS)
    if executable is None and skip_without_env and not has_env:
        print(
            "skipped: the project has no environment (.venv or .conda) yet;"
            " `nox -s setup` makes it, then this check runs with the locked tools"
        )
        return 0
    if executable is None:
        print(
            f"{argv[0]} is not in the project's environment: run `nox -s setup` first",
            file=sys.stderr,
        )
        return 1
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tools")}
    try:
        return subprocess.run([str(executable), *argv[1:]], env=env, check=False).returncode
    except OSError as error:  # e.g. the environment's Python behind the script is broken
        print(
            f"cannot run {executable} ({error.strerror or error}): "
            "run `nox -s setup` to build the environment again",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
