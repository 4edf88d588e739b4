"""Conda environments without any conda executable: solve, lock, install and read a
prefix with py-rattler, in conda-lock's own lock format.

This module runs inside the tool environment ``.nox/rattler`` (py-rattler and conda-lock,
installed from ``tool-locks/py-rattler.txt``), as

    python -m envlock.conda_rattler COMMAND < request.json

reading one JSON request on stdin and printing one JSON answer on stdout. A problem the
user can fix ends the process with status 1 and one line on stderr.

Commands:
  lock       environment.yml -> conda-lock.yml, every platform it lists
  install    conda-lock.yml -> a prefix, for this platform, every package hash-checked
  installed  a prefix -> {name: "version build"} from its conda-meta records
  locked     conda-lock.yml -> the same shape, for one platform
  packages   both of the above at once, for this platform
  changed    a prefix -> its files whose content differs from what conda-meta recorded
  activation a prefix -> rattler's activation script for a shell
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import importlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict, cast

import rattler
from rattler.exceptions import (
    FetchRepoDataError,
    GatewayError,
    InstallerError,
    InvalidMatchSpecError,
    SolverError,
)
from rattler.networking import AuthenticationMiddleware, Client, MirrorMiddleware
from rattler.shell import ActivationVariables, Shell, activate

from envlock import EnvlockError

yaml: Any = importlib.import_module("yaml")  # conda-lock's own YAML library (untyped)
# What conda-lock raises for a file it cannot read: YAML syntax, pydantic validation
# (a ValueError), missing keys.
UNREADABLE = (yaml.YAMLError, ValueError, KeyError, TypeError)

Mirrors = dict[str, list[str]]
VirtualOverrides = dict[str, dict[str, str]]


class LockRequest(TypedDict, total=False):
    environment: str  # environment.yml
    output: str  # where to write the lock; its old content (if any) holds the pins
    lock_name: str  # the file name the lock will have (written into its help text)
    upgrade_packages: list[str]  # solve these afresh; keep every other pin
    mirrors: Mirrors
    virtual_packages: VirtualOverrides
    cache_dir: str


class InstallRequest(TypedDict, total=False):
    lockfile: str
    prefix: str
    platform: str
    mirrors: Mirrors
    cache_dir: str
    activation_scripts: bool  # write rattler's activation scripts into etc/envlock/
    name: str  # what messages call the prefix (its link, when the prefix is linked)


@functools.cache
def conda_lock(module: str) -> Any:
    """A module of conda-lock, imported when first needed (importing it takes most of a
    second, which reading a prefix does not need). It ships no type information."""
    return importlib.import_module(f"conda_lock.{module}")


# --- channels and mirrors -----------------------------------------------------------


def channel_url(name_or_url: str) -> str:
    """A channel's canonical base URL, ending in ``/`` (``conda-forge`` ->
    ``https://conda.anaconda.org/conda-forge/``)."""
    return str(rattler.Channel(name_or_url.rstrip("/")).base_url)


def normalized_mirrors(mirrors: Mapping[str, Sequence[str]]) -> Mirrors:
    """``conda-mirrors`` with every channel and mirror spelled as a base URL."""
    table: Mirrors = {}
    for channel, urls in mirrors.items():
        table[channel_url(channel)] = [url.rstrip("/") + "/" for url in urls]
    return table


def make_client(mirrors: Mirrors) -> Client:
    """rattler's HTTP client: mirrors first (every request to a channel goes to its
    mirror), then the credentials rattler keeps (``pixi auth login``, RATTLER_AUTH_FILE)."""
    middlewares: list[Any] = []
    if mirrors:
        middlewares.append(MirrorMiddleware(mirrors))
    middlewares.append(AuthenticationMiddleware())
    return Client(middlewares)


def make_gateway(
    client: Client, cache_dir: str | None, cached_only: bool = False
) -> rattler.Gateway:
    """rattler's repodata gateway; ``cached_only``: the repodata saved last time, however
    old, without asking the channel."""
    cache = Path(cache_dir) / "repodata" if cache_dir else None
    config = rattler.SourceConfig(cache_action="force-cache-only") if cached_only else None
    return rattler.Gateway(cache_dir=cache, default_config=config, client=client)


