"""What a failed lock engine or installer said, told in one line that leads to a fix.

The engines explain a failure in their own terms (uv: "the `requires-python` value";
pip-compile: three chained tracebacks). The translations here name what decides in
this project: the line of the ``.in`` file, ``python-matrix`` or ``extra-index-urls``
in ``pyproject.toml``, the host that could not be reached.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envlock import lock_body
from envlock.requirements_in import Inputs

__all__ = ["Context", "explain", "failed_address", "generic"]

HASH_SIGNS = ("hash mismatch", "hashes do not match", "do not match the hashes")
NETWORK_SIGNS = (
    "failed to fetch",
    "connection refused",
    "error sending request",
    "dns error",
    "failed to connect",
    "tcp connect error",
    "network is unreachable",
    "timed out",
    "max retries exceeded",
    "connectionerror",
    "connectionfailederror",
    "name resolution",
    "could not connect",
    "failed to download",
    "unable to access",
    "could not resolve host",
)
URL = r"[a-z][a-z0-9+.-]*://[^\s'\"`)]+"
# Where each tool names the address it could not reach, most specific first.
FAILED_AT = (
    re.compile(rf"unable to access '(?P<url>{URL})'"),  # git
    re.compile(rf"Failed to fetch: `?(?P<url>{URL})"),  # uv
    re.compile(rf"error sending request for url \((?P<url>{URL})\)"),  # uv
    re.compile(rf"Failed to download[^`]*`[^`]*?(?P<url>{URL})"),  # uv
    re.compile(r"host='(?P<host>[^']+)', port=(?P<port>\d+)"),  # pip (urllib3)
    re.compile(r"Failed to connect to (?P<host>\S+) port (?P<port>\d+)"),  # curl
    re.compile(rf"(?P<url>{URL})"),
)
REQUIRES_PYTHON = re.compile(
    r"e\.g\., (?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+) only supports (?P<spec>[^)]+)\)"
)
DEPENDS_ON_PYTHON = re.compile(
    r"(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+) depends on Python(?P<spec>[<>=!~][^\s,]+"
    r"(?:,\s*[<>=!~][^\s,]+)*)"
)
NOT_FOUND_UV = re.compile(
    r"Because (?P<name>[A-Za-z0-9._-]+) was not found in the package registry"
)
NO_VERSION_UV = re.compile(r"there is no version of (?P<req>[A-Za-z0-9._\-\[\]]+[<>=!~]=?[^\s,]+)")
PIP_IGNORED = re.compile(
    r"Ignored the following versions that require a different python version: (?P<versions>.+)"
)
NO_MATCH_PIP = re.compile(r"No matching distribution found for (?P<req>\S+)")
COMPUTED = re.compile(r"Computed:\s+sha256:(?P<digest>[0-9a-f]{64})")
BUILD_FAILED = re.compile(r"Failed to build `(?P<name>[A-Za-z0-9._-]+) @ (?P<url>file:[^`]+)`")
LOCAL_MISMATCH = re.compile(r"Hash mismatch for `[A-Za-z0-9._-]+ @ (?P<url>file:[^`]+)`")
CAUSE_UV = re.compile(r"^\s*cause: (?P<cause>.+)$", re.MULTILINE)
# uv with UV_OFFLINE (the user's setting, which the sessions keep): what its cache lacks.
NOT_CACHED_UV = re.compile(r"Because (?P<name>[A-Za-z0-9._-]+) was not found in the cache")
# uv refusing its command line: arguments a user passed after `--` (nox -s lock -- ...).
USAGE_UV = re.compile(
    r"^error: (?P<what>(?:a value is required for|unexpected argument|invalid value) .+)$",
    re.MULTILINE,
)
# git, under uv or pip: the host answered, but has no such repository, tag or commit.
GIT_FETCHED = re.compile(r"git fetch [^\n']*'(?P<url>[^']+)'")
GIT_NO_REPO = re.compile(r"repository '(?P<url>[^']+)' not found")
GIT_NO_REF = re.compile(r"couldn't find remote ref (?:refs/(?:tags|heads)/)?(?P<ref>\S+)")
GIT_NO_COMMIT = re.compile(r"Unable to find (?P<ref>[0-9a-f]{7,64}) under (?P<url>\S+)")
OFFLINE_SIGNS = ("network was disabled", "network connectivity is disabled")


@dataclasses.dataclass(frozen=True)
class Context:
    """What the translations name: the inputs, the matrix and the extra indexes."""

    inputs: Inputs | None = None
    matrix: tuple[str, ...] = ()
    extra_index_urls: tuple[str, ...] = ()
    proxy: str = ""  # host[:port] of the proxy every request went through, if any


def failed_address(output: str) -> tuple[str, str] | None:
    """``(host[:port], url)`` of the first address a tool says it could not reach."""
    for pattern in FAILED_AT:
        match = pattern.search(output)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("url"):
            url = groups["url"].rstrip(".,:;")
            location = urlsplit(url.split("+", 1)[-1] if "+" in url.split(":", 1)[0] else url)
            if location.netloc:
                return location.netloc.rsplit("@", 1)[-1], url
            continue
        return f"{groups['host']}:{groups['port']}", ""
    return None


def named_by(host: str, url: str, context: Context) -> str:
    """Which setting or line of the project names the address, as a clause ('' if none):
    the line whose URL the failed one belongs to, else the first naming that host."""
    for index in context.extra_index_urls:
        if urlsplit(index).netloc.rsplit("@", 1)[-1] == host:
            return ", named in `extra-index-urls` under [tool.envlock] in pyproject.toml"
    if context.inputs is None:
        return ""
    same_host = []
    for entry in context.inputs.entries():
        if entry.kind.value not in ("url", "vcs"):
            continue
        plain = entry.value.split("+", 1)[-1] if entry.kind.value == "vcs" else entry.value
        if urlsplit(plain).netloc.rsplit("@", 1)[-1] != host:
            continue
        base = urlsplit(plain)._replace(fragment="").geturl().rsplit("@", 1)[0]
        if url and (url.startswith(base) or base.startswith(url.rstrip("/"))):
            return f", named in {entry.line.where(context.inputs.root)}"
        same_host.append(entry)
    if same_host:
        return f", named in {same_host[0].line.where(context.inputs.root)}"
    return ""


def network(name: str, output: str, context: Context) -> str | None:
    text = output.lower()
    if not any(sign in text for sign in NETWORK_SIGNS):
        return None
    found = failed_address(output)
    if found is None:
        return (
            f"`{name}` failed because the network failed (it did not say which host): "
            "check the connection and the URLs in the .in files and in pyproject.toml"
        )
    host, url = found
    fetching = f" for {url}" if url else ""
    if context.proxy and host != context.proxy:
        return (
            f"`{name}` could not reach {host} through the proxy {context.proxy}{fetching}"
            f"{named_by(host, url, context)}: check the network connection and the proxy "
            "settings (HTTPS_PROXY)"
        )
    return (
        f"`{name}` could not reach {host}{fetching}{named_by(host, url, context)}: check the "
        "network connection and that address"
    )


def where(name: str, context: Context, specifier: str = "") -> str:
    """``requirements.in line 3`` for a package the inputs name, else a phrase."""
    if context.inputs is not None:
        entry = context.inputs.find(name, specifier)
        if entry is not None:
            return entry.line.where(context.inputs.root)
    return "the .in files (a dependency of a package there)"


def index_phrase(context: Context) -> str:
    return "the package indexes" if context.extra_index_urls else "the package index"


def pip_requires_python(output: str) -> tuple[str, str, str] | None:
    """pip's form: the version asked for is among those "that require a different
    python version" (it then says no matching distribution was found)."""
    asked, ignored = NO_MATCH_PIP.search(output), PIP_IGNORED.search(output)
    if asked is None or ignored is None or "==" not in asked["req"]:
        return None
    name, version = asked["req"].split("==", 1)
    for item in ignored["versions"].split(";"):
        found, _, spec = item.strip().partition(" Requires-Python ")
        if found == version and spec:
            return name, version, spec.strip()
    return None


