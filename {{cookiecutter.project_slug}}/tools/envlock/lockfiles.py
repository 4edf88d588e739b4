"""Lock files: which pip locks a project has, their header, and whether they can be trusted.

A pip lock is a pip-tools format requirements file with hashes; a conda lock (its target
made by a conda backend) is the conda tool's own file. The header written above the
engine's output records three digests: of the inputs it was compiled from (every file
the input files reach through ``-r``/``-c``, the engine's name and exact version, the
matrix, the index settings: so any change makes the lock stale), of the body (so a hand
edit is caught before anything is installed from it), and of the whole lock set it was
written with (so locks from two different runs, as an interrupted run leaves them, are
never used together). ``lock_set`` writes the set.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from envlock import EnvlockError, fs, lock_body, lock_platform, tool_locks
from envlock.lock_body import Pin
from envlock.settings import Project

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "Header",
    "LockTarget",
    "Pin",
    "body_digest",
    "dev_lock_path",
    "dev_target",
    "engine_version",
    "input_files",
    "inputs_digest",
    "lock_targets",
    "parse_pins",
    "pins_for_environment",
    "read_body",
    "read_lock",
    "render_lock",
    "runtime_lock_path",
    "set_digest",
    "split_lock",
    "trusted_body",
    "trusted_pins",
]

DIGEST_LINE = re.compile(
    r"^# envlock: inputs=sha256:(?P<inputs>[0-9a-f]{64}) body=sha256:(?P<body>[0-9a-f]{64})$"
)
SET_LINE = re.compile(r"^# envlock-set: sha256:(?P<set>[0-9a-f]{64}) (?P<members>\[.*\])$")
# -r FILE, -c FILE, --requirement=FILE, -rFILE ...: the lines that bring in another file.
INCLUDE = re.compile(r"^(?P<option>-r|-c|--requirement|--constraint)(?:\s*=\s*|\s*)(?P<file>\S.*)$")


@dataclasses.dataclass(frozen=True)
class LockTarget:
    """One lock file to compile: from ``source``, for ``python``, maybe constrained."""

    source: Path
    output: Path
    python: str
    universal: bool
    constraint: Path | None = None
    engine: str = "uv"
    inputs: tuple[Path, ...] = ()
    conda: bool = False  # a conda lock: from environment.yml, pip's index settings aside
    # Settings outside the input files that decide the content too (digested with them).
    settings: str = ""


def dev_lock_path(project: Project, python: str) -> Path:
    """The lock that a Python of the matrix installs (it holds runtime and dev packages)."""
    if project.lock_engine == "uv" or python == project.python:
        return project.root / "requirements-dev.txt"
    return project.root / f"requirements-dev-py{python}.txt"


def runtime_lock_path(project: Project) -> Path:
    return project.root / "requirements.txt"


def lock_targets(project: Project, pythons: list[str] | None = None) -> list[LockTarget]:
    """The locks to compile, each dev lock before the runtime lock it constrains.

    uv resolves once for every platform and every Python from the oldest of the matrix
    on. pip-compile resolves only for the Python it runs on, so with pip-tools each Python
    of the matrix gets its own dev lock, and the runtime lock is for the main Python.
    """

    def target(
        source: Path, output: Path, python: str, universal: bool, constraint: Path | None = None
    ) -> LockTarget:
        return LockTarget(
            source, output, python, universal, constraint, project.lock_engine, project.inputs
        )

    dev = project.dev_requirements
    runtime = project.requirements
    if project.lock_engine == "uv":
        dev_lock = dev_lock_path(project, project.python)
        return [
            target(dev, dev_lock, project.min_python, universal=True),
            target(runtime, runtime_lock_path(project), project.min_python, True, dev_lock),
        ]
    targets: list[LockTarget] = []
    for python in pythons or project.matrix:
        dev_lock = dev_lock_path(project, python)
        targets.append(target(dev, dev_lock, python, universal=False))
        if python == project.python:
            targets.append(target(runtime, runtime_lock_path(project), python, False, dev_lock))
    return targets


def dev_target(project: Project, python: str) -> LockTarget:
    """The dev lock target that a Python of the matrix installs."""
    output = dev_lock_path(project, python)
    return next(t for t in lock_targets(project, [python]) if t.output == output)


def _logical(path: Path, shown: str) -> list[str]:
    """A requirements file's lines as pip joins them (continuations, comments)."""
    todo = "save it as UTF-8 (your editor's encoding setting), then run this again"
    return lock_body.logical_lines(fs.read_utf8(path, shown, todo, "utf-8-sig"))


