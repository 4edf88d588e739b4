"""Reading the ``requirements*.in`` files as pip reads them, and deciding what may be locked.

pip's rules are kept: a line ending in a backslash goes on on the next line; ``#`` at the
start of a line or after whitespace starts a comment; ``-r`` and ``-c`` name files
relative to the file that names them; a package path is relative to the directory the
installer runs in, which for the sessions is always the project root.

Every line becomes an ``Entry`` of one ``Kind``. What the install side could not
reproduce from a lock is refused here, before an engine runs, in one line that names the
file, the line and what to write instead. What the engines cannot read as written
(a requirement split over lines for uv, ``name @ ./path`` for pip-compile) is given to
them rewritten, in copies of the files (``render``).
"""

from __future__ import annotations

import configparser
import dataclasses
import enum
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envlock import EnvlockError

if sys.version_info >= (3, 11):
    import tomllib
else:  # nox itself depends on tomli there
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "Entry",
    "Inputs",
    "Kind",
    "Line",
    "check_for_engine",
    "exact_pins",
    "logical_lines",
    "read_inputs",
    "render",
    "url_sha256",
    "write_copies",
]

COMMENT = re.compile(r"(^|\s+)#.*$")
VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
COMMIT = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
INCLUDES = {"-r": "r", "--requirement": "r", "-c": "c", "--constraint": "c"}
EDITABLE = ("-e", "--editable")
INDEX_OPTIONS = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-index",
    "--trusted-host",
)
# Path-with-extras-and-marker, as pip writes a package path: ./libs/x[extra] ; marker
PATH_FORM = re.compile(r"^(?P<path>[^\[;]+?)\s*(\[(?P<extras>[^\]]*)\])?\s*(;\s*(?P<marker>.+))?$")
HASH_OPTION = re.compile(r"\s--hash[= ]\S+")
# pip and uv replace ${NAME} in a requirements file by the environment's value
ENV_VARIABLE = re.compile(r"\$\{[A-Za-z0-9_]+\}")


class Kind(enum.Enum):
    PACKAGE = "package"  # a name and specifiers, from the index
    INCLUDE = "include"  # -r FILE
    CONSTRAINTS = "constraints"  # -c FILE
    LOCAL = "local"  # a directory or archive inside the project
    EDITABLE = "editable"  # -e of such a directory
    URL = "url"  # an archive at a URL
    VCS = "vcs"  # a version control URL


@dataclasses.dataclass(frozen=True)
class Line:
    """One logical line of a requirements file: continuations joined, comment removed."""

    file: Path
    number: int  # of its first physical line
    text: str

    def where(self, root: Path) -> str:
        return f"{relative_name(self.file, root)} line {self.number}"


@dataclasses.dataclass(frozen=True)
class Entry:
    """What one line asks for.

    ``value`` is the requirement text (PACKAGE), the included file (INCLUDE,
    CONSTRAINTS), the posix path relative to the project root (LOCAL, EDITABLE) or the
    URL (URL, VCS). ``name`` is the canonical distribution name where it is known.
    """

    line: Line
    kind: Kind
    value: str
    name: str | None = None
    extras: tuple[str, ...] = ()
    marker: str | None = None


@dataclasses.dataclass(frozen=True)
class Inputs:
    """Every file read (the top-level ones and what they include) and its entries."""

    root: Path
    files: dict[Path, list[Entry]]

    def entries(self) -> list[Entry]:
        return [entry for entries in self.files.values() for entry in entries]

    def local_packages(self) -> dict[str, str]:
        """``{relative path: name}`` of every local package the inputs name."""
        return {
            e.value: e.name or "" for e in self.entries() if e.kind in (Kind.LOCAL, Kind.EDITABLE)
        }

    def editable_markers(self) -> dict[str, str]:
        """``{relative path: marker}`` of the editable packages whose every line has the
        same marker: uv leaves an editable's marker out of the lock it writes."""
        markers: dict[str, set[str | None]] = {}
        for entry in self.entries():
            if entry.kind is Kind.EDITABLE:
                markers.setdefault(entry.value, set()).add(entry.marker)
        return {
            path: next(iter(found)) or ""
            for path, found in markers.items()
            if len(found) == 1 and next(iter(found))
        }

    def find(self, name: str, specifier: str = "") -> Entry | None:
        """The entry that asks for the distribution ``name``: the first whose line has
        ``specifier`` (e.g. ``==1.0``) if one does, else the first."""
        wanted = canonicalize_name(name)
        named = [e for e in self.entries() if e.name == wanted]
        plain = specifier.replace(" ", "")
        exact = [e for e in named if plain and plain in e.line.text.replace(" ", "")]
        found = exact or named
        return found[0] if found else None