def requires_python(output: str, context: Context) -> str | None:
    match = REQUIRES_PYTHON.search(output) or DEPENDS_ON_PYTHON.search(output)
    found = (match["name"], match["version"], match["spec"]) if match else None
    found = found or pip_requires_python(output)
    if found is None or not context.matrix:
        return None
    name, version, spec = found[0], found[1], found[2].strip()
    oldest = min(context.matrix, key=lambda v: tuple(int(p) for p in v.split(".")))
    return (
        f"{name}=={version} supports only Python {spec}, but python-matrix in "
        f"pyproject.toml ([tool.envlock]) starts at {oldest}: remove the Pythons it does "
        f"not support from python-matrix, or in {where(name, context)} allow a version "
        f'of {name} that supports {oldest} or add a marker (`; python_version >= "X.Y"`)'
    )


def split_requirement(text: str) -> tuple[str, str]:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return str(canonicalize_name(text)), ""
    return str(canonicalize_name(requirement.name)), str(requirement.specifier)


def missing(output: str, context: Context) -> str | None:
    index = index_phrase(context)
    match = NOT_FOUND_UV.search(output)
    if match is not None:
        name = str(canonicalize_name(match["name"]))
        return f"{where(name, context)}: {name} was not found on {index}: check the name"
    match = NO_VERSION_UV.search(output) or NO_MATCH_PIP.search(output)
    if match is None:
        return None
    name, specifier = split_requirement(match["req"])
    if not specifier:
        return f"{where(name, context)}: {name} was not found on {index}: check the name"
    return (
        f"{where(name, context, specifier)}: no version of {name} matches {specifier} on "
        f"{index}: change the version"
    )


