"""An environment's folder: its state file, the folders beside it while a new one is
built, and the two ways of putting a new one in place (rename, or build at the path).

An environment counts as complete once its state file is written, which is the last
step of every build; ``recover`` relies on that.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from envlock.fs import fingerprint
from envlock.settings import Project

__all__ = [
    "STATE_FILE",
    "EnvState",
    "is_current",
    "read_state",
    "recover",
    "replace_in_place",
    "retired_dir",
    "staging_dir",
    "swap_in",
    "wanted_state",
    "write_state",
]

STATE_FILE = "envlock-state.json"

# What an environment was last synced to: Python, and digests of the lock and pyproject.
EnvState = dict[str, str]


def wanted_state(project: Project, lock: Path) -> EnvState:
    """The state of an environment synced to ``lock`` now."""
    return {
        "python": project.python,
        "lock": fingerprint(lock),
        "pyproject": fingerprint(project.root / "pyproject.toml"),
    }


def read_state(env: Path) -> EnvState:
    try:
        data = json.loads((env / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_state(env: Path, state: EnvState) -> None:
    (env / STATE_FILE).write_text(
        json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def is_current(env: Path, state: EnvState, python: Path) -> bool:
    """True when the environment exists and was last synced to exactly ``state``."""
    return python.exists() and read_state(env) == state


def staging_dir(env: Path) -> Path:
    """Where a new environment is built before it replaces ``env``."""
    return env.with_name(env.name + ".new")


def retired_dir(env: Path) -> Path:
    """Where the last good environment waits while its replacement is put in place."""
    return env.with_name(env.name + ".old")


def recover(env: Path) -> None:
    """Undo what an interrupted build or swap left, keeping the last good environment."""
    retired = retired_dir(env)
    if retired.exists():
        if env.exists() and (env / STATE_FILE).exists():
            shutil.rmtree(retired)
        else:
            if env.exists():
                shutil.rmtree(env)
            retired.rename(env)
    staging = staging_dir(env)
    if staging.exists():
        shutil.rmtree(staging)


def swap_in(new: Path, env: Path) -> None:
    """Put the complete environment ``new`` in the place of ``env``, then drop the old one."""
    retired = retired_dir(env)
    if env.exists():
        env.rename(retired)
    new.rename(env)
    if retired.exists():
        shutil.rmtree(retired)


def replace_in_place(env: Path, build: Callable[[Path], None], state: EnvState) -> None:
    """Build a new environment at ``env``'s own path (for environments that cannot be
    moved, such as conda prefixes). The old one waits beside it and comes back if the
    build fails or is interrupted."""
    retired = retired_dir(env)
    if env.exists():
        env.rename(retired)
    try:
        build(env)
        write_state(env, state)
    except BaseException:
        if env.exists():
            shutil.rmtree(env)
        if retired.exists():
            retired.rename(env)
        raise
    if retired.exists():
        shutil.rmtree(retired)