def input_files(project: Project, sources: Iterable[Path]) -> list[tuple[str, Path]]:
    """Every file ``sources`` reach through ``-r`` and ``-c``, recursively (each named
    relative to the project, as pip resolves it: relative to the file that names it),
    sources first, each once. A missing file is an error naming the line that wants it."""
    found: dict[Path, str] = {}
    pending = [(path, "") for path in sources]
    while pending:
        path, named_by = pending.pop(0)
        key = Path(os.path.normpath(path))
        if key in found:
            continue
        rel = _relative(project, key)
        try:
            lines = _logical(key, rel)
        except FileNotFoundError:
            if named_by:
                raise EnvlockError(
                    f"{rel} is missing ({named_by} names it): create it, or remove that line"
                ) from None
            raise EnvlockError(f"{rel} is missing: create it (it may be empty)") from None
        found[key] = rel
        for line in lines:
            include = INCLUDE.match(line)
            # a URL is digested as written; a ${VARIABLE} is refused when lock reads the
            # lines (requirements_in), which says why: "create it" would not be the fix
            if include and "://" not in include["file"] and "${" not in include["file"]:
                named = include["file"].strip().strip("\"'")
                pending.append((key.parent / named, f"`{include['option']} {named}` in {rel}"))
    return [(rel, path) for path, rel in found.items()]


def _relative(project: Project, path: Path) -> str:
    """``path`` relative to the project root, ``../`` for a file beside the project (a
    monorepo's shared file), so the digest is the same wherever the tree is checked out."""
    try:
        return Path(os.path.relpath(path, project.root)).as_posix()
    except ValueError:  # on another Windows drive: no relative path exists
        return path.as_posix()


def engine_version(target: LockTarget) -> str:
    """The exact version of the engine that compiles ``target``, from its tool lock."""
    return tool_locks.pinned_version(tool_locks.ENGINE_TOOLS[target.engine])


def inputs_digest(project: Project, target: LockTarget) -> str:
    """Digest of everything that decides a lock's content (see the module docstring)."""
    tool = tool_locks.ENGINE_TOOLS[target.engine]
    digest = hashlib.sha256()
    digest.update(
        f"engine={target.engine}=={engine_version(target)}\n"
        f"tool-lock={tool_locks.lock_digest(tool)}\npython={target.python}\n".encode()
    )
    if not target.conda:
        digest.update(f"matrix={','.join(project.matrix)}\n".encode())
        digest.update("".join(f"index={url}\n" for url in project.extra_index_urls).encode())
    if target.settings:
        digest.update(f"settings={target.settings}\n".encode())
    for rel, path in input_files(project, target.inputs):
        content = path.read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"file={rel}\n".encode() + content + b"\0")
    return digest.hexdigest()


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def set_digest(bodies: dict[str, str]) -> str:
    """Digest of a lock set: each member's name (relative to the project) and body."""
    digest = hashlib.sha256()
    for name in sorted(bodies):
        digest.update(f"{name}\0{body_digest(bodies[name])}\n".encode())
    return digest.hexdigest()


def set_line(bodies: dict[str, str]) -> str:
    return f"# envlock-set: sha256:{set_digest(bodies)} {json.dumps(sorted(bodies))}\n"


def render_lock(
    project: Project,
    target: LockTarget,
    body: str,
    inputs: str | None = None,
    lock_set: dict[str, str] | None = None,
) -> str:
    """The lock file's text: our header, then the engine's output unchanged.

    ``inputs``: the inputs digest taken when the compile started (now, if not given).
    ``lock_set``: the bodies of every lock written with this one, by name (this one
    alone, if not given).
    """
    rel = _relative(project, target.source)
    if target.conda:
        scope, change = f"the platforms listed in {rel}", rel
    elif target.universal:
        scope, change = (
            f"every platform, Python >= {target.python} (universal)",
            f"{rel} (or the other *.in files)",
        )
    else:
        # lock_platform reads the platform back from these words
        scope = f"Python {target.python} on {lock_platform.this_platform()}"
        change = f"{rel} (or the other *.in files)"
    members = lock_set if lock_set is not None else {_relative(project, target.output): body}
    header = (
        f"# Generated by `nox -s lock` with {target.engine} {engine_version(target)}, "
        f"for {scope}.\n"
        f"# Do not edit: change {change} and run `nox -s lock`.\n"
        f"# envlock: inputs=sha256:{inputs or inputs_digest(project, target)} "
        f"body=sha256:{body_digest(body)}\n"
    )
    return header + set_line(members) + body


