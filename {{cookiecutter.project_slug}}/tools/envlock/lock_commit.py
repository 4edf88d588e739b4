"""Lock files that git does not have yet: the line after `setup` and `lock`, and doctor's row.

CI's `rebuild` job, and everyone who clones the project, install from the committed
locks; a lock that exists only here reproduces nothing. Nothing is staged or committed
for the user: the line says what to commit.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

from envlock.checks import Check

if sys.version_info >= (3, 11):
    import tomllib
else:  # declared for Python < 3.11 in the noxfile's script metadata and the dev lock
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["Advice", "commit_line", "doctor_checks", "uncommitted"]

PATTERNS = ("requirements*.txt", "conda-lock.yml")
# The files the locks are compiled from: a lock records their digest, so a lock committed
# without them is "out of date" in every clone and on CI.
INPUT_PATTERNS = ("requirements*.in", "environment.yml")
CHECK = "locks committed"


def matching(root: Path, patterns: tuple[str, ...]) -> list[str]:
    return sorted({p.name for pattern in patterns for p in root.glob(pattern) if p.is_file()})


def lock_files(root: Path) -> list[str]:
    return matching(root, PATTERNS)


def uncommitted(root: Path, patterns: tuple[str, ...] = PATTERNS) -> list[str] | None:
    """The lock files (or other files of ``patterns``) that are new or changed since the
    last commit; None without git (or outside a repository)."""
    names = matching(root, patterns)
    if shutil.which("git") is None:
        return None
    # The project may be a folder of a larger repository: git status names paths from
    # the repository's top, so they are read without the project's prefix.
    inside = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree", "--show-prefix"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    answer = inside.stdout.splitlines()
    if inside.returncode != 0 or not answer or answer[0].strip() != "true":
        return None
    prefix = answer[1].strip() if len(answer) > 1 else ""
    if not names:
        return []
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", *names],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if status.returncode != 0:
        return None
    paths = {line[3:].strip().strip('"') for line in status.stdout.splitlines() if line}
    changed = {path.removeprefix(prefix) for path in paths}
    return [name for name in names if name in changed]


def describe(names: list[str], inputs: list[str] | None = None) -> str:
    """The line for the locks ``names``; ``inputs`` (changed files they are compiled from)
    join the `git add`, as the locks would be out of date without them."""
    inputs = inputs or []
    listed = " ".join([*inputs, *names])
    one = len(names) == 1
    also = f" and {', '.join(inputs)}, which {'it is' if one else 'they are'} compiled from"
    return (
        f"{', '.join(names)} {'is' if one else 'are'} new or changed and not committed: "
        f"commit {'it' if one else 'them'}{also if inputs else ''} (`git add {listed}`, then "
        "`git commit`), since CI's rebuild job and every clone install from the committed locks"
    )


def envlock_table(text: str) -> object:
    try:
        return tomllib.loads(text).get("tool", {}).get("envlock")
    except tomllib.TOMLDecodeError:
        return None


def changed_inputs(root: Path) -> list[str]:
    """The lock inputs git does not have yet: the `.in` files (and environment.yml), and
    pyproject.toml when its [tool.envlock] settings (the matrix, the index settings, ...)
    differ from the last commit's; a change elsewhere in it decides no lock."""
    names = uncommitted(root, INPUT_PATTERNS) or []
    committed = subprocess.run(
        ["git", "show", "HEAD:./pyproject.toml"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    current = root / "pyproject.toml"
    if committed.returncode == 0 and current.is_file():
        now = current.read_text(encoding="utf-8")
        if envlock_table(now) != envlock_table(committed.stdout):
            names.append("pyproject.toml")
    return names


def commit_line(root: Path) -> str | None:
    """One line naming the locks to commit, or None when there is nothing to say."""
    names = uncommitted(root)
    return describe(names, changed_inputs(root)) if names else None


@dataclasses.dataclass(frozen=True)
class Advice(Check):
    """A row that never fails the check (``ok``) but, with a detail, says "warning"."""

    ok: bool = True

    @property
    def result(self) -> str:
        return "warning" if self.detail else "ok"


def doctor_checks(root: Path) -> list[Check]:
    """doctor's row: ``warning`` while a lock is not committed; no row without git."""
    names = uncommitted(root)
    if names is None:
        return []
    detail = describe(names, changed_inputs(root)) if names else ""
    return [Advice(CHECK, detail=detail)]
