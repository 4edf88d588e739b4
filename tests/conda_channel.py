"""A real conda channel for the conda tests, built on the fly and served on 127.0.0.1.

No conda channel can be reached from the machines that run these tests, so the tests
make their own, as small as the trimmed test environment needs:

- ``noarch: python`` packages repacked from real wheels downloaded from the package index
  (python-dotenv in two versions, pytest and its dependencies, pip): the wheels' files
  under ``site-packages/``, their console scripts as noarch entry points in
  ``info/link.json``, and ``info/index.json``, ``info/paths.json`` and ``info/files`` as a
  conda package carries them. A wheel's dependencies become the package's ``depends``,
  with markers evaluated for the Python the tests run on (a real noarch recipe writes
  them out the same way).
- ``python``: THE ONE STAND-IN. conda-forge's python build cannot be fetched here, so the
  channel's python package is a venv-shaped prefix around one of this machine's pyenv
  interpreters: ``pyvenv.cfg`` plus ``bin/python*`` links. Everything a conda install does
  with it (solve, download, hash check, link, entry points, ``conda-meta``) is real; what
  it cannot show is conda-forge's own python build.
- A second platform, ``osx-arm64``: the same noarch packages and a python stand-in record
  without files, enough to solve and lock for it, not to install.

The channel is indexed with rattler's own indexer (``rattler.index.index_fs``) and
served over HTTP on 127.0.0.1 (rattler's HTTP client refuses ``file://`` mirrors). The
server logs every request, so a test can see what was fetched from it, and can be
stopped in the middle of a test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import email.parser
import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import rattler.index
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SECOND_PLATFORM = "osx-arm64"
PLATFORMS = ("linux-64", SECOND_PLATFORM)
# What the trimmed test environment asks for; pytest brings its own dependencies.
WANTED = ("python-dotenv", "pytest", "pip")
OLDER_DOTENV = "1.0.1"  # a second, older python-dotenv: for the keep-the-pins tests
BUILD = "py_0"
STANDIN_BUILD = "venv_standin_0"  # the python stand-in says what it is in its build string
TIMESTAMP = 1_700_000_000_000  # fixed, so that the same wheels make the same packages
CANONICAL = "https://conda.anaconda.org/conda-forge"


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def isolated_pip_env() -> dict[str, str]:
    """pip with the default index only (the machine's pip settings are ignored)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def download_wheels(dest: Path) -> list[Path]:
    """The wheels of WANTED and their dependencies for this Python, plus the older dotenv."""
    dest.mkdir(parents=True, exist_ok=True)
    base = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    base += ["--dest", str(dest)]
    subprocess.run([*base, *WANTED], check=True, env=isolated_pip_env())
    subprocess.run(
        [*base, "--no-deps", f"python-dotenv=={OLDER_DOTENV}"], check=True, env=isolated_pip_env()
    )
    return sorted(dest.glob("*.whl"))


# --- packages -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str
    subdir: str
    file: Path  # the .tar.bz2 in the build folder

    @property
    def filename(self) -> str:
        return self.file.name

    @property
    def key(self) -> str:
        """``subdir/filename``: where the package sits in a channel."""
        return f"{self.subdir}/{self.file.name}"


def tar_bytes(files: dict[str, bytes | str], modes: dict[str, int]) -> bytes:
    """A deterministic .tar.bz2: info/ first, sorted, fixed times and owners.

    A value of type str is a symbolic link to that target.
    """
    buffer = io.BytesIO()
    names = sorted(files, key=lambda n: (not n.startswith("info/"), n))
    with tarfile.open(fileobj=buffer, mode="w:bz2") as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.mtime = TIMESTAMP // 1000
            content = files[name]
            if isinstance(content, str):
                info.type = tarfile.SYMTYPE
                info.linkname = content
                archive.addfile(info)
            else:
                info.size = len(content)
                info.mode = modes.get(name, 0o644)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def paths_json(files: dict[str, bytes | str]) -> bytes:
    entries = []
    for name in sorted(files):
        content = files[name]
        if isinstance(content, str):
            entries.append({"_path": name, "path_type": "softlink"})
        else:
            entries.append(
                {
                    "_path": name,
                    "path_type": "hardlink",
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "size_in_bytes": len(content),
                }
            )
    return json.dumps({"paths": entries, "paths_version": 1}, indent=2).encode()


def write_package(
    folder: Path,
    index: dict[str, object],
    files: dict[str, bytes | str],
    link: dict[str, object] | None = None,
    modes: dict[str, int] | None = None,
) -> Package:
    """A conda package (.tar.bz2) holding ``files`` and the metadata conda reads."""
    info: dict[str, bytes | str] = {
        "info/index.json": json.dumps(index, indent=2, sort_keys=True).encode(),
        "info/paths.json": paths_json(files),
        "info/files": "".join(f"{name}\n" for name in sorted(files)).encode(),
    }
    if link is not None:
        info["info/link.json"] = json.dumps(link, indent=2, sort_keys=True).encode()
    subdir = str(index["subdir"])
    name, version, build = index["name"], index["version"], index["build"]
    target = folder / subdir / f"{name}-{version}-{build}.tar.bz2"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(tar_bytes({**info, **files}, modes or {}))
    return Package(str(name), str(version), subdir, target)


def conda_depends(metadata: email.message.Message) -> list[str]:
    """The wheel's Requires-Python and Requires-Dist as conda match specs, markers
    evaluated for this Python, optional extras left out."""
    depends = [f"python {metadata['Requires-Python']}".strip()]
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        depends.append(f"{canonicalize_name(requirement.name)} {requirement.specifier}".strip())
    return depends


def entry_points(archive: zipfile.ZipFile, dist_info: str) -> list[str]:
    """The wheel's console scripts, as conda's ``name = module:function`` lines."""
    try:
        text = archive.read(f"{dist_info}/entry_points.txt").decode()
    except KeyError:
        return []
    points, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line and section == "console_scripts":
            name, target = (part.strip() for part in line.split("=", 1))
            points.append(f"{name} = {target}")
    return points


def installed_record(files: dict[str, bytes | str], dist_info: str) -> bytes:
    """The RECORD of an installed distribution: each file's path from site-packages,
    its sha256 and size; RECORD itself without either."""
    lines = []
    for path, data in sorted(files.items()):
        if path == f"site-packages/{dist_info}/RECORD" or not isinstance(data, bytes):
            continue
        target, _, inner = path.partition("/")
        relative = inner if target == "site-packages" else f"../../../bin/{inner}"
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{relative},sha256={digest},{len(data)}")
    lines.append(f"{dist_info}/RECORD,,")
    return ("\n".join(lines) + "\n").encode()


def repack_wheel(wheel: Path, folder: Path) -> Package:
    """A ``noarch: python`` conda package with the wheel's files, as conda-forge builds them."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        metadata = email.parser.Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
        files: dict[str, bytes | str] = {}
        modes: dict[str, int] = {}
        for name in names:
            if name.endswith("/"):
                continue
            top, _, rest = name.partition("/")
            if top.endswith(".data"):
                kind, _, inner = rest.partition("/")
                target = {"scripts": "python-scripts", "purelib": "site-packages"}.get(kind)
                if target is None:
                    continue
                path = f"{target}/{inner}"
            else:
                path = f"site-packages/{name}"
            files[path] = archive.read(name)
            if archive.getinfo(name).external_attr >> 16 & 0o111:
                modes[path] = 0o755
        files[f"site-packages/{dist_info}/INSTALLER"] = b"conda\n"
        # RECORD lists every installed file where it ends up (INSTALLER included), as in
        # conda-forge's packages: pip reads it to remove the package before replacing it.
        files[f"site-packages/{dist_info}/RECORD"] = installed_record(files, dist_info)
        points = entry_points(archive, dist_info)
    index = {
        "name": canonicalize_name(metadata["Name"]),
        "version": metadata["Version"],
        "build": BUILD,
        "build_number": 0,
        "depends": conda_depends(metadata),
        "noarch": "python",
        "subdir": "noarch",
        "license": metadata.get("License-Expression") or metadata.get("License") or "",
        "timestamp": TIMESTAMP,
    }
    link = {"noarch": {"type": "python", "entry_points": points}, "package_metadata_version": 1}
    return write_package(folder, index, files, link, modes)


def python_standin(folder: Path, interpreter: Path, subdir: str) -> Package:
    """STAND-IN for conda-forge's python: a venv-shaped prefix around ``interpreter``.

    For the second platform the record has no files: it only has to solve and lock.
    """
    version = python_version()
    full = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    files: dict[str, bytes | str] = {}
    if subdir == "linux-64":
        home = interpreter.resolve().parent
        files = {
            f"bin/python{version}": str(interpreter.resolve()),
            "bin/python3": f"python{version}",
            "bin/python": f"python{version}",
            "pyvenv.cfg": (
                f"home = {home}\ninclude-system-site-packages = false\nversion = {full}\n"
            ).encode(),
            f"lib/python{version}/site-packages/README.standin": (
                b"STAND-IN python package of the template's tests: a venv around a local "
                b"interpreter.\n"
            ),
        }
    index = {
        "name": "python",
        "version": full,
        "build": STANDIN_BUILD,
        "build_number": 0,
        "depends": [],
        "subdir": subdir,
        "arch": "x86_64" if subdir == "linux-64" else "arm64",
        "platform": "linux" if subdir == "linux-64" else "osx",
        "license": "Python-2.0",
        "timestamp": TIMESTAMP,
    }
    return write_package(folder, index, files)


def base_interpreter() -> Path:
    """This Python's own interpreter (not the test venv's link to it)."""
    return Path(getattr(sys, "_base_executable", sys.executable)).resolve()


def build_packages(wheels: list[Path], folder: Path) -> list[Package]:
    packages = [repack_wheel(wheel, folder) for wheel in wheels]
    packages += [python_standin(folder, base_interpreter(), subdir) for subdir in PLATFORMS]
    return packages


# --- the channel and its server -------------------------------------------------------


class LoggingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the channel folder and notes every path asked for; once the channel is told
    to fail at its first package, that request and every later one get no answer."""

    channel: Channel

    def log_message(self, format: str, *args: object) -> None:
        pass

    def answers(self) -> bool:
        channel = self.channel
        channel.requests.append(self.path)
        if channel.fail_at_package and self.path.endswith((".tar.bz2", ".conda")):
            channel.failing.set()
        if channel.failing.is_set():
            self.close_connection = True
            threading.Thread(target=channel.stop, daemon=True).start()
            return False
        return True

    def do_GET(self) -> None:
        if self.answers():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self.answers():
            super().do_HEAD()