@dataclasses.dataclass(frozen=True)
class Header:
    """What our header lines of a lock say."""

    inputs: str
    body: str
    lock_set: str | None  # None: a lock written before locks were written as a set
    members: tuple[str, ...]
    lines: str  # the header as written, up to and including the digest line


def split_lock(text: str) -> tuple[Header | None, str]:
    """Separate our header (if any) from the body that follows it."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if not line.startswith("#"):
            break
        match = DIGEST_LINE.match(line.rstrip("\n"))
        if not match:
            continue
        rest = index + 1
        found = SET_LINE.match(lines[rest].rstrip("\n")) if rest < len(lines) else None
        members: tuple[str, ...] = ()
        if found:
            rest += 1
            members = tuple(str(name) for name in json.loads(found["members"]))
        header = Header(
            match["inputs"],
            match["body"],
            found["set"] if found else None,
            members,
            "".join(lines[: index + 1]),
        )
        return header, "".join(lines[rest:])
    return None, text


def read_lock(path: Path) -> str:
    """The text of a lock; one that is not UTF-8 is damaged (one line naming the byte)."""
    todo = f"it is damaged: restore it (`git checkout -- {path.name}`) or run `nox -s lock`"
    return fs.read_utf8(path, path.name, todo)


def read_body(path: Path) -> str:
    """The body of a lock (everything after our header), or the whole file if it has none."""
    return split_lock(read_lock(path))[1]


def parse_pins(path: Path, body: str) -> list[Pin]:
    """Every entry of a lock, in each form ``lock`` writes (see ``lock_body``)."""
    return lock_body.parse_pins(path, body)


def trusted_body(project: Project, target: LockTarget) -> str:
    """Return the lock's body, or raise when it is missing, hand-edited, stale, or not
    from the same run of `nox -s lock` as the other locks of its set."""
    path = target.output
    try:
        text = read_lock(path)
    except FileNotFoundError:
        raise EnvlockError(f"{path.name} does not exist: run `nox -s lock`") from None
    header, body = split_lock(text)
    if header is None:
        raise EnvlockError(
            f"{path.name} has no envlock header (made by hand or by another tool): "
            "run `nox -s lock`"
        )
    if header.body != body_digest(body):
        raise EnvlockError(
            f"{path.name} was edited by hand or is damaged (its content does not "
            "match its header): run `nox -s lock`"
        )
    if header.inputs != inputs_digest(project, target):
        tools = (
            "conda-virtual-packages, or the versions in tool-locks/py-rattler.txt"
            if target.engine == "rattler"
            else "conda-lock's version"
        )
        changed = (
            f"{_relative(project, target.source)} (or {tools})"
            if target.conda
            else "the *.in files (or the files they include, the matrix, the index "
            "settings, the lock engine's version)"
        )
        raise EnvlockError(f"{path.name} is out of date with {changed}: run `nox -s lock`")
    _check_set(project, path, header)
    return body


def _check_set(project: Project, path: Path, header: Header) -> None:
    """Raise unless every lock of ``path``'s set is the one written with it."""
    if header.lock_set is None:
        raise EnvlockError(
            f"{path.name} was written by an older envlock, without its lock set: run `nox -s lock`"
        )
    bodies = {}
    for name in header.members:
        try:
            bodies[name] = read_body(project.root / name)
        except FileNotFoundError:
            raise EnvlockError(
                f"{name} is missing, and {path.name} was locked together with it: run `nox -s lock`"
            ) from None
    if set_digest(bodies) != header.lock_set:
        own = _relative(project, path)
        others = ", ".join(name for name in header.members if name != own)
        raise EnvlockError(
            f"{path.name} and {others} are not from the same run of `nox -s lock` (an "
            "interrupted lock, or a merge or checkout that took only some of them): "
            "run `nox -s lock`"
        )


def trusted_pins(project: Project, target: LockTarget) -> list[Pin]:
    """The pins of a pip lock that passed ``trusted_body``."""
    return parse_pins(target.output, trusted_body(project, target))


def pins_for_environment(pins: list[Pin], environment: Mapping[str, str]) -> dict[str, str]:
    """The ``{name: version}`` that the lock installs into an environment with these
    markers (for a local, URL or VCS package: its source, ``Pin.locked_as``)."""
    selected: dict[str, str] = {}
    for pin in pins:
        if pin.marker is None or pin.marker.evaluate(environment):
            selected[pin.name] = pin.locked_as
    return selected