def network_problem(error: Exception, channels: Sequence[str], mirrors: Mirrors) -> str:
    """One line for a channel that could not be reached: which one, and the setting."""
    text = str(error)
    urls = re.findall(r"https?://[^\s)]+", text)
    for channel in channels:
        for mirror in mirrors.get(channel, []):
            if any(url.startswith(mirror) for url in urls):
                return (
                    f"the conda channel {channel.rstrip('/')} could not be reached through "
                    f"its mirror {mirror.rstrip('/')} ({last_cause(text)}): check the "
                    "network and the channel's conda-mirrors entry in [tool.envlock] of "
                    "pyproject.toml"
                )
    for channel in channels:
        if any(url.startswith(channel) for url in urls) or not urls:
            return (
                f"the conda channel {channel.rstrip('/')} could not be reached "
                f"({last_cause(text)}): check the network; behind a company mirror, list it "
                "under conda-mirrors in [tool.envlock] of pyproject.toml"
            )
    return f"a conda channel could not be reached ({last_cause(text)}): check the network"


def last_cause(text: str) -> str:
    """The innermost ``Caused by:`` of a rattler error: the part that says what broke."""
    causes = [
        line.split("Caused by:", 1)[1].strip() for line in text.splitlines() if "Caused by:" in line
    ]
    first = (text.strip().splitlines() or ["no detail"])[0]
    return (causes[-1] if causes else first).rstrip(".")


# --- virtual packages ---------------------------------------------------------------


@contextlib.contextmanager
def virtual_package_repo(overrides: VirtualOverrides) -> Iterator[Any]:
    """conda-lock's own model of the virtual packages it assumes for each platform: its
    default set, with ``conda-virtual-packages`` of [tool.envlock] laid over it (an empty
    version removes a package). Used for the solve and, as conda-lock does, for the lock's
    content hash."""
    virtual = conda_lock("virtual_package")
    with tempfile.TemporaryDirectory() as folder:
        if overrides:
            spec = yaml.safe_load(Path(virtual.DEFAULT_VIRTUAL_PACKAGES_YAML_PATH).read_text())
            for platform, packages in overrides.items():
                merged = spec["subdirs"].setdefault(platform, {"packages": {}})["packages"]
                for name, version in packages.items():
                    if version:
                        merged[name] = version
                    else:
                        merged.pop(name, None)
            path = Path(folder) / "virtual-packages.yaml"
            path.write_text(json.dumps(spec), encoding="utf-8")  # JSON is YAML too
            repo = virtual.virtual_package_repo_from_specification(path)
        else:
            repo = virtual.default_virtual_package_repodata()
        try:
            yield repo
        finally:
            # conda-lock leaves its fake repodata folder to an exit handler, which the
            # way this process ends (see the bottom of the file) does not run.
            shutil.rmtree(repo.base_path, ignore_errors=True)


def virtual_packages(repo: Any, platform: str) -> list[rattler.GenericVirtualPackage]:
    """The virtual packages of one platform (the newest of each name, as conda-lock
    tells the conda solvers)."""
    newest: dict[str, Any] = {}
    for package, subdirs in repo.packages_by_subdir.items():
        if platform not in subdirs:
            continue
        seen = newest.get(package.name)
        if seen is None or rattler.Version(package.version) > rattler.Version(seen.version):
            newest[package.name] = package
    return [
        rattler.GenericVirtualPackage(
            rattler.PackageName(name),
            rattler.Version(str(package.version)),
            rattler.BuildString.new_unchecked(package.build_string or "0"),
        )
        for name, package in sorted(newest.items())
    ]


# --- lock -----------------------------------------------------------------------------


