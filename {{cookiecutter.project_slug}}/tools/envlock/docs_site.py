"""The documentation site (`nox -s docs`): mkdocs from the project's environment, so the
build uses the locked mkdocs and needs no network."""

from __future__ import annotations

from pathlib import Path

from envlock import EnvlockError
from envlock.env_imports import has_module

__all__ = ["build_argv"]

CONFIG = "mkdocs.yml"


def build_argv(root: Path, env_dir: Path, python: Path) -> list[str]:
    """``mkdocs build --strict`` of the project's mkdocs.yml into ``site/``, run by the
    environment's Python."""
    config = root / CONFIG
    if not config.is_file():
        raise EnvlockError(
            f"{CONFIG} not found: this project has no documentation (it was baked with "
            f"docs=none); to start one, add mkdocs to requirements-dev.in, write {CONFIG} and "
            "docs/index.md, then `nox -s lock` and `nox -s setup`"
        )
    if not python.exists():
        raise EnvlockError(f"no {env_dir.name} yet: run `nox -s setup` first")
    if not has_module(python, "mkdocs"):
        raise EnvlockError(
            f"mkdocs is not in {env_dir.name}: add it to requirements-dev.in, then "
            "`nox -s lock` and `nox -s setup`"
        )
    return [str(python), "-m", "mkdocs", "build", "--strict", "--config-file", str(config)]
