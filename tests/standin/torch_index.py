"""STAND-IN for PyTorch's CPU wheel index (download.pytorch.org is not reachable from the
test machines). It serves, on 127.0.0.1, a PEP 503 "simple" index with one project,
``torch``, holding one wheel whose version carries the ``+cpu`` local label as the real
CPU builds do. The wheel is pure Python and empty: it is only there to be resolved,
hash-pinned and installed, never imported for its code.

``index_real_wheel`` serves a real CPU build instead, for the tests that run a model: the
one the machine's own pip configuration can provide (``real_cpu_wheel``), if any.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import os
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

OTHER_PLATFORMS = ("macosx_11_0_arm64", "macosx_10_9_x86_64", "win_amd64")


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, name: str, version: str, platform: str = "any") -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD and an empty package), for
    ``platform`` (a wheel platform tag such as ``win_amd64``; ``any`` by default)."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b'"""Stand-in: an empty package."""\n',
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        ),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: standin\nRoot-Is-Purelib: true\nTag: py3-none-{platform}\n".encode()
        ),
    }
    record = [record_line(path, data) for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-{platform}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def build_index(root: Path, name: str, version: str) -> Path:
    """``root/simple/<name>/`` with the wheel and its index page (hash in the link)."""
    project = root / "simple" / name
    project.mkdir(parents=True)
    return write_pages(root, name, build_wheel(project, name, version))


def index_real_wheel(root: Path, python: Path, requirement: str) -> Path | None:
    """``root/simple/<name>/`` serving the real wheel of ``requirement`` (such as
    ``torch==2.13.0+cpu``) that this machine's pip gets with its own configuration
    (find-links, local indexes); None when it cannot get one."""
    name = requirement.split("==")[0]
    project = root / "simple" / name
    project.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "PIP_CONFIG_FILE"}
    result = subprocess.run(
        [
            *(str(python), "-m", "pip", "download", requirement, "--no-deps"),
            *("--only-binary=:all:", "--quiet", "--dest", str(project)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wheels = sorted(project.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        return None
    # PyTorch's CPU index also has macOS and Windows builds of each release; the
    # universal lock's wheel check asks for them. Empty stand-ins take their place here.
    version = requirement.split("==")[1]
    others = [build_wheel(project, name, version, tag) for tag in OTHER_PLATFORMS]
    return write_pages(root, name, wheels[0], *others)


def write_pages(root: Path, name: str, wheel: Path, *more: Path) -> Path:
    """The index pages of ``name`` listing ``wheel`` (and ``more``); returns ``wheel``."""
    project = root / "simple" / name
    links = "".join(
        f'<a href="{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>'
        for w in (wheel, *more)
    )
    (project / "index.html").write_text(f"<html><body>{links}</body></html>\n")
    (root / "simple" / "index.html").write_text(
        f'<html><body><a href="{name}/">{name}</a></body></html>\n'
    )
    return wheel


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free port of 127.0.0.1; yields the index URL (``.../simple``)."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()
