"""Lock files: which pip locks a project has, their header, and whether they can be trusted.

A pip lock is a pip-tools format requirements file with hashes; a conda lock (its target
made by a conda backend) is the conda tool's own file. The header written above the
engine's output records two digests: one of the inputs it was compiled from (so a
changed input makes the lock stale) and one of the body (so a hand edit is caught before
anything is installed from it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envlock import EnvlockError
from envlock.fs import write_atomically
from envlock.settings import Project

if TYPE_CHECKING:
    from envlock.context import Context

__all__ = [
    "LockCommand",
    "LockTarget",
    "Pin",
    "compile_into_place",
    "dev_lock_path",
    "dev_target",
    "inputs_digest",
    "lock_targets",
    "parse_pins",
    "pins_for_environment",
    "render_lock",
    "runtime_lock_path",
    "split_lock",
    "trusted_body",
    "trusted_pins",
]

DIGEST_LINE = re.compile(
    r"^# envlock: inputs=sha256:(?P<inputs>[0-9a-f]{64}) body=sha256:(?P<body>[0-9a-f]{64})$"
)
HASH_OPTION = re.compile(r"\s--hash[= ]\S+")


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


@dataclasses.dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: Marker | None
    hashes: tuple[str, ...]


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


def inputs_digest(project: Project, target: LockTarget) -> str:
    """Digest of everything that decides a lock's content."""
    digest = hashlib.sha256()
    digest.update(f"engine={target.engine}\npython={target.python}\n".encode())
    if not target.conda:
        digest.update("".join(f"index={url}\n" for url in project.extra_index_urls).encode())
    for path in target.inputs:
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise EnvlockError(f"{path.name} is missing: create it (it may be empty)") from None
        digest.update(f"{path.name}\n".encode() + content.replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def render_lock(project: Project, target: LockTarget, body: str) -> str:
    """The lock file's text: our header, then the engine's output unchanged."""
    rel = target.source.relative_to(project.root).as_posix()
    if target.conda:
        scope, change = f"the platforms listed in {rel}", rel
    elif target.universal:
        scope, change = (
            f"every platform, Python >= {target.python} (universal)",
            f"{rel} (or the other *.in files)",
        )
    else:
        scope, change = f"Python {target.python}", f"{rel} (or the other *.in files)"
    header = (
        f"# Generated by `nox -s lock` with {target.engine}, for {scope}.\n"
        f"# Do not edit: change {change} and run `nox -s lock`.\n"
        f"# envlock: inputs=sha256:{inputs_digest(project, target)} "
        f"body=sha256:{body_digest(body)}\n"
    )
    return header + body


def split_lock(text: str) -> tuple[re.Match[str] | None, str]:
    """Separate the digest line (if any) from the body that follows it."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if not line.startswith("#"):
            break
        match = DIGEST_LINE.match(line.rstrip("\n"))
        if match:
            return match, "".join(lines[index + 1 :])
    return None, text


def _logical_lines(body: str) -> list[str]:
    """Requirement lines with backslash continuations joined and comments removed."""
    lines: list[str] = []
    current = ""
    for raw in body.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def parse_pins(path: Path, body: str) -> list[Pin]:
    """Every ``name==version`` line of a lock, with its marker and hashes."""
    pins: list[Pin] = []
    for line in _logical_lines(body):
        if line.startswith("-"):
            raise EnvlockError(
                f"{path.name} has an option line ({line.split()[0]}) that a portable lock "
                "must not carry: run `nox -s lock`"
            )
        hashes = tuple(h.split("=", 1)[-1].strip() for h in HASH_OPTION.findall(" " + line))
        spec = HASH_OPTION.sub("", " " + line).strip()
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as error:
            raise EnvlockError(
                f"{path.name} has a line that is not a requirement ({error}): run `nox -s lock`"
            ) from None
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            raise EnvlockError(
                f"{path.name}: {requirement.name} is not pinned with ==: run `nox -s lock`"
            )
        if not hashes:
            raise EnvlockError(f"{path.name}: {requirement.name} has no --hash: run `nox -s lock`")
        pins.append(
            Pin(
                canonicalize_name(requirement.name),
                specifiers[0].version,
                requirement.marker,
                hashes,
            )
        )
    return pins


def trusted_body(project: Project, target: LockTarget) -> str:
    """Return the lock's body, or raise when it is missing, hand-edited or stale."""
    path = target.output
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EnvlockError(f"{path.name} does not exist: run `nox -s lock`") from None
    match, body = split_lock(text)
    if match is None:
        raise EnvlockError(
            f"{path.name} has no envlock header (made by hand or by another tool): "
            "run `nox -s lock`"
        )
    if match["body"] != body_digest(body):
        raise EnvlockError(
            f"{path.name} was edited by hand or is damaged (its content does not "
            "match its header): run `nox -s lock`"
        )
    if match["inputs"] != inputs_digest(project, target):
        changed = target.source.name if target.conda else "the *.in files"
        raise EnvlockError(f"{path.name} is out of date with {changed}: run `nox -s lock`")
    return body


def trusted_pins(project: Project, target: LockTarget) -> list[Pin]:
    """The pins of a pip lock that passed ``trusted_body``."""
    return parse_pins(target.output, trusted_body(project, target))


def pins_for_environment(pins: list[Pin], environment: Mapping[str, str]) -> dict[str, str]:
    """The ``{name: version}`` that the lock installs into an environment with these markers."""
    selected: dict[str, str] = {}
    for pin in pins:
        if pin.marker is None or pin.marker.evaluate(environment):
            selected[pin.name] = pin.version
    return selected


# Given the scratch file to write, the command that compiles a lock and its environment.
LockCommand = Callable[[Path], tuple[list[str], dict[str, str]]]


def compile_into_place(
    project: Project,
    ctx: Context,
    target: LockTarget,
    command: LockCommand,
    keep_pins: bool = True,
) -> Path:
    """Compile one lock into a scratch file, then put it in place in one rename.

    The scratch file starts as the old lock (without our header) because the engines
    keep the versions they find there unless told to upgrade (``keep_pins=False``: start
    afresh). Returns the lock's path; on failure the old lock is left as it was.
    """
    scratch = target.output.with_name(f".{target.output.name}.compiling")
    if keep_pins and target.output.exists():
        scratch.write_text(split_lock(target.output.read_text(encoding="utf-8"))[1], "utf-8")
    try:
        argv, env = command(scratch)
        ctx.timed(f"locking {target.output.name}", lambda: ctx.run(argv, env))
        body = scratch.read_text(encoding="utf-8")
        write_atomically(target.output, render_lock(project, target, body))
    finally:
        scratch.unlink(missing_ok=True)
    return target.output