def read_spec(environment: Path) -> Any:
    """environment.yml as conda-lock reads it; a ``pip:`` section is refused here."""
    with tempfile.TemporaryDirectory() as folder:
        # The PyPI-to-conda name mapping is only read for pip packages, which are
        # refused below: an empty one keeps conda-lock from downloading the real one.
        mapping = Path(folder) / "no-pypi-mapping.json"
        mapping.write_text("{}", encoding="utf-8")
        try:
            spec = conda_lock("src_parser").make_lock_spec(
                src_files=[environment], mapping_url=str(mapping)
            )
        except FileNotFoundError:
            raise EnvlockError(f"{environment.name} is missing: create it") from None
        except UNREADABLE as error:
            raise EnvlockError(
                f"{environment.name} could not be read ({one_line(str(error))}): fix the file"
            ) from None
    pip = sorted(
        {d.name for deps in spec.dependencies.values() for d in deps if d.manager == "pip"}
    )
    if pip:
        raise EnvlockError(
            f"{environment.name} has a pip: section ({', '.join(pip)}), which the rattler "
            "solver does not lock: list those packages under dependencies as conda packages, "
            'or set conda-solver = "micromamba" (or mamba, conda) in [tool.envlock]'
        )
    for channel in spec.channels:
        if channel.used_env_vars or is_local(channel.url):
            raise EnvlockError(
                f"the channel {channel.url} in {environment.name} is a local path or carries "
                "credentials, which must not go into a lock: name the channel by its URL and "
                "list the local copy under conda-mirrors in [tool.envlock]"
            )
    return spec


def is_local(url: str) -> bool:
    """A channel given as a folder of this machine (a path or a file: URL)."""
    if url.startswith("file:"):
        return True
    return "://" not in url and (url.startswith((".", "/", "~")) or url[1:3] == ":\\")


def one_line(text: str) -> str:
    return " ".join(text.split())


def match_specs(dependencies: Sequence[Any]) -> list[rattler.MatchSpec]:
    """The conda requests of one platform as rattler match specs."""
    specs = []
    for dep in dependencies:
        version = getattr(dep, "version", None)
        if version is None:
            raise EnvlockError(
                f"{dep.name} is given by URL or VCS in environment.yml, which the rattler "
                "solver does not lock: request it by name and version"
            )
        text = (
            dep.name if version in ("", "*") and not dep.build else f"{dep.name} {version or '*'}"
        )
        if dep.build:
            text += f" {dep.build}"
        if dep.conda_channel:
            text = f"{dep.conda_channel}::{text}"
        try:
            specs.append(rattler.MatchSpec(text))
        except InvalidMatchSpecError as error:
            raise EnvlockError(
                f"environment.yml: {text!r} is not a valid conda spec ({error})"
            ) from None
    return specs


def unsatisfiable(error: Exception, platform: str) -> EnvlockError:
    """rattler's explanation of a failed solve, shortened to one line."""
    text = str(error).split("because of:", 1)[-1]
    lines = [re.sub(r"^[\s│├└─]+", "", line).strip() for line in text.splitlines()]
    reason = "; ".join(line.rstrip(".") for line in lines if line)
    if len(reason) > 400:
        reason = reason[:400].rsplit(";", 1)[0] + "; ..."
    return EnvlockError(
        f"environment.yml cannot be solved for {platform}: {reason}: change the versions in "
        "environment.yml (or the channels it lists)"
    )


def previous_lock(path: Path) -> Any | None:
    """The lock whose pins are kept, if there is one conda-lock can read."""
    if not path.exists() or not path.read_text(encoding="utf-8").strip():
        return None
    try:
        return conda_lock("lockfile").parse_conda_lock_file(path)
    except UNREADABLE:  # an unreadable old lock is solved afresh, as conda-lock does
        return None


def subdirs(platform: str) -> list[rattler.Subdir]:
    """Where a platform's packages are: its own folder of the channel, and noarch."""
    return [rattler.Subdir(platform), rattler.Subdir("noarch")]


async def records_for_urls(
    gateway: rattler.Gateway,
    channels: Sequence[str],
    platform: str,
    names: Sequence[str],
) -> dict[str, rattler.RepoDataRecord]:
    """The channels' current records of ``names`` for a platform, by URL."""
    if not names:
        return {}
    result = await gateway.query(channels, subdirs(platform), sorted(set(names)), recursive=False)
    return {record.url: record for records in result for record in records}


