"""Writing a project's locks as one unit.

Every lock is first compiled into a scratch file. Only when all of them are compiled,
and the runtime lock agrees with the dev lock it was constrained by, are they staged
beside the real files (complete, flushed, with each old file's mode) and renamed into
place one after the other, with Ctrl-C and SIGTERM held off until the last rename. Each header names the whole set and its digest, so if the
process dies between two renames, the set on disk is refused (``lockfiles.trusted_body``)
until the next `nox -s lock` instead of being installed half old, half new.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from envlock import EnvlockError, fs, interrupts, lockfiles, owners
from envlock.comparison import spelled
from envlock.context import Context, RunCommand
from envlock.lockfiles import LockTarget
from envlock.settings import Project

__all__ = [
    "SCRATCH_MARK",
    "Compiled",
    "LockCommand",
    "compile_body",
    "mismatched_pins",
    "put_lock_set",
    "remove_dead_scratch",
    "scratch_path",
]

# Given the target to compile and the scratch file to write, the command and its environment.
LockCommand = Callable[[LockTarget, Path], tuple[list[str], dict[str, str]]]

SCRATCH_MARK = ".envlock-compiling-"  # .NAME.envlock-compiling-PID, in the .gitignore
# Both kinds of scratch file (a compile's, and fs.stage's) name the process that made them.
DEAD_SCRATCH = re.compile(
    rf"^\..+({re.escape(SCRATCH_MARK)}|{re.escape(fs.SCRATCH_MARK)})(?P<pid>\d+)(-\w+)?$"
)


@dataclasses.dataclass(frozen=True)
class Compiled:
    """A lock compiled but not yet in place: its body, the inputs digest taken before the
    engine ran, and the scratch file that holds the body meanwhile."""

    target: LockTarget
    body: str
    inputs: str
    scratch: Path


def scratch_path(target: LockTarget) -> Path:
    """Where a lock is compiled; the process id in the name tells whose it is."""
    return target.output.with_name(f".{target.output.name}{SCRATCH_MARK}{os.getpid()}")


def _running(pid: int) -> bool:
    # Not os.kill(pid, 0): on Windows signal 0 is CTRL_C_EVENT, sent to pid's console.
    return owners.process_started(pid) is not None


def remove_dead_scratch(folder: Path) -> list[Path]:
    """Remove the compile scratch files of lock runs whose process is gone (a kill or a
    crash left them); others' and unmarked files stay. The files removed."""
    removed = []
    for path in folder.iterdir():
        match = DEAD_SCRATCH.match(path.name)
        if match and int(match["pid"]) != os.getpid() and not _running(int(match["pid"])):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def compile_body(
    project: Project,
    ctx: Context,
    target: LockTarget,
    command: LockCommand,
    keep_pins: bool = True,
    constraint: Compiled | None = None,
    run: RunCommand | None = None,
    preferences: Callable[[str], str] = lambda body: body,
) -> Compiled:
    """Compile one lock into its scratch file (nothing in place changes).

    The scratch file starts as the old lock's body because the engines keep the versions
    they find there unless told to upgrade (``keep_pins=False``: start afresh). With
    ``constraint``, the engine is constrained by that new, not yet placed, lock; the
    body then names the lock's real file, as if it had been given that. ``run`` runs the
    engine (default ``ctx.run``); ``preferences`` picks what of the old body the engine
    starts from.
    """
    inputs = lockfiles.inputs_digest(project, target)  # before the engine reads them
    scratch = scratch_path(target)
    compiled_as = target
    if constraint is not None:
        compiled_as = dataclasses.replace(target, constraint=constraint.scratch)
    try:
        if keep_pins and target.output.exists():
            try:
                scratch.write_text(preferences(_old_body(ctx, target.output)), "utf-8")
            except OSError as error:  # a failed write names no file: name the scratch one
                raise fs.os_error(error, "every lock was kept as it was", scratch) from None
        argv, env = command(compiled_as, scratch)
        engine = run or ctx.run
        ctx.timed(f"locking {target.output.name}", lambda: engine(argv, env))
        body = scratch.read_text(encoding="utf-8")
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    # The body names files as the engine was given them: name the real ones instead.
    body = body.replace(scratch.name, target.output.name)
    if constraint is not None:
        body = body.replace(f"-c {constraint.scratch.name}", f"-c {constraint.target.output.name}")
    return Compiled(target, body, inputs, scratch)


