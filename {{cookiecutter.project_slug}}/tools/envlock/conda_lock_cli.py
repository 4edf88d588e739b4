"""Conda through conda-lock's command line: the solver on PATH, conda-lock's command
lines, and reading conda-lock.yml (the backend that uses them is ``backends.conda_cli``).

The lock is read with conda-lock's own parser, so this module's ``__main__`` runs in the
environment where conda-lock is installed (``.nox/conda-lock``), not in nox's: it
imports nothing but the standard library, ``envlock`` itself and conda-lock.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import platform as platform_module
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envlock import EnvlockError

__all__ = [
    "NO_SOLVER",
    "SOLVERS",
    "Solver",
    "activation_command",
    "build_of",
    "conda_subdir",
    "find_solver",
    "install_argv",
    "list_argv",
    "listed_packages",
    "lock_argv",
    "locked_packages",
    "update_args",
]

SOLVERS = ("micromamba", "mamba", "conda")
NO_SOLVER = (
    "no conda solver found: conda-lock needs micromamba, mamba or conda on PATH; install one "
    "(Miniforge brings conda and mamba, or install micromamba) and run this again"
)


@dataclasses.dataclass(frozen=True)
class Solver:
    kind: str  # one of SOLVERS
    path: str


def _kind_of(executable: str) -> str:
    name = Path(executable).name.lower().removesuffix(".exe").removesuffix(".bat")
    return name if name in SOLVERS else "conda"


def find_solver(forced: str | None, environ: Mapping[str, str] | None = None) -> Solver:
    """The solver to use: the forced one, else the first of micromamba, mamba, conda.

    Looking is all this does: conda-lock left to itself would try to download a solver,
    which offline retries for more than a minute.
    """
    path = (os.environ if environ is None else environ).get("PATH", "")
    for name in [forced] if forced else SOLVERS:
        found = shutil.which(name, path=path)
        if found:
            return Solver(_kind_of(found), found)
    if forced:
        raise EnvlockError(
            f"conda-solver = {forced!r} in [tool.envlock] is not on PATH: install it, or remove "
            "the setting to use the first of micromamba, mamba and conda"
        )
    raise EnvlockError(NO_SOLVER)


def lock_argv(
    conda_lock: list[str], solver: Solver, environment: Path, lockfile: Path, extra: list[str]
) -> list[str]:
    """``conda-lock lock`` for the platforms that environment.yml lists."""
    return [
        *conda_lock,
        "lock",
        "--conda",
        solver.path,
        "--file",
        environment.name,
        "--lockfile",
        str(lockfile),
        *extra,
    ]


def install_argv(conda_lock: list[str], solver: Solver, prefix: Path, lockfile: Path) -> list[str]:
    return [*conda_lock, "install", "--conda", solver.path, "--prefix", str(prefix), str(lockfile)]


def list_argv(solver: Solver, prefix: Path) -> list[str]:
    return [solver.path, "list", "--json", "--prefix", str(prefix)]


def update_args(pip_style: list[str]) -> tuple[list[str], bool]:
    """Translate the pip-style options of ``nox -s lock -- ...`` for conda-lock.

    Returns conda-lock's arguments and whether to solve afresh (``--upgrade``).
    """
    args: list[str] = []
    fresh, items = False, iter(pip_style)
    for item in items:
        if item in ("--upgrade", "-U"):
            fresh = True
        elif item in ("--upgrade-package", "-P"):
            args += ["--update", next(items, "")]
        elif item.startswith("--upgrade-package="):
            args += ["--update", item.split("=", 1)[1]]
        else:
            args.append(item)
    return args, fresh


def conda_subdir(system: str | None = None, machine: str | None = None) -> str:
    """conda's name for a platform: linux-64, osx-arm64, win-64, ..."""
    system = (system or sys.platform).lower()
    machine = (machine or platform_module.machine()).lower()
    os_name = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(system, system)
    arch = {
        "x86_64": "64",
        "amd64": "64",
        "arm64": "arm64",
        "aarch64": "aarch64",
        "ppc64le": "ppc64le",
    }.get(machine, machine)
    if os_name == "linux" and arch == "arm64":
        arch = "aarch64"
    return f"{os_name}-{arch}"


def activation_command(prefix_name: str) -> str:
    return f"conda activate ./{prefix_name}  (micromamba: micromamba activate ./{prefix_name})"


def locked_packages(lockfile: Path, subdir: str) -> dict[str, str]:
    """``{name: "version build"}`` (pip packages: ``"version"``) the lock holds for a platform.

    Parsed by conda-lock itself, so v1 and v2 lock files are read the way conda-lock
    reads them.
    """
    # Only in the conda-lock environment, and untyped: read through Any.
    lockfile_module: Any = importlib.import_module("conda_lock.lockfile")
    lock = lockfile_module.parse_conda_lock_file(lockfile)
    if subdir not in lock.metadata.platforms:
        raise EnvlockError(
            f"{lockfile.name} has no packages for {subdir} (it lists "
            f"{', '.join(lock.metadata.platforms)}): add the platform to environment.yml and "
            "run `nox -s lock`"
        )
    packages: dict[str, str] = {}
    for package in lock.package:
        if package.platform != subdir:
            continue
        if package.manager == "conda":
            packages[str(package.name)] = f"{package.version} {build_of(str(package.url))}"
        else:
            packages[str(package.name)] = str(package.version)
    return packages


def build_of(url: str) -> str:
    """The build string of a conda package file: ``name-version-build.conda``."""
    filename = url.rsplit("/", 1)[-1].removesuffix(".conda").removesuffix(".tar.bz2")
    return filename.rsplit("-", 2)[-1]


def listed_packages(conda_list: object) -> dict[str, str]:
    """The same shape from ``conda list --json`` output (pip-installed ones: channel pypi)."""
    if not isinstance(conda_list, list):
        raise EnvlockError("`conda list --json` printed no list: run `nox -s setup` again")
    packages: dict[str, str] = {}
    for entry in conda_list:
        name, version = str(entry["name"]), str(entry["version"])
        build = str(entry.get("build_string", ""))
        if entry.get("channel") == "pypi" or build.startswith("pypi"):
            packages[name] = version
        else:
            packages[name] = f"{version} {build}"
    return packages


if __name__ == "__main__":
    # python -m envlock.conda_lock_cli LOCKFILE SUBDIR: print the locked packages as JSON.
    try:
        print(json.dumps(locked_packages(Path(sys.argv[1]), sys.argv[2]), sort_keys=True))
    except EnvlockError as error:
        sys.exit(str(error))
