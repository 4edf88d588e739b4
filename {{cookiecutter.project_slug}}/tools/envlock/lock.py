"""`nox -s lock`: compile every lock of the project (pip locks, and the backend's own) as
one set (``lock_set``), or with ``--tools`` the tool locks (``tool_locks``).

The ``.in`` files are read first (``requirements_in``): a line that a lock could not
reproduce is refused in one line before any engine runs. The engine reads rewritten
copies of them (``engine_inputs``), its failure is told in one line (``failures``), and
its output is made portable (``lock_body``). The pip locks are then checked for wheels
on every Python of the matrix (``wheels``). Nothing is put in place until every lock
has compiled and passed, so a refused input, a failed compile or check, or an
interrupted run leaves the old locks as they were.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from envlock import (
    EnvlockError,
    backends,
    engine_inputs,
    engines,
    failures,
    fs,
    interrupts,
    lock_body,
    lockfiles,
    pythons,
    requirements_in,
    runner,
    tool_locks,
    wheels,
)
from envlock.context import Context, RunCommand, tool_python
from envlock.lock_set import (
    SCRATCH_MARK,
    Compiled,
    LockCommand,
    compile_body,
    put_lock_set,
    remove_dead_scratch,
)
from envlock.lockfiles import LockTarget
from envlock.session_guard import changes_environment
from envlock.settings import Project

__all__ = ["compile_locks", "compile_tool_locks", "read_trusted_lock", "trusted_set_body"]


def _pip_lock_command(
    project: Project,
    ctx: Context,
    python: str,
    extra: list[str],
    copies: engine_inputs.EngineInputs,
    dev: Compiled | None,
) -> LockCommand:
    """The engine's command for one pip lock: it reads the copies of the inputs and, for
    the runtime lock, the dev lock's index pins as constraints (``dev``)."""
    indexes = engines.index_args(project.extra_index_urls)
    constraint = None if dev is None else copies.constraints(dev.body, dev.target.output.name)
    if project.lock_engine == "uv":
        return lambda target, out: (
            engines.uv_compile_argv(
                ctx.uv, target, out, indexes + extra, copies.copy_of(target.source), constraint
            ),
            engines.uv_env(os.environ),
        )
    interpreter = pythons.require_python(python)
    tool = tool_python(project, ctx, f"pip-tools-{python}", interpreter, "pip-tools")
    return lambda target, out: (
        engines.pip_compile_argv(
            str(tool), target, out, indexes + extra, copies.copy_of(target.source), constraint
        ),
        engines.isolated_pip_env(os.environ),
    )


def _engine_runner(ctx: Context, context: failures.Context) -> RunCommand:
    """Runs a lock engine: its failure told in one line, its own output shown only when
    that line cannot say more than "it failed" (pip-compile's tracebacks otherwise bury
    it)."""

    def run(argv: list[str], env: Mapping[str, str]) -> None:
        ctx.log(shlex.join(argv))
        returncode, output = runner.run_captured(argv, env)
        if returncode != 0:
            message = runner.explain_failure(argv, returncode, output, context)
            if message.endswith("(its output is above)"):
                sys.stderr.write(output)
            raise EnvlockError(message)

    return run


_THIS_PLATFORM = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform)


def _check_wheels(
    project: Project, ctx: Context, compiled: list[Compiled], copies: engine_inputs.EngineInputs
) -> None:
    """Refuse a universal lock with a pin that has no wheel for some Python of the
    matrix or some platform while it has one elsewhere: see ``wheels``."""
    indexes = engines.index_args(project.extra_index_urls)
    # uv's `macos` target means macOS 13 unless told otherwise; wheels that need a newer
    # macOS (torchvision's are for 14) would count as missing. 14 is the oldest macOS
    # its maker still supports.
    env = {**engines.uv_env(os.environ), "MACOSX_DEPLOYMENT_TARGET": wheels.MACOS_TARGET}
    for item in compiled:
        target = item.target
        if target.constraint is not None:  # a runtime lock: its pins are in the dev lock
            continue
        if not target.universal:  # pip-tools: see _check_explicit_pins
            continue
        pins = lockfiles.parse_pins(target.output, item.body)
        check = functools.partial(
            wheels.check_lock,
            ctx.uv,
            target.output,
            lock_body.index_pins(pins),
            project.matrix,
            wheels.PLATFORMS,
            indexes,
            lambda argv: runner.run_captured(argv, env),
            functools.partial(copies.where, dependents=lock_body.dependents(item.body)),
        )
        ctx.timed(f"checking {target.output.name} for wheels on {', '.join(project.matrix)}", check)


