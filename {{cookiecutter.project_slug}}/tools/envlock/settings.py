"""The project's environment settings, read from ``[tool.envlock]`` in pyproject.toml."""

from __future__ import annotations

import dataclasses
import sys
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
    )
