"""The lines of a lock's body: every form a lock may hold, and making an engine's output
portable.

A lock holds four kinds of entry:

- ``name==version ; marker --hash=...``: a package from the index;
- ``name @ https://host/file.whl --hash=...``: an archive at a URL, with its hash;
- ``name @ git+https://host/repo@<commit>``: a VCS checkout at a full commit;
- ``name @ ./path`` and ``-e name @ ./path``: a package of the project's own tree, the
  path relative to the project root.

The engines write local packages as absolute ``file://`` URLs (pip-compile) or as paths
without a name (uv); ``portable`` rewrites both to the last form, so that a clone of the
project anywhere can install its lock and the sessions know each package's name.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envlock import EnvlockError

__all__ = [
    "Pin",
    "UnreadableEntry",
    "all_hash_checked",
    "dependents",
    "index_pins",
    "installed_as",
    "local_builds",
    "parse_pins",
    "portable",
    "preferences",
]

HASH_OPTION = re.compile(r"\s--hash[= ]\S+")
VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
FULL_COMMIT = re.compile(r"@([0-9a-f]{40}|[0-9a-f]{64})$")
# pip-compile's advice for `pip install --require-hashes`, which names a host of its own
# and does not apply to `uv pip sync`.
PIP_COMPILE_NOTES = (
    "# WARNING: pip install will require the following package to be hashed.",
    "# Consider using a hashable URL like ",
)


@dataclasses.dataclass(frozen=True)
class Pin:
    """One entry of a lock. ``source`` is None for a package from the index, else the
    relative path (``./libs/x``), the URL, or the VCS URL with its commit."""

    name: str
    version: str
    marker: Marker | None
    hashes: tuple[str, ...]
    source: str | None = None
    editable: bool = False

    @property
    def locked_as(self) -> str:
        """What the environment must show for this entry: the version, or the source."""
        if self.source is None:
            return self.version
        return f"-e {self.source}" if self.editable else self.source

    @property
    def hash_checked(self) -> bool:
        """A local directory or a VCS checkout has no file whose hash could be checked."""
        return self.source is None or not (
            self.source.startswith("./") or self.source.startswith(VCS_PREFIXES)
        )


class UnreadableEntry(EnvlockError):
    """A lock line in a form ``lock`` does not write. Read from a lock on disk, the lock
    is to be made again; right after an engine wrote it, the requirement is to change."""

    def __init__(self, lock: str, problem: str, has: bool = False) -> None:
        told = f"{lock} has {problem}" if has else f"{lock}: {problem}"
        super().__init__(f"{told}: run `nox -s lock`")
        self.problem = problem


def logical_lines(body: str) -> list[str]:
    """Entry lines with backslash continuations joined and comments removed."""
    lines, current = [], ""
    for raw in body.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(" ".join(current.split()))
        current = ""
    if current.strip():
        lines.append(" ".join(current.split()))
    return lines


def parse_pins(path: Path, body: str) -> list[Pin]:
    """Every entry of a lock; raise when one is in a form that ``lock`` does not write."""
    return [parse_entry(path.name, line) for line in logical_lines(body)]


def parse_entry(lock: str, line: str) -> Pin:
    editable = line.startswith("-e ")
    if line.startswith("-") and not editable:
        raise UnreadableEntry(
            lock, f"an option line ({line.split()[0]}) that a portable lock must not carry", True
        )
    hashes = tuple(h.split("=", 1)[-1].strip() for h in HASH_OPTION.findall(" " + line))
    spec = HASH_OPTION.sub("", " " + line.removeprefix("-e ")).strip()
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as error:
        detail = str(error).splitlines()[0]  # packaging adds the line and a caret below
        raise UnreadableEntry(lock, f"a line that is not a requirement ({detail})", True) from None
    name = canonicalize_name(requirement.name)
    if requirement.url:
        return direct_pin(lock, name, requirement, hashes, editable)
    specifiers = list(requirement.specifier)
    if editable or len(specifiers) != 1 or specifiers[0].operator != "==":
        raise UnreadableEntry(lock, f"{name} is not pinned with ==")
    if not hashes:
        raise UnreadableEntry(lock, f"{name} has no --hash")
    return Pin(name, specifiers[0].version, requirement.marker, hashes)


def direct_pin(
    lock: str, name: str, requirement: Requirement, hashes: tuple[str, ...], editable: bool
) -> Pin:
    url = requirement.url or ""
    pin = Pin(name, "", requirement.marker, hashes, url, editable)
    if url.startswith("./"):
        return pin
    if editable:
        raise UnreadableEntry(lock, f"{name} is editable but not a local path")
    if url.startswith(VCS_PREFIXES):
        if not FULL_COMMIT.search(url.split("#", 1)[0]):
            raise UnreadableEntry(lock, f"{name} is not pinned to a commit")
        return dataclasses.replace(pin, source=vcs_source(url))
    if not hashes:
        raise UnreadableEntry(lock, f"{name} has no --hash")
    return dataclasses.replace(pin, source=url.split("#", 1)[0])


def vcs_source(url: str) -> str:
    """A VCS URL without its fragment, ``file:/x`` written as ``file:///x`` (pip's
    spelling and uv's differ), as it is compared with what is installed."""
    url = url.split("#", 1)[0]
    return re.sub(r"^([a-z]+\+file:)/(?!/)", r"\1///", url)


