"""What the sessions do, step by step: lock, set up, rebuild.

The noxfile hands in a ``Tools`` with a ``run`` that executes one command (its output
shown, a failure raised as one line) and a ``log`` for progress lines; everything else
is here. The
venv and conda paths share every step but the few where the two kinds of environment
differ: how one is created, how it lists its packages, and how it is put in place
(a venv made with ``--relocatable`` can be renamed; a conda prefix cannot).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from packaging.utils import canonicalize_name

from envlock import EnvlockError, busy, conda, engines, locks, pythons, secret_checks, venvs
from envlock.dotenv_file import ensure_dotenv
from envlock.report import Comparison, compare, render_table, write_report
from envlock.settings import Project

REPORT_NAME = "rebuild-report.json"
TOOLS_DIR = Path(__file__).resolve().parents[1]  # the folder that holds envlock/


@dataclasses.dataclass(frozen=True)
class Tools:
    """``run(argv, env)`` runs a command and raises when it fails; ``log`` prints a line."""

    run: Callable[[list[str], dict[str, str]], object]
    log: Callable[[str], None]
    uv: str

    def uv_run(self, argv: list[str]) -> None:
        self.run(argv, engines.uv_env(os.environ))


def changes_environment(what: str):
    """Run the decorated step holding the project's lock (one such session at a time)."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(project: Project, *args, **kwargs):
            with busy.exclusive(project.root, what):
                return function(project, *args, **kwargs)

        return wrapper

    return decorate


@contextlib.contextmanager
def keeping(env: Path):
    """Add to a failure what became of the environment: nothing."""
    existed = env.exists()
    try:
        yield
    except EnvlockError as error:
        outcome = f"{env.name} was left as it was" if existed else f"no {env.name} was made"
        raise EnvlockError(f"{error}; {outcome}") from None


def step(tools: Tools, what: str, action: Callable[[], object]) -> object:
    """Run one long step, saying what it does and how long it took."""
    tools.log(f"{what} ...")
    started = time.perf_counter()
    result = action()
    tools.log(f"{what}: done in {time.perf_counter() - started:.1f} s")
    return result


def tool_python(project: Project, tools: Tools, name: str, python: Path, package: str) -> Path:
    """An environment under .nox holding one tool (pip-tools, conda-lock), made once."""
    env = project.root / ".nox" / name
    python_path = venvs.env_python(env)
    ready = env / ".envlock-tool-ready"
    if not ready.exists():

        def install() -> None:
            tools.uv_run([tools.uv, "venv", "--quiet", "--python", str(python), str(env)])
            tools.uv_run(
                [tools.uv, "pip", "install", "--quiet", "--python", str(python_path), package]
            )

        step(tools, f"installing {package} into .nox/{name}", install)
        ready.touch()
    return python_path


# --- locking -------------------------------------------------------------------------


def compile_into_place(
    project: Project,
    tools: Tools,
    target: locks.LockTarget,
    command: Callable[[Path], tuple[list[str], dict[str, str]]],
    keep_pins: bool = True,
) -> None:
    """Compile one lock into a scratch file, then put it in place in one rename.

    The scratch file starts as the old lock (without our header) because the engines
    keep the versions they find there unless told to upgrade.
    """
    scratch = target.output.with_name(f".{target.output.name}.compiling")
    if keep_pins and target.output.exists():
        scratch.write_text(
            locks.split_lock(target.output.read_text(encoding="utf-8"))[1], encoding="utf-8"
        )
    try:
        argv, env = command(scratch)
        step(tools, f"locking {target.output.name}", lambda: tools.run(argv, env))
        body = scratch.read_text(encoding="utf-8")
        locks.write_atomically(target.output, locks.render_lock(project, target, body))
    finally:
        scratch.unlink(missing_ok=True)


def pip_lock_command(project: Project, tools: Tools, target: locks.LockTarget, extra: list[str]):
    indexes = engines.index_args(project.extra_index_urls)
    if project.lock_engine == "uv":
        return lambda out: (
            engines.uv_compile_argv(tools.uv, target, out, indexes + extra),
            engines.uv_env(os.environ),
        )
    interpreter = pythons.require_python(target.python)
    python = tool_python(project, tools, f"pip-tools-{target.python}", interpreter, "pip-tools")
    return lambda out: (
        engines.pip_compile_argv(str(python), target, out, indexes + extra),
        engines.isolated_pip_env(os.environ),
    )


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


def conda_lock_tool(project: Project, tools: Tools) -> list[str]:
    python = tool_python(project, tools, "conda-lock", Path(sys.executable), "conda-lock")
    return [str(python), "-m", "conda_lock"]