def relative_name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def logical_lines(path: Path) -> list[Line]:
    """The file's lines as pip reads them (see the module docstring)."""
    lines: list[Line] = []
    pending: list[str] = []
    first = 0
    text = path.read_text(encoding="utf-8-sig")
    for number, raw in enumerate(text.splitlines(), start=1):
        # pip: a whole-line comment ends a continuation instead of being continued.
        if raw.endswith("\\") and not COMMENT.match(raw):
            if not pending:
                first = number
            pending.append(raw[:-1])
            continue
        if pending:
            # pip: the comment line that ends a continuation is joined after a space
            joined = " " + raw if COMMENT.match(raw) else raw
            raw, number = "".join(pending) + joined, first
            pending = []
        stripped = COMMENT.sub("", raw).strip()
        if stripped:
            lines.append(Line(path, number, " ".join(stripped.split())))
    if pending:
        stripped = COMMENT.sub("", "".join(pending)).strip()
        if stripped:
            lines.append(Line(path, first, " ".join(stripped.split())))
    return lines


def split_option(text: str) -> tuple[str, str]:
    """``("-r", "base.in")`` for ``-r base.in``, ``-rbase.in`` or ``--requirement=base.in``."""
    if text.startswith("--"):
        option, _, value = text.partition("=") if "=" in text.split()[0] else text.partition(" ")
        return option, value.strip()
    option, value = text[:2], text[2:]
    return option, value.strip().removeprefix("=").strip()


def is_url(text: str) -> bool:
    return "://" in text or re.match(r"^([a-z]+\+)?file:", text) is not None


def looks_like_path(text: str) -> bool:
    """pip's test: a path contains a separator or starts with a dot."""
    return "/" in text or "\\" in text or text.startswith(".")


def url_path(url: str) -> str:
    """The local path of a ``file:`` URL."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if re.match(r"^/[A-Za-z]:", path):  # file:///C:/x on Windows
        path = path[1:]
    return path


def package_name(directory: Path) -> str | None:
    """The name a local package declares statically (pyproject.toml, else setup.cfg)."""
    try:
        data = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        data = {}
    name = data.get("project", {}).get("name")
    if isinstance(name, str) and name:
        return canonicalize_name(name)
    config = configparser.ConfigParser()
    try:
        config.read(directory / "setup.cfg", encoding="utf-8")
        name = config.get("metadata", "name", fallback=None)
    except configparser.Error:
        name = None
    return canonicalize_name(name) if name else None


def archive_name(path: str) -> str | None:
    """The distribution name in a wheel or sdist file name, if it is one."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    if base.endswith(".whl"):
        return canonicalize_name(base.split("-", 1)[0])
    for suffix in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if base.endswith(suffix) and "-" in base:
            return canonicalize_name(base[: -len(suffix)].rsplit("-", 1)[0])
    return None


