"""`nox -s lock`: compile every lock of the project (pip locks, and the backend's own).

Every lock is compiled into a scratch file and put in place in one rename, so a failed
or interrupted compile leaves the old lock as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

from envlock import EnvlockError, backends, engines, lockfiles, pythons
from envlock.context import Context, tool_python
from envlock.lockfiles import LockCommand, LockTarget
from envlock.session_guard import changes_environment
from envlock.settings import Project

__all__ = ["compile_locks", "read_trusted_lock"]


def _pip_lock_command(
    project: Project, ctx: Context, target: LockTarget, extra: list[str]
) -> LockCommand:
    indexes = engines.index_args(project.extra_index_urls)
    if project.lock_engine == "uv":
        return lambda out: (
            engines.uv_compile_argv(ctx.uv, target, out, indexes + extra),
            engines.uv_env(os.environ),
        )
    interpreter = pythons.require_python(target.python)
    python = tool_python(project, ctx, f"pip-tools-{target.python}", interpreter, "pip-tools")
    return lambda out: (
        engines.pip_compile_argv(str(python), target, out, indexes + extra),
        engines.isolated_pip_env(os.environ),
    )


def _pythons_to_lock(project: Project, ctx: Context) -> list[str]:
    """The Pythons to lock for: all of the matrix, but with pip-tools only those installed
    (on CI a missing one is an error)."""
    if project.lock_engine == "uv":
        return list(project.matrix)
    found = []
    for python in project.matrix:
        if pythons.find_python(python) is not None or python == project.python:
            found.append(python)
        elif os.environ.get("CI"):
            pythons.require_python(python)
        else:
            ctx.log(
                f"Python {python} not found: its lock is not updated "
                f"(`pyenv install {python}` to include it)"
            )
    return found


@changes_environment("lock")
def compile_locks(project: Project, ctx: Context, extra: list[str]) -> list[Path]:
    """Compile every lock of the project; ``extra`` (e.g. --upgrade) goes to the engines.
    Returns the locks written."""
    backend = backends.for_project(project, ctx)
    for path in project.inputs:
        if not path.exists():
            raise EnvlockError(f"{path.name} is missing: create it (it may be empty)")
    backend.check_can_lock()
    written = []
    for target in lockfiles.lock_targets(project, _pythons_to_lock(project, ctx)):
        command = _pip_lock_command(project, ctx, target, extra)
        written.append(lockfiles.compile_into_place(project, ctx, target, command))
    return written + backend.compile_own_locks(extra)


def read_trusted_lock(
    project: Project, ctx: Context, target: LockTarget, lock_if_missing: bool
) -> str:
    """The body of a trusted lock; compile the locks first only when asked and none exists."""
    if lock_if_missing and not target.output.exists():
        ctx.log(f"{target.output.name} does not exist yet: locking first")
        compile_locks(project, ctx, [])
    return lockfiles.trusted_body(project, target)
