"""Interpreters: finding the Pythons of the matrix, and the facts of an environment's Python.

The lookup only looks at files (no interpreter is started, nothing is downloaded), so
a missing Python is reported at once, with the command that installs it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from envlock import EnvlockError
from envlock.layout import find_executable
from envlock.settings import version_key

__all__ = [
    "EnvFacts",
    "find_python",
    "inspect_env",
    "interpreter_problem",
    "pyenv_root",
    "pyvenv_home",
    "pyvenv_version",
    "require_python",
    "running_problem",
]


def pyenv_root(environ: Mapping[str, str]) -> Path:
    if environ.get("PYENV_ROOT"):
        return Path(environ["PYENV_ROOT"])
    return Path.home() / ".pyenv"


def _find_in_pyenv(version: str, environ: Mapping[str, str], platform: str) -> Path | None:
    """The newest pyenv-installed CPython ``version.N`` (release builds only)."""
    versions = pyenv_root(environ) / "versions"
    pattern = re.compile(rf"^{re.escape(version)}\.\d+$")
    try:
        names = [p.name for p in versions.iterdir() if pattern.match(p.name)]
    except OSError:
        return None
    for name in sorted(names, key=version_key, reverse=True):
        # bin/pythonX.Y on POSIX; pyenv-win has only python.exe, at the top.
        found = find_executable(versions / name, f"python{version}", platform)
        found = found or find_executable(versions / name, "python", platform)
        if found:
            return found
    return None


def _find_on_path(version: str, environ: Mapping[str, str], platform: str) -> Path | None:
    """``pythonX.Y`` on PATH, skipping pyenv's shims (they may point at nothing)."""
    shims = pyenv_root(environ) / "shims"
    for folder in environ.get("PATH", "").split(os.pathsep):
        if not folder or Path(folder) == shims:
            continue
        found = shutil.which(f"python{version}", path=folder)
        if found:
            return Path(found)
    if platform == "win32" and shutil.which("py", path=environ.get("PATH")):
        result = subprocess.run(
            ["py", f"-{version}", "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0 and result.stdout.strip():
            return Path(result.stdout.strip())
    return None


def find_python(
    version: str, environ: Mapping[str, str] | None = None, platform: str = sys.platform
) -> Path | None:
    """Python ``version`` (``X.Y``) from pyenv, else from PATH; None when neither has it."""
    environ = os.environ if environ is None else environ
    return _find_in_pyenv(version, environ, platform) or _find_on_path(version, environ, platform)


def require_python(
    version: str, environ: Mapping[str, str] | None = None, platform: str = sys.platform
) -> Path:
    """Like ``find_python``, but a missing Python is an error that says how to install it."""
    found = find_python(version, environ, platform)
    if found is None:
        raise EnvlockError(
            f"Python {version} was not found in pyenv or on PATH: "
            f"install it with `pyenv install {version}` and run this again"
        )
    return found


def _pyvenv_value(env: Path, keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` in a venv's pyvenv.cfg, or None (no venv, no such key)."""
    try:
        lines = (env / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in keys:
            return value.strip()
    return None


def pyvenv_version(env: Path) -> str | None:
    """The ``X.Y`` of the Python a venv was made with, from its pyvenv.cfg."""
    value = _pyvenv_value(env, ("version_info", "version"))
    return None if value is None else ".".join(value.split(".")[:2])


def pyvenv_home(env: Path) -> Path | None:
    """The folder of the Python a venv was made with (pyvenv.cfg's ``home``), or None."""
    value = _pyvenv_value(env, ("home",))
    return Path(value) if value else None


def interpreter_problem(python: Path) -> str | None:
    """What is wrong with an environment's interpreter file, or None when it looks usable.

    Only the file is looked at (a dangling link, a folder, no execute permission); a
    Python that exists but does not start is caught by ``inspect_env``.
    """
    shown = python.as_posix()
    if python.is_symlink() and not python.exists():
        return f"{shown} is a link to a file that does not exist"
    if not python.exists():
        return f"{shown} does not exist"
    if not python.is_file():
        return f"{shown} is not a file"
    if sys.platform != "win32" and not os.access(python, os.X_OK):
        return f"{shown} is not executable"
    return None


# Prints the PEP 508 marker values and the installed distributions of the interpreter
# that runs it, so a lock's markers can be evaluated for that environment.
_INSPECT_SCRIPT = """
import importlib.metadata, importlib.util, json, os, platform, sys
def version(info):
    text = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text
markers = {
    "implementation_name": sys.implementation.name,
    "implementation_version": version(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
dists = list(importlib.metadata.distributions())
installed = {d.metadata["Name"]: d.version for d in dists}
# PEP 610: where a distribution installed from a path, URL or VCS came from
direct = {d.metadata["Name"]: d.read_text("direct_url.json") for d in dists}
direct = {name: text for name, text in direct.items() if text}
own = os.path.realpath(sys.prefix)
global_site = sys.prefix != sys.base_prefix and any(
    os.path.basename(p) in ("site-packages", "dist-packages")
    and not os.path.realpath(p).startswith(own)
    for p in sys.path
)
importable = {name: importlib.util.find_spec(name) is not None for name in PROBES}
print(json.dumps({"markers": markers, "installed": installed, "global_site": global_site,
                  "importable": importable, "direct": direct}))
"""


@dataclasses.dataclass(frozen=True)
class EnvFacts:
    """What an environment's Python says about itself."""

    markers: dict[str, str]  # PEP 508 marker values
    installed: dict[str, str]  # distribution name -> version, as installed
    global_site: bool  # the global site-packages is on sys.path
    importable: dict[str, bool]  # probed module -> whether it can be imported
    # distribution name -> its direct_url.json, for those from a path, URL or VCS
    direct: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def python_version(self) -> str:
        return self.markers["python_version"]


def _ask(python: Path, probes: Sequence[str]) -> EnvFacts | str:
    """The ``EnvFacts`` of ``python``'s environment, or what keeps it from giving them."""
    problem = interpreter_problem(python)
    if problem:
        return problem
    script = f"PROBES = {sorted(probes)!r}\n{_INSPECT_SCRIPT}"
    try:
        result = subprocess.run(
            [str(python), "-I", "-c", script], capture_output=True, text=True, check=False
        )
    except OSError as error:
        return f"{python.as_posix()} does not start ({error.strerror or error})"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
        return f"{python.as_posix()} does not run ({last})"
    # The facts are the last line: a .pth file of the environment may print before them.
    try:
        data = json.loads((result.stdout.strip().splitlines() or [""])[-1])
        return EnvFacts(
            markers=data["markers"],
            installed=data["installed"],
            global_site=bool(data["global_site"]),
            importable=data["importable"],
            direct=data.get("direct", {}),
        )
    except (ValueError, KeyError, TypeError):
        return f"{python.as_posix()} runs but is not a working Python (it did not report itself)"


def running_problem(python: Path) -> str | None:
    """What keeps ``python`` from running as a Python (it is run), or None when it works."""
    facts = _ask(python, ())
    return facts if isinstance(facts, str) else None


def inspect_env(python: Path, probes: Sequence[str] = ()) -> EnvFacts:
    """Ask the environment of ``python`` for its ``EnvFacts`` (``probes``: modules whose
    importability to report). A Python that does not run is an EnvlockError."""
    facts = _ask(python, probes)
    if isinstance(facts, str):
        raise EnvlockError(f"{facts}: run `nox -s setup` to build the environment again")
    return facts
