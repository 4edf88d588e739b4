"""What the sessions do, step by step: lock, set up, rebuild.

The noxfile hands in a ``Tools`` with a ``run`` that executes one command (through
nox, so it is logged) and a ``log`` for progress lines; everything else is here.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from envlock import EnvlockError, engines, locks, pythons, venvs
from envlock.dotenv_file import ensure_dotenv
from envlock.report import compare, render_table, write_report
from envlock.settings import Project

REPORT_NAME = "rebuild-report.json"


@dataclasses.dataclass(frozen=True)
class Tools:
    """``run(argv, env)`` runs a command and raises when it fails; ``log`` prints a line."""

    run: Callable[[list[str], dict[str, str]], object]
    log: Callable[[str], None]
    uv: str

    def uv_run(self, argv: list[str]) -> None:
        self.run(argv, engines.uv_env(os.environ))


def step(tools: Tools, what: str, action: Callable[[], object]) -> object:
    """Run one long step, saying what it does and how long it took."""
    tools.log(f"{what} ...")
    started = time.perf_counter()
    result = action()
    tools.log(f"{what}: done in {time.perf_counter() - started:.1f} s")
    return result


# --- locking -------------------------------------------------------------------------


def pip_tools_python(project: Project, tools: Tools, python: str) -> Path:
    """An environment with pip-tools for one Python of the matrix, made once under .nox."""
    env = project.root / ".nox" / f"pip-tools-{python}"
    python_path = venvs.env_python(env)
    if not (env / ".pip-tools-ready").exists():
        interpreter = pythons.require_python(python)
        tools.uv_run([tools.uv, "venv", "--quiet", "--python", str(interpreter), str(env)])
        tools.uv_run(
            [tools.uv, "pip", "install", "--quiet", "--python", str(python_path), "pip-tools"]
        )
        (env / ".pip-tools-ready").touch()
    return python_path


def compile_target(
    project: Project, tools: Tools, target: locks.LockTarget, extra: list[str]
) -> None:
    """Compile one lock into a scratch file, then put it in place in one rename."""
    scratch = target.output.with_name(f".{target.output.name}.compiling")
    if target.output.exists():  # the engines keep the pins they find there
        shutil.copyfile(target.output, scratch)
    try:
        if project.lock_engine == "uv":
            argv = engines.uv_compile_argv(tools.uv, target, scratch, extra)
            env = engines.uv_env(os.environ)
        else:
            python = pip_tools_python(project, tools, target.python)
            argv = engines.pip_compile_argv(str(python), target, scratch, extra)
            env = engines.isolated_pip_env(os.environ)
        step(tools, f"locking {target.output.name}", lambda: tools.run(argv, env))
        body = scratch.read_text(encoding="utf-8")
        locks.write_atomically(target.output, locks.render_lock(project, target, body))
    finally:
        scratch.unlink(missing_ok=True)


def lock_pythons(project: Project, tools: Tools) -> list[str]:
    """The Pythons to lock for: all of the matrix, but with pip-tools only those installed
    (on CI a missing one is an error)."""
    if project.lock_engine == "uv":
        return list(project.matrix)
    found = []
    for python in project.matrix:
        if pythons.find_python(python) is not None or python == project.python:
            found.append(python)
        elif os.environ.get("CI"):
            pythons.require_python(python)
        else:
            tools.log(
                f"Python {python} not found: its lock is not updated "
                f"(`pyenv install {python}` to include it)"
            )
    return found


def compile_locks(project: Project, tools: Tools, extra: list[str]) -> list[Path]:
    """Compile every lock of the project; ``extra`` (e.g. --upgrade) goes to the engine."""
    for path in project.inputs:
        if not path.exists():
            raise EnvlockError(f"{path.name} is missing: create it (it may be empty)")
    targets = locks.lock_targets(project, lock_pythons(project, tools))
    for target in targets:
        compile_target(project, tools, target, extra)
    return [t.output for t in targets]


def dev_target(project: Project, python: str) -> locks.LockTarget:
    output = locks.dev_lock_path(project, python)
    return next(t for t in locks.lock_targets(project, [python]) if t.output == output)


def locked_pins(
    project: Project, tools: Tools, python: str, lock_if_missing: bool
) -> list[locks.Pin]:
    """The pins of the dev lock for ``python``; lock first only when asked and none exists."""
    target = dev_target(project, python)
    if lock_if_missing and not target.output.exists():
        tools.log(f"{target.output.name} does not exist yet: locking first")
        compile_locks(project, tools, [])
    return locks.check_lock(project, target)


# --- environments --------------------------------------------------------------------


def env_version(env: Path) -> str | None:
    """The ``X.Y`` of the Python an environment was made with, from its pyvenv.cfg."""
    try:
        lines = (env / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version_info", "version"):
            return ".".join(value.strip().split(".")[:2])
    return None


def install_lock(tools: Tools, python: Path, lock: Path, root: Path) -> None:
    """Sync an environment to the lock (hash-checked), then add the project, editable."""
    step(
        tools,
        f"installing {lock.name}",
        lambda: tools.uv_run(engines.sync_argv(tools.uv, python, lock)),
    )
    step(
        tools,
        "installing the project (editable)",
        lambda: tools.uv_run(engines.editable_argv(tools.uv, python, root)),
    )


def build_env(project: Project, tools: Tools, env: Path, lock: Path) -> None:
    """Make a new relocatable environment at ``env`` holding exactly the lock."""
    interpreter = pythons.require_python(project.python)
    if env.exists():
        shutil.rmtree(env)
    step(
        tools,
        f"creating {env.name} with Python {project.python}",
        lambda: tools.uv_run(
            [tools.uv, "venv", "--quiet", "--relocatable", "--python", str(interpreter), str(env)]
        ),
    )
    install_lock(tools, venvs.env_python(env), lock, project.root)


def env_state(project: Project, lock: Path) -> dict:
    return {
        "python": project.python,
        "lock": venvs.fingerprint(lock),
        "pyproject": venvs.fingerprint(project.root / "pyproject.toml"),
    }


def setup(project: Project, tools: Tools) -> list[str]:
    """Bring .venv to the lock; return the lines to show the user at the end."""
    venvs.recover(project.venv)
    locked_pins(project, tools, project.python, lock_if_missing=True)
    lock = locks.dev_lock_path(project, project.python)
    state = env_state(project, lock)
    if venvs.is_current(project.venv, state):
        tools.log(f"{project.venv.name} already matches {lock.name}: nothing to install")
    elif env_version(project.venv) == project.python and venvs.env_python(project.venv).exists():
        install_lock(tools, venvs.env_python(project.venv), lock, project.root)
        venvs.write_state(project.venv, state)
    else:
        staging = venvs.staging_dir(project.venv)
        try:
            build_env(project, tools, staging, lock)
            venvs.write_state(staging, state)
            venvs.swap_in(staging, project.venv)
        finally:
            venvs.recover(project.venv)
    lines = [ensure_dotenv(project.root), "Activate the environment with:"]
    lines += [
        f"  {shell}: {command}"
        for shell, command in venvs.activation_commands(project.venv.name).items()
    ]
    return lines


# --- rebuild -------------------------------------------------------------------------


def run_check(argv: list[str], cwd: Path) -> bool:
    """Run a verification command with its output shown; report whether it passed."""
    return subprocess.run(argv, cwd=cwd, check=False).returncode == 0


def rebuild(project: Project, tools: Tools, pytest_args: list[str]) -> dict:
    """Build a fresh environment beside .venv, prove it matches the lock, then swap it in.

    Returns the report (also written as JSON); raises when any check failed, in which
    case .venv is left exactly as it was.
    """
    venvs.recover(project.venv)
    pins = locked_pins(project, tools, project.python, lock_if_missing=False)
    lock = locks.dev_lock_path(project, project.python)
    staging = venvs.staging_dir(project.venv)
    started = time.perf_counter()
    rows: list[tuple[str, str, str]] = []
    report = {
        "python": project.python,
        "lock": lock.name,
        "lock_sha256": venvs.fingerprint(lock),
        "platform": sys.platform,
    }
    try:
        build_env(project, tools, staging, lock)
        python = venvs.env_python(staging)
        found = venvs.inspect_env(python)
        comparison = compare(
            locks.pins_for_environment(pins, found["markers"]),
            found["installed"],
            ignore={project.distribution},
        )
        rows.append(
            (
                "installed = lock",
                "ok" if comparison.matches else "FAILED",
                f"{len(found['installed'])} distributions"
                if comparison.matches
                else "; ".join(comparison.problems()),
            )
        )
        checks = [
            ("dependencies consistent", engines.check_argv(tools.uv, python)),
            (f"import {project.package}", [str(python), "-c", f"import {project.package}"]),
            ("tests pass", [str(python), "-m", "pytest", *pytest_args]),
        ]
        for name, argv in checks:
            tools.log(f"checking: {name}")
            rows.append((name, "ok" if run_check(argv, project.root) else "FAILED", ""))
        report.update(installed=found["installed"], differences=comparison.problems())
        ok = all(result == "ok" for _, result, _ in rows)
        if ok:
            venvs.write_state(staging, env_state(project, lock))
            venvs.swap_in(staging, project.venv)
    finally:
        venvs.recover(project.venv)
    report.update(
        ok=ok,
        seconds=round(time.perf_counter() - started, 1),
        checks=[{"check": c, "result": r, "detail": d} for c, r, d in rows],
    )
    write_report(project.root / REPORT_NAME, report)
    tools.log("rebuild report:\n" + render_table(rows))
    if not ok:
        raise EnvlockError(
            f"the rebuilt environment failed a check (see the table and "
            f"{REPORT_NAME}); {project.venv.name} was left as it was"
        )
    return report


def bootstrap_uv(root: Path, run: Callable[[list[str], dict[str, str]], object]) -> str:
    """Install uv into .nox once, for a nox that came without it."""
    env = root / ".nox" / "envlock-uv"
    uv = env / ("Scripts/uv.exe" if sys.platform == "win32" else "bin/uv")
    if not uv.exists():
        run([sys.executable, "-m", "venv", str(env)], dict(os.environ))
        run([str(venvs.env_python(env)), "-m", "pip", "install", "--quiet", "uv"], dict(os.environ))
    return str(uv)
