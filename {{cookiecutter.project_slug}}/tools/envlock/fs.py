"""Writing files so that readers never see half of one, and digests of files.

A file is replaced by writing a scratch file beside it and renaming that over it. The
new file keeps what the old one was: its permission bits (0644 for a new file), and when
the path is a symbolic link, the link stays and its target gets the new content. A file
without write permission is refused, never replaced. Every operating-system error ends
as one ``EnvlockError`` line naming the path and what was kept.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from envlock import EnvlockError, os_errors

__all__ = [
    "NEW_FILE_MODE",
    "SCRATCH_MARK",
    "Staged",
    "discard",
    "fingerprint",
    "os_error",
    "put_in_place",
    "read_utf8",
    "real_path",
    "refuse_read_only",
    "stage",
    "write_atomically",
    "write_json",
]

NEW_FILE_MODE = 0o644
SCRATCH_MARK = ".envlock-tmp-"  # `.NAME.envlock-tmp-PID-XXXX`, in the generated .gitignore


def os_error(error: OSError, kept: str, path: Path | None = None) -> EnvlockError:
    """The one line for an OS error: the path, what happened, what was kept, what to do."""
    where = path or (Path(error.filename) if error.filename else None)
    name = str(where) if where is not None else "a file"
    found = os_errors.advice(error.errno, where)
    remedy = found[1] if found else "fix that"
    return EnvlockError(
        f"cannot write {name} ({error.strerror or error}): {kept}; {remedy}, then run this again"
    )


def read_utf8(path: Path, shown: str, todo: str, encoding: str = "utf-8") -> str:
    """The text of ``path``; bytes that are not UTF-8 are one line naming the file
    (``shown``), the line and the byte offset of the first of them, and ``todo``."""
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise EnvlockError(
            f"{shown} is not UTF-8 (byte 0x{data[error.start]:02x} at line {line}, byte "
            f"offset {error.start}): {todo}"
        ) from None


def real_path(path: Path) -> Path:
    """The file a write to ``path`` must change: the target when ``path`` is a link (a
    link loop is the OS error it is, named by the path, not a RuntimeError)."""
    if not path.is_symlink():
        return path
    try:
        return path.resolve(strict=False)
    except RuntimeError:  # Python before 3.13 raises this for a loop
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None


def refuse_read_only(paths: Sequence[Path], what: str) -> None:
    """Raise, before anything is written, if one of ``paths`` exists without write
    permission for its owner (checked on the bits: root could write it anyway)."""
    for path in paths:
        try:
            mode = real_path(path).stat().st_mode
        except FileNotFoundError:
            continue
        except OSError as error:  # a link loop, a denied folder: before any work
            raise os_error(error, "nothing was changed", path) from None
        if not mode & stat.S_IWUSR:
            shown = _as_typed(path)
            raise EnvlockError(
                f"{shown} is read-only, so it is not replaced; nothing was changed: make "
                f"it writable (`chmod u+w {shown}`) to update {what}, or leave it as it is"
            )


def _as_typed(path: Path) -> str:
    """``path`` as the user types it in the project folder (where the sessions run)."""
    try:
        return path.absolute().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


class Staged:
    """A complete scratch copy of a file's new content, beside the file it will replace."""

    def __init__(self, path: Path, scratch: Path) -> None:
        self.path = path  # as the caller named it (maybe a link)
        self.scratch = scratch


def stage(path: Path, text: str) -> Staged:
    """Write ``text`` into a scratch file beside ``path``'s real file, flushed to disk and
    with the mode the new file will have. Raises OSError; leaves no scratch file then."""
    target = real_path(path)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    prefix = f".{target.name}{SCRATCH_MARK}{os.getpid()}-"  # whose it is: lock_set cleans up
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(mode)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        if error.filename is None:  # a failed write names no file: name the scratch one
            raise OSError(error.errno, error.strerror, tmp) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Staged(path, Path(tmp))


def put_in_place(staged: Staged) -> None:
    """Rename the scratch file over the real file (one atomic step)."""
    staged.scratch.replace(real_path(staged.path))


def discard(staged: Sequence[Staged]) -> None:
    """Remove scratch files that were not put in place."""
    for item in staged:
        with contextlib.suppress(OSError):
            item.scratch.unlink(missing_ok=True)


def write_atomically(path: Path, text: str, kept: str = "the old file was kept") -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new, never half
    (see the module docstring); a read-only file and OS errors are an EnvlockError."""
    refuse_read_only([path], path.name)
    staged: list[Staged] = []
    try:
        staged.append(stage(path, text))
        put_in_place(staged[0])
    except OSError as error:
        discard(staged)
        raise os_error(error, kept, path) from None
    except BaseException:
        discard(staged)
        raise


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as indented, key-sorted JSON, atomically."""
    write_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def fingerprint(*paths: Path) -> str:
    """Digest of files whose change means the environment must be synced again."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