@changes_environment("lock")
def compile_locks(project: Project, tools: Tools, extra: list[str]) -> list[Path]:
    """Compile every lock of the project; ``extra`` (e.g. --upgrade) goes to the engines."""
    solver = conda.find_solver(project.conda_solver) if project.env_manager == "conda" else None
    needed = list(project.inputs) + ([project.environment] if solver else [])
    for path in needed:
        if not path.exists():
            raise EnvlockError(f"{path.name} is missing: create it (it may be empty)")
    written = []
    for target in locks.lock_targets(project, lock_pythons(project, tools)):
        compile_into_place(project, tools, target, pip_lock_command(project, tools, target, extra))
        written.append(target.output)
    if solver:
        target = locks.conda_target(project)
        args, fresh = conda.update_args(extra)
        tool = conda_lock_tool(project, tools)
        compile_into_place(
            project,
            tools,
            target,
            lambda out: (
                conda.lock_argv(tool, solver, project.environment, out, args),
                dict(os.environ),
            ),
            keep_pins=not fresh,
        )
        written.append(target.output)
    return written


def dev_target(project: Project, python: str) -> locks.LockTarget:
    output = locks.dev_lock_path(project, python)
    return next(t for t in locks.lock_targets(project, [python]) if t.output == output)


def main_target(project: Project) -> locks.LockTarget:
    """The lock of the project's main environment."""
    if project.env_manager == "conda":
        return locks.conda_target(project)
    return dev_target(project, project.python)


def ensure_lock(
    project: Project, tools: Tools, target: locks.LockTarget, lock_if_missing: bool
) -> str:
    """The body of a trusted lock; lock first only when asked and none exists."""
    if lock_if_missing and not target.output.exists():
        tools.log(f"{target.output.name} does not exist yet: locking first")
        compile_locks(project, tools, [])
    return locks.verify_lock(project, target)


def install_dev_lock(project: Project, tools: Tools, python: str, venv_python: Path) -> None:
    """Sync a nox session's venv to the dev lock of ``python`` (for tests and lint).

    The lock is compiled first when there is none, and refused when it is stale or edited.
    """
    target = dev_target(project, python)
    locks.parse_pins(target.output, ensure_lock(project, tools, target, lock_if_missing=True))
    install_lock(tools, venv_python, target.output, project)


# --- environments --------------------------------------------------------------------


