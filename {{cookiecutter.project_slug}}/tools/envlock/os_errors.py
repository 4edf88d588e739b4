"""What an operating-system error means and what the user can do about it.

One table, by errno, for the errors the sessions meet themselves (``line``; ``fs`` says
what was kept around it) and for the ones a command they ran printed (``printed``: a
program prints the system's own text for the error, ``os.strerror``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["ADVICE", "advice", "line", "printed"]

# errno: (what happened, what to do). ``{folder}`` is the folder of the path concerned,
# ``{path}`` the path itself.
ADVICE = {
    errno.ENOSPC: ("the disk is full", "free some space on that disk"),
    errno.EDQUOT: ("the disk quota is used up", "free some space (the disk quota is reached)"),
    errno.EROFS: (
        "the file system is read-only",
        "remount it writable, or work on a disk that can be written",
    ),
    errno.EACCES: (
        "permission was denied",
        "give yourself write permission on {folder} (`ls -ld` shows its owner and mode)",
    ),
    errno.EPERM: (
        "the operation is not permitted",
        "give yourself write permission on {folder} (`ls -ld` shows its owner and mode)",
    ),
    errno.ENAMETOOLONG: (
        "a file name is too long",
        (
            "use shorter folder names on that path (a name has at most 255 bytes), or "
            "move the project to a shorter path"
        ),
    ),
    errno.ELOOP: ("the path is a loop of links", "make it a file, or a link that ends at one"),
    # A file where a session makes a folder (a `.nox` file, say): mkdir says EEXIST for
    # the path itself, opening a path through it ENOTDIR for the whole path.
    errno.EEXIST: (
        "a file is in the way of a folder",
        "move {path} away (the session makes a folder there)",
    ),
    errno.ENOTDIR: (
        "a part of the path is a file, not a folder",
        "move that file away (the session makes a folder there)",
    ),
}


# Their advice needs the path, which a command's output does not give in a known place.
_OWN_PATH_ONLY = {errno.EEXIST, errno.ENOTDIR}


def advice(code: int | None, path: str | os.PathLike[str] | None = None) -> tuple[str, str] | None:
    """What happened and what to do for an errno, the folder of ``path`` filled in."""
    found = ADVICE.get(code or 0)
    if found is None:
        return None
    folder = str(Path(path).parent) if path else "that folder"
    return found[0], found[1].format(folder=folder, path=str(path) if path else "it")


def line(error: OSError) -> str:
    """One line for an OS error: the path, what it means, what to do."""
    where = f" at {error.filename}" if error.filename else ""
    if error.filename2:
        where += f" (and {error.filename2})"
    found = advice(error.errno, error.filename)
    if found is None:
        reason = error.strerror or str(error)
        return f"the operating system refused{where}: {reason}"
    what, todo = found
    return f"{what}{where}: {todo}, then run this again"


def printed(output: str) -> tuple[str, str] | None:
    """What happened and what to do, for the first OS error of the table that a
    command's output names in the system's words."""
    text = output.lower()
    for code in ADVICE:
        if code not in _OWN_PATH_ONLY and os.strerror(code).lower() in text:
            return advice(code)
    return None
