"""Shared helpers: bake the template for real and run nox inside the baked project."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"
MATRIX_HERE = "3.10, 3.11, 3.12, 3.13"  # the Pythons pyenv has on the test machines

# The tests import tools/envlock from the template itself: no __pycache__ may appear
# there, or local bakes would copy it.
sys.dont_write_bytecode = True
sys.path.insert(0, str(PROJECT_TEMPLATE / "tools"))


def load_toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def bake(output_dir: Path, template: str | Path = TEMPLATE, **answers: str) -> Path:
    """Bake with cookiecutter's API, as `cookiecutter --no-input key=value ...` does.

    Clones and replays go to a folder of the test, not the user's ~/.cookiecutters.
    """
    answers.setdefault("python_versions", MATRIX_HERE)
    output_dir.mkdir(parents=True, exist_ok=True)
    state = output_dir.parent / f".cookiecutter-{output_dir.name}"
    state.mkdir(exist_ok=True)
    config = state / "config.yaml"
    config.write_text(f"cookiecutters_dir: {state / 'clones'}\nreplay_dir: {state / 'replay'}\n")
    made = cookiecutter(
        str(template),
        no_input=True,
        extra_context=answers,
        output_dir=str(output_dir),
        config_file=str(config),
    )
    return Path(made)


def bake_cli(output_dir: Path, *answers: str) -> subprocess.CompletedProcess:
    """Bake through the command line, to see exactly what a user sees."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--output-dir",
            str(output_dir),
            str(TEMPLATE),
            *answers,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def nox_env(**changes: str) -> dict[str, str]:
    """The environment nox runs in: the tests' own, without nox's or a venv's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOX", "VIRTUAL_ENV"))}
    env.update(changes)
    return env


@contextlib.contextmanager
def edited(path: Path, change: Callable[[str], str]) -> Iterator[None]:
    """``path`` as ``change`` makes it, for the duration; then restored byte for byte."""
    original = path.read_bytes()
    path.write_text(change(original.decode("utf-8")), encoding="utf-8")
    try:
        yield
    finally:
        path.write_bytes(original)


def run_nox(
    project: Path, *args: str, env: dict | None = None, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess:
    """Run the baked project's own noxfile with the nox of this test environment.

    nox logs to stderr; both streams end up in ``stdout``, in order.
    """
    result = subprocess.run(
        [sys.executable, "-m", "nox", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or nox_env(),
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"nox {' '.join(args)} failed ({result.returncode}):\n{result.stdout}")
    return result


@pytest.fixture(autouse=True, scope="session")
def git_identity():
    """Commits need an identity; give one to machines that have none configured."""
    configured = subprocess.run(
        ["git", "config", "user.email"], capture_output=True, text=True, check=False
    )
    if configured.returncode != 0 or not configured.stdout.strip():
        for role in ("AUTHOR", "COMMITTER"):
            os.environ.setdefault(f"GIT_{role}_NAME", "Template Tests")
            os.environ.setdefault(f"GIT_{role}_EMAIL", "tests@example.com")


@pytest.fixture
def baked(tmp_path: Path) -> Path:
    """A default bake (uv engine, venv, preset none) with this machine's matrix."""
    return bake(tmp_path / "out")


# --- conda: a real channel on 127.0.0.1, and the rattler tool environment ----------------


@pytest.fixture(scope="session")
def conda_packages(tmp_path_factory: pytest.TempPathFactory) -> list:
    """The channel's packages, built once per test run from wheels downloaded once."""
    import conda_channel

    folder = tmp_path_factory.mktemp("conda-packages")
    return conda_channel.build_packages(
        conda_channel.download_wheels(folder / "wheels"), folder / "built"
    )


@pytest.fixture
def channel(conda_packages: list, tmp_path: Path):
    """A conda channel holding every built package, served on 127.0.0.1 for the test."""
    import conda_channel

    with conda_channel.serve_channel(conda_packages, tmp_path / "channel") as served:
        yield served


@pytest.fixture(scope="session")
def rattler_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rattler tool environment, installed from the project's own tool lock exactly as
    the sessions install it into .nox/rattler."""
    env = tmp_path_factory.mktemp("tools") / "rattler"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    lock = PROJECT_TEMPLATE / "tools" / "envlock" / "tool-locks" / "py-rattler.txt"
    quiet = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run(
        [uv, "pip", "sync", "--quiet", "--require-hashes", "--python", str(python), str(lock)],
        check=True,
        env=quiet,
    )
    return python


# The real PyTorch CPU build that the nlp tests install. PyTorch's CPU index is not
# reachable from the test machines: a STAND-IN index on 127.0.0.1 serves the wheel this
# machine's pip can provide (there is one for Python 3.11), so the lock, the hash-checked
# install and the model run are real.
TORCH_CPU = "torch==2.13.0+cpu"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@pytest.fixture(scope="session")
def nlp_project(tmp_path_factory) -> Path:
    """An nlp bake for Python 3.11, locked and set up against the stand-in CPU index (its
    pyproject.toml names the stand-in, which is gone afterwards: the tests only read the
    locks and use the environment)."""
    from envlock import pythons
    from standin.torch_index import index_real_wheel, serve

    python = pythons.find_python("3.11")
    if python is None:
        pytest.skip(f"Python 3.11 is not installed: the only Python with a {TORCH_CPU} wheel here")
    folder = tmp_path_factory.mktemp("nlp")
    if index_real_wheel(folder / "index", python, TORCH_CPU) is None:
        pytest.skip(f"this machine's pip cannot provide a {TORCH_CPU} wheel to serve")
    made = bake(folder / "out", preset="nlp", python_version="3.11", python_versions="3.11")
    with serve(folder / "index") as url:
        pyproject = made / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace(TORCH_CPU_INDEX, url))
        run_nox(made, "-s", "setup")
    return made