def dependencies_of(record: rattler.RepoDataRecord) -> dict[str, str]:
    """A record's dependencies as conda-lock writes them: ``{name: version spec}``."""
    found: dict[str, list[str]] = {}
    for text in record.depends:
        spec = rattler.MatchSpec(text)
        name = spec.name.normalized
        found.setdefault(name, [])
        if spec.version:
            found[name].append(spec.version)
    return {name: ",".join(versions) for name, versions in found.items()}


def locked_dependency(record: rattler.RepoDataRecord, platform: str) -> Any:
    md5 = record.md5.hex() if record.md5 else ""
    sha256 = record.sha256.hex() if record.sha256 else None
    return conda_lock("lockfile.v2prelim.models").LockedDependency(
        name=record.name.normalized,
        version=str(record.version),
        manager="conda",
        platform=platform,
        dependencies=dependencies_of(record),
        url=record.url,
        hash=conda_lock("lockfile.v2prelim.models").HashModel(md5=md5, sha256=sha256),
    )


async def solve_platform(
    spec: Any,
    platform: str,
    gateway: rattler.Gateway,
    repo: Any,
    previous: Any | None,
    upgrade: set[str],
) -> list[Any]:
    channels = [channel_url(c.url) for c in spec.channels]
    dependencies = [d for d in spec.dependencies[platform] if d.manager == "conda"]
    pinned = []
    if previous is not None and platform in previous.metadata.platforms:
        pinned = [
            p
            for p in previous.package
            if p.platform == platform and p.manager == "conda" and p.name not in upgrade
        ]
    pinned_urls = [p.url for p in pinned]
    available = await records_for_urls(gateway, channels, platform, [p.name for p in pinned])
    locked = [available[url] for url in pinned_urls if url in available]
    try:
        records = await rattler.solve(
            channels,
            match_specs(dependencies),
            gateway=gateway,
            platforms=subdirs(platform),
            locked_packages=locked,
            virtual_packages=virtual_packages(repo, platform),
        )
    except SolverError as error:
        raise unsatisfiable(error, platform) from None
    planned = {}
    for record in records:
        if not any(record.url.startswith(channel) for channel in channels):
            raise EnvlockError(
                f"{record.file_name} was solved from {record.channel}, which environment.yml "
                "does not list: check the channels"
            )
        planned[record.name.normalized] = locked_dependency(record, platform)
    conda_lock("lockfile").apply_categories(
        requested={d.name: d for d in dependencies}, planned=planned, mapping_url=""
    )
    return list(planned.values())


def lock(request: LockRequest) -> dict[str, object]:
    """Solve environment.yml for every platform it lists and write conda-lock.yml."""
    environment = Path(request["environment"])
    output = Path(request["output"])
    spec = read_spec(environment)
    mirrors = normalized_mirrors(request.get("mirrors", {}))
    channels = [channel_url(c.url) for c in spec.channels]
    gateway = make_gateway(make_client(mirrors), request.get("cache_dir"))
    previous = previous_lock(output)
    upgrade = set(request.get("upgrade_packages", []))
    packages: list[Any] = []
    with virtual_package_repo(request.get("virtual_packages", {})) as repo:
        for platform in spec.platforms:
            try:
                packages += asyncio.run(
                    solve_platform(spec, platform, gateway, repo, previous, upgrade)
                )
            except (GatewayError, FetchRepoDataError) as error:
                raise EnvlockError(network_problem(error, channels, mirrors)) from None
        content_hash = conda_lock("content_hash").compute_content_hashes(spec, repo)
    lockfile = conda_lock("lockfile.v2prelim.models").Lockfile(
        package=packages,
        metadata=conda_lock("lockfile.v2prelim.models").LockMeta(
            content_hash=content_hash,
            channels=list(spec.channels),
            platforms=list(spec.platforms),
            sources=[os.path.relpath(environment, output.parent).replace(os.sep, "/")],
        ),
    )
    name = request.get("lock_name", output.name)
    with tempfile.TemporaryDirectory() as folder:
        # conda-lock's writer names the file in its help text: write it under its name.
        written = Path(folder) / name
        conda_lock("lockfile").write_conda_lock_file(lockfile, written, metadata_choices=())
        output.write_text(written.read_text(encoding="utf-8"), encoding="utf-8")
    return {
        "platforms": list(spec.platforms),
        "packages": {p: sum(1 for d in packages if d.platform == p) for p in spec.platforms},
    }


