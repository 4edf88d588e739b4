"""Which session made a folder beside an environment, and whether that session still runs.

A session writes a marker naming itself (process id, the process's start time, host,
session) *before* it makes a folder beside an environment (``.venv.new``, ``.venv.old``)
and deletes the marker only *after* the folder is gone, so a folder with such a name
and no marker was not made by a session. The marker of a folder is the file beside
it, ``<folder>.owner.json``: the folder itself stays exactly what was built or moved.
(Scratch files of the locks name their process in their own name: ``lock_set``.)

A leftover may be cleaned or restored only when ``still_running`` is false for its
marker: the process is gone, or its id now belongs to a process that started later.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

__all__ = [
    "Owner",
    "marker_path",
    "process_started",
    "read_marker",
    "still_running",
    "this_process",
    "unmark",
    "write_marker",
]

MARKER_SUFFIX = ".owner.json"


@dataclasses.dataclass(frozen=True)
class Owner:
    """The process that made a leftover."""

    pid: int
    started: str  # as the OS reports it; "" where it cannot be read
    host: str
    session: str  # e.g. "`nox -s rebuild`"

    def describe(self) -> str:
        return f"{self.session or 'a nox session'} (process {self.pid} on {self.host})"


def process_started(pid: int) -> str | None:
    """When process ``pid`` started (an opaque text), "" if it runs but the time cannot be
    read here, None if there is no such process."""
    if sys.platform == "win32":
        return "" if _windows_process_runs(pid) else None
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            # Field 22 (start time in clock ticks); the name in field 2 may hold spaces.
            return stat.read_text().rsplit(")", 1)[1].split()[19]
        except (OSError, IndexError):
            return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    result = subprocess.run(
        ["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return re.sub(r"\W+", "", result.stdout) if result.returncode == 0 else ""


if sys.platform == "win32":
    import ctypes

    def _windows_process_runs(pid: int) -> bool:
        kernel = ctypes.windll.kernel32
        handle = kernel.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel.GetLastError() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        try:
            ok = kernel.GetExitCodeProcess(handle, ctypes.byref(code))
        finally:
            kernel.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE

else:

    def _windows_process_runs(pid: int) -> bool:
        raise NotImplementedError


def this_process(session: str) -> Owner:
    return Owner(os.getpid(), process_started(os.getpid()) or "", socket.gethostname(), session)


def still_running(owner: Owner) -> bool:
    """True when the process that made a leftover may still be at work on it: it runs (and
    is not this process), or it ran on another host, where this one cannot look."""
    if owner.host != socket.gethostname():
        return True
    if owner.pid == os.getpid():
        return False  # this session's own leftover, from a step that failed
    started = process_started(owner.pid)
    if started is None:
        return False
    return not (owner.started and started and started != owner.started)


def marker_path(folder: Path) -> Path:
    return folder.with_name(folder.name + MARKER_SUFFIX)


def write_marker(folder: Path, owner: Owner) -> None:
    """Claim ``folder`` (before it exists): only a session that wrote this may remove it."""
    text = json.dumps(dataclasses.asdict(owner), indent=2, sort_keys=True) + "\n"
    marker = marker_path(folder)
    scratch = marker.with_name(marker.name + ".partial")
    try:
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(marker)  # a marker is read whole or not at all
    except OSError as error:
        scratch.unlink(missing_ok=True)
        if error.filename is None:  # a failed write names no file: name the marker
            error.filename = str(marker)
        raise


def read_marker(folder: Path) -> Owner | None:
    """The owner named beside ``folder``, or None when there is no (readable) marker."""
    try:
        data = json.loads(marker_path(folder).read_text(encoding="utf-8"))
        return Owner(
            int(data["pid"]), str(data["started"]), str(data["host"]), str(data["session"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def unmark(folder: Path) -> None:
    """Drop the claim on ``folder`` (after the folder is gone)."""
    marker_path(folder).unlink(missing_ok=True)