def env_version(env: Path) -> str | None:
    """The ``X.Y`` of the Python a venv was made with, from its pyvenv.cfg."""
    try:
        lines = (env / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version_info", "version"):
            return ".".join(value.strip().split(".")[:2])
    return None


def install_project(tools: Tools, python: Path, root: Path) -> None:
    step(
        tools,
        "installing the project (editable)",
        lambda: tools.uv_run(engines.editable_argv(tools.uv, python, root)),
    )


def install_lock(tools: Tools, python: Path, lock: Path, project: Project) -> None:
    """Sync an environment to the lock (hash-checked), then add the project, editable."""
    step(
        tools,
        f"installing {lock.name}",
        lambda: tools.uv_run(engines.sync_argv(tools.uv, python, lock, project.extra_index_urls)),
    )
    install_project(tools, python, project.root)


@dataclasses.dataclass(frozen=True)
class Kind:
    """What differs between a venv and a conda prefix."""

    python: Callable[[Path], Path]
    build: Callable[[Path], None]  # a complete environment at this path, from the lock
    packages: Callable[[Path], tuple[dict, dict]]  # (locked, installed) for an environment
    put_in_place: Callable[[Path, dict], None]  # a verified build at staging -> the env dir
    activation: list[str]
    unlocked: frozenset[str]  # installed on purpose without being locked: the project

    def installed(self, env: Path) -> Comparison:
        """How the environment's distributions differ from the lock."""
        locked, installed = self.packages(env)
        return compare(locked, installed, ignore=self.unlocked)


def venv_kind(project: Project, tools: Tools, pins: list[locks.Pin]) -> Kind:
    lock = main_target(project).output

    def build(env: Path) -> None:
        interpreter = pythons.require_python(project.python)
        if env.exists():
            shutil.rmtree(env)
        step(
            tools,
            f"creating {env.name} with Python {project.python}",
            lambda: tools.uv_run(engines.venv_argv(tools.uv, interpreter, env)),
        )
        install_lock(tools, venvs.env_python(env), lock, project)

    def packages(env: Path) -> tuple[dict, dict]:
        found = venvs.inspect_env(venvs.env_python(env))
        return locks.pins_for_environment(pins, found["markers"]), found["installed"]

    def put_in_place(staging: Path, state: dict) -> None:
        venvs.write_state(staging, state)
        venvs.swap_in(staging, project.venv)

    shells = venvs.activation_commands(project.venv.name)
    activation = [f"  {shell}: {command}" for shell, command in shells.items()]
    return Kind(
        venvs.env_python,
        build,
        packages,
        put_in_place,
        activation,
        frozenset({project.distribution}),
    )


def conda_kind(project: Project, tools: Tools) -> Kind:
    solver = conda.find_solver(project.conda_solver)
    lock = project.conda_lock

    def build(prefix: Path) -> None:
        if prefix.exists():
            shutil.rmtree(prefix)
        install = conda.install_argv(conda_lock_tool(project, tools), solver, prefix, lock)
        step(
            tools,
            f"creating {prefix.name} from {lock.name} with {solver.kind}",
            lambda: tools.run(install, dict(os.environ)),
        )
        install_project(tools, conda.conda_env_python(prefix), project.root)

    def packages(prefix: Path) -> tuple[dict, dict]:
        listed = query_json(conda.list_argv(solver, prefix))
        tool = conda_lock_tool(project, tools)
        locked = query_json(
            [tool[0], "-m", "envlock.conda", str(lock), conda.conda_subdir()],
            env={**os.environ, "PYTHONPATH": str(TOOLS_DIR)},
        )
        return locked, conda.listed_packages(listed)

    def put_in_place(staging: Path, state: dict) -> None:
        # A conda prefix records its own path inside its files, so the verified build
        # is made again at the real path (from the package cache) instead of renamed.
        shutil.rmtree(staging)
        venvs.replace_in_place(project.conda_prefix, build, state)
        comparison = kind.installed(project.conda_prefix)
        if not comparison.matches:
            raise EnvlockError(
                f"{project.conda_prefix.name} differs from {lock.name} after "
                f"the swap: {'; '.join(comparison.problems())}"
            )

    activation = [f"  {conda.activation_command(project.conda_prefix.name)}"]
    kind = Kind(
        conda.conda_env_python,
        build,
        packages,
        put_in_place,
        activation,
        frozenset({project.distribution}),
    )
    return kind


def query_json(argv: list[str], env: dict[str, str] | None = None) -> object:
    """Run a command that prints JSON, and return what it printed."""
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise EnvlockError(f"{Path(argv[0]).name} failed: {result.stderr.strip() or result.stdout}")
    return json.loads(result.stdout)


def kind_for(project: Project, tools: Tools, body: str) -> Kind:
    if project.env_manager == "conda":
        return conda_kind(project, tools)
    return venv_kind(project, tools, locks.parse_pins(main_target(project).output, body))


def env_state(project: Project, lock: Path) -> dict:
    return {
        "python": project.python,
        "lock": venvs.fingerprint(lock),
        "pyproject": venvs.fingerprint(project.root / "pyproject.toml"),
    }


@changes_environment("setup")
def setup(project: Project, tools: Tools) -> list[str]:
    """Bring the main environment to the lock; return the lines to show at the end."""
    env = project.env_dir
    venvs.recover(env)
    target = main_target(project)
    body = ensure_lock(project, tools, target, lock_if_missing=True)
    state = env_state(project, target.output)
    kind = kind_for(project, tools, body)
    if venvs.is_current(env, state, kind.python(env)):
        tools.log(f"{env.name} already matches {target.output.name}: nothing to install")
    elif project.env_manager == "venv" and env_version(env) == project.python:
        # uv downloads and checks everything before it changes the environment
        with keeping(env):
            install_lock(tools, venvs.env_python(env), target.output, project)
        venvs.write_state(env, state)
    elif project.env_manager == "venv":
        staging = venvs.staging_dir(env)
        try:
            with keeping(env):
                kind.build(staging)
                kind.put_in_place(staging, state)
        finally:
            venvs.recover(env)
    else:
        with keeping(env):
            venvs.replace_in_place(env, kind.build, state)
    return [
        ensure_dotenv(project.root),
        "Activate the environment with:",
        *kind.activation,
        "Install the offline pre-commit hooks with `nox -s hooks` (once per clone).",
    ]


# --- rebuild -------------------------------------------------------------------------


def run_check(argv: list[str], cwd: Path) -> bool:
    """Run a verification command with its output shown; report whether it passed."""
    return subprocess.run(argv, cwd=cwd, check=False).returncode == 0


def verify(
    project: Project, tools: Tools, kind: Kind, env: Path, pytest_args: list[str]
) -> tuple[list[tuple[str, str, str]], Comparison]:
    """The checks of a rebuilt environment, as rows of the report table, and how its
    packages compare with the lock."""
    comparison = kind.installed(env)
    rows = [
        (
            "installed = lock",
            "ok" if comparison.matches else "FAILED",
            "; ".join(comparison.problems()),
        )
    ]
    python = str(kind.python(env))
    checks = [
        ("dependencies consistent", engines.check_argv(tools.uv, python)),
        (f"import {project.package}", [python, "-c", f"import {project.package}"]),
        ("tests pass", [python, "-m", "pytest", *pytest_args]),
    ]
    for name, argv in checks:
        tools.log(f"checking: {name}")
        rows.append((name, "ok" if run_check(argv, project.root) else "FAILED", ""))
    return rows, comparison


@changes_environment("rebuild")
def rebuild(project: Project, tools: Tools, pytest_args: list[str]) -> dict:
    """Build a fresh environment beside the current one, prove it matches the lock, then
    put it in place. Writes and returns the report; raises when a check failed, in which
    case the current environment is left exactly as it was."""
    env = project.env_dir
    venvs.recover(env)
    target = main_target(project)
    body = ensure_lock(project, tools, target, lock_if_missing=False)
    kind = kind_for(project, tools, body)
    staging = venvs.staging_dir(env)
    started = time.perf_counter()
    report = {
        "env": env.name,
        "python": project.python,
        "lock": target.output.name,
        "lock_sha256": venvs.fingerprint(target.output),
        "platform": sys.platform,
    }
    rows: list[tuple[str, str, str]] = []
    try:
        with keeping(env):
            kind.build(staging)
            rows, comparison = verify(project, tools, kind, staging, pytest_args)
            report["differences"] = comparison.problems()
            ok = all(result == "ok" for _, result, _ in rows)
            if ok:
                kind.put_in_place(staging, env_state(project, target.output))
    finally:
        venvs.recover(env)
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
            f"{REPORT_NAME}); {env.name} was left as it was"
        )
    return report