# --- install --------------------------------------------------------------------------


def current_platform() -> str:
    return str(rattler.Subdir.current())


def read_lock(path: Path, platform: str) -> tuple[Any, list[Any]]:
    """The lock and its conda packages for ``platform``; pip packages are refused."""
    try:
        lockfile = conda_lock("lockfile").parse_conda_lock_file(path)
    except FileNotFoundError:
        raise EnvlockError(f"{path.name} does not exist: run `nox -s lock`") from None
    except UNREADABLE as error:
        raise EnvlockError(
            f"{path.name} is not a lock conda-lock can read ({one_line(str(error))[:200]}): "
            "run `nox -s lock`"
        ) from None
    if platform not in lockfile.metadata.platforms:
        raise EnvlockError(
            f"{path.name} has no packages for {platform} (it lists "
            f"{', '.join(lockfile.metadata.platforms)}): add the platform to environment.yml "
            "and run `nox -s lock`"
        )
    packages = [p for p in lockfile.package if p.platform == platform]
    pip = sorted(p.name for p in packages if p.manager == "pip")
    if pip:
        raise EnvlockError(
            f"{path.name} holds pip packages ({', '.join(pip)}), which the rattler installer "
            f"does not install: run `nox -s lock` to lock environment.yml with rattler"
        )
    return lockfile, packages


async def locked_records(
    gateway: rattler.Gateway, channels: Sequence[str], platform: str, packages: Sequence[Any]
) -> list[rattler.RepoDataRecord]:
    """The channel's records of exactly the locked files, each checked against the hash in
    the lock (the download is checked against the same hash again by rattler)."""
    names = [p.name for p in packages]
    available = await records_for_urls(gateway, channels, platform, names)
    records = []
    for package in packages:
        record = available.get(package.url)
        if record is None:
            raise EnvlockError(
                f"{package.url.rsplit('/', 1)[-1]} (locked in conda-lock.yml) is no longer "
                f"listed by its channel: run `nox -s lock -- --upgrade-package {package.name}`"
            )
        expected = package.hash.sha256 or package.hash.md5
        actual = (record.sha256 if package.hash.sha256 else record.md5) or b""
        if actual.hex() != expected:
            raise EnvlockError(hash_mismatch(package.url))
        records.append(record)
    return records


def hash_mismatch(url: str) -> str:
    return (
        f"{url.rsplit('/', 1)[-1]} is not the file conda-lock.yml locked (its hash differs: "
        "the channel or its mirror changed it, or the lock was edited); nothing was "
        "installed from it: check the lock with `git diff` and the conda-mirrors setting"
    )


# The prefix gets its own copy of every file (a copy-on-write clone where the file system
# has them): a hard link would share the file with the package cache, so an edit made in
# the prefix would change the cache too, and every later install would copy the edit.
COPY_FILES = rattler.Config.from_toml(
    "allow-hard-links = false\nallow-symbolic-links = false\nallow-ref-links = true\n"
)


def package_cache(cache_dir: str | None) -> rattler.PackageCache | None:
    """The package cache, every cached file checked against the package's own hashes
    before it is used (a changed entry is fetched again), so that the cache can never hand
    on a file that is not the package's."""
    if not cache_dir:
        return None
    return rattler.PackageCache.new_layered(
        [Path(cache_dir) / "pkgs"], validation_mode=rattler.ValidationMode.full()
    )


