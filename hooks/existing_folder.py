"""What the bake must know about a project folder that exists before it writes there.

Shared by the template's Jinja extension (local_extensions.py) and both hooks, which run
as scripts and import this file from the template's hooks folder:

- the symbolic links the bake would write through (refused before anything is written);
- the note of the folder: the pre-generation hook takes it, the post-generation hook reads
  it back (and removes it) to tell the files this bake wrote from the user's. The note
  lives in a private temporary file that the extension makes with ``tempfile.mkstemp``
  (a fresh name, mode 0600) and names to both hooks, since it may hold a copy of a
  user's file.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path


def fingerprint(path: Path) -> list[int] | None:
    """What changes when a file is written (no hashing: the folder may hold big data)."""
    try:
        info = path.lstat()
    except (FileNotFoundError, NotADirectoryError):  # nothing there, or a file on the way
        return None
    return [info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def unchosen_folders(plan: dict[str, list[str]]) -> list[str]:
    """The folders holding files of options not chosen (``docs`` for ``docs/index.md``)."""
    parents = {parent for name in plan["unchosen"] for parent in Path(name).parents}
    return sorted(parent.as_posix() for parent in parents - {Path(".")})


def take_note(project: Path, plan: dict[str, list[str]], skip: bool = False) -> dict[str, object]:
    """The files the template writes as they are now, the folders of options not chosen
    and the caches that exist, and a copy of each user's file of an option not chosen
    (``-f`` would overwrite it); with ``-s``, a copy of every file the template writes
    that exists (cookiecutter copies its files not rendered, ``_copy_without_render``,
    over existing ones even with ``-s``)."""
    saved = {}
    for name in sorted(set(plan["unchosen"]) | set(plan["files"] if skip else [])):
        path = project / name
        if path.is_file() and not path.is_symlink():
            saved[name] = {
                "mode": stat.S_IMODE(path.stat().st_mode),
                "content": base64.b64encode(path.read_bytes()).decode("ascii"),
            }
    return {
        "files": {name: fingerprint(project / name) for name in plan["files"]},
        "folders": [name for name in unchosen_folders(plan) if (project / name).is_dir()],
        "caches": [name for name in plan["caches"] if os.path.lexists(project / name)],
        "saved": saved,
        "skip": skip,
    }


def write_note(path: Path, note: dict[str, object]) -> None:
    """Into the file the extension made (never through a link put in its place)."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(note, handle)


def read_note(path: Path) -> dict | None:
    """The note, removed once read; None when there is none to read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    finally:
        path.unlink(missing_ok=True)
    try:
        note = json.loads(text)
    except ValueError:
        return None
    return note if isinstance(note, dict) and "files" in note else None


def written_by_this_bake(project: Path, before: dict[str, list[int] | None]) -> list[str]:
    """The files the bake created or overwrote; a file it skipped is unchanged."""
    return [
        name
        for name, old in before.items()
        if os.path.lexists(project / name) and (old is None or fingerprint(project / name) != old)
    ]


def links_in_the_way(project: Path, files: list[str]) -> list[str]:
    """The paths this bake would write through a symbolic link it did not make: a link at
    a file the template writes, or at a folder on the way to one. Cookiecutter's ``-f``
    opens such a path and so overwrites the link's target, which may lie anywhere."""
    found: set[str] = set()
    for name in files:
        parts = Path(name).parts
        for depth in range(1, len(parts) + 1):
            relative = Path(*parts[:depth])
            if (project / relative).is_symlink():
                found.add(relative.as_posix())
                break
    return sorted(found)


def hard_links_in_the_way(project: Path, files: list[str]) -> list[str]:
    """The files the template writes that exist as one of several hard links: cookiecutter
    writes into the file in place, so its other names, anywhere, would change too."""
    found = []
    for name in files:
        try:
            info = (project / name).lstat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            found.append(name)
    return found


def kinds_in_the_way(project: Path, files: list[str]) -> list[tuple[str, str]]:
    """(path, what the template needs there) where the folder holds the other kind: a
    folder where the template writes a file, or a file where it needs a folder."""
    found: dict[str, str] = {}
    for name in files:
        parts = Path(name).parts
        for depth in range(1, len(parts)):
            relative = Path(*parts[:depth])
            path = project / relative
            if path.is_symlink():
                break
            if os.path.lexists(path) and not path.is_dir():
                found.setdefault(relative.as_posix(), f"the folder {relative.as_posix()}/ ({name})")
                break
        else:
            path = project / name
            if path.is_dir() and not path.is_symlink():
                found.setdefault(name, f"the file {name}")
    return sorted(found.items())


def links_refusal(project: Path, files: list[str]) -> str | None:
    """One line when the bake would write through a link, or cannot write a file (a
    folder or a file in its way: cookiecutter would stop with a traceback); None when
    nothing is in the way."""
    blocked = kinds_in_the_way(project, files)
    if blocked:
        name, needed = blocked[0]
        more = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
        kind = "a folder" if (project / name).is_dir() else "a file"
        return (
            f"{project.name}/{name}{more} is {kind} where the template writes {needed}: "
            f"move it out of {project.name}, then bake again"
        )
    links = links_in_the_way(project, files)
    if not links:
        hard = hard_links_in_the_way(project, files)
        if not hard:
            return None
        name = hard[0]
        more = f" (and {len(hard) - 1} more)" if len(hard) > 1 else ""
        count = (project / name).lstat().st_nlink
        return (
            f"{project.name}/{name}{more} is one of {count} hard links to the same file: the "
            "bake would change it under its other names too; make it a file of its own "
            f"(`cp -p {name} {name}.copy && mv {name}.copy {name}` in {project.name}), "
            "then bake again"
        )
    shown = f"{project.name}/{links[0]}"
    more = f" (and {len(links) - 1} more)" if len(links) > 1 else ""
    return (
        f"{shown}{more} is a symbolic link to {os.readlink(project / links[0])}: the bake "
        f"would write through it into that file; move the link out of {project.name}, "
        "then bake again"
    )
