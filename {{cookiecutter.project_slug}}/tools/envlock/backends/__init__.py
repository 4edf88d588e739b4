"""Environment backends: everything that differs between a venv and a conda prefix.

A backend is chosen once per session by ``for_project`` (the one table of backends);
the session modules (``setup``, ``rebuild``, ``doctor``, ``lock``) only talk to the
``Backend`` interface below and never look at ``env-manager`` themselves. A new backend
is one new module with a class that satisfies ``Backend`` (constructed as
``Class(project, ctx)``), plus one line in ``for_project``.

Vocabulary: the *environment* is the folder the project works in (``.venv``,
``.conda``); a *build* is a complete environment made from scratch at some path (the
real one, or the staging folder beside it, ``env_dirs.staging_dir``); the *state* is
the ``EnvState`` written into an environment when it is complete (``env_dirs``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from envlock.checks import Check
from envlock.comparison import Comparison, compare
from envlock.context import Context
from envlock.env_dirs import EnvState
from envlock.lock_set import Compiled
from envlock.lockfiles import LockTarget
from envlock.pythons import EnvFacts
from envlock.settings import Project

__all__ = ["Backend", "Packages", "compare_with_lock", "environment_file", "for_project"]


@dataclasses.dataclass(frozen=True)
class Packages:
    """What the lock says an environment must hold, and what it holds.

    Both map a distribution name (any spelling: compared canonicalised) to a version
    string. The two sides must use the same format for the same backend: a venv uses
    ``"1.2.3"``; a conda backend uses ``"1.2.3 <build string>"`` for conda packages and
    ``"1.2.3"`` for pip-installed ones, so a different build is a difference too.
    """

    locked: dict[str, str]
    installed: dict[str, str]


class Backend(Protocol):
    """One kind of environment. Every method may raise ``EnvlockError`` (one line, what to
    do); any other exception is a bug. Commands run through ``ctx.run``/``ctx.run_uv``
    and long steps are wrapped in ``ctx.timed`` so the user sees what happens."""

    @property
    def env_dir(self) -> Path:
        """The project's environment folder (``project.venv``, ``project.conda_prefix``)."""
        ...

    @property
    def main_lock(self) -> LockTarget:
        """The lock the environment is built from: `setup` and `rebuild` refuse to go on
        unless ``lockfiles.trusted_body(project, main_lock)`` passes; its file's digest is
        part of the state. For a venv this is a pip lock of ``lockfiles.lock_targets``;
        a conda backend returns its own target (``conda=True``)."""
        ...

    def own_lock_targets(self) -> list[LockTarget]:
        """The locks this backend compiles itself, beyond the pip locks that `nox -s lock`
        always compiles (a venv: none; conda: conda-lock.yml). The pre-commit lock check
        verifies these too, so this must not need a solver or the network."""
        ...

    def check_can_lock(self) -> None:
        """Raise before any lock is written if ``compile_own_locks`` cannot work (an
        input file missing, no solver on PATH). Nothing else."""
        ...

    def compile_own_locks(self, engine_args: list[str]) -> list[Compiled]:
        """Compile every target of ``own_lock_targets``, each with
        ``lock_set.compile_body`` (into a scratch file: `nox -s lock` puts the whole set
        in place once everything compiled). The target's ``engine`` names its tool in
        ``tool_locks.ENGINE_TOOLS``, whose exact version goes into the lock's inputs.
        ``engine_args`` are pip-compile style (``--upgrade``, ``--upgrade-package NAME``):
        translate them for the tool."""
        ...

    def python(self, env: Path) -> Path:
        """The interpreter of the environment at ``env`` (which may not exist yet): use
        ``layout.env_executable`` so the platform layout stays in one place."""
        ...

    def build(self, env: Path) -> None:
        """Make a complete environment at ``env`` from ``main_lock``: anything already at
        ``env`` is removed first; the project is installed editable at the end (with
        ``ctx.extensions.installer_args``). Do not write the state: the caller does,
        once the build is verified."""
        ...

    def bring_to_lock(self, state: EnvState) -> None:
        """`nox -s setup`: make ``env_dir`` match ``main_lock`` and write ``state`` into
        it, never changing the old environment in place: build beside it and swap
        (``env_dirs.claim_staging``, ``env_dirs.swap_in``), or build at the real path with
        the old one kept aside (``env_dirs.replace_in_place``). Work at
        ``env_dirs.place(env_dir)``, so a linked environment stays a link. On failure the
        old environment must be as it was (``env_dirs.recover`` runs afterwards)."""
        ...

    def put_in_place(self, staging: Path, state: EnvState) -> None:
        """`nox -s rebuild`, after every check passed: the verified build at ``staging``
        becomes ``env_dir`` with ``state`` written into it, and ``staging`` is gone
        afterwards. A backend whose environments cannot be moved builds again at the
        real path (``env_dirs.replace_in_place``) and checks that result against the
        lock. On failure the old environment must come back."""
        ...

    def packages(self, env: Path) -> Packages:
        """What the lock says the environment at ``env`` must hold (for its platform and
        Python), and what it holds. The project's own distribution may be in
        ``installed``: ``compare_with_lock`` ignores it."""
        ...

    def isolation_checks(self, env: Path, facts: EnvFacts) -> list[Check]:
        """Doctor rows that only this kind of environment has (a venv: "global
        site-packages hidden"); ``facts`` is ``pythons.inspect_env`` of its Python.
        The shared rows (Python version, installed = lock, dependencies consistent, only
        locked modules import) are the doctor's own."""
        ...

    def activation_lines(self) -> list[str]:
        """The lines `nox -s setup` prints under "Activate the environment with:"."""
        ...


class ListsPackages(Protocol):
    """The one method of ``Backend`` that ``compare_with_lock`` needs."""

    def packages(self, env: Path) -> Packages: ...


def compare_with_lock(backend: ListsPackages, project: Project, env: Path) -> Comparison:
    """How the environment at ``env`` differs from the backend's lock."""
    found = backend.packages(env)
    return compare(found.locked, found.installed, ignore={project.distribution})


def for_project(project: Project, ctx: Context) -> Backend:
    """The backend of ``[tool.envlock] env-manager`` (and ``conda-solver``): the one place
    where backends are chosen."""
    # Imported here: the backend modules import this one.
    from envlock.backends.conda_cli import CondaCliBackend
    from envlock.backends.rattler import RattlerBackend
    from envlock.backends.venv import VenvBackend

    # env-manager, or "env-manager:conda-solver" for a backend tied to one solver.
    backends: dict[str, Callable[[Project, Context], Backend]] = {
        "venv": VenvBackend,
        "conda": CondaCliBackend,
        "conda:rattler": RattlerBackend,
    }
    tied = f"{project.env_manager}:{project.conda_solver}"
    return backends.get(tied, backends[project.env_manager])(project, ctx)


def environment_file(project: Project) -> Path | None:
    """environment.yml when the project's environment is built from it, else None: a
    venv project may keep one of its own, which no session may edit."""
    return project.environment if project.env_manager == "conda" else None
