"""How the sessions take Ctrl-C and SIGTERM.

While a session makes something (an environment, the locks, the pinned uv), SIGTERM
unwinds like Ctrl-C, so what was half made is cleaned up and the session ends with its
one line instead of vanishing. A few steps take only moments but must never be cut
halfway (putting the lock set in place, a cleanup): they hold an interruption off until
they are done, or ignore it when they are themselves the cleanup of one.

Signal handlers can only be set in the main thread; elsewhere these change nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["held_off", "ignored", "terminate_unwinds"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def interruption(signum: int) -> KeyboardInterrupt:
    """The interruption a signal means: Ctrl-C's own, or one that names the signal."""
    if signum == signal.SIGINT:
        return KeyboardInterrupt()
    return KeyboardInterrupt(signal.Signals(signum).name)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise interruption(signum)


@contextlib.contextmanager
def terminate_unwinds() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt("SIGTERM") meanwhile (nesting is fine)."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def held_off() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done, then interrupt (once)."""
    if not _in_main_thread():
        yield
        return
    received: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    handlers = {sig: signal.signal(sig, remember) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if received:
        raise interruption(received[0])


@contextlib.contextmanager
def ignored() -> Iterator[None]:
    """Ctrl-C and SIGTERM are ignored meanwhile: for the cleanup after an interruption
    (it takes moments), since stopping it halfway could leave a mixed state."""
    if not _in_main_thread():
        yield
        return
    handlers = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