def git_ignores(root: Path, relative: str) -> bool:
    """Whether git ignores the path in the project's repository (False without git or
    outside a repository: there is no clone to miss it then)."""
    if shutil.which("git") is None:
        return False
    found = subprocess.run(
        ["git", "check-ignore", "--quiet", "--", relative],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


class Reader:
    """Classifies lines of the files under one project root."""

    def __init__(self, root: Path, locks: Iterable[Path] = ()) -> None:
        self.root = root.resolve()
        self.locks = {path.resolve() for path in locks}

    def refuse(self, line: Line, why: str) -> EnvlockError:
        return EnvlockError(f"{line.where(self.root)}: {why}")

    def classify(self, line: Line) -> Entry:
        text = line.text
        variable = ENV_VARIABLE.search(text)
        if variable is not None:
            raise self.refuse(
                line,
                f"`{variable[0]}` is an environment variable, which the engines replace by "
                "this machine's value, so the committed lock would hold that value (a "
                "path of this machine, or a secret) and other machines would not see "
                "their own: write the value itself",
            )
        if text.startswith("-"):
            return self.option(line)
        if " @ " in text or re.match(r"^[A-Za-z0-9._\-\[\], ]+@\s*\S", text):
            return self.direct(line)
        if is_url(text):
            return self.unnamed_url(line, text)
        if looks_like_path(text.split(";", 1)[0]):
            return self.local_text(line, text, editable=False)
        return self.package(line)

    def option(self, line: Line) -> Entry:
        option, value = split_option(line.text)
        if option in INCLUDES:
            return self.include(line, option, value)
        if option in EDITABLE:
            return self.editable(line, value)
        if option in INDEX_OPTIONS:
            raise self.refuse_index(line, option)
        raise self.refuse(
            line,
            f"`{option}` is an installer option, which a lock does not carry (installs "
            "would not match the lock): remove the line",
        )

    def refuse_index(self, line: Line, option: str) -> EnvlockError:
        if option in ("-f", "--find-links", "--no-index"):
            return self.refuse(
                line,
                f"`{option}` does not belong in a requirements file (the lock could not "
                "carry it): serve the files from an index and list its URL in "
                "`extra-index-urls` under [tool.envlock] in pyproject.toml",
            )
        if option == "--trusted-host":
            return self.refuse(
                line,
                "`--trusted-host` does not belong in a requirements file: use an https "
                "index and list it in `extra-index-urls` under [tool.envlock] in pyproject.toml",
            )
        return self.refuse(
            line,
            f"`{option}` does not belong in a requirements file (setup and tests would "
            "not see it): move the URL to `extra-index-urls` under [tool.envlock] in "
            "pyproject.toml, which both locking and installing use",
        )

    def include(self, line: Line, option: str, value: str) -> Entry:
        kind = Kind.INCLUDE if INCLUDES[option] == "r" else Kind.CONSTRAINTS
        if not value:
            raise self.refuse(line, f"`{option}` names no file: add the file name or remove it")
        if is_url(value):
            raise self.refuse(
                line,
                f"`{option} {value}` reads a file from the network, which can change "
                "under the lock: copy it into the project and name the copy",
            )
        target = (line.file.parent / value).resolve()
        if not self.inside(target):
            raise self.refuse(
                line,
                f"`{option} {value}` is outside the project, so a clone would not have "
                "it: copy it into the project",
            )
        if target in self.locks:
            # its digest is an input of every lock, so each lock would make the next stale
            instead = (
                "remove the line (the locks already hold the same versions: the runtime "
                "lock is constrained by the dev lock)"
                if kind is Kind.CONSTRAINTS
                else "include the .in file it is made from instead"
            )
            raise self.refuse(
                line,
                f"`{option} {value}` names a lock that `nox -s lock` writes from the .in "
                f"files, so every lock would leave it out of date: {instead}",
            )
        if not target.is_file():
            raise self.refuse(
                line, f"`{option} {value}`: there is no such file: create it or fix the name"
            )
        if git_ignores(self.root, relative_name(target, self.root)):
            raise self.refuse(
                line,
                f"`{option} {value}` is ignored by git (.gitignore), so a clone would not "
                "have it: commit it (stop ignoring it), or move it to a folder git keeps",
            )
        return Entry(line, kind, relative_name(target, self.root))

    def inside(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def editable(self, line: Line, value: str) -> Entry:
        if not value:
            raise self.refuse(line, "`-e` names nothing: add a path or remove the line")
        if value.startswith(VCS_PREFIXES) or (is_url(value) and not value.startswith("file:")):
            raise self.refuse(
                line,
                f"`-e {value}` (an editable checkout from a URL) cannot be locked: write "
                "`NAME @ URL@COMMIT` instead, or put the code inside the project and use "
                "`-e ./path`",
            )
        if " @ " in value:  # uv's `-e NAME @ ./path`
            requirement = self.parse(line, value)
            return self.local_path(
                line,
                requirement.url or "",
                editable=True,
                name=requirement.name,
                extras=tuple(sorted(requirement.extras)),
                marker=str(requirement.marker) if requirement.marker else None,
            )
        return self.local_text(line, value, editable=True)

    def local_text(self, line: Line, text: str, editable: bool) -> Entry:
        """A package path as pip writes one: ``./libs/x[extra] ; marker``."""
        self.refuse_hash(line, None)
        match = PATH_FORM.match(text)
        if match is None:
            raise self.refuse(line, f"`{text}` is not a path pip can read: fix the line")
        extras = tuple(x.strip() for x in (match["extras"] or "").split(",") if x.strip())
        return self.local_path(line, match["path"].strip(), editable, None, extras, match["marker"])

    def local_path(
        self,
        line: Line,
        written: str,
        editable: bool,
        name: str | None,
        extras: tuple[str, ...],
        marker: str | None,
    ) -> Entry:
        raw = url_path(written) if written.startswith("file:") else written
        if any(char.isspace() for char in raw.strip()):
            raise self.refuse(
                line,
                f"`{written}` has a space in its path, which requirement files and locks "
                "cannot hold (it ends the path there): rename the folder or file",
            )
        path = (self.root / raw).resolve()
        shown = f"-e {written}" if editable else written
        if path == self.root:
            raise self.refuse(
                line,
                f"`{shown}` installs this project itself, which `nox -s setup` already "
                "does (editable): remove the line",
            )
        if not self.inside(path):
            raise self.refuse(
                line,
                f"`{written}` is outside the project, so a clone elsewhere would not have "
                "it: move the package into the project (e.g. libs/), or name it by a "
                "VCS URL pinned to a commit",
            )
        if not path.exists():
            raise self.refuse(line, f"`{written}` does not exist: create it or fix the path")
        relative = "./" + path.relative_to(self.root).as_posix()
        if git_ignores(self.root, relative):
            raise self.refuse(
                line,
                f"`{written}` is ignored by git (.gitignore), so a clone would not have it "
                "and could not install the lock: move it to a folder git keeps (e.g. "
                "libs/), or stop ignoring it",
            )
        if path.is_dir():
            if not ((path / "pyproject.toml").exists() or (path / "setup.py").exists()):
                raise self.refuse(
                    line,
                    f"`{written}` has no pyproject.toml or setup.py, so it is no Python "
                    "package: fix the path",
                )
            declared = package_name(path)
        elif editable:
            raise self.refuse(line, f"`-e {written}`: only a directory can be editable")
        else:
            declared = archive_name(relative)
        if name and declared and canonicalize_name(name) != declared:
            # installed, it would be `declared`, and never match the lock's `name`
            raise self.refuse(
                line,
                f"the package in `{written}` is named {declared}, not {name}: write "
                f"`{declared} @ {written}`",
            )
        found = name or declared
        if found is None:
            raise self.refuse(
                line,
                f"the name of the package in `{written}` is not written in its "
                "pyproject.toml or setup.cfg: write the line as "
                f"`{'-e ' if editable else ''}NAME @ {written}`",
            )
        kind = Kind.EDITABLE if editable else Kind.LOCAL
        return Entry(line, kind, relative, canonicalize_name(found), extras, marker)

    def refuse_hash(self, line: Line, url: str | None) -> None:
        """A ``--hash`` the engines would not check: neither uv nor pip-compile compares a
        hash of its input with the file it locks, so the lock would silently hold another."""
        if not HASH_OPTION.search(" " + line.text):
            return
        if url is not None and is_url(url) and not url.startswith("file:"):
            raise self.refuse(
                line,
                "`--hash` is not checked when locking (the lock would take whatever file the "
                "URL serves): write the hash into the URL as `URL#sha256=<hex digest>`, "
                "which is checked, and remove `--hash`",
            )
        raise self.refuse(
            line,
            "`--hash` is not checked when locking: remove it (the lock records the hash "
            "of every file it pins, and every install checks them)",
        )

    def direct(self, line: Line) -> Entry:
        """``NAME @ URL``, or uv's ``NAME @ ./path``."""
        requirement = self.parse(line, HASH_OPTION.sub("", " " + line.text).strip())
        self.refuse_hash(line, requirement.url)
        url = requirement.url or ""
        extras = tuple(sorted(requirement.extras))
        marker = str(requirement.marker) if requirement.marker else None
        if url.startswith("file:") or not is_url(url):
            return self.local_path(line, url, False, requirement.name, extras, marker)
        return self.remote(line, url, canonicalize_name(requirement.name), extras, marker)

    def unnamed_url(self, line: Line, text: str) -> Entry:
        url = text.split(";", 1)[0].split(" ", 1)[0]
        self.refuse_hash(line, url)
        if url.startswith("file:"):
            return self.local_text(line, text, editable=False)
        name = self.egg_name(url) or archive_name(urlsplit(url).path)
        if name is None:
            raise self.refuse(
                line,
                f"`{url}` gives no package name: write the line as `NAME @ {url}`",
            )
        marker = text.split(";", 1)[1].strip() if ";" in text else None
        return self.remote(line, url, name, (), marker)

    @staticmethod
    def egg_name(url: str) -> str | None:
        fragment = urlsplit(url).fragment
        for part in fragment.split("&"):
            key, _, value = part.partition("=")
            if key == "egg" and value:
                return canonicalize_name(value)
        return None

    def remote(
        self, line: Line, url: str, name: str, extras: tuple[str, ...], marker: str | None
    ) -> Entry:
        if url.startswith(VCS_PREFIXES):
            if url.split("+", 1)[1].startswith("file:"):
                raise self.refuse(
                    line,
                    f"`{url}` is a repository on this machine, so the lock would name a "
                    "path that a clone elsewhere does not have: name the repository by "
                    "its https or ssh URL, or put the package inside the project "
                    "(e.g. libs/) and name its path",
                )
            return Entry(line, Kind.VCS, url, name, extras, marker)
        if not url.startswith(("https://", "http://")):
            raise self.refuse(line, f"`{url}`: only http(s) and VCS URLs can be locked")
        return Entry(line, Kind.URL, url, name, extras, marker)

    def parse(self, line: Line, spec: str) -> Requirement:
        try:
            return Requirement(spec)
        except InvalidRequirement as error:
            detail = str(error).splitlines()[0]
            raise self.refuse(
                line, f"`{line.text}` is not a valid requirement ({detail}): fix the line"
            ) from None

    def package(self, line: Line) -> Entry:
        self.refuse_hash(line, None)
        spec = HASH_OPTION.sub("", " " + line.text).strip()
        if re.search(r"\s--?[A-Za-z]", " " + spec):
            option = re.search(r"\s(--?[A-Za-z][\w-]*)", " " + spec)
            shown = option.group(1) if option else spec
            raise self.refuse(
                line,
                f"`{shown}` on a requirement line is an installer option, which a lock "
                "does not carry: remove it",
            )
        requirement = self.parse(line, spec)
        return Entry(
            line,
            Kind.PACKAGE,
            line.text,
            canonicalize_name(requirement.name),
            tuple(sorted(requirement.extras)),
            str(requirement.marker) if requirement.marker else None,
        )


def read_inputs(root: Path, top: Iterable[Path], locks: Iterable[Path] = ()) -> Inputs:
    """Read the top-level files and every file they include, in the order pip reads them.

    Raises EnvlockError (one line: file, line, what to write) for any form that a lock
    cannot reproduce, and for an include of one of ``locks`` (the files `lock` writes).
    """
    reader = Reader(root, locks)
    files: dict[Path, list[Entry]] = {}
    # each file with whether it was reached through -c only (then it may only limit versions)
    pending = [(path.resolve(), False) for path in top]
    while pending:
        path, constraints = pending.pop(0)
        if path in files:
            continue
        if not path.is_file():
            raise EnvlockError(
                f"{relative_name(path, reader.root)} is missing: create it (it may be empty)"
            )
        entries = [reader.classify(line) for line in logical_lines(path)]
        if constraints:
            refuse_in_constraints(reader, entries)
        files[path] = entries
        for entry in entries:
            if entry.kind in (Kind.INCLUDE, Kind.CONSTRAINTS):
                pending.append(
                    (reader.root / entry.value, constraints or entry.kind is Kind.CONSTRAINTS)
                )
    inputs = Inputs(reader.root, files)
    refuse_mixed_local(inputs)
    return inputs


def refuse_mixed_local(inputs: Inputs) -> None:
    """One local package is installed one way: an editable line in one file and a plain
    one in another would make the two locks pin it differently."""
    first: dict[str, Entry] = {}
    for entry in inputs.entries():
        if entry.kind not in (Kind.LOCAL, Kind.EDITABLE):
            continue
        seen = first.setdefault(entry.value, entry)
        if seen.kind is not entry.kind:
            editable, plain = (entry, seen) if entry.kind is Kind.EDITABLE else (seen, entry)
            raise EnvlockError(
                f"{editable.line.where(inputs.root)}: `{editable.line.text}` installs "
                f"{entry.value} editable, and {plain.line.where(inputs.root)} installs it "
                "without -e: write both lines alike (or keep only one)"
            )


def refuse_in_constraints(reader: Reader, entries: list[Entry]) -> None:
    """A constraints file limits the versions of packages named elsewhere: the engines
    refuse a package path, URL or VCS entry there (it names no version to limit)."""
    for entry in entries:
        if entry.kind in (Kind.LOCAL, Kind.EDITABLE, Kind.URL, Kind.VCS):
            raise reader.refuse(
                entry.line,
                f"a constraints file (`-c`) can only limit versions (`name<2`), and "
                f"`{entry.line.text}` is a {entry.kind.value} package: move the line to "
                "a requirements file (`-r`, or requirements.in itself)",
            )


def exact_pins(inputs: Inputs) -> str:
    """``name==version ; marker`` of every package the inputs pin to one version (for
    the wheel check before pip-compile); a constraints file's pins count too."""
    lines = []
    for entry in inputs.entries():
        if entry.kind is not Kind.PACKAGE or entry.name is None:
            continue
        specifiers = list(Requirement(HASH_OPTION.sub("", " " + entry.value).strip()).specifier)
        if (
            len(specifiers) == 1
            and specifiers[0].operator == "=="
            and "*" not in str(specifiers[0])
        ):
            marker = f" ; {entry.marker}" if entry.marker else ""
            lines.append(f"{entry.name}=={specifiers[0].version}{marker}\n")
    return "".join(dict.fromkeys(lines))


def check_for_engine(inputs: Inputs, engine: str) -> None:
    """Refuse what one engine would lock in a form that is not reproducible.

    uv records the commit a VCS reference resolves to; pip-compile writes the reference
    as it was given, so with pip-tools a VCS requirement must name a commit itself.
    """
    if engine != "pip-tools":
        return
    for entry in inputs.entries():
        if entry.kind is Kind.VCS:
            ref = vcs_ref(entry.value)
            if ref is None or not COMMIT.match(ref):
                raise EnvlockError(
                    f"{entry.line.where(inputs.root)}: `{entry.value}` names no commit, and "
                    "pip-compile would lock it as written (a branch or tag can move): pin "
                    "it to the full commit hash (`URL@<40 hex digits>`, from `git rev-parse`)"
                )


def vcs_ref(url: str) -> str | None:
    """The ``@ref`` of a VCS URL (``git+https://host/repo@ref#frag``), if it has one."""
    path = urlsplit(url.split("+", 1)[1]).path
    if "@" not in path:
        return None
    return path.rsplit("@", 1)[1] or None


def render(inputs: Inputs, path: Path, names: dict[Path, Path]) -> str:
    """The text the engine reads for one file: the same requirements, one per line.

    ``names`` maps each file read to the copy the engine is given, so includes point at
    copies. Local packages are given as ``./path`` (relative to the project root, where
    the engine runs), which both engines read.
    """
    out = []
    for entry in inputs.files[path]:
        if entry.kind in (Kind.INCLUDE, Kind.CONSTRAINTS):
            flag = "-r" if entry.kind is Kind.INCLUDE else "-c"
            out.append(f"{flag} {names[inputs.root / entry.value].as_posix()}")
        elif entry.kind in (Kind.LOCAL, Kind.EDITABLE):
            extras = f"[{','.join(entry.extras)}]" if entry.extras else ""
            marker = f" ; {entry.marker}" if entry.marker else ""
            prefix = "-e " if entry.kind is Kind.EDITABLE else ""
            out.append(f"{prefix}{entry.value}{extras}{marker}")
        elif entry.kind is Kind.URL and url_sha256(entry.value):
            # uv trusts a wheel URL's #sha256= without reading the file: without it the
            # engine hashes the file itself, and EngineInputs.portable compares the two
            out.append(entry.line.text.replace(entry.value, entry.value.split("#", 1)[0]))
        else:
            out.append(entry.line.text)
    return "".join(f"{line}\n" for line in out)


def url_sha256(url: str) -> str | None:
    """The digest a URL's ``#sha256=`` fragment names, if it names one."""
    for part in urlsplit(url).fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "sha256" and value:
            return value.lower()
    return None


def write_copies(inputs: Inputs, scratch: Path) -> dict[Path, Path]:
    """Write every file read, rendered, under ``scratch`` with the project's layout.

    Returns the map from each original file to its copy.
    """
    names = {path: scratch / path.relative_to(inputs.root) for path in inputs.files}
    for path, copy in names.items():
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(render(inputs, path, names), encoding="utf-8")
    return names
