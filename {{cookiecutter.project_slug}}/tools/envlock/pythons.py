"""Finding the interpreters of the matrix: pyenv's versions first, then PATH.

The lookup only looks at files (no interpreter is started, nothing is downloaded), so
a missing Python is reported at once, with the command that installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from envlock import EnvlockError
from envlock.settings import version_key


def pyenv_root(environ: Mapping[str, str]) -> Path:
    if environ.get("PYENV_ROOT"):
        return Path(environ["PYENV_ROOT"])
    return Path.home() / ".pyenv"


def pyenv_executable(prefix: Path, version: str, platform: str) -> Path:
    if platform == "win32":  # pyenv-win keeps python.exe at the top of each version
        return prefix / "python.exe"
    return prefix / "bin" / f"python{version}"


def find_in_pyenv(version: str, environ: Mapping[str, str], platform: str) -> Path | None:
    """The newest pyenv-installed CPython ``version.N`` (release builds only)."""
    versions = pyenv_root(environ) / "versions"
    pattern = re.compile(rf"^{re.escape(version)}\.\d+$")
    try:
        names = [p.name for p in versions.iterdir() if pattern.match(p.name)]
    except OSError:
        return None
    for name in sorted(names, key=version_key, reverse=True):
        executable = pyenv_executable(versions / name, version, platform)
        if executable.is_file():
            return executable
    return None


def find_on_path(version: str, environ: Mapping[str, str], platform: str) -> Path | None:
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
    environ = os.environ if environ is None else environ
    return find_in_pyenv(version, environ, platform) or find_on_path(version, environ, platform)


def require_python(
    version: str, environ: Mapping[str, str] | None = None, platform: str = sys.platform
) -> Path:
    found = find_python(version, environ, platform)
    if found is None:
        raise EnvlockError(
            f"Python {version} was not found in pyenv or on PATH: "
            f"install it with `pyenv install {version}` and run this again"
        )
    return found
