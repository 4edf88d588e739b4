"""`nox -s lock`: compile every lock of the project (pip locks, and the backend's own) as
one set (``lock_set``), or with ``--tools`` the tool locks (``tool_locks``).

Nothing is put in place until every lock has compiled, so a failed or interrupted run
leaves the old locks as they were.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from envlock import backends, engines, fs, lockfiles, pythons, tool_locks
from envlock.context import Context, tool_python
from envlock.lock_set import Compiled, LockCommand, compile_body, put_lock_set, remove_dead_scratch
from envlock.lockfiles import LockTarget
from envlock.session_guard import changes_environment
from envlock.settings import Project

__all__ = ["compile_locks", "compile_tool_locks", "read_trusted_lock", "trusted_set_body"]


def _pip_lock_command(project: Project, ctx: Context, python: str, extra: list[str]) -> LockCommand:
    indexes = engines.index_args(project.extra_index_urls)
    if project.lock_engine == "uv":
        return lambda target, out: (
            engines.uv_compile_argv(ctx.uv, target, out, indexes + extra),
            engines.uv_env(os.environ),
        )
    interpreter = pythons.require_python(python)
    tool = tool_python(project, ctx, f"pip-tools-{python}", interpreter, "pip-tools")
    return lambda target, out: (
        engines.pip_compile_argv(str(tool), target, out, indexes + extra),
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
    """Compile every lock of the project; ``extra`` (e.g. --upgrade) goes to the engines;
    ``--tools`` compiles the tool locks instead. Returns the locks whose content changed."""
    if "--tools" in extra:
        return compile_tool_locks(ctx, [arg for arg in extra if arg != "--tools"])
    backend = backends.for_project(project, ctx)
    lockfiles.input_files(project, project.inputs)  # a missing file, before any work
    backend.check_can_lock()
    every = lockfiles.lock_targets(project) + backend.own_lock_targets()
    fs.refuse_read_only([target.output for target in every], "the locks")
    for path in remove_dead_scratch(project.root):
        ctx.log(f"removed {path.name}, left by an interrupted `nox -s lock`")
    targets = lockfiles.lock_targets(project, _pythons_to_lock(project, ctx))
    compiled: list[Compiled] = []
    try:
        for target in targets:
            command = _pip_lock_command(project, ctx, target.python, extra)
            constraint = next((c for c in compiled if c.target.output == target.constraint), None)
            compiled.append(compile_body(project, ctx, target, command, constraint=constraint))
        compiled += backend.compile_own_locks(extra)
        done = {c.target.output for c in compiled}
        kept = [t for t in every if t.output not in done and t.output.exists()]
        return put_lock_set(project, compiled, kept)
    except OSError as error:
        raise fs.os_error(error, "every lock was kept as it was") from None
    finally:
        for item in compiled:
            item.scratch.unlink(missing_ok=True)


def compile_tool_locks(ctx: Context, extra: list[str]) -> list[Path]:
    """`nox -s lock -- --tools`: compile every ``tool-locks/*.in`` again with the pinned uv
    (``--upgrade`` moves them all to the newest versions). The tool locks changed."""
    before = {tool: _text(tool_locks.lock_path(tool)) for tool in tool_locks.tool_names()}
    for tool in before:
        argv = tool_locks.compile_tool_lock_argv(ctx.uv, tool, extra)
        ctx.timed(f"locking tool-locks/{tool}.txt", functools.partial(ctx.run_uv, argv))
    ctx.log("the tool versions are lock inputs: run `nox -s lock` for the project's locks")
    return [
        tool_locks.lock_path(tool)
        for tool, text in before.items()
        if _text(tool_locks.lock_path(tool)) != text
    ]


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def read_trusted_lock(
    project: Project, ctx: Context, target: LockTarget, lock_if_missing: bool
) -> str:
    """The body of a trusted lock; compile the locks first only when asked and none exists."""
    if lock_if_missing and not target.output.exists():
        ctx.log(f"{target.output.name} does not exist yet: locking first")
        compile_locks(project, ctx, [])
    return trusted_set_body(project, ctx, target)


def trusted_set_body(project: Project, ctx: Context, target: LockTarget) -> str:
    """The body of ``target`` once every lock of its set is trusted: the others' inputs
    count too (a set whose bodies match can still hold a member compiled before an input
    changed), so setup, rebuild and doctor judge as the pre-commit hook does."""
    body = lockfiles.trusted_body(project, target)
    every = lockfiles.lock_targets(project) + backends.for_project(project, ctx).own_lock_targets()
    for other in every:
        if other.output != target.output:
            lockfiles.trusted_body(project, other)
    return body
