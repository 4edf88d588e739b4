"""The documentation site (`nox -s docs`): mkdocs, built strictly from the dev lock."""

from __future__ import annotations

from pathlib import Path

from envlock import EnvlockError

__all__ = ["build_argv"]

CONFIG = "mkdocs.yml"
SITE = "site"


def build_argv(root: Path) -> list[str]:
    """``mkdocs build --strict`` for the project's mkdocs.yml, into ``site/``."""
    config = root / CONFIG
    if not config.is_file():
        raise EnvlockError(
            f"{CONFIG} not found: this project has no documentation (it was baked with "
            f"docs=none); to start one, add mkdocs to requirements-dev.in, write {CONFIG} and "
            "docs/index.md, then `nox -s lock`"
        )
    return ["mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", SITE]
