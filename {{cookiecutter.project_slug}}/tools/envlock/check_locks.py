"""``python -m envlock.check_locks``: fail when a lock is missing, stale or edited by hand
(the pre-commit hook that keeps locks in step with their inputs)."""

from __future__ import annotations

import sys
from pathlib import Path

from envlock import EnvlockError, locks
from envlock.settings import load_project


def lock_problems(root: Path) -> list[str]:
    project = load_project(root)
    targets = locks.lock_targets(project)
    if project.env_manager == "conda":
        targets.append(locks.conda_target(project))
    problems = []
    for target in targets:
        try:
            locks.verify_lock(project, target)
        except EnvlockError as error:
            problems.append(str(error))
    return problems


if __name__ == "__main__":
    found = lock_problems(Path.cwd())
    for line in found:
        print(line, file=sys.stderr)
    sys.exit(1 if found else 0)
