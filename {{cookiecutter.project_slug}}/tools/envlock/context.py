"""What every session's logic is handed: how to run a command and log a line, the uv
to use, and the noxfile's extensions; plus the helpers they share (timed steps, the
small tool environments under ``.nox``, what to add to a failure)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from envlock import EnvlockError
from envlock.checks import Check
from envlock.engines import uv_env
from envlock.layout import env_executable
from envlock.settings import Project

__all__ = [
    "Context",
    "Extensions",
    "RunCommand",
    "bootstrap_uv",
    "saying_what_became_of",
    "tool_python",
]

T = TypeVar("T")

# Runs one command with its output shown; raises EnvlockError (one line) when it fails.
RunCommand = Callable[[list[str], Mapping[str, str]], None]


@dataclasses.dataclass(frozen=True)
class Extensions:
    """What a project adds in its noxfile, without editing this library.

    ``rebuild_checks``: called with the Python of the rebuilt environment before it
    replaces the current one; a failed Check keeps the current one. ``doctor_checks``:
    called with the project; their rows are added to `nox -s doctor`. ``installer_args``:
    added to every ``uv pip sync`` and to the editable install of the project.
    """

    rebuild_checks: Sequence[Callable[[Path], Check]] = ()
    doctor_checks: Sequence[Callable[[Project], Check]] = ()
    installer_args: Sequence[str] = ()


@dataclasses.dataclass(frozen=True)
class Context:
    """How the library acts on the world; the noxfile makes one per session."""

    run: RunCommand
    log: Callable[[str], None]
    uv: str
    extensions: Extensions = Extensions()

    def run_uv(self, argv: list[str]) -> None:
        """Run a uv command (uv never downloads an interpreter behind the user's back)."""
        self.run(argv, uv_env(os.environ))

    def timed(self, what: str, action: Callable[[], T]) -> T:
        """Run one long step, saying what it does and how long it took."""
        self.log(f"{what} ...")
        started = time.perf_counter()
        result = action()
        self.log(f"{what}: done in {time.perf_counter() - started:.1f} s")
        return result


@contextlib.contextmanager
def saying_what_became_of(env: Path) -> Iterator[None]:
    """Add to a failure what became of the environment: nothing."""
    existed = env.exists()
    try:
        yield
    except EnvlockError as error:
        outcome = f"{env.name} was left as it was" if existed else f"no {env.name} was made"
        raise EnvlockError(f"{error}; {outcome}") from None


def tool_python(project: Project, ctx: Context, name: str, python: Path, package: str) -> Path:
    """The Python of an environment under .nox holding one tool (pip-tools, conda-lock),
    made the first time it is needed."""
    env = project.root / ".nox" / name
    python_path = env_executable(env, "python")
    ready = env / ".envlock-tool-ready"
    if not ready.exists():

        def install() -> None:
            ctx.run_uv([ctx.uv, "venv", "--quiet", "--python", str(python), str(env)])
            ctx.run_uv([ctx.uv, "pip", "install", "--quiet", "--python", str(python_path), package])

        ctx.timed(f"installing {package} into .nox/{name}", install)
        ready.touch()
    return python_path


def bootstrap_uv(root: Path, run: RunCommand) -> str:
    """Install uv into .nox once, for a nox that came without it; its path."""
    env = root / ".nox" / "envlock-uv"
    uv = env_executable(env, "uv")
    if not uv.exists():
        run([sys.executable, "-m", "venv", str(env)], dict(os.environ))
        python = str(env_executable(env, "python"))
        run([python, "-m", "pip", "install", "--quiet", "uv"], dict(os.environ))
    return str(uv)
