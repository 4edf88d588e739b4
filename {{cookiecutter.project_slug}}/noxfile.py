#!/usr/bin/env python3
# /// script
# dependencies = ["nox>=2025.5.1", "packaging>=23", "tomli>=2; python_version < '3.11'"]
# ///
"""Sessions that set up, lock, test and rebuild this project's environment.

Settings (main Python, matrix, lock engine) live in pyproject.toml under [tool.envlock].
Each session's whole logic is one module of tools/envlock, which the template updates
(`cruft update`): customise with the lists below instead of editing it.

    setup: envlock/setup.py      lock: envlock/lock.py        rebuild: envlock/rebuild.py
    doctor: envlock/doctor.py    hooks: envlock/hooks.py      matrix: envlock/matrix.py
    tests, lint, fmt: envlock/dev_install.py (their venvs)
    coverage: envlock/coverage_report.py    pythons: envlock/pyenv_matrix.py
    docs: envlock/docs_site.py              lab: envlock/kernel.py

What differs between a venv and a conda prefix is in envlock/backends/.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))

from envlock import (
    EnvlockError,
    backends,
    coverage_report,
    docs_site,
    kernel,
    lock_commit,
    pyenv_matrix,
)
from envlock.checks import Check, render_table, summary_json
from envlock.context import Context, Extensions
from envlock.dev_install import install_dev_lock
from envlock.doctor import diagnose
from envlock.hooks import install_hooks
from envlock.layout import env_executable
from envlock.lock import compile_locks
from envlock.matrix import locks_left_over, set_matrix
from envlock.rebuild import rebuild_environment
from envlock.runner import one_line, run_streaming
from envlock.settings import Project, load_project
from envlock.setup import set_up
from envlock.tool_locks import ensure_uv

nox.needs_version = ">=2025.5.1"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.download_python = "never"  # a missing Python is reported, never fetched

# --- Your additions: the library reads these, so it never needs editing ----------------
# Run with the Python of the rebuilt environment before it replaces the current one; a
# failed Check keeps the current one (README.md, "Customising the sessions").
REBUILD_CHECKS: list[Callable[[Path], Check]] = []
# More rows of `nox -s doctor`, each given the project's settings.
DOCTOR_CHECKS: list[Callable[[Project], Check]] = []
# Added to every `uv pip sync` and to the editable install, e.g. ["--link-mode=copy"].
INSTALLER_ARGS: list[str] = []
# ----------------------------------------------------------------------------------------

try:
    PROJECT = load_project(ROOT)
except EnvlockError as error:
    sys.exit(f"noxfile: {error}")
# pyenv's shims answer for PYENV_VERSION when it is set: name the whole matrix there.
os.environ.update(pyenv_matrix.nox_environment(PROJECT.matrix, os.environ))

SessionFunction = Callable[[nox.Session], None]


def user_errors(session_function: SessionFunction) -> SessionFunction:
    """Turn an EnvlockError, an OS error or Ctrl-C into nox's one-line session failure."""

    @functools.wraps(session_function)
    def wrapper(session: nox.Session) -> None:
        try:
            session_function(session)
        except (EnvlockError, OSError, KeyboardInterrupt) as error:
            session.error(one_line(error))

    return wrapper


def context(session: nox.Session) -> Context:
    """What the library needs from a session: run, log, the pinned uv, the additions above."""

    def run(argv: list[str], env: Mapping[str, str]) -> None:
        session.log(shlex.join(argv))
        run_streaming(argv, env)

    has_uv, nox_uv, _ = nox.virtualenv.find_uv()  # only installs the pinned uv
    uv = ensure_uv(ROOT, run, nox_uv if has_uv else None)
    extensions = Extensions(REBUILD_CHECKS, DOCTOR_CHECKS, INSTALLER_ARGS)
    return Context(run=run, log=session.log, uv=uv, extensions=extensions)


def after_env_change(session: nox.Session, ctx: Context) -> None:
    """Register the environment's Jupyter kernel; say which locks still need a commit."""
    backend = backends.for_project(PROJECT, ctx)
    env = backend.env_dir
    display_name = f"{PROJECT.distribution} ({env.name})"
    for line in (
        kernel.register_kernel(ROOT, backend.python(env), display_name),
        lock_commit.commit_line(ROOT),
    ):
        if line:
            session.log(line)


def sync_session_venv(session: nox.Session, python: str) -> None:
    """Sync the session's own venv to the dev lock of its Python (locking first if none)."""
    venv_python = env_executable(Path(session.virtualenv.location), "python")
    install_dev_lock(PROJECT, context(session), python, venv_python)


@nox.session(venv_backend="none", default=False)
@user_errors
def setup(session: nox.Session) -> None:
    """Create the environment (.venv or .conda) and install the locked dependencies."""
    ctx = context(session)
    for line in set_up(PROJECT, ctx):
        session.log(line)
    after_env_change(session, ctx)


@nox.session(venv_backend="none", default=False)
@user_errors
def lock(session: nox.Session) -> None:
    """Compile the *.in files into hash-pinned locks (-- --upgrade; -- --tools: tool locks)."""
    changed = compile_locks(PROJECT, context(session), session.posargs)
    for path in changed:
        session.log(f"wrote {path.name}")
    if not changed:
        session.log("every lock was already up to date: nothing changed")
    if line := lock_commit.commit_line(ROOT):
        session.log(line)