def install(request: InstallRequest) -> dict[str, object]:
    """Make the prefix hold exactly the lock's packages for this platform."""
    lockfile_path = Path(request["lockfile"])
    prefix = Path(request["prefix"])
    platform = request.get("platform") or current_platform()
    lockfile, packages = read_lock(lockfile_path, platform)
    mirrors = normalized_mirrors(request.get("mirrors", {}))
    channels = [channel_url(c.url) for c in lockfile.metadata.channels]
    client = make_client(mirrors)
    gateway = make_gateway(client, request.get("cache_dir"))
    cache_dir = request.get("cache_dir")

    async def run() -> list[rattler.RepoDataRecord]:
        try:
            records = await locked_records(gateway, channels, platform, packages)
        except (GatewayError, FetchRepoDataError) as error:
            # Offline: the exact files are pinned by hash, so the repodata saved last time
            # serves to find them in the package cache. Without it, the first error stands.
            try:
                cached = make_gateway(client, cache_dir, cached_only=True)
                records = await locked_records(cached, channels, platform, packages)
            except (GatewayError, FetchRepoDataError):
                raise error from None
        await rattler.install(
            records,
            prefix,
            package_cache=package_cache(cache_dir),
            config=COPY_FILES,
            platform=rattler.Subdir(platform),
            client=client,
            show_progress=False,
        )
        return records

    try:
        records = asyncio.run(run())
    except (GatewayError, FetchRepoDataError) as error:
        raise EnvlockError(network_problem(error, channels, mirrors)) from None
    except InstallerError as error:
        text = str(error)
        if "hash mismatch" in text:
            url = next(iter(re.findall(r"https?://\S+\.(?:conda|tar\.bz2)", text)), text)
            raise EnvlockError(hash_mismatch(url)) from None
        if "error sending request" in text or "Connect" in text:
            raise EnvlockError(network_problem(error, channels, mirrors)) from None
        name = request.get("name") or prefix.name
        raise EnvlockError(f"installing into {name} failed: {last_cause(text)}") from None
    if request.get("activation_scripts"):
        write_activation_scripts(prefix)
    return {"installed": len(records), "platform": platform}


# --- reading prefixes and locks ---------------------------------------------------------


def prefix_records(prefix: Path) -> list[rattler.PrefixRecord]:
    return [
        rattler.PrefixRecord.from_path(path)
        for path in sorted((prefix / "conda-meta").glob("*.json"))
    ]


def site_packages(prefix: Path, records: Sequence[rattler.PrefixRecord]) -> Path | None:
    """The prefix's site-packages, from its python record."""
    for record in records:
        if record.name.normalized == "python":
            if record.python_site_packages_path:
                return prefix / str(record.python_site_packages_path)
            if sys.platform == "win32":
                return prefix / "Lib" / "site-packages"
            major, minor = str(record.version).split(".")[:2]
            return prefix / "lib" / f"python{major}.{minor}" / "site-packages"
    return None


