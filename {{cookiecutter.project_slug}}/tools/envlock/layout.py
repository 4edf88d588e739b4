"""Where the executables of an environment or interpreter folder are, per platform.

One place for the ``bin/`` versus ``Scripts\\`` difference, read by the backends, the
interpreter lookup and ``tools/run_in_venv.py`` alike. Standard library only: the
pre-commit hooks import it with whatever Python runs them.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["env_executable", "executable_candidates", "find_executable"]


def executable_candidates(prefix: Path, name: str, platform: str = sys.platform) -> list[Path]:
    """Where ``name`` may be under ``prefix``, most likely first.

    POSIX: ``bin/<name>`` (venvs, conda prefixes, pyenv versions). Windows:
    ``Scripts\\<name>.exe`` (venvs; the tools of a conda prefix), then ``<name>.exe`` at
    the top (the Python of a conda prefix and of a pyenv-win version).
    """
    if platform == "win32":
        return [prefix / "Scripts" / f"{name}.exe", prefix / f"{name}.exe"]
    return [prefix / "bin" / name]


def find_executable(prefix: Path, name: str, platform: str = sys.platform) -> Path | None:
    """The first of ``executable_candidates`` that is a file (a dangling link is not)."""
    for candidate in executable_candidates(prefix, name, platform):
        if candidate.is_file():
            return candidate
    return None


def env_executable(prefix: Path, name: str, platform: str = sys.platform) -> Path:
    """``name`` in the environment at ``prefix``: where it is, or else where it goes.

    Before the environment exists (or when the file is a dangling link) this is the first
    candidate, which is where a venv puts it.
    """
    candidates = executable_candidates(prefix, name, platform)
    for candidate in candidates:
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return candidates[0]
