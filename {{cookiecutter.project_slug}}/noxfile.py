#!/usr/bin/env python3
# /// script
# dependencies = ["nox>=2025.5.1"]
# ///
"""Sessions that set up, lock, test and rebuild this project's environment.

Settings (main Python, matrix, lock engine) live in pyproject.toml under [tool.envlock];
the logic behind each session is in tools/envlock.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))

from envlock import EnvlockError, workflows
from envlock.report import render_table
from envlock.runner import run_streaming
from envlock.settings import load_project
from envlock.venvs import env_python

nox.needs_version = ">=2025.5.1"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.download_python = "never"  # a missing Python is reported, never fetched

try:
    PROJECT = load_project(ROOT)
except EnvlockError as error:
    sys.exit(f"noxfile: {error}")


def user_errors(session_function):
    """Turn an EnvlockError into nox's one-line session failure."""

    @functools.wraps(session_function)
    def wrapper(session: nox.Session) -> None:
        try:
            session_function(session)
        except EnvlockError as error:
            session.error(str(error))

    return wrapper


def find_uv(session: nox.Session) -> str:
    """The uv that nox uses, or one installed into .nox the first time it is needed."""
    has_uv, uv, _ = nox.virtualenv.find_uv()
    if has_uv:
        return uv
    session.log("uv not found next to nox: installing it into .nox once")
    return workflows.bootstrap_uv(ROOT, lambda argv, env: run_command(session, argv, env))


def run_command(session: nox.Session, argv: list[str], env: dict[str, str]) -> None:
    """Run a command of the envlock steps: shown like nox's own, failures in one line."""
    session.log(shlex.join(argv))
    run_streaming(argv, env)


def tools(session: nox.Session) -> workflows.Tools:
    return workflows.Tools(
        run=lambda argv, env: run_command(session, argv, env),
        log=session.log,
        uv=find_uv(session),
    )


def install_dev_lock(session: nox.Session, python: str) -> None:
    """Sync the session's own venv to the dev lock of its Python (locking first if none)."""
    venv_python = env_python(Path(session.virtualenv.location))
    workflows.install_dev_lock(PROJECT, tools(session), python, venv_python)


@nox.session(venv_backend="none", default=False)
@user_errors
def setup(session: nox.Session) -> None:
    """Create the environment (.venv or .conda) and install the locked dependencies."""
    for line in workflows.setup(PROJECT, tools(session)):
        session.log(line)


@nox.session(venv_backend="none", default=False)
@user_errors
def lock(session: nox.Session) -> None:
    """Compile the *.in files into hash-pinned lock files (-- --upgrade passes through)."""
    for path in workflows.compile_locks(PROJECT, tools(session), session.posargs):
        session.log(f"wrote {path.name}")


@nox.session(python=list(PROJECT.matrix))
@user_errors
def tests(session: nox.Session) -> None:
    """Run the tests with the locked dependencies on each Python of the matrix."""
    install_dev_lock(session, session.python)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(venv_backend="none", default=False)
@user_errors
def rebuild(session: nox.Session) -> None:
    """Rebuild the environment from scratch beside the old one; prove it matches the lock."""
    workflows.rebuild(PROJECT, tools(session), session.posargs)


@nox.session(venv_backend="none", default=False)
@user_errors
def doctor(session: nox.Session) -> None:
    """Check the environment's isolation and the project's secrets (-- --json for CI)."""
    ok, rows = workflows.doctor(PROJECT, tools(session))
    if "--json" in session.posargs:
        checks = [{"check": c, "result": r, "detail": d} for c, r, d in rows]
        print(json.dumps({"ok": ok, "checks": checks}, indent=2))
    else:
        session.log("doctor:\n" + render_table(rows))
    if not ok:
        session.error("a check failed (see the table): the detail column says what to do")


@nox.session(venv_backend="none", default=False)
@user_errors
def hooks(session: nox.Session) -> None:
    """Install the offline pre-commit hooks into .git/hooks (needs `nox -s setup` first)."""
    session.run(sys.executable, "tools/run_in_venv.py", "pre-commit", "install", external=True)


@nox.session(python=PROJECT.python)
@user_errors
def lint(session: nox.Session) -> None:
    """Check the code with ruff (lint and format) and mypy."""
    install_dev_lock(session, PROJECT.python)
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


if __name__ == "__main__":
    os.chdir(ROOT)
    nox.main()
