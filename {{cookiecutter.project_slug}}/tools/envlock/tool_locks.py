"""The tools the sessions run (uv, pip-tools, conda-lock, py-rattler), pinned with hashes.

Each tool has ``tool-locks/NAME.in`` (the pin, as the project chooses it) and
``tool-locks/NAME.txt`` (compiled from it, every file hash-pinned, for every platform
and Python 3.10 on). A tool is only ever installed from its ``.txt``, with hash checking,
into its own environment under ``.nox``, which is made again when the ``.txt`` changes.
The exact version and the ``.txt`` are part of the inputs of every lock the tool
compiles, so a new tool version makes those locks stale instead of silently different.

`nox -s lock -- --tools` compiles the ``.in`` files again (after you change a pin there;
add ``--upgrade`` to move every tool and its dependencies to the newest release).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from envlock import EnvlockError, interrupts, os_errors
from envlock.engines import uv_env
from envlock.fs import read_utf8
from envlock.layout import env_executable
from envlock.runner import describe_fault
from envlock.session_guard import taking_turns

__all__ = [
    "ENGINE_TOOLS",
    "TOOL_LOCKS",
    "compile_tool_lock_argv",
    "ensure_uv",
    "is_synced",
    "lock_digest",
    "lock_path",
    "mark_synced",
    "pinned_version",
    "sync_tool_argv",
    "tool_names",
]

TOOL_LOCKS = Path(__file__).resolve().parent / "tool-locks"
# The tool lock behind each lock engine (a LockTarget's ``engine``).
ENGINE_TOOLS = {
    "uv": "uv",
    "pip-tools": "pip-tools",
    "conda-lock": "conda-lock",
    "rattler": "py-rattler",
}
READY_FILE = ".envlock-tool-lock"  # in a tool environment: the digest it was synced to
PIP_SETTINGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX")

RunCommand = Callable[[list[str], Mapping[str, str]], None]


def tool_names() -> list[str]:
    """Every tool that has a tool lock."""
    return sorted(path.stem for path in TOOL_LOCKS.glob("*.in"))


def lock_path(tool: str) -> Path:
    return TOOL_LOCKS / f"{tool}.txt"


def _read(tool: str) -> str:
    shown = f"tools/envlock/tool-locks/{tool}.txt"
    todo = f"restore it (`git checkout -- {shown}`) or make it with `nox -s lock -- --tools`"
    try:
        return read_utf8(lock_path(tool), shown, todo)
    except FileNotFoundError:
        raise EnvlockError(
            f"tools/envlock/tool-locks/{tool}.txt is missing: restore it from git or the "
            "template (`cruft update`), or make it with `nox -s lock -- --tools`"
        ) from None


def pinned_version(tool: str, distribution: str | None = None) -> str:
    """The exact version the tool lock pins for ``distribution`` (the tool itself)."""
    name = re.escape(distribution or tool).replace(r"\-", "[-_.]")
    match = re.search(rf"(?mi)^{name}==(\S+)", _read(tool))
    if match is None:
        raise EnvlockError(
            f"tools/envlock/tool-locks/{tool}.txt pins no {distribution or tool}: make it "
            f"again with `nox -s lock -- --tools`"
        )
    return match.group(1)


def lock_digest(tool: str) -> str:
    """Digest of the tool lock (line endings aside): a lock input of what the tool makes."""
    return hashlib.sha256(_read(tool).replace("\r\n", "\n").encode()).hexdigest()


def sync_tool_argv(uv: str, python: Path, tool: str) -> list[str]:
    """Make a tool environment hold exactly the tool lock, every file hash-checked."""
    lock = str(lock_path(tool))
    return [
        uv,
        "pip",
        "sync",
        "--no-config",
        "--quiet",
        "--require-hashes",
        "--python",
        str(python),
        lock,
    ]


def is_synced(env: Path, tool: str) -> bool:
    try:
        return (env / READY_FILE).read_text(encoding="utf-8").strip() == lock_digest(tool)
    except OSError:
        return False


def mark_synced(env: Path, tool: str) -> None:
    (env / READY_FILE).write_text(lock_digest(tool) + "\n", encoding="utf-8")


def _pip_env(environ: Mapping[str, str]) -> dict[str, str]:
    """pip installs only from the default index (the hashes would refuse anything else)."""
    env = {k: v for k, v in environ.items() if k not in PIP_SETTINGS}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def ensure_uv(root: Path, run: RunCommand, installer_uv: str | None) -> str:
    """The pinned uv, installed into ``.nox/envlock-uv`` from ``tool-locks/uv.txt`` with
    hash checking (again when that file changes); its path.

    ``installer_uv`` (the uv that came with nox, if any) only installs it, which takes a
    fraction of a second; without one, the standard library's venv and pip do. The new
    one is built beside the old (``envlock-uv.new``) and replaces it only once installed,
    so a damaged tool lock leaves the working uv in place. Every session needs uv, so
    the install is not under the session guard (a read-only session may run beside one
    that changes the project) but under a lock of its own, taken only when there is
    something to install: sessions started at once take turns, and the later ones find
    it installed. Ctrl-C or SIGTERM meanwhile removes the half-built one and ends in one
    line; what a kill leaves in ``envlock-uv.new`` the next install removes first.
    """
    env = root / ".nox" / "envlock-uv"
    uv = env_executable(env, "uv")
    if uv.exists() and is_synced(env, "uv"):  # every session's path: no lock, no wait
        return str(uv)
    new = env.with_name(env.name + ".new")
    started = False
    try:
        with interrupts.terminate_unwinds(), taking_turns(env.with_name(env.name + ".lock")):
            if uv.exists() and is_synced(env, "uv"):  # installed while this one waited
                return str(uv)
            started = True
            try:
                _install_uv(new, run, installer_uv)
            except BaseException:
                with interrupts.ignored():
                    shutil.rmtree(new, ignore_errors=True)
                raise
            with interrupts.ignored():  # two steps that must not be cut apart
                if env.exists():
                    shutil.rmtree(env)
                new.rename(env)
    except KeyboardInterrupt as error:
        removed = " (what was half installed was removed)" if started else ""
        raise EnvlockError(
            f"{describe_fault(error)}; the pinned uv was not installed into .nox/envlock-uv"
            f"{removed}; the environment and the locks were not touched"
        ) from None
    except OSError as error:
        raise EnvlockError(
            f"{os_errors.line(error)}; the pinned uv was not installed into .nox/envlock-uv, "
            "the environment and the locks were not touched"
        ) from None
    return str(uv)


def _install_uv(new: Path, run: RunCommand, installer_uv: str | None) -> None:
    """Install the pinned uv into the folder ``new`` (made afresh), marked as synced."""
    shutil.rmtree(new, ignore_errors=True)  # a killed install's leftover (under the lock)
    python = env_executable(new, "python")
    try:
        if installer_uv:
            venv = [installer_uv, "venv", "--quiet", "--clear", "--python", sys.executable]
            run([*venv, str(new)], uv_env(os.environ))
            run(sync_tool_argv(installer_uv, python, "uv"), uv_env(os.environ))
        else:
            run([sys.executable, "-m", "venv", "--clear", str(new)], dict(os.environ))
            pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--require-hashes"]
            run([*pip, "-r", str(lock_path("uv"))], _pip_env(os.environ))
    except EnvlockError as error:
        shown = "tools/envlock/tool-locks/uv.txt"
        raise EnvlockError(
            f"installing the pinned uv from {shown} failed ({error}): if that file was "
            f"changed or damaged, restore it (`git checkout -- {shown}`), then run this again"
        ) from None
    if not env_executable(new, "uv").exists():
        raise EnvlockError(f"installing uv from {lock_path('uv').name} made no uv")
    mark_synced(new, "uv")


def compile_tool_lock_argv(
    uv: str, tool: str, extra: list[str], output: str | None = None
) -> list[str]:
    """``uv pip compile`` of one tool lock: every platform, Python 3.10 on, with hashes
    (run in the tool-locks folder, so the lock names its input as the folder shows it),
    into ``output`` (a file name in that folder; default the lock itself)."""
    return [
        uv,
        "--directory",
        str(TOOL_LOCKS),
        "pip",
        "compile",
        "--no-config",
        f"{tool}.in",
        "--output-file",
        output or f"{tool}.txt",
        "--universal",
        "--python-version",
        "3.10",
        "--generate-hashes",
        "--custom-compile-command",
        "nox -s lock -- --tools",
        "--quiet",
        *extra,
    ]
