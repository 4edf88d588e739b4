"""The project's environment settings, read from ``[tool.envlock]`` in pyproject.toml."""

from __future__ import annotations

import dataclasses
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from envlock import EnvlockError

if sys.version_info >= (3, 11):
    import tomllib
else:  # declared for Python < 3.11 in the noxfile's script metadata and the dev lock
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["ENGINES", "ENV_MANAGERS", "Project", "load_project", "version_key"]

T = TypeVar("T")

ENGINES = ("uv", "pip-tools")
ENV_MANAGERS = ("venv", "conda")


@dataclasses.dataclass(frozen=True)
class Project:
    """What the sessions need to know about the project, all taken from pyproject.toml."""

    root: Path
    distribution: str
    package: str
    python: str
    matrix: tuple[str, ...]
    env_manager: str
    lock_engine: str
    requirements: Path
    dev_requirements: Path
    environment: Path
    conda_lock: Path
    conda_prefix: Path
    conda_solver: str | None
    extra_index_urls: tuple[str, ...] = ()
    # conda-mirrors: a channel's canonical URL (or name) -> the mirrors that serve it.
    conda_mirrors: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # conda-virtual-packages: platform -> {"__cuda": "12.4", ...} over conda-lock's defaults.
    conda_virtual_packages: Mapping[str, Mapping[str, str]] = dataclasses.field(
        default_factory=dict
    )

    @property
    def min_python(self) -> str:
        return min(self.matrix, key=version_key)

    @property
    def inputs(self) -> tuple[Path, ...]:
        """The files whose content decides the lock."""
        return (self.requirements, self.dev_requirements)

    @property
    def venv(self) -> Path:
        return self.root / ".venv"


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for versions such as ``3.9`` and ``3.12``."""
    return tuple(int(part) for part in version.split("."))


def conda_mirrors(value: object) -> dict[str, tuple[str, ...]]:
    """``conda-mirrors``: each channel to a list of mirror URLs (the shape pixi uses)."""
    example = (
        '{ "https://conda.anaconda.org/conda-forge" = ["https://mirror.example/conda-forge"] }'
    )
    if not isinstance(value, dict) or not all(
        isinstance(urls, list) and urls and all(isinstance(u, str) for u in urls)
        for urls in value.values()
    ):
        raise EnvlockError(
            f"[tool.envlock] conda-mirrors must map each channel to a list of mirror URLs, "
            f"e.g. conda-mirrors = {example}; got {value!r}"
        )
    for channel, urls in value.items():
        for url in urls:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise EnvlockError(
                    f"[tool.envlock] conda-mirrors: the mirror {url!r} of {channel} is not an "
                    "http:// or https:// URL, and only those work: write its full URL (a "
                    "local folder must be served over HTTP)"
                )
    return {str(channel): tuple(urls) for channel, urls in value.items()}


def conda_virtual_packages(value: object) -> dict[str, dict[str, str]]:
    """``conda-virtual-packages``: per platform, virtual package versions ("" removes one)."""
    if not isinstance(value, dict) or not all(
        isinstance(packages, dict)
        and all(str(n).startswith("__") and isinstance(v, str) for n, v in packages.items())
        for packages in value.values()
    ):
        raise EnvlockError(
            "[tool.envlock] conda-virtual-packages must map each platform to virtual package "
            'versions, e.g. conda-virtual-packages = { linux-64 = { __cuda = "12.4" } }; '
            f"got {value!r}"
        )
    return {str(p): {str(n): str(v) for n, v in packages.items()} for p, packages in value.items()}


def load_project(root: Path) -> Project:
    """Read and check ``[tool.envlock]``; raise EnvlockError naming the bad key."""
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EnvlockError(f"{pyproject} not found: run nox from the project directory") from None
    except tomllib.TOMLDecodeError as error:
        raise EnvlockError(f"{pyproject} is not valid TOML ({error}): fix the file") from None
    table = data.get("tool", {}).get("envlock")
    if not isinstance(table, dict):
        raise EnvlockError(f"{pyproject} has no [tool.envlock] table: add one (see README)")

    def get(key: str, kind: type[T], default: T | None = None) -> T:
        value = table.get(key, default)
        if value is None:
            raise EnvlockError(
                f"[tool.envlock] in pyproject.toml has no {key}: add it (see the README, "
                '"Settings and secrets")'
            )
        if not isinstance(value, kind):
            raise EnvlockError(
                f"[tool.envlock] {key} in pyproject.toml must be a {kind.__name__}, got {value!r}"
            )
        return value

    python = get("python", str)
    matrix = tuple(get("python-matrix", list, [python]))
    if not all(isinstance(v, str) for v in matrix) or python not in matrix:
        raise EnvlockError(
            f"[tool.envlock] python-matrix must list version strings and include python "
            f'= {python!r}, e.g. ["{python}"]; got {list(matrix)!r}'
        )
    engine = get("lock-engine", str, "uv")
    if engine not in ENGINES:
        raise EnvlockError(f"[tool.envlock] lock-engine must be one of {ENGINES}, got {engine!r}")
    manager = get("env-manager", str, "venv")
    if manager not in ENV_MANAGERS:
        raise EnvlockError(
            f"[tool.envlock] env-manager must be one of {ENV_MANAGERS}, got {manager!r}"
        )
    return Project(
        root=root,
        distribution=str(data.get("project", {}).get("name", "")),
        package=get("package", str),
        python=python,
        matrix=tuple(sorted(matrix, key=version_key)),
        env_manager=manager,
        lock_engine=engine,
        requirements=root / get("requirements", str, "requirements.in"),
        dev_requirements=root / get("dev-requirements", str, "requirements-dev.in"),
        environment=root / get("conda-environment", str, "environment.yml"),
        conda_lock=root / get("conda-lock-file", str, "conda-lock.yml"),
        conda_prefix=root / get("conda-prefix", str, ".conda"),
        conda_solver=get("conda-solver", str, "") or None,
        extra_index_urls=tuple(str(url) for url in get("extra-index-urls", list, [])),
        conda_mirrors=conda_mirrors(table.get("conda-mirrors", {})),
        conda_virtual_packages=conda_virtual_packages(table.get("conda-virtual-packages", {})),
    )