def installed(prefix: Path) -> dict[str, str]:
    """What the prefix holds, as ``conda list`` shows it: ``{name: "version build"}`` for
    conda packages (from conda-meta), ``{name: version}`` for Python distributions that
    no conda package brought (installed with pip or uv). A distribution installed over a
    conda package of its name (``pip install`` of another version) is what Python
    imports, so it wins: ``{name: "version (pip)"}``, with the installer it names."""
    records = prefix_records(prefix)
    packages = {r.name.normalized: f"{r.version} {r.build}" for r in records}
    conda_names = set(packages)
    owned = {
        Path(str(file)).as_posix().split("/")[-2]
        for record in records
        for file in record.files
        if Path(str(file)).name == "METADATA"
    }
    folder = site_packages(prefix, records)
    if folder is not None and folder.is_dir():
        import email.parser

        for dist_info in sorted(folder.glob("*.dist-info")):
            if dist_info.name in owned or not (dist_info / "METADATA").is_file():
                continue
            metadata = email.parser.Parser().parsestr(
                (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace"),
                headersonly=True,
            )
            name = re.sub(r"[-_.]+", "-", str(metadata["Name"])).lower()
            version = str(metadata["Version"])
            if name in conda_names:
                installer = dist_info / "INSTALLER"
                by = installer.read_text(errors="replace").strip() if installer.is_file() else ""
                version = f"{version} ({by or 'by hand'})"
            packages[name] = version
    return packages


def changed_files(prefix: Path) -> list[str]:
    """The prefix's files that are missing or whose content is no longer what the
    installer recorded in conda-meta (its sha256 of the file as written into the prefix),
    as paths relative to the prefix."""
    changed = []
    for record in prefix_records(prefix):
        for entry in record.paths_data.paths:
            if entry.path_type.softlink or entry.path_type.directory:
                continue
            expected = entry.sha256_in_prefix or entry.sha256
            if not expected:
                continue
            relative = Path(str(entry.relative_path)).as_posix()
            path = prefix / relative
            if not path.is_file() or file_sha256(path) != expected:
                changed.append(relative)
    return sorted(changed)


def file_sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def locked(lockfile: Path, platform: str) -> dict[str, str]:
    """``{name: "version build"}`` of the lock's packages for a platform."""
    _, packages = read_lock(lockfile, platform)
    found = {}
    for package in packages:
        filename = package.url.rsplit("/", 1)[-1].removesuffix(".conda").removesuffix(".tar.bz2")
        found[package.name] = f"{package.version} {filename.rsplit('-', 2)[-1]}"
    return found


SHELLS = {
    "bash": Shell.bash,
    "zsh": Shell.zsh,
    "fish": Shell.fish,
    "powershell": Shell.powershell,
    "cmd": Shell.cmd_exe,
}
PATH_SENTINEL = "ENVLOCK-CURRENT-PATH"


def activation(prefix: Path, shell: str) -> str:
    """rattler's activation script for ``shell``: the prefix's folders put first on PATH,
    CONDA_PREFIX set, and the packages' own activate.d scripts run."""
    if shell not in SHELLS:
        raise EnvlockError(f"unknown shell {shell!r}: use one of {', '.join(SHELLS)}")
    # rattler writes the PATH it is given into the script; a marker stands for "whatever
    # PATH is when the script runs" and is taken out again.
    variables = ActivationVariables(None, [PATH_SENTINEL])
    script = str(activate(prefix, variables, SHELLS[shell]).script)
    return script.replace(os.pathsep + PATH_SENTINEL, "").replace(PATH_SENTINEL + os.pathsep, "")


def write_activation_scripts(prefix: Path) -> list[Path]:
    """The activation scripts of this platform's shells, in ``etc/envlock`` of the prefix,
    for using it without conda."""
    names = (
        {"powershell": "activate.ps1", "cmd": "activate.bat"}
        if sys.platform == "win32"
        else {"bash": "activate.sh", "fish": "activate.fish"}
    )
    folder = prefix / "etc" / "envlock"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for shell, name in names.items():
        (folder / name).write_text(activation(prefix, shell), encoding="utf-8")
        written.append(folder / name)
    return written


# --- the command line -------------------------------------------------------------------


def answer(command: str, request: dict[str, Any]) -> object:
    if command == "lock":
        return lock(cast(LockRequest, request))
    if command == "install":
        return install(cast(InstallRequest, request))
    if command == "installed":
        return installed(Path(request["prefix"]))
    if command == "locked":
        return locked(Path(request["lockfile"]), request.get("platform") or current_platform())
    if command == "packages":  # both of the above in one call: what doctor compares
        return {
            "locked": locked(Path(request["lockfile"]), current_platform()),
            "installed": installed(Path(request["prefix"])),
        }
    if command == "changed":
        return changed_files(Path(request["prefix"]))
    if command == "activation":
        return {"script": activation(Path(request["prefix"]), request["shell"])}
    raise EnvlockError(f"unknown command {command!r}")


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m envlock.conda_rattler COMMAND < request.json\n")
        return 2
    try:
        request = json.loads(sys.stdin.read() or "{}")
        print(json.dumps(answer(argv[0], request), sort_keys=True))
    except EnvlockError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # All work is done and written. A normal interpreter shutdown can abort now and then
    # ("PyGILState_Release ... finalizing") while rattler's worker threads wind down;
    # leaving without the shutdown keeps the answer's exit status.
    os._exit(status)
