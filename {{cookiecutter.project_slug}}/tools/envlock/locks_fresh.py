"""``python -m envlock.locks_fresh``: fail when a lock is missing, stale or edited by hand
(the pre-commit hook that keeps locks in step with their inputs)."""

from __future__ import annotations

import sys
from pathlib import Path

from envlock import EnvlockError, backends, lockfiles
from envlock.context import Context
from envlock.settings import load_project

__all__ = ["lock_problems"]


def _no_commands(argv: list[str], env: object) -> None:
    raise EnvlockError("the lock check runs no commands")  # own_lock_targets needs none


def lock_problems(root: Path) -> list[str]:
    """One line per lock of the project that cannot be trusted."""
    project = load_project(root)
    ctx = Context(run=_no_commands, log=print, uv="uv")
    targets = lockfiles.lock_targets(project)
    targets += backends.for_project(project, ctx).own_lock_targets()
    problems = []
    for target in targets:
        try:
            lockfiles.trusted_body(project, target)
        except EnvlockError as error:
            problems.append(str(error))
    return problems


if __name__ == "__main__":
    found = lock_problems(Path.cwd())
    for line in found:
        print(line, file=sys.stderr)
    sys.exit(1 if found else 0)
