"""Whether a lock installs on every Python of the matrix and every platform it is for.

A universal lock pins one version per package for all of them, but a version may have
no wheel for one Python (an old release and a new Python) or one platform. Installing
there means building it from source, which for a compiled package usually fails or
takes long; the session that finds out is ``tests-X.Y`` on some CI runner.

So after compiling, ``lock`` asks uv to resolve the lock's pins once per Python and
platform with pre-built wheels only (``uv pip compile --only-binary :all: --no-deps``,
which reads the index's metadata and downloads nothing). A package that has no wheel
anywhere of the matrix (an sdist-only package) is built from source everywhere and is
not a gap; one that has wheels for some cells but not for others is, and so is one
whose wheels are all for Pythons outside the matrix (an old release on new Pythons):
uv's words are the same for both, so such a package is asked once more for the Pythons
outside the matrix.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

from envlock import EnvlockError, failures

__all__ = [
    "MACOS_TARGET",
    "PLATFORMS",
    "CellFailed",
    "Gap",
    "check_argv",
    "check_lock",
    "describe",
    "find_gaps",
    "unexplained",
    "wheels_elsewhere",
]

PLATFORMS = ("linux", "macos", "windows")
# The macOS a lock is checked for (MACOSX_DEPLOYMENT_TARGET of the wheel check).
MACOS_TARGET = "14.0"
WORKERS = 4
# The Pythons uv can resolve for: where a package without a wheel in any cell of the
# matrix is looked for once more (on Linux, where compiled wheels are always built).
KNOWN_PYTHONS = ("3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
NO_WHEEL = re.compile(
    r"Because (?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+) has no (?:usable )?wheels"
)
OFFLINE_MISS = "network was disabled"
CAUSE = re.compile(r"^\s*cause: (.+)$", re.MULTILINE)
PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s,;`]+)")
Run = Callable[[list[str]], tuple[int, str]]


@dataclasses.dataclass(frozen=True)
class Gap:
    """``name==version`` has no wheel for ``python`` on ``platform``."""

    name: str
    version: str
    python: str
    platform: str


def check_argv(
    uv: str,
    pins: Path,
    python: str,
    platform: str,
    built: Iterable[str],
    indexes: list[str],
) -> list[str]:
    """Resolve the pins for one Python and platform from wheels only (``built``: the
    packages allowed to come from source)."""
    argv = [
        uv,
        "pip",
        "compile",
        "--no-config",
        str(pins),
        "--no-deps",
        "--quiet",
        "--no-header",
        "--python-version",
        python,
        "--python-platform",
        platform,
        "--only-binary",
        ":all:",
        "--output-file",
        os.devnull,
        *indexes,
    ]
    for name in sorted(built):
        argv += ["--no-binary", name]
    return argv


def cell_gaps(
    run: Run, argv_for: Callable[[set[str]], list[str]], python: str, platform: str
) -> list[Gap]:
    """Every pin without a wheel in one cell: uv names one at a time, so each one found
    is allowed to come from source and the resolution is asked again.

    The compile that just ran left the index's pages in uv's cache, so each resolution is
    first asked offline (a fraction of a second instead of seconds of revalidation), and
    online only when the cache lacks a page.
    """
    gaps: list[Gap] = []
    built: set[str] = set()
    while True:
        argv = argv_for(built)
        returncode, output = run([*argv, "--offline"])
        if returncode != 0 and OFFLINE_MISS in output:
            returncode, output = run(argv)
        if returncode == 0:
            return gaps
        match = NO_WHEEL.search(output)
        name = canonicalize_name(match["name"]) if match else ""
        if match is None or name in built:
            raise CellFailed(python, platform, returncode, output)
        gaps.append(Gap(name, match["version"], python, platform))
        built.add(name)


class CellFailed(Exception):
    """uv failed on one cell for a reason other than a missing wheel; its output was
    captured, so the line told of it (``unexplained``) must say it all."""

    def __init__(self, python: str, platform: str, returncode: int, output: str) -> None:
        super().__init__(python, platform)
        self.python, self.platform = python, platform
        self.returncode, self.output = returncode, output


def unexplained(failed: CellFailed, pins_text: str, where: Callable[[str], str], lock: str) -> str:
    """One line for a cell that failed otherwise: the host, if the network failed; else
    the first pin uv names, uv's own reason, and the fixes."""
    network = failures.network("uv pip compile", failed.output, failures.Context())
    cell = f"Python {failed.python} on {failed.platform}"
    if network is not None:
        return f"{lock}: checking for wheels for {cell}: {network}"
    causes = [m.strip() for m in CAUSE.findall(failed.output)]
    errors = [line.strip() for line in failed.output.splitlines() if line.strip()]
    said = (causes or errors or [f"exit code {failed.returncode}"])[0].removeprefix("error: ")
    pinned = {
        canonicalize_name(line.split("==", 1)[0]): line.split("==", 1)[1].split(";")[0].strip()
        for line in pins_text.splitlines()
        if "==" in line
    }
    named = [
        canonicalize_name(m["name"])
        for m in PIN.finditer(failed.output)
        if canonicalize_name(m["name"]) in pinned
    ]
    marker = (
        f'`; python_version < "{failed.python}"` or '
        f'`; sys_platform != "{SYS_PLATFORM[failed.platform]}"`'
    )
    if not named:
        return (
            f"{lock}: its pins do not resolve from wheels for {cell} (uv: {said}): limit the "
            f"package uv names with a marker ({marker}) in the .in files, or remove "
            f"{failed.python} from python-matrix in pyproject.toml ([tool.envlock])"
        )
    name = named[0]
    return (
        f"{lock}: {name}=={pinned[name]} does not resolve from wheels for {cell} (uv: "
        f"{said}): in {where(name)} allow a version that has wheels there, or limit it with "
        f"a marker ({marker}), or remove {failed.python} from python-matrix in "
        "pyproject.toml ([tool.envlock])"
    )


