"""What every session's logic is handed: how to run a command and log a line, the uv
to use, and the noxfile's extensions; plus the helpers they share (timed steps, the
small tool environments under ``.nox``)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from envlock import tool_locks
from envlock.checks import Check
from envlock.engines import uv_env
from envlock.layout import env_executable
from envlock.settings import Project

__all__ = [
    "Context",
    "Extensions",
    "RunCommand",
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


def tool_python(project: Project, ctx: Context, name: str, python: Path, tool: str) -> Path:
    """The Python of ``.nox/NAME``, an environment holding exactly ``tool-locks/TOOL.txt``
    (hash-checked), made again whenever that tool lock changes."""
    env = project.root / ".nox" / name
    python_path = env_executable(env, "python")
    if not (python_path.exists() and tool_locks.is_synced(env, tool)):
        version = tool_locks.pinned_version(tool)

        def install() -> None:
            venv = [ctx.uv, "venv", "--quiet", "--clear", "--python", str(python), str(env)]
            ctx.run_uv(venv)
            ctx.run_uv(tool_locks.sync_tool_argv(ctx.uv, python_path, tool))

        ctx.timed(f"installing {tool} {version} into .nox/{name} (hash-checked)", install)
        tool_locks.mark_synced(env, tool)
    return python_path