def all_hash_checked(pins: list[Pin]) -> bool:
    """Whether the installer may require a hash for every entry (``--require-hashes``)."""
    return all(pin.hash_checked for pin in pins)


def local_builds(pins: list[Pin]) -> list[str]:
    """The packages of the project's tree installed without ``-e``: built from their
    current code at every install."""
    return [p.name for p in pins if p.source and p.source.startswith("./") and not p.editable]


ENTRY_NAME = re.compile(r"^(?:-e )?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
VIA = re.compile(r"^\s+#\s+(?:via\s+)?(?P<what>\S.*)$")


def dependents(body: str) -> dict[str, set[str]]:
    """``{name: the packages that need it}``, from the engine's ``# via`` comments (both
    engines write them: ``# via numba``, or ``# via`` and one ``#   name`` per line)."""
    found: dict[str, set[str]] = {}
    current = None
    for line in body.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            match = ENTRY_NAME.match(line)
            current = canonicalize_name(match["name"]) if match else None
            continue
        via = VIA.match(line)
        if current is None or via is None or via["what"].strip() == "via":
            continue
        what = via["what"].strip()
        if not what.startswith("-"):  # -r FILE, -c FILE: asked for by an input itself
            found.setdefault(current, set()).add(canonicalize_name(what.split()[0]))
    return found


def index_pins(pins: list[Pin]) -> str:
    """The ``name==version ; marker`` lines of the packages from the index: constraints
    for another lock, and the input of the matrix check."""
    lines = []
    for pin in pins:
        if pin.source is None:
            marker = f" ; {pin.marker}" if pin.marker is not None else ""
            lines.append(f"{pin.name}=={pin.version}{marker}\n")
    return "".join(lines)


# --- what the engines wrote -------------------------------------------------------------


def file_url_path(url: str) -> str:
    path = unquote(urlsplit(url).path)
    if re.match(r"^/[A-Za-z]:", path):  # file:///C:/x on Windows
        path = path[1:]
    return path


def relative_source(text: str, root: Path) -> str | None:
    """``./x`` for a path or ``file:`` URL inside ``root``; None for anything else."""
    if text.startswith("file:"):
        path = Path(file_url_path(text))
    elif text.startswith(("./", "../", "/")) or re.match(r"^[A-Za-z]:[\\/]", text):
        path = Path(text) if Path(text).is_absolute() else root / text
    else:
        return None
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        return None
    return "./" + resolved.relative_to(root).as_posix()


def portable_entry(
    spec: str, root: Path, names: dict[str, str], markers: dict[str, str] | None = None
) -> str:
    """One entry as an engine wrote it, with a local package rewritten as
    ``[-e ]name @ ./path``; any other entry unchanged. ``markers``: the marker of each
    editable package's ``./path`` in the inputs, which uv leaves out of its output."""
    editable = spec.startswith("-e ")
    rest = spec.removeprefix("-e ").strip()
    marker = ""
    if " ; " in rest:
        rest, marker = rest.split(" ; ", 1)
        marker = f" ; {marker}"
    name, location = "", rest
    if " @ " in rest:
        name, location = (part.strip() for part in rest.split(" @ ", 1))
    relative = relative_source(location, root)
    if relative is None:
        return spec
    known = names.get(relative) or (canonicalize_name(name.split("[")[0]) if name else None)
    if not known:
        raise EnvlockError(
            f"the lock names the package at {relative} without its name: write it in the "
            f".in file as `NAME @ {relative}`"
        )
    if editable and not marker and (markers or {}).get(relative):
        marker = f" ; {(markers or {})[relative]}"
    return f"{'-e ' if editable else ''}{known} @ {relative}{marker}"


def portable(
    body: str,
    root: Path,
    scratch: Path,
    names: dict[str, str],
    markers: dict[str, str] | None = None,
) -> str:
    """The engine's output with every path of this machine removed.

    ``scratch`` is where the engine read its copies of the ``.in`` files (its comments
    name them); ``names`` maps each local package's ``./path`` to its name; ``markers``
    each editable one's marker (``portable_entry``).
    """
    root = root.resolve()
    prefixes = {scratch.as_posix().rstrip("/") + "/", str(scratch).rstrip("/\\") + "/"}
    out = []
    for raw in body.splitlines():
        if raw.startswith(PIP_COMPILE_NOTES):
            continue
        line = raw
        for prefix in prefixes:
            line = line.replace(prefix, "")
        if line and not line[0].isspace() and not line.startswith("#"):
            continuation = line.endswith("\\")
            spec = line[:-1].rstrip() if continuation else line
            line = portable_entry(spec, root, names, markers) + (" \\" if continuation else "")
        out.append(line)
    text = "".join(f"{line}\n" for line in out)
    for leaked in (root.as_posix(), str(root), scratch.as_posix()):
        if leaked in text:
            raise EnvlockError(
                f"the lock would carry a path of this machine ({leaked}): name local "
                "packages by paths inside the project in the .in files"
            )
    return text


# --- what an environment holds ------------------------------------------------------------


def installed_as(version: str, direct_url: str | None, root: Path) -> str:
    """How an installed distribution compares with ``Pin.locked_as``: its version, or,
    for one installed from a path, URL or VCS (PEP 610 ``direct_url.json``), its source."""
    if not direct_url:
        return version
    try:
        data = json.loads(direct_url)
    except ValueError:
        return version
    url = str(data.get("url", ""))
    if "vcs_info" in data:
        info = data["vcs_info"]
        return vcs_source(f"{info.get('vcs', 'git')}+{url}@{info.get('commit_id', '')}")
    if url.startswith("file:"):
        relative = relative_source(url, root.resolve())
        if relative is not None:
            editable = bool(data.get("dir_info", {}).get("editable"))
            return f"-e {relative}" if editable else relative
    return url


def preferences(body: str) -> str:
    """An old lock's body as the engine's starting point (it keeps the versions it finds
    there): without the local packages, which pip-compile cannot read in that form and
    which have no version to keep."""
    kept = []
    skipping = False
    for line in body.splitlines():
        if line and not line[0].isspace():
            # an entry's continuation lines (a local archive's --hash) go with it
            skipping = line.startswith("-e ") or " @ ./" in line
        if not skipping:
            kept.append(line)
    return "".join(f"{line}\n" for line in kept)