def _check_explicit_pins(
    project: Project,
    ctx: Context,
    pythons: list[str],
    copies: engine_inputs.EngineInputs,
    told: failures.Context,
) -> None:
    """With pip-tools, before any compile: the versions the .in files pin with ``==`` must
    have a wheel for every Python to lock where they have one for some (on this platform,
    which pip-compile resolves for). pip-compile would otherwise build such a package
    from source just to read its metadata, which for an old numpy on a new Python takes
    many minutes. Each pip-compile lock is for one Python only, so there is nothing to
    compare a whole lock with afterwards: the versions pip-compile picks itself are left
    to it."""
    pins_text = requirements_in.exact_pins(copies.inputs)
    if _THIS_PLATFORM is None or len(pythons) < 2 or not pins_text:
        return
    check = functools.partial(
        wheels.check_lock,
        ctx.uv,
        lockfiles.dev_lock_path(project, project.python),
        pins_text,
        tuple(pythons),
        (_THIS_PLATFORM,),
        engines.index_args(project.extra_index_urls),
        lambda argv: runner.run_captured(argv, engines.uv_env(os.environ)),
        copies.where,
        told,
    )
    ctx.timed(f"checking the .in files' == pins for wheels on {', '.join(pythons)}", check)


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
    every = lockfiles.lock_targets(project) + backends.for_project(project, ctx).own_lock_targets()
    had_locks = any(target.output.exists() for target in every)
    try:
        return _compile_lock_set(project, ctx, extra)
    except KeyboardInterrupt as error:  # the set is only put in place uninterrupted
        # With no lock before (setup's "locking first"), there is no old set to keep.
        kept = (
            "the lock files are the old set, unchanged" if had_locks else "no lock file was written"
        )
        raise EnvlockError(f"{runner.describe_fault(error)}; {kept}") from None


def _compile_lock_set(project: Project, ctx: Context, extra: list[str]) -> list[Path]:
    """Compile the project's locks into scratch files; put them in place as one set."""
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
        outputs = [target.output for target in every]
        with engine_inputs.prepared(
            project.root, project.inputs, project.lock_engine, outputs
        ) as copies:
            told = failures.Context(copies.inputs, project.matrix, project.extra_index_urls)
            if project.lock_engine == "pip-tools":
                pythons_locked = list(dict.fromkeys(t.python for t in targets))
                _check_explicit_pins(project, ctx, pythons_locked, copies, told)
            for target in targets:
                dev = next((c for c in compiled if c.target.output == target.constraint), None)
                command = _pip_lock_command(project, ctx, target.python, extra, copies, dev)
                item = compile_body(
                    project,
                    ctx,
                    target,
                    command,
                    run=_engine_runner(ctx, told),
                    preferences=lock_body.preferences,
                )
                body = copies.portable(item.body, target.output.name)
                compiled.append(dataclasses.replace(item, body=body))
            _check_wheels(project, ctx, compiled, copies)
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
    (``--upgrade`` moves them all to the newest versions). The tool locks changed.

    Like the project's locks, each is compiled into a scratch file (which starts as the
    old lock, whose pins uv keeps) and only written once all are compiled, keeping each
    file's mode and links; a read-only tool lock is refused before uv runs."""
    paths = {tool: tool_locks.lock_path(tool) for tool in tool_locks.tool_names()}
    fs.refuse_read_only(list(paths.values()), "the tool locks")
    remove_dead_scratch(tool_locks.TOOL_LOCKS)
    texts: dict[Path, str] = {}
    scratches: list[Path] = []
    try:
        for tool, path in paths.items():
            scratch = path.with_name(f".{path.name}{SCRATCH_MARK}{os.getpid()}")
            scratches.append(scratch)
            old = _text(path)
            if old is not None:
                scratch.write_text(old, encoding="utf-8")
            argv = tool_locks.compile_tool_lock_argv(ctx.uv, tool, extra, scratch.name)
            ctx.timed(f"locking tool-locks/{tool}.txt", functools.partial(ctx.run_uv, argv))
            texts[path] = scratch.read_text(encoding="utf-8")
        changed = [path for path, text in texts.items() if _text(path) != text]
        _put_tool_locks(changed, texts)
    except OSError as error:
        raise fs.os_error(error, "every tool lock was kept as it was") from None
    finally:
        for scratch in scratches:
            scratch.unlink(missing_ok=True)
    ctx.log("the tool versions are lock inputs: run `nox -s lock` for the project's locks")
    return changed


def _put_tool_locks(changed: list[Path], texts: Mapping[Path, str]) -> None:
    """Write the changed tool locks, with Ctrl-C and SIGTERM held off until all are."""
    staged: list[fs.Staged] = []
    try:
        for path in changed:
            staged.append(fs.stage(path, texts[path]))
        with interrupts.held_off():
            for item in staged:
                fs.put_in_place(item)
    except KeyboardInterrupt as error:  # held off: it comes once every file is in place
        names = ", ".join(path.name for path in changed) or "none changed"
        raise EnvlockError(
            f"interrupted ({str(error) or 'Ctrl-C'}) as the tool locks were written, which "
            f"was let finish: they are the new ones ({names})"
        ) from None
    finally:
        fs.discard(staged)


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