def offline(name: str, output: str) -> str | None:
    """uv ran offline (the user's UV_OFFLINE) and its cache lacks something it needs."""
    if not any(sign in output.lower() for sign in OFFLINE_SIGNS):
        return None
    match = NOT_CACHED_UV.search(output)
    lacks = f"{canonicalize_name(match['name'])} is not" if match else "what it needs is not"
    return (
        f"`{name}` ran offline (UV_OFFLINE is set) and {lacks} in uv's cache: unset "
        "UV_OFFLINE for one session while the network is reachable, which fills the cache"
    )


def usage(name: str, output: str) -> str | None:
    """uv refused an argument: one the user gave after ``--``."""
    match = USAGE_UV.search(output)
    if match is None:
        return None
    what = match["what"].replace("'", "`")
    return (
        f"`{name}` refused its arguments ({what}): what follows `--` goes to it; for "
        "example `nox -s lock -- --upgrade` or `nox -s lock -- --upgrade-package NAME`"
    )


def conflict(output: str) -> str | None:
    if "No solution found" not in output and "ResolutionImpossible" not in output:
        return None
    causes = CAUSE_UV.findall(output)
    detail = f" ({causes[0].strip()})" if causes else ""
    return (
        f"the requirements cannot all be met{detail}: change the conflicting "
        "requirements in the .in files"
    )


def hash_mismatch(name: str, output: str, context: Context) -> str | None:
    if not any(sign in output.lower() for sign in HASH_SIGNS):
        return None
    named = named_hash(output, context) or local_archive_changed(name, output, context)
    if named is not None:
        return named
    return (
        f"`{name}` refused a file whose hash is not the one in the lock (the file on the "
        "index changed, or the lock was tampered with); nothing was installed from it: "
        "check the lock with `git diff`"
    )


def unwrapped(output: str) -> str:
    """``output`` with every run of spaces and line breaks made one space: uv wraps its
    resolver's sentences to the width of the terminal (or of ``COLUMNS``)."""
    return " ".join(output.split())


def named_hash(output: str, context: Context) -> str | None:
    """At lock time, a URL of the .in files whose ``#sha256=`` is not its file's."""
    if context.inputs is None:
        return None
    for entry in context.inputs.entries():
        if entry.kind.value != "url" or "sha256=" not in entry.value:
            continue
        url = entry.value.split("#", 1)[0]
        if url not in output:
            continue
        computed = COMPUTED.search(output)
        has = f" (its sha256 is {computed['digest']})" if computed else ""
        return (
            f"{entry.line.where(context.inputs.root)}: the file at {url} is not the one the "
            f"line's `#sha256=` names{has}: fix the hash in that line if the file is the "
            "one you want, else the URL"
        )
    return None


