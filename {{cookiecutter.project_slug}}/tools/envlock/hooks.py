"""`nox -s hooks`: install the offline pre-commit hooks into the clone's .git/hooks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from envlock import EnvlockError, backends, pythons
from envlock.context import Context
from envlock.layout import find_executable
from envlock.settings import Project

__all__ = ["install_hooks"]


def _require_git_repository(project: Project) -> None:
    git = shutil.which("git")
    if git is None:
        raise EnvlockError(
            "git is not installed, and the hooks run from git: install git, run `git init` "
            "here, then `nox -s hooks`"
        )
    inside = subprocess.run(
        [git, "rev-parse", "--git-dir"], cwd=project.root, capture_output=True, check=False
    )
    if inside.returncode != 0:
        raise EnvlockError(
            "this project is not in a git repository, and the hooks live in one: run "
            "`git init` here, then `nox -s hooks`"
        )
    # pre-commit installs into the repository's own .git/hooks and runs the hooks from its
    # top folder: in a repository that holds this project in a subfolder, every commit of
    # that repository would run them with paths that are not there, and fail.
    top = subprocess.run(
        [git, "rev-parse", "--show-toplevel"],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not top or Path(top).resolve() != project.root.resolve():
        where = f"the git repository {top}" if top else "a git folder"
        raise EnvlockError(
            f"this project is inside {where}, not the top of its own, and the hooks would "
            "run (and fail) for every commit there: add this project's hooks to that "
            "repository's .pre-commit-config.yaml by hand, or make the project a "
            "repository of its own (`git init` here), then `nox -s hooks`"
        )


def install_hooks(project: Project, ctx: Context) -> None:
    """Run the environment's ``pre-commit install`` (needs git and `nox -s setup`)."""
    _require_git_repository(project)
    backend = backends.for_project(project, ctx)
    env = backend.env_dir
    problem = pythons.running_problem(backend.python(env)) if env.exists() else None
    if problem:
        raise EnvlockError(f"{problem}: run `nox -s setup` to build the environment again")
    pre_commit = find_executable(env, "pre-commit")
    if pre_commit is None:
        raise EnvlockError(
            f"pre-commit is not in the project's environment ({env.name}): run `nox -s setup` first"
        )
    ctx.run([str(pre_commit), "install"], dict(os.environ))