# --- doctor --------------------------------------------------------------------------


def row(check: str, ok: bool, detail: str = "") -> tuple[str, str, str]:
    return (check, "ok" if ok else "FAILED", detail)


def quiet_check(argv: list[str]) -> tuple[bool, str]:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    lines = (result.stdout + result.stderr).strip().splitlines()
    return result.returncode == 0, "; ".join(lines[:3])


def isolation_rows(project: Project, tools: Tools, kind: Kind) -> list:
    """The isolation checks of an existing environment."""
    env = project.env_dir
    python = kind.python(env)
    found = venvs.inspect_env(python)
    locked_packages, installed = kind.packages(env)
    locked = {canonicalize_name(name) for name in locked_packages}
    version = found["markers"]["python_version"]
    rows = [
        row("Python version", version == project.python, f"{version}, expected {project.python}")
    ]
    if project.env_manager == "venv":
        hint = "visible: recreate with `nox -s rebuild`" if found["global_site"] else ""
        rows.append(row("global site-packages hidden", not found["global_site"], hint))
    comparison = compare(locked_packages, installed, ignore=kind.unlocked)
    rows.append(row("installed = lock", comparison.matches, "; ".join(comparison.problems())))
    rows.append(row("dependencies consistent", *quiet_check(engines.check_argv(tools.uv, python))))
    wrong = []
    for module, distributions in sorted(venvs.PROBES.items()):
        expected = bool(distributions & locked)
        if found["importable"][module] and not expected:
            wrong.append(f"{module} importable but not locked")
        elif expected and not found["importable"][module]:
            wrong.append(f"{module} locked but not importable")
    rows.append(row("only locked modules import", not wrong, "; ".join(wrong)))
    return rows


def doctor(project: Project, tools: Tools) -> tuple[bool, list[tuple[str, str, str]]]:
    """Check the main environment's isolation and the project's secrets."""
    env = project.env_dir
    target = main_target(project)
    rows = []
    try:
        body = locks.verify_lock(project, target)
    except EnvlockError as error:
        rows.append(row("lock trusted", False, str(error)))
    else:
        rows.append(row("lock trusted", True, target.output.name))
        kind = kind_for(project, tools, body)
        if not kind.python(env).exists():
            rows.append(row("environment exists", False, f"no {env.name}: run `nox -s setup`"))
        else:
            rows.append(row("environment exists", True, env.name))
            rows += isolation_rows(project, tools, kind)
    problems = secret_checks.problems(project.root)
    rows.append(row("secrets and .env", not problems, "; ".join(problems)))
    return all(r[1] == "ok" for r in rows), rows


def bootstrap_uv(root: Path, run: Callable[[list[str], dict[str, str]], object]) -> str:
    """Install uv into .nox once, for a nox that came without it."""
    env = root / ".nox" / "envlock-uv"
    uv = venvs.env_executable(env, "uv")
    if not uv.exists():
        run([sys.executable, "-m", "venv", str(env)], dict(os.environ))
        run([str(venvs.env_python(env)), "-m", "pip", "install", "--quiet", "uv"], dict(os.environ))
    return str(uv)
