"""The venv backend: ``.venv`` made by uv from the dev lock of the main Python.

A venv made with ``--relocatable`` can be renamed, so every new state is built beside
the old one (``.venv.new``, next to a link's target when ``.venv`` is a link) and
swapped in: ``.venv`` is never synced in place. With uv's cache a fresh venv of a
hundred packages takes about a second, so there is no fast path to get wrong.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from envlock import engines, env_dirs, lock_body, lockfiles, pythons
from envlock.backends import Packages
from envlock.checks import Check
from envlock.context import Context
from envlock.env_dirs import EnvState
from envlock.layout import env_executable
from envlock.lock_set import Compiled
from envlock.lockfiles import LockTarget
from envlock.pythons import EnvFacts
from envlock.settings import Project

__all__ = ["VenvBackend", "activation_commands", "install_lock"]


def activation_commands(env_name: str, platform: str = sys.platform) -> dict[str, str]:
    """How to activate the venv, per shell."""
    if platform == "win32":
        return {
            "cmd": f"{env_name}\\Scripts\\activate.bat",
            "PowerShell": f"{env_name}\\Scripts\\Activate.ps1",
        }
    return {
        "bash/zsh": f"source {env_name}/bin/activate",
        "fish": f"source {env_name}/bin/activate.fish",
    }


def install_project(project: Project, ctx: Context, python: Path) -> None:
    """The project itself, editable, into the environment of ``python``."""
    argv = engines.editable_argv(ctx.uv, python, project.root, ctx.extensions.installer_args)
    ctx.timed("installing the project (editable)", lambda: ctx.run_uv(argv))


def install_lock(project: Project, ctx: Context, python: Path, lock: Path) -> None:
    """Sync an environment to a pip lock (hash-checked), then add the project, editable.

    uv reads the lock's ``./path`` entries relative to the directory it runs in, which
    nox makes the project root."""
    body = lockfiles.split_lock(lock.read_text(encoding="utf-8"))[1]
    pins = lockfiles.parse_pins(lock, body)
    argv = engines.sync_argv(
        ctx.uv,
        python,
        lock,
        project.extra_index_urls,
        ctx.extensions.installer_args,
        lock_body.all_hash_checked(pins),
        lock_body.local_builds(pins),
    )
    ctx.timed(f"installing {lock.name}", lambda: ctx.run_uv(argv))
    install_project(project, ctx, python)


class VenvBackend:
    """A venv at ``.venv`` (see the module's docstring)."""

    def __init__(self, project: Project, ctx: Context) -> None:
        self.project = project
        self.ctx = ctx

    @property
    def env_dir(self) -> Path:
        return self.project.venv

    @property
    def main_lock(self) -> LockTarget:
        return lockfiles.dev_target(self.project, self.project.python)

    def own_lock_targets(self) -> list[LockTarget]:
        return []  # the pip locks are all it needs

    def check_can_lock(self) -> None:
        return None

    def compile_own_locks(self, engine_args: list[str]) -> list[Compiled]:
        return []

    def python(self, env: Path) -> Path:
        return env_executable(env, "python")

    def build(self, env: Path) -> None:
        interpreter = pythons.require_python(self.project.python)
        if env.exists():
            shutil.rmtree(env)
        argv = engines.venv_argv(self.ctx.uv, interpreter, env)
        self.ctx.timed(
            f"creating {env.name} with Python {self.project.python}",
            lambda: self.ctx.run_uv(argv),
        )
        install_lock(self.project, self.ctx, self.python(env), self.main_lock.output)

    def bring_to_lock(self, state: EnvState) -> None:
        staging = env_dirs.claim_staging(env_dirs.place(self.env_dir))
        self.build(staging)
        self.put_in_place(staging, state)

    def put_in_place(self, staging: Path, state: EnvState) -> None:
        env_dirs.write_state(staging, state)
        env_dirs.swap_in(staging, env_dirs.place(self.env_dir))

    def packages(self, env: Path) -> Packages:
        pins = lockfiles.trusted_pins(self.project, self.main_lock)
        facts = pythons.inspect_env(self.python(env))
        installed = {
            name: lock_body.installed_as(version, facts.direct.get(name), self.project.root)
            for name, version in facts.installed.items()
        }
        return Packages(lockfiles.pins_for_environment(pins, facts.markers), installed)

    def isolation_checks(self, env: Path, facts: EnvFacts) -> list[Check]:
        hint = "visible: recreate with `nox -s rebuild`" if facts.global_site else ""
        return [Check("global site-packages hidden", not facts.global_site, hint)]

    def activation_lines(self) -> list[str]:
        shells = activation_commands(self.env_dir.name)
        return [f"  {shell}: {command}" for shell, command in shells.items()]
