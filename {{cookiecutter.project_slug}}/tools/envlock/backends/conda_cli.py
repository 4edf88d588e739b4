"""The conda backend through conda-lock's command line: ``.conda`` made by micromamba,
mamba or conda (the first on PATH, or ``conda-solver``) from conda-lock.yml.

How a prefix is put in place (it cannot be moved) is ``conda_prefix``'s, shared with
the rattler backend.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from envlock import EnvlockError
from envlock import conda_lock_cli as cli
from envlock.backends import Packages
from envlock.backends.conda_prefix import CondaPrefixBackend
from envlock.checks import Check
from envlock.context import Context, tool_python
from envlock.lock_set import Compiled, LockCommand, compile_body
from envlock.lockfiles import LockTarget
from envlock.pythons import EnvFacts
from envlock.runner import query_json
from envlock.settings import Project

__all__ = ["CondaCliBackend", "conda_lock_target"]

TOOLS_DIR = Path(__file__).resolve().parents[2]  # the folder that holds envlock/


def conda_lock_target(project: Project) -> LockTarget:
    """conda-lock.yml, from environment.yml, for the platforms environment.yml lists."""
    return LockTarget(
        project.environment,
        project.conda_lock,
        project.python,
        universal=True,
        engine="conda-lock",
        inputs=(project.environment,),
        conda=True,
    )


class CondaCliBackend(CondaPrefixBackend):
    """A conda prefix at ``.conda`` (see the module's docstring)."""

    def __init__(self, project: Project, ctx: Context) -> None:
        super().__init__(project, ctx)
        self._solver: cli.Solver | None = None

    @property
    def solver(self) -> cli.Solver:
        """Looked for only when a command needs it (the lock check needs none)."""
        if self._solver is None:
            self._solver = cli.find_solver(self.project.conda_solver)
        return self._solver

    def conda_lock(self) -> list[str]:
        """conda-lock's command, from its environment under .nox (made once)."""
        python = tool_python(
            self.project, self.ctx, "conda-lock", Path(sys.executable), "conda-lock"
        )
        return [str(python), "-m", "conda_lock"]

    @property
    def main_lock(self) -> LockTarget:
        return conda_lock_target(self.project)

    def check_can_lock(self) -> None:
        _ = self.solver
        if not self.project.environment.exists():
            raise EnvlockError(
                f"{self.project.environment.name} is missing: create it (it may be empty)"
            )

    def compile_own_locks(self, engine_args: list[str]) -> list[Compiled]:
        args, fresh = cli.update_args(engine_args)
        tool = self.conda_lock()
        argv_for: LockCommand = lambda target, out: (
            cli.lock_argv(tool, self.solver, self.project.environment, out, args),
            dict(os.environ),
        )
        return [compile_body(self.project, self.ctx, self.main_lock, argv_for, not fresh)]

    def create(self, env: Path) -> None:
        lock = self.project.conda_lock
        install = cli.install_argv(self.conda_lock(), self.solver, env, lock)
        self.ctx.timed(
            f"creating {env.name} from {lock.name} with {self.solver.kind}",
            lambda: self.ctx.run(install, dict(os.environ)),
        )

    def packages(self, env: Path) -> Packages:
        listed = query_json(cli.list_argv(self.solver, env))
        python = self.conda_lock()[0]
        module = ["-m", "envlock.conda_lock_cli", str(self.project.conda_lock), cli.conda_subdir()]
        locked = query_json([python, *module], env={**os.environ, "PYTHONPATH": str(TOOLS_DIR)})
        if not isinstance(locked, dict):
            raise EnvlockError(f"reading {self.project.conda_lock.name} gave no table")
        return Packages({str(k): str(v) for k, v in locked.items()}, cli.listed_packages(listed))

    def isolation_checks(self, env: Path, facts: EnvFacts) -> list[Check]:
        return []  # a conda prefix has no base interpreter whose site-packages could leak

    def activation_lines(self) -> list[str]:
        return [f"  {cli.activation_command(self.env_dir.name)}"]