def wheels_elsewhere(
    run: Run, uv: str, scratch: Path, indexes: list[str], matrix: Iterable[str]
) -> Callable[[str, str], bool]:
    """Whether ``name==version`` has a wheel for some Python outside ``matrix`` (on
    Linux): then it is no sdist-only package, and its having none in the matrix is a gap."""
    others = [python for python in KNOWN_PYTHONS if python not in set(matrix)]

    def elsewhere(name: str, version: str) -> bool:
        pin = scratch / f"probe-{name}.txt"
        pin.write_text(f"{name}=={version}\n", encoding="utf-8")  # no marker: it could skip it
        for python in others:
            argv = check_argv(uv, pin, python, "linux", (), indexes)
            returncode, output = run([*argv, "--offline"])
            if returncode != 0 and OFFLINE_MISS in output:
                returncode, output = run(argv)
            if returncode == 0:
                return True
        return False

    return elsewhere


def find_gaps(
    run: Run,
    argv_for: Callable[[str, str, set[str]], list[str]],
    pythons: Iterable[str],
    platforms: Iterable[str] = PLATFORMS,
    elsewhere: Callable[[str, str], bool] | None = None,
) -> list[Gap]:
    """The gaps of the lock: packages without a wheel in some cells but with one in
    others, or in none of them but for a Python outside them (``elsewhere``); a package
    without any wheel is built from source everywhere alike."""
    pythons = list(pythons)
    cells = [(python, platform) for python in pythons for platform in platforms]
    # The cells are independent, and uv spends most of a run waiting on its cache and
    # the index: a few at once cut the check to a fraction.
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = pool.map(
            lambda cell: cell_gaps(run, functools.partial(argv_for, *cell), *cell), cells
        )
        found = [gap for gaps in results for gap in gaps]
    everywhere = {
        name
        for name in {gap.name for gap in found}
        if sum(1 for gap in found if gap.name == name) == len(cells)
    }
    if elsewhere is not None:
        versions = {gap.name: gap.version for gap in found}
        everywhere = {name for name in everywhere if not elsewhere(name, versions[name])}
    return [gap for gap in found if gap.name not in everywhere]