@nox.session(python=list(PROJECT.matrix))
@user_errors
def tests(session: nox.Session) -> None:
    """Run the tests with the locked dependencies on each Python of the matrix, with coverage."""
    if notice := pyenv_matrix.missing_notice(PROJECT.matrix):
        session.warn(notice)
    sync_session_venv(session, str(session.python))
    coverage_env = coverage_report.run_environment(str(session.python))
    session.run(
        "python", "-m", "coverage", "run", "-m", "pytest", *session.posargs, env=coverage_env
    )


@nox.session(venv_backend="none", default=False)
@user_errors
def rebuild(session: nox.Session) -> None:
    """Rebuild the environment from scratch beside the old one; prove it matches the lock."""
    ctx = context(session)
    rebuild_environment(PROJECT, ctx, session.posargs)
    after_env_change(session, ctx)


@nox.session(venv_backend="none", default=False)
@user_errors
def doctor(session: nox.Session) -> None:
    """Check the environment's isolation and the project's secrets (-- --json for CI)."""
    ok, checks = diagnose(PROJECT, context(session))
    checks += lock_commit.doctor_checks(ROOT)  # a warning row: it does not fail the check
    if "--json" in session.posargs:
        print(json.dumps(summary_json(checks), indent=2))
    else:
        session.log("doctor:\n" + render_table(checks))
    if not ok:
        session.error("a check failed: its row in the table ends with the command that fixes it")


@nox.session(venv_backend="none", default=False)
@user_errors
def hooks(session: nox.Session) -> None:
    """Install the offline pre-commit hooks into .git/hooks (needs `nox -s setup` first)."""
    install_hooks(PROJECT, context(session))


@nox.session(venv_backend="none", default=False)
@user_errors
def matrix(session: nox.Session) -> None:
    """Change the matrix (-- 3.11 3.12 ...) or main Python (-- --main 3.12) everywhere."""
    changed = set_matrix(PROJECT, session.posargs)
    for path in changed:
        session.log(f"updated {path.relative_to(ROOT).as_posix()}")
    if changed:
        session.log("the locks depend on the matrix: run `nox -s lock`, then `nox -s setup`")
        for lock in locks_left_over(load_project(ROOT)):
            session.log(f"{lock.name} is the lock of no Python of the matrix now: delete it")
    else:
        session.log("every file already lists this matrix: nothing changed")


@nox.session(python=PROJECT.python)
@user_errors
def lint(session: nox.Session) -> None:
    """Check the code with ruff (lint and format) and mypy."""
    sync_session_venv(session, PROJECT.python)
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PROJECT.python, default=False)
@user_errors
def fmt(session: nox.Session) -> None:
    """Format the code: ruff check --fix (what it can fix), then ruff format."""
    sync_session_venv(session, PROJECT.python)
    session.run("ruff", "check", "--fix-only", ".")
    session.run("ruff", "format", ".")


@nox.session(python=PROJECT.python, default=False)
@user_errors
def coverage(session: nox.Session) -> None:
    """Combine the coverage of every Python's tests; report it (fail_under in pyproject.toml)."""
    coverage_report.data_files(ROOT)  # no data: said before anything is installed
    sync_session_venv(session, PROJECT.python)
    session.run("coverage", "combine", "--keep", "--quiet")  # a fresh .coverage
    # Reports combine again on their own (--keep-combined leaves each Python's data file);
    # the files are written whatever the total, and the table last checks fail_under.
    report = ["--keep-combined", "--fail-under=0", "--quiet"]
    session.run("coverage", "xml", *report)
    session.run("coverage", "html", *report)
    session.run("coverage", "report", "--keep-combined")


@nox.session(venv_backend="none", default=False)
@user_errors
def pythons(session: nox.Session) -> None:
    """List the matrix's Pythons and what pyenv has (-- --install installs the missing ones)."""
    status = pyenv_matrix.matrix_status(PROJECT.matrix)
    session.log("pythons:\n" + render_table(pyenv_matrix.status_checks(status)))
    if "--install" in session.posargs:
        for line in pyenv_matrix.install_missing(status):
            session.log(line)


@nox.session(venv_backend="none", default=False)
@user_errors
def docs(session: nox.Session) -> None:
    """Build the documentation into site/ with the environment's mkdocs (offline, --strict)."""
    backend = backends.for_project(PROJECT, context(session))
    argv = docs_site.build_argv(ROOT, backend.env_dir, backend.python(backend.env_dir))
    session.run(*argv, external=True)


@nox.session(venv_backend="none", default=False)
@user_errors
def lab(session: nox.Session) -> None:
    """Start JupyterLab from the project's environment, with its kernel (-- args go to it)."""
    ctx = context(session)
    backend = backends.for_project(PROJECT, ctx)
    argv = kernel.lab_argv(backend.env_dir, backend.python(backend.env_dir), session.posargs)
    after_env_change(session, ctx)
    session.run(*argv, external=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    nox.main()