def local_source(
    pattern: re.Pattern[str], output: str, context: Context
) -> tuple[re.Match[str], str] | None:
    """The match of ``pattern`` (with a ``url`` group) and where in the project's tree
    that ``file:`` URL points (``./libs/x``), or None when it is not in the tree."""
    match = pattern.search(output)
    if match is None:
        return None
    # the sessions run in the project root; a lock knows it from its inputs
    root = context.inputs.root if context.inputs is not None else Path.cwd().resolve()
    where = lock_body.relative_source(match["url"], root)
    return None if where is None else (match, where)


def local_archive_changed(name: str, output: str, context: Context) -> str | None:
    """A wheel or source archive of the project's tree that is not the file locked: it
    was replaced after `nox -s lock` (its hash is in the lock, not among the inputs)."""
    found = local_source(LOCAL_MISMATCH, output, context)
    if found is None:
        return None
    _, where = found
    return (
        f"`{name}` refused {where}: it is not the file the lock was made with (it changed "
        "after `nox -s lock`), so nothing was installed from it: if the new file is the "
        f"one you want, run `nox -s lock` and commit the locks; else restore it "
        f"(`git checkout -- {where.removeprefix('./')}`)"
    )


def build_failure(name: str, output: str, context: Context) -> str | None:
    """A package of the project's tree that could not be built (its metadata read, or
    its build backend installed): the fix is in that package, not in the .in files."""
    found = local_source(BUILD_FAILED, output, context)
    if found is None:
        return None
    match, where = found
    lines = [line.strip().removeprefix("cause: ") for line in output.splitlines()]
    said = next((line for line in reversed(lines) if line and not line.startswith("hint:")), "")
    if where == "./.":  # the project itself, which setup installs editable
        return (
            f"`{name}` could not build this project ({match['name']}) ({said[:300]}): fix "
            "pyproject.toml (or setup.py)"
        )
    return (
        f"`{name}` could not build the package {match['name']} of this project at {where} "
        f"({said[:300]}): fix {where}/pyproject.toml (or its setup.py)"
    )


def vcs_line(context: Context, repository: str, ref: str | None) -> str:
    """The line of the .in files that names the repository (and the ref, if given)."""
    if context.inputs is not None:
        plain = repository.rstrip("/").removesuffix(".git")
        for entry in context.inputs.entries():
            if entry.kind.value != "vcs":
                continue
            url = entry.value.split("+", 1)[1].split("#", 1)[0]
            if url.startswith(plain) and (ref is None or url.endswith(f"@{ref}")):
                return entry.line.where(context.inputs.root)
    return "the .in files"


def vcs_missing(output: str, context: Context) -> str | None:
    """A git host that answered, without the repository, branch, tag or commit named."""
    fetched = GIT_FETCHED.search(output)
    no_repo = GIT_NO_REPO.search(output)
    if no_repo is not None:
        url = no_repo["url"].rstrip("/")
        return (
            f"{vcs_line(context, url, None)}: there is no git repository at {url} (the "
            "host answered): fix the URL in that line"
        )
    no_commit = GIT_NO_COMMIT.search(output)
    if no_commit is not None:
        url, ref = no_commit["url"].rstrip("/"), no_commit["ref"]
        return (
            f"{vcs_line(context, url, ref)}: the git repository {url} has no commit {ref}: "
            "fix the commit after `@` in that line (or push it there)"
        )
    no_ref = GIT_NO_REF.search(output)
    if no_ref is not None and fetched is not None:
        url, ref = fetched["url"].rstrip("/"), no_ref["ref"]
        return (
            f"{vcs_line(context, url, ref)}: the git repository {url} has no branch or tag "
            f"`{ref}`: fix the name after `@` in that line (or push it there)"
        )
    return None


def explain(name: str, returncode: int, output: str, context: Context | None = None) -> str:
    """One line saying why the command ``name`` failed, from what it printed."""
    context = context or Context()
    for found in (
        hash_mismatch(name, output, context),
        build_failure(name, output, context),
        usage(name, output),  # by its lines: uv starts the refusal with "error: "
        offline(name, unwrapped(output)),
        requires_python(unwrapped(output), context),
        missing(unwrapped(output), context),
        vcs_missing(output, context),
        network(name, output, context),
        conflict(output),
    ):
        if found is not None:
            return found
    return generic(name, returncode)


def generic(name: str, returncode: int) -> str:
    """The line when nothing more can be told than that it failed."""
    return f"`{name}` failed with exit code {returncode} (its output is above)"