SYS_PLATFORM = {"linux": "linux", "macos": "darwin", "windows": "win32"}


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def describe(
    gaps: list[Gap],
    matrix: Iterable[str],
    where: Callable[[str], str],
    lock: str,
    checked: Iterable[str] = PLATFORMS,
) -> str:
    """One line for the first package with gaps: where it has no wheel, and the fixes
    (another version or a marker in the .in file, or python-matrix); ``checked``: the
    platforms the check was for."""
    name = gaps[0].name
    mine = [gap for gap in gaps if gap.name == name]
    pythons = sorted({gap.python for gap in mine}, key=version_key)
    platforms = sorted({gap.platform for gap in mine})
    others = len({gap.name for gap in gaps}) - 1
    more = f" (and {others} more package{'s' if others > 1 else ''})" if others else ""
    every_python = set(pythons) == set(matrix)
    if every_python and set(platforms) == set(checked):
        return (
            f"{lock}: {name}=={mine[0].version} has no wheel for any Python of python-matrix "
            f"({', '.join(pythons)}){more}, only for other Pythons, so installing it would "
            f"mean building it from source: in {where(name)} allow a version that has wheels "
            "for them (a newer one)"
        )
    on = "" if set(platforms) == set(PLATFORMS) else f" on {', '.join(platforms)}"
    python_list = ", ".join(pythons)
    found = f"{lock}: {name}=={mine[0].version} has no wheel for Python {python_list}{on}{more}"
    if every_python:
        marker = " and ".join(f'sys_platform != "{SYS_PLATFORM[p]}"' for p in platforms)
        return (
            f"{found}, so installing it there would mean building it from source: in "
            f"{where(name)} allow a version that has wheels there, or limit it with a "
            f"marker (`; {marker}`)"
        )
    return (
        f"{found}, so installing it there would mean building it from source: in "
        f"{where(name)} allow a version that has wheels there, or limit it with a marker "
        f'(`; python_version < "{pythons[0]}"`), or remove {python_list} from '
        "python-matrix in pyproject.toml ([tool.envlock])"
    )


def check_lock(
    uv: str,
    lock: Path,
    pins_text: str,
    matrix: tuple[str, ...],
    platforms: tuple[str, ...],
    indexes: list[str],
    run: Run,
    where: Callable[[str], str],
    inputs: failures.Context | None = None,
) -> None:
    """Raise EnvlockError (one line, with the fixes) when a pin of ``lock`` has no wheel
    for some Python of ``matrix`` or some platform while it has one for others.
    ``inputs``: when the pins come straight from the .in files, a version the index
    does not have is told at its line, as the engines' failures are.

    ``pins_text`` holds the lock's packages from the index (``lock_body.index_pins``):
    local, URL and VCS packages are built or downloaded as they are, whatever the Python.
    """
    if not pins_text.strip():
        return
    with tempfile.TemporaryDirectory(prefix="envlock-wheels-") as scratch:
        pins = Path(scratch) / "pins.txt"
        pins.write_text(pins_text, encoding="utf-8")

        def argv_for(python: str, platform: str, built: set[str]) -> list[str]:
            return check_argv(uv, pins, python, platform, built, indexes)

        try:
            elsewhere = wheels_elsewhere(run, uv, Path(scratch), indexes, matrix)
            gaps = find_gaps(run, argv_for, matrix, platforms, elsewhere)
        except CellFailed as failed:
            missing = failures.missing(failed.output, inputs) if inputs is not None else None
            raise EnvlockError(
                missing or unexplained(failed, pins_text, where, lock.name)
            ) from None
    if gaps:
        raise EnvlockError(describe(gaps, matrix, where, lock.name, platforms))