@dataclasses.dataclass
class Channel:
    """A conda channel folder, indexed, served on 127.0.0.1 while the test runs."""

    root: Path
    packages: dict[str, Package]  # by key (subdir/filename): everything built
    url: str = ""
    requests: list[str] = dataclasses.field(default_factory=list)
    # Stop serving at the first request for a package file (a channel going down in the
    # middle of a download, chosen by what is asked for rather than by time).
    fail_at_package: bool = False
    failing: threading.Event = dataclasses.field(default_factory=threading.Event)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None
    _stopping: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def publish(self, *keys: str) -> None:
        """Put built packages (``subdir/filename``) into the channel and index it again."""
        for key in keys:
            target = self.root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.packages[key].file, target)
        self.index()

    def replace_file(self, key: str, content: bytes) -> None:
        """Change a published package's file behind the index's back (as a broken or
        compromised mirror would)."""
        (self.root / key).write_bytes(content)

    def index(self) -> None:
        for subdir in ("noarch", *PLATFORMS):
            (self.root / subdir).mkdir(parents=True, exist_ok=True)
        asyncio.run(
            rattler.index.index_fs(self.root, write_zst=False, write_shards=False, force=True)
        )

    def key(self, name: str, version: str | None = None, subdir: str = "noarch") -> str:
        """The key of the newest built ``name`` (of ``version``, if given)."""
        matches = [
            p.key
            for p in self.packages.values()
            if p.name == name and p.subdir == subdir and version in (None, p.version)
        ]
        if not matches:
            raise KeyError(f"no {name} {version or ''} for {subdir} was built")
        return max(matches)

    def start(self) -> str:
        """Serve on 127.0.0.1: on a free port the first time, on the same one again after
        a stop (so the settings that name the URL stay right)."""
        handler = type("Handler", (LoggingHandler,), {"channel": self})
        self.failing.clear()
        self.fail_at_package = False
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", self.port), functools.partial(handler, directory=str(self.root))
        )
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        return self.url

    def stop(self) -> None:
        """Stop serving: from now on the port refuses connections (and is free again)."""
        with self._stopping:  # a stop under way elsewhere is waited for
            server, self._server = self._server, None
            if server is not None:
                server.shutdown()
                server.server_close()


@contextlib.contextmanager
def serve_channel(
    built: list[Package], folder: Path, older_only: bool = False
) -> Iterator[Channel]:
    """A channel in ``folder`` with every built package (or, with ``older_only``, the older
    python-dotenv instead of the newer one), served until the block ends."""
    channel = Channel(folder, {p.key: p for p in built})
    names = [
        p.key
        for p in built
        if not (older_only and p.name == "python-dotenv" and p.version != OLDER_DOTENV)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    channel.publish(*names)
    channel.start()
    try:
        yield channel
    finally:
        channel.stop()