def mismatched_pins(project: Project, bodies: dict[Path, str]) -> list[str]:
    """Where the runtime lock pins a version the main dev lock does not (both must be in
    ``bodies`` to be compared): the environment would not be what production installs."""
    runtime, dev = (
        lockfiles.runtime_lock_path(project),
        lockfiles.dev_lock_path(project, project.python),
    )
    if runtime not in bodies or dev not in bodies:
        return []
    dev_versions: dict[str, set[str]] = {}
    for pin in lockfiles.parse_pins(dev, bodies[dev]):
        dev_versions.setdefault(pin.name, set()).add(pin.locked_as)
    problems = []
    for pin in lockfiles.parse_pins(runtime, bodies[runtime]):
        if pin.locked_as not in dev_versions.get(pin.name, set()):
            has = " or ".join(sorted(dev_versions.get(pin.name, set()))) or "nothing"
            problems.append(f"{spelled(pin.name, pin.locked_as)} ({dev.name} has {has})")
    return problems


def put_lock_set(
    project: Project, compiled: Sequence[Compiled], kept: Sequence[LockTarget] = ()
) -> list[Path]:
    """Put the compiled locks in place as one set (see the module docstring); ``kept``
    are locks of the project that this run did not compile but that stay in the set as
    they are. Returns the locks whose content changed."""
    rel = {c.target.output: _rel(project, c.target.output) for c in compiled}
    bodies = {c.target.output: c.body for c in compiled}
    kept_headers = {}
    for target in kept:
        header, body = lockfiles.split_lock(lockfiles.read_lock(target.output))
        if header is not None:
            bodies[target.output], kept_headers[target.output] = body, header
            rel[target.output] = _rel(project, target.output)
    problems = mismatched_pins(project, bodies)
    if problems:
        runtime = lockfiles.runtime_lock_path(project).name
        raise EnvlockError(
            f"{runtime} would pin {'; '.join(problems)}: {project.dev_requirements.name} "
            f"must include `-r {project.requirements.name}`; nothing was written"
        )
    members = {rel[path]: body for path, body in bodies.items()}
    texts = {
        c.target.output: lockfiles.render_lock(project, c.target, c.body, c.inputs, members)
        for c in compiled
    }
    for path, header in kept_headers.items():
        texts[path] = header.lines + lockfiles.set_line(members) + bodies[path]
    changed = [path for path, text in texts.items() if _current(path) != text]
    fs.refuse_read_only(changed, "the locks")
    staged: list[fs.Staged] = []
    try:
        for path in changed:
            staged.append(fs.stage(path, texts[path]))
    except OSError as error:
        fs.discard(staged)
        raise fs.os_error(error, "every lock was kept as it was") from None
    except BaseException:
        fs.discard(staged)
        raise
    placed = 0
    try:
        # The renames take moments; cut between two, the set on disk would be mixed
        # (refused, and the old set gone), so an interruption waits until they are done.
        with interrupts.held_off():
            for item in staged:
                fs.put_in_place(item)
                placed += 1
    except OSError as error:
        fs.discard(staged[placed:])
        kept_as = (
            "every lock was kept as it was"
            if placed == 0
            else "some locks were replaced and some not, so the set is refused until it is "
            "locked again"
        )
        raise fs.os_error(error, kept_as) from None
    except KeyboardInterrupt as error:  # held off, so it comes once every lock is in place
        how = str(error) or "Ctrl-C"
        fs.discard(staged[placed:])
        if placed < len(staged):  # (not while the renames hold it off)
            raise EnvlockError(
                f"interrupted ({how}) between two renames: some locks were replaced and some "
                "not, so the set is refused until `nox -s lock` runs again"
            ) from None
        raise EnvlockError(
            f"interrupted ({how}) as the locks were put in place, which was let finish: the "
            f"lock files are the new set ({', '.join(sorted(p.name for p in changed))})"
        ) from None
    return changed


def _old_body(ctx: Context, lock: Path) -> str:
    """The old lock's body, whose versions the engine keeps; a damaged one (not UTF-8)
    keeps none, so that locking again repairs it."""
    try:
        return lockfiles.read_body(lock)
    except EnvlockError:
        ctx.log(f"{lock.name} is damaged (not UTF-8): locking it afresh")
        return ""


def _rel(project: Project, path: Path) -> str:
    return path.relative_to(project.root).as_posix()


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
