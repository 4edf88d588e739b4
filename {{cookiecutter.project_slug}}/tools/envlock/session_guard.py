"""One session at a time may change the project's environments and locks.

The guard is an operating-system lock on ``.nox/envlock.session``: it goes away with
the process that holds it, so a crashed session never leaves the project blocked. The
file's first byte is the one locked (on Windows ``msvcrt.locking`` locks a byte range
from the current position, and a locked byte cannot even be read); the text after it
names the session that holds the guard.

``.nox`` is a folder users delete. So on POSIX the project folder itself is locked
too (``flock`` on a descriptor of the folder), which no deletion inside it undoes; on
Windows, where a folder cannot be locked, the markers of ``owners`` keep a second
session away from the folders of one that still runs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Concatenate, ParamSpec, TypeVar

from envlock import EnvlockError, interrupts
from envlock.settings import Project

__all__ = [
    "GUARD_FILE",
    "LOCKED_BYTES",
    "changes_environment",
    "current_session",
    "one_session_at_a_time",
    "taking_turns",
]

GUARD_FILE = Path(".nox") / "envlock.session"
LOCKED_BYTES = 1  # from the start of the file; the holder's text comes after them

_depth = 0  # nesting in this process (setup may compile the locks first)
_holder = ""  # the session holding the guard in this process, as `nox -s NAME`

P = ParamSpec("P")
R = TypeVar("R")

if sys.platform == "win32":
    import msvcrt

    def os_lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, LOCKED_BYTES)

    def os_unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, LOCKED_BYTES)

    def os_wait_lock(fd: int) -> None:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, LOCKED_BYTES)
                return
            except OSError:  # LK_LOCK gives up after 10 tries a second apart: wait on
                continue

    @contextlib.contextmanager
    def project_folder_locked(root: Path) -> Iterator[bool]:
        yield True  # a folder cannot be locked on Windows (see the module's docstring)

else:
    import fcntl

    def os_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def os_unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    def os_wait_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    @contextlib.contextmanager
    def project_folder_locked(root: Path) -> Iterator[bool]:
        """Whether this process could lock the project folder; held until the end."""
        fd = os.open(root, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock


def try_to_hold(handle: IO[bytes], lock: Callable[[int], None] = os_lock) -> bool:
    """Lock the guard's fixed byte range, from the start of the file; False if held."""
    handle.seek(0)
    try:
        lock(handle.fileno())
    except OSError:
        return False
    return True


def current_session() -> str:
    """The session holding the guard in this process (`nox -s NAME`), or ""."""
    return _holder


def _open_guard(path: Path) -> IO[bytes]:
    """The guard file, for reading and writing at any position (never append mode, in
    which every write, and on Windows the lock, would go to the end)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
    return os.fdopen(fd, "r+b")


@contextlib.contextmanager
def one_session_at_a_time(
    root: Path,
    what: str,
    lock: Callable[[int], None] = os_lock,
    unlock: Callable[[int], None] = os_unlock,
) -> Iterator[None]:
    """Hold the project's guard while ``what`` runs, or refuse at once if another holds it.

    While it is held, SIGTERM unwinds like Ctrl-C, so half-built environments are
    cleaned up instead of left behind. ``lock``/``unlock`` are the OS calls (tests pass
    others to check the Windows byte range on any platform).
    """
    global _depth, _holder
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    with (
        project_folder_locked(root) as folder_held,
        _open_guard(root / GUARD_FILE) as handle,
    ):
        if not (folder_held and try_to_hold(handle, lock)):
            handle.seek(LOCKED_BYTES)
            try:
                holder = handle.read().decode("utf-8", "replace").strip("\0 \n")
            except OSError:
                holder = ""
            raise EnvlockError(
                f"{holder or 'another nox session'} is changing this project's environment: "
                "wait for it to finish, then run this again"
            )
        with contextlib.suppress(OSError):  # the name is for others; a full disk may refuse it
            handle.seek(LOCKED_BYTES)
            handle.truncate()
            handle.write(f"`nox -s {what}` (process {os.getpid()})".encode())
            handle.flush()
        _depth, _holder = 1, f"`nox -s {what}`"
        try:
            with interrupts.terminate_unwinds():
                yield
        finally:
            _depth, _holder = 0, ""
            handle.seek(0)
            with contextlib.suppress(OSError):
                unlock(handle.fileno())


@contextlib.contextmanager
def taking_turns(path: Path) -> Iterator[None]:
    """Hold an OS lock on ``path``, waiting while another process holds it: for a short
    step that any session may need, read-only ones too (installing the pinned uv), so
    two sessions started at once never build the same thing at the same time."""
    with _open_guard(path) as handle:
        handle.seek(0)
        os_wait_lock(handle.fileno())
        try:
            yield
        finally:
            handle.seek(0)
            with contextlib.suppress(OSError):
                os_unlock(handle.fileno())


def changes_environment(
    what: str,
) -> Callable[[Callable[Concatenate[Project, P], R]], Callable[Concatenate[Project, P], R]]:
    """Run the decorated session function (whose first argument is the project) holding
    the guard: ``what`` is the session's name, shown to a session that has to wait."""

    def decorate(
        function: Callable[Concatenate[Project, P], R],
    ) -> Callable[Concatenate[Project, P], R]:
        @functools.wraps(function)
        def wrapper(project: Project, /, *args: P.args, **kwargs: P.kwargs) -> R:
            with one_session_at_a_time(project.root, what):
                return function(project, *args, **kwargs)

        return wrapper

    return decorate
