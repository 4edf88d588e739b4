#!/usr/bin/env python3
# /// script
# dependencies = ["nox>=2025.5.1"]
# ///
"""Sessions of the template repository: its tests, lint, its lock, and a demo bake."""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2025.5.1"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.download_python = "never"

ROOT = Path(__file__).resolve().parent
LOCK = "requirements-dev.txt"
DEMO = ROOT / "demo"
# The pinned, hash-locked tools the generated project installs into .nox.
TOOL_LOCKS = ROOT / "{{cookiecutter.project_slug}}" / "tools" / "envlock" / "tool-locks"


def install_locked(session: nox.Session) -> None:
    session.install("--require-hashes", "-r", LOCK)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the template's tests: unit tests, bakes, and real sessions in baked projects."""
    install_locked(session)
    # One test file per worker keeps each file's shared bakes in one process; most of the
    # time goes to waiting on installs and sessions, so two workers use two cores well.
    # `-- -n 0` runs in this process (for a debugger); later options win.
    session.run("python", "-m", "pytest", "-n", "2", "--dist", "loadfile", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check the template's Python with ruff (lint and format)."""
    install_locked(session)
    session.run("ruff", "check", "--config", "pyproject.toml", ".")
    session.run("ruff", "format", "--check", "--config", "pyproject.toml", ".")


@nox.session(default=False)
def lock(session: nox.Session) -> None:
    """Compile the template's own lock and the generated project's tool locks."""
    session.install("uv")
    # Each lock is compiled in the folder that holds it, so it names its input as a user
    # sees it; a baked project compiles its tool locks again with `nox -s lock -- --tools`.
    locks = [(ROOT, "requirements-dev.in", LOCK, "nox -s lock")]
    locks += [
        (TOOL_LOCKS, source.name, f"{source.stem}.txt", "nox -s lock -- --tools")
        for source in sorted(TOOL_LOCKS.glob("*.in"))
    ]
    for folder, source, output, command in locks:
        with session.chdir(folder):
            session.run(
                "uv",
                "pip",
                "compile",
                source,
                "--output-file",
                output,
                "--universal",
                "--python-version",
                "3.10",
                "--generate-hashes",
                "--custom-compile-command",
                command,
                "--quiet",
                *session.posargs,
            )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmark the baked sessions beside the usual commands (-- --quick for a short run)."""
    install_locked(session)
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session(default=False)
def demo(session: nox.Session) -> None:
    """Bake a demo project into ./demo and run its `nox -s setup` (-- key=value passes on)."""
    install_locked(session)
    if DEMO.exists():
        shutil.rmtree(DEMO)
    # git must not find this repository above the demo: the bake then makes the demo a
    # repository of its own, as a user's project is, instead of a folder that this
    # repository's .gitignore hides (which `nox -s lock` refuses to lock from).
    session.run(
        "cookiecutter",
        "--no-input",
        "--output-dir",
        str(DEMO),
        str(ROOT),
        *session.posargs,
        env={"GIT_CEILING_DIRECTORIES": str(DEMO)},
    )
    (project,) = DEMO.iterdir()
    with session.chdir(project):
        session.run("nox", "-s", "setup")
    session.log(f"demo project ready in {project}: cd there and `source .venv/bin/activate`")
