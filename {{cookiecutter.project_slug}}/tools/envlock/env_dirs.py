"""An environment's folder: its state file, where it really is, the folders beside it
while a new one is built, and the two ways of putting a new one in place (rename, or
build at the path with the old one kept aside). An environment is never changed in
place: a failure at any point leaves the old one, or puts it back.

An environment counts as complete once its state file is written, the last step of
every build. Every folder made beside it is claimed first with a marker
(``owners``), so ``recover`` only ever touches what a session made and left behind.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from envlock import EnvlockError, interrupts, owners, pythons
from envlock.fs import fingerprint
from envlock.runner import describe_fault
from envlock.session_guard import current_session
from envlock.settings import Project

__all__ = [
    "STATE_FILE",
    "EnvState",
    "changing",
    "claim_staging",
    "discard",
    "is_current",
    "leftovers_in_the_way",
    "not_an_environment",
    "place",
    "problem",
    "read_state",
    "recover",
    "replace_in_place",
    "retired_dir",
    "staging_dir",
    "swap_in",
    "wanted_state",
    "write_state",
]

STATE_FILE = "envlock-state.json"

# What an environment was last synced to: Python, and digests of the lock and pyproject.
EnvState = dict[str, str]


def wanted_state(project: Project, lock: Path) -> EnvState:
    """The state of an environment synced to ``lock`` now."""
    return {
        "python": project.python,
        "lock": fingerprint(lock),
        "pyproject": fingerprint(project.root / "pyproject.toml"),
    }


def read_state(env: Path) -> EnvState:
    try:
        data = json.loads((env / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_state(env: Path, state: EnvState) -> None:
    (env / STATE_FILE).write_text(
        json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def is_current(env: Path, state: EnvState, python: Path) -> bool:
    """True when the environment exists and was last synced to exactly ``state``."""
    return python.exists() and read_state(env) == state


def shown(path: Path) -> str:
    """A path as the user knows it: relative to the project (the sessions' folder) when
    inside it, else in full (the target of a linked environment)."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def place(env: Path) -> Path:
    """Where the environment's folder really is: ``env``, or the target of the link
    ``env`` is, so that the new environment is built beside the target and the link is
    kept. Raises, before anything changed, when no environment can be put there."""
    if not env.is_symlink():
        if env.exists() and not env.is_dir():
            raise EnvlockError(
                f"{env.name} is a file, not an environment folder: move it away, "
                "then run this again"
            )
        return env
    try:
        target = env.resolve()
    except (OSError, RuntimeError):  # a loop of links
        raise EnvlockError(
            f"{env.name} is a link that never reaches a folder (a loop): remove the link "
            f"or point it at a folder, then run this again"
        ) from None
    if target.exists() and not target.is_dir():
        raise EnvlockError(
            f"{env.name} is a link to {target}, which is not a folder: point the link at "
            "a folder, or remove it, then run this again"
        )
    if not target.parent.is_dir():
        raise EnvlockError(
            f"{env.name} is a link to {target}, whose folder {target.parent} does not "
            "exist: create that folder, or remove the link, then run this again"
        )
    return target


def staging_dir(env: Path) -> Path:
    """Where a new environment is built before it replaces ``env`` (its real place)."""
    return env.with_name(env.name + ".new")


def retired_dir(env: Path) -> Path:
    """Where the last good environment waits while its replacement is put in place."""
    return env.with_name(env.name + ".old")


def problem(env: Path, python: Path, python_version: str) -> tuple[str, bool] | None:
    """What is wrong with the existing environment at ``env`` (its real place), and
    whether that is because it is foreign (not made by these sessions); None when it is
    sound or absent. Only files are looked at: nothing is run."""
    if not env.exists():
        return None
    if not (env / STATE_FILE).exists():
        return f"{shown(env)} was not made by `nox -s setup` (it has no {STATE_FILE})", True
    broken = pythons.interpreter_problem(python)
    if broken:
        return broken, False
    home = pythons.pyvenv_home(env)
    if home is not None and not home.is_dir():
        return f"the Python {shown(env)} was made with ({home}) is gone", False
    version = pythons.pyvenv_version(env) or read_state(env).get("python")
    if version and version != python_version:
        return (
            f"{shown(env)} has Python {version}, not {python_version} ([tool.envlock] python)"
        ), False
    return None


def not_an_environment(env: Path, linked: bool) -> str | None:
    """One line when ``env`` (its real place) holds files but is no environment at all:
    no state file, no ``pyvenv.cfg``, no ``conda-meta`` (a link to a folder of folders,
    say). Nothing replaces such a folder, since what it holds is not the sessions' to
    delete; an empty folder, or a foreign environment, may be replaced (by `rebuild`)."""
    markers = (env / STATE_FILE, env / "pyvenv.cfg", env / "conda-meta")
    if not env.is_dir() or any(marker.exists() for marker in markers):
        return None
    try:
        if not any(env.iterdir()):
            return None
    except OSError:
        return None  # the step that needs it says what the system refused
    todo = (
        "point the link at an environment's own folder, or remove the link"
        if linked
        else ("move it away")
    )
    return (
        f"{shown(env)} holds files but is not an environment (it has no pyvenv.cfg or "
        f"conda-meta), so no session replaces it: {todo}, then run this again"
    )


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def discard(folder: Path) -> None:
    """Delete a folder this (or a gone) session claimed, then its marker: in that order,
    so a half-deleted folder is still recognised."""
    _remove(folder)
    owners.unmark(folder)


def recover(env: Path) -> None:
    """Undo what an interrupted or killed session left beside ``env`` (its real place):
    only folders it claimed, and only when it no longer runs. The last good environment
    is kept, or put back."""
    with interrupts.ignored():
        retired, staging = retired_dir(env), staging_dir(env)
        owner = owners.read_marker(retired)
        if owner is not None and not owners.still_running(owner):
            if not retired.exists():
                owners.unmark(retired)
            elif (env / STATE_FILE).exists():
                discard(retired)  # the new one was complete and in place
            elif env.exists() or env.is_symlink():
                builder = owners.read_marker(env)
                if builder is None or owners.still_running(builder):
                    # Not claimed by a session (a session's build at this path is, see
                    # replace_in_place): the user's, or an IDE's, never to be removed.
                    raise EnvlockError(
                        f"{shown(env)} has no {STATE_FILE} and was not made by a nox session, "
                        f"and {shown(retired)} holds the last environment a session made: "
                        f"delete or move {shown(env)} to get that one back (the next session "
                        f"does it), or delete {shown(retired)} and its "
                        f"{owners.marker_path(retired).name} to keep yours"
                    )
                _remove(env)  # built at this path by that session, unfinished
                retired.rename(env)
                owners.unmark(env)
                owners.unmark(retired)
            else:  # cut between the two renames of swap_in
                retired.rename(env)
                owners.unmark(retired)
        owner = owners.read_marker(staging)
        if owner is not None and not owners.still_running(owner):
            discard(staging)


def leftovers_in_the_way(env: Path) -> str | None:
    """One line about folders beside ``env`` with the names the sessions use that no
    session may touch: not claimed by one, or claimed by one that still runs."""
    problems = []
    for folder in (staging_dir(env), retired_dir(env)):
        owner = owners.read_marker(folder)
        if owner is not None and not owners.still_running(owner):
            continue
        if not (folder.exists() or folder.is_symlink()):
            continue
        if owner is None:
            problems.append(
                f"{shown(folder)} was not made by a nox session (there is no "
                f"{owners.marker_path(folder).name}), so it was left alone: move it away "
                "or delete it"
            )
        elif owner.host != owners.this_process("").host:
            problems.append(
                f"{shown(folder)} belongs to {owner.describe()}, which this machine cannot "
                f"see: if it no longer runs, delete {shown(folder)} and "
                f"{owners.marker_path(folder).name}"
            )
        else:
            problems.append(
                f"{shown(folder)} belongs to {owner.describe()}, which is still running: "
                "wait for it to finish"
            )
    return "; ".join(problems) or None


def _require_free(env: Path) -> None:
    line = leftovers_in_the_way(env)
    if line:
        raise EnvlockError(f"{line}, then run this again")


def claim_staging(env: Path) -> Path:
    """The staging folder beside ``env`` (its real place), claimed for this session;
    raises, changing nothing, when the names beside ``env`` are not free."""
    _require_free(env)
    staging = staging_dir(env)
    owners.write_marker(staging, owners.this_process(current_session()))
    return staging


def swap_in(new: Path, env: Path) -> None:
    """Put the complete environment ``new`` in the place of ``env`` (its real place),
    then drop the old one. Each step is one rename, and the old one is claimed before it
    moves, so ``recover`` can finish or undo a swap cut anywhere."""
    retired = retired_dir(env)
    if env.exists():
        owners.write_marker(retired, owners.this_process(current_session()))
        env.rename(retired)
    new.rename(env)
    owners.unmark(new)
    with interrupts.ignored():
        if retired.exists():
            discard(retired)


def replace_in_place(env: Path, build: Callable[[Path], None], state: EnvState) -> None:
    """Build a new environment at ``env``'s own path (its real place; for environments
    that cannot be moved, such as conda prefixes). The old one waits beside it and comes
    back if the build fails or is interrupted."""
    _require_free(env)
    retired = retired_dir(env)
    if env.exists():
        owners.write_marker(retired, owners.this_process(current_session()))
        env.rename(retired)
    owners.write_marker(env, owners.this_process(current_session()))  # see recover
    try:
        build(env)
        write_state(env, state)
    except BaseException:
        with interrupts.ignored():
            _remove(env)
            if retired.exists():
                retired.rename(env)
                owners.unmark(retired)
            owners.unmark(env)
        raise
    owners.unmark(env)
    with interrupts.ignored():
        if retired.exists():
            discard(retired)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


@contextlib.contextmanager
def changing(env: Path) -> Iterator[None]:
    """Run a change of the environment ``env`` (as the project names it). Any failure,
    an OS error or an interruption ends, after ``recover``, in one EnvlockError that
    says what went wrong and what became of the environment."""
    real = place(env)
    before = _identity(real)
    try:
        yield
    except (EnvlockError, OSError, KeyboardInterrupt) as error:
        recover(real)
        after = _identity(real)
        if before is None and after is None:
            outcome = f"no {env.name} was made"
        elif before == after:
            outcome = f"{env.name} was left as it was"
        elif (real / STATE_FILE).exists():
            outcome = f"{env.name} is the new environment (it was complete and in place)"
        else:
            outcome = f"{env.name} is not complete: run `nox -s rebuild`"
        if isinstance(error, KeyboardInterrupt):
            outcome += "; the lock files were not changed"
        raise EnvlockError(f"{describe_fault(error)}; {outcome}") from None
