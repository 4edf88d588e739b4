"""What the two conda backends share: a prefix at ``.conda`` that cannot be moved.

A conda prefix records its own path inside its files, so a build is never renamed into
place: ``setup`` builds at the real path with the old prefix kept aside
(``env_dirs.replace_in_place``), and ``rebuild``, once its staging build has passed the
checks, builds again at the real path (from the package cache: no download) and checks
that one against the lock too. A backend says only how a prefix is made (``create``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from envlock import EnvlockError, env_dirs
from envlock.backends import Packages, compare_with_lock
from envlock.backends.venv import install_project
from envlock.context import Context
from envlock.env_dirs import EnvState
from envlock.layout import env_executable
from envlock.lockfiles import LockTarget
from envlock.settings import Project

__all__ = ["CondaPrefixBackend"]


class CondaPrefixBackend:
    """The shared half of a conda backend; subclasses add the lock and ``create``."""

    def __init__(self, project: Project, ctx: Context) -> None:
        self.project = project
        self.ctx = ctx

    @property
    def env_dir(self) -> Path:
        return self.project.conda_prefix

    @property
    def main_lock(self) -> LockTarget:
        raise NotImplementedError

    def own_lock_targets(self) -> list[LockTarget]:
        return [self.main_lock]

    def python(self, env: Path) -> Path:
        return env_executable(env, "python")

    def packages(self, env: Path) -> Packages:
        raise NotImplementedError

    def create(self, env: Path) -> None:
        """Make the prefix ``env`` from the lock (it does not exist when this is called)."""
        raise NotImplementedError

    def build(self, env: Path) -> None:
        if env.exists():
            shutil.rmtree(env)
        self.create(env)
        install_project(self.project, self.ctx, self.python(env))

    def bring_to_lock(self, state: EnvState) -> None:
        env_dirs.replace_in_place(env_dirs.place(self.env_dir), self.build, state)

    def put_in_place(self, staging: Path, state: EnvState) -> None:
        env_dirs.discard(staging)
        self.bring_to_lock(state)
        comparison = compare_with_lock(self, self.project, self.env_dir)
        if not comparison.matches:
            raise EnvlockError(
                f"{self.env_dir.name} differs from {self.project.conda_lock.name} after "
                f"the swap: {'; '.join(comparison.problems())}"
            )
