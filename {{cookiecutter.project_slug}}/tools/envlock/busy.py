"""One session at a time may change the project's environments and locks.

The lock is an operating-system lock on ``.nox/envlock.lock``: it goes away with the
process that holds it, so a crashed session never leaves the project locked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from envlock import EnvlockError

_held = 0  # nesting depth in this process (setup may lock first)


def _try_lock(handle) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def exclusive(root: Path, what: str) -> Iterator[None]:
    """Hold the project's lock while ``what`` runs, or refuse at once if another holds it.

    While it is held, SIGTERM unwinds like Ctrl-C, so half-built environments are
    cleaned up instead of left behind.
    """
    global _held
    if _held:
        _held += 1
        try:
            yield
        finally:
            _held -= 1
        return
    path = root / ".nox" / "envlock.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "another nox session"
            raise EnvlockError(
                f"{holder} is changing this project's environment: wait for it "
                "to finish, then run this again"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(f"`nox -s {what}` (process {os.getpid()})")
        handle.flush()
        previous = signal.signal(signal.SIGTERM, _interrupt)
        _held = 1
        try:
            yield
        finally:
            _held = 0
            signal.signal(signal.SIGTERM, previous)
