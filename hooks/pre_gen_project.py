"""Before cookiecutter writes the files: note what the project folder already holds.

The folder may exist already (``cookiecutter -f``, ``-f -s``, ``cruft create -f``). The
post-generation hook must then touch only what this bake wrote: it compares each file
the template writes with the note made here (a file that was there and is unchanged was
skipped, ``-s``), and puts back, byte for byte, a file of an option not chosen that
cookiecutter overwrote. The answers were checked before the folder was made (see
local_extensions.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path


def state_file(project: Path) -> Path:
    """Where the note waits for the post-generation hook (outside the project)."""
    digest = hashlib.sha256(str(project.resolve()).encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"cookiecutter-bake-{digest}.json"


def fingerprint(path: Path) -> list[int] | None:
    """What changes when a file is written (no hashing: the folder may hold big data)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    return [info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def note(project: Path, plan: dict[str, list[str]]) -> dict[str, object]:
    saved = {}
    for name in plan["unchosen"]:
        path = project / name
        if path.is_file() and not path.is_symlink():
            saved[name] = {
                "mode": stat.S_IMODE(path.stat().st_mode),
                "content": base64.b64encode(path.read_bytes()).decode("ascii"),
            }
    return {
        "files": {name: fingerprint(project / name) for name in plan["files"]},
        "caches": [name for name in plan["caches"] if os.path.lexists(project / name)],
        "saved": saved,
    }


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


def links_refusal(project: Path, files: list[str]) -> str | None:
    """One line when the bake would write through a link; None when it would not."""
    links = links_in_the_way(project, files)
    if not links:
        return None
    shown = f"{project.name}/{links[0]}"
    more = f" (and {len(links) - 1} more)" if len(links) > 1 else ""
    return (
        f"{shown}{more} is a symbolic link to {os.readlink(project / links[0])}: the bake "
        f"would write through it into that file; move the link out of {project.name}, "
        "then bake again"
    )


def main(plan: dict[str, list[str]]) -> int:
    project = Path.cwd()
    # Checked before the folder is made for cookiecutter's command line and API (see
    # local_extensions.py); here again for tools that call cookiecutter's generate_files
    # themselves (cruft create), before the first file is written.
    problem = links_refusal(project, plan["files"])
    if problem:
        print(f"ERROR: {problem}", file=sys.stderr)
        return 1
    target = state_file(project)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(note(project, plan), handle)
    return 0


if __name__ == "__main__":
    # tojson writes ' as \u0027, so no path can end this string early.
    sys.exit(main(json.loads(r"""{{ cookiecutter | bake_plan | tojson }}""")))
