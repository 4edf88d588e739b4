"""The conda path through conda-lock's command line (conda-solver = micromamba, mamba,
conda, or "" for the first on PATH), and what every conda bake shares.

No conda, mamba or micromamba can be installed on the machines that run these tests, so
the command-line solvers are a STAND-IN (tests/standin/conda_solver.py) that records its
arguments and can be told to fail; the tests that use it say so in their names. What is
real: environment.yml parsed by conda-lock's own parser, a hand-written conda-lock.yml
fixture read by conda-lock's own lock file parser, the real conda-lock (from PyPI)
driving the sessions, and our comparison of a prefix with its lock. The built-in solver
(rattler) solves and installs for real against a local channel: test_conda_rattler.py
and test_conda_e2e.py.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from conftest import bake, load_toml, nox_env, run_nox
from envlock import EnvlockError
from envlock import conda_lock_cli as conda
from envlock import lockfiles as locks
from envlock.backends.conda_cli import conda_lock_target
from envlock.comparison import compare
from envlock.settings import load_project

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
STANDIN = HERE / "standin" / "conda_solver.py"
PRESET_CONDA_PACKAGES = {
    "none": set(),
    "ml": {"numpy", "pandas", "scikit-learn", "matplotlib-base", "pandas-stubs"},
    "dl": {"pytorch", "torchvision"},
    "nlp": {"transformers", "tokenizers", "pytorch"},
}
JUPYTER = {"jupyterlab", "ipykernel", "nbstripout"}  # notebooks=auto: every preset but none


# --- environment.yml, read by conda-lock ----------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESET_CONDA_PACKAGES))
def test_environment_yml_parses_with_conda_lock(tmp_path: Path, preset: str):
    from conda_lock.src_parser import make_lock_spec

    project = bake(tmp_path / "out", env_manager="conda", preset=preset, init_git="no")
    spec = make_lock_spec(
        src_files=[project / "environment.yml"], mapping_url=str(FIXTURES / "pypi-to-conda.json")
    )
    assert sorted(spec.platforms) == ["linux-64", "osx-64", "osx-arm64", "win-64"]
    assert [c.url for c in spec.channels] == ["conda-forge"]  # nodefaults: no defaults
    for platform in spec.platforms:
        deps = {d.name: d for d in spec.dependencies[platform]}
        assert deps["python"].version == "3.12.*"  # conda-lock reads python=3.12 so
        expected = {"pip", "python-dotenv", "pytest", "ruff", "mypy", "pre-commit", "coverage"}
        expected |= PRESET_CONDA_PACKAGES[preset] | (JUPYTER if preset != "none" else set())
        assert expected == set(deps) - {"python"}
        assert all(d.manager == "conda" for d in deps.values())


def test_conda_bake_has_its_settings_and_venv_bake_has_no_environment_yml(tmp_path: Path):
    project = bake(tmp_path / "conda", env_manager="conda", init_git="no")
    settings = load_toml(project / "pyproject.toml")["tool"]["envlock"]
    assert settings["env-manager"] == "conda" and settings["conda-prefix"] == ".conda"
    assert ".conda" in (project / ".gitignore").read_text().split()
    readme = (project / "README.md").read_text()
    assert "conda activate ./.conda" in readme
    assert "source .conda/etc/envlock/activate.sh" in readme
    assert "conda-mirrors = {" in readme and "python is a stand-in" in readme
    assert settings["conda-solver"] == "rattler"  # the built-in solver, for new bakes
    venv = bake(tmp_path / "venv", init_git="no")
    assert not (venv / "environment.yml").exists()


# --- conda-lock.yml, read by conda-lock, compared with `conda list --json` -------------


def fixture_list() -> list[dict]:
    return json.loads((FIXTURES / "conda-list.json").read_text())


def test_fixture_lock_matches_the_recorded_conda_list():
    locked = conda.locked_packages(FIXTURES / "conda-lock.yml", "linux-64")
    assert locked["python"] == "3.11.7 h955ad1f_0_cpython"
    assert locked["python-dotenv"] == "1.0.1 pyhd8ed1ab_0"
    result = compare(locked, conda.listed_packages(fixture_list()), ignore={"my-project"})
    assert result.matches, result.problems()


def test_comparison_catches_other_builds_versions_extras_and_missing():
    listed = fixture_list()
    for entry in listed:
        if entry["name"] == "python":
            entry["build_string"] = "h0000000_1_cpython"  # same version, other build
        if entry["name"] == "pytest":
            entry["version"] = "8.3.0"
    listed = [e for e in listed if e["name"] != "libzlib"]
    listed.append(
        {
            "name": "six",
            "version": "1.16.0",
            "build_string": "pyh6c4a22f_0",
            "channel": "conda-forge",
        }
    )
    locked = conda.locked_packages(FIXTURES / "conda-lock.yml", "linux-64")
    result = compare(locked, conda.listed_packages(listed), ignore={"my-project"})
    assert result.missing == {"libzlib": "1.3.1 h4ab18f5_1"}
    assert result.extra == {"six": "1.16.0 pyh6c4a22f_0"}
    assert set(result.different) == {"python", "pytest"}


def test_lock_without_this_platform_is_explained():
    with pytest.raises(EnvlockError, match=r"no packages for osx-arm64.*nox -s lock"):
        conda.locked_packages(FIXTURES / "conda-lock.yml", "osx-arm64")


@pytest.mark.parametrize(
    ("system", "machine", "subdir"),
    [
        ("linux", "x86_64", "linux-64"),
        ("linux", "aarch64", "linux-aarch64"),
        ("darwin", "x86_64", "osx-64"),
        ("darwin", "arm64", "osx-arm64"),
        ("win32", "AMD64", "win-64"),
    ],
)
def test_conda_subdir(system: str, machine: str, subdir: str):
    assert conda.conda_subdir(system, machine) == subdir


# --- which solver, and the exact commands ----------------------------------------------


def solver_bin(tmp_path: Path, *names: str) -> Path:
    """A folder holding the stand-in under the given solver names."""
    folder = tmp_path / "solvers"
    folder.mkdir(exist_ok=True)
    for name in names:
        wrapper = folder / name
        wrapper.write_text(
            f'#!/bin/sh\nSTANDIN_NAME={name} exec "{sys.executable}" "{STANDIN}" "$@"\n'
        )
        wrapper.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("on_path", "forced", "chosen"),
    [
        (("micromamba", "mamba", "conda"), None, "micromamba"),
        (("mamba", "conda"), None, "mamba"),
        (("conda",), None, "conda"),
        (("micromamba", "mamba", "conda"), "conda", "conda"),
    ],
)
def test_solver_preference(tmp_path: Path, on_path, forced, chosen):
    folder = solver_bin(tmp_path, *on_path)
    solver = conda.find_solver(forced, {"PATH": str(folder)})
    assert solver == conda.Solver(chosen, str(folder / chosen))


def test_no_solver_names_all_three(tmp_path: Path):
    with pytest.raises(EnvlockError) as caught:
        conda.find_solver(None, {"PATH": str(tmp_path)})
    assert all(name in str(caught.value) for name in ("micromamba", "mamba", "conda"))
    with pytest.raises(EnvlockError, match="conda-solver = 'mamba'"):
        conda.find_solver("mamba", {"PATH": str(tmp_path)})


@pytest.mark.parametrize("kind", ["micromamba", "mamba", "conda"])
def test_exact_commands(kind: str):
    solver = conda.Solver(kind, f"/opt/x/bin/{kind}")
    tool = ["py", "-m", "conda_lock"]
    assert conda.lock_argv(tool, solver, Path("/p/environment.yml"), Path("/p/.scratch"), []) == [
        "py",
        "-m",
        "conda_lock",
        "lock",
        "--conda",
        f"/opt/x/bin/{kind}",
        "--file",
        "environment.yml",
        "--lockfile",
        "/p/.scratch",
    ]
    assert conda.install_argv(tool, solver, Path("/p/.conda"), Path("/p/conda-lock.yml")) == [
        "py",
        "-m",
        "conda_lock",
        "install",
        "--conda",
        f"/opt/x/bin/{kind}",
        "--prefix",
        "/p/.conda",
        "/p/conda-lock.yml",
    ]
    assert conda.list_argv(solver, Path("/p/.conda")) == [
        f"/opt/x/bin/{kind}",
        "list",
        "--json",
        "--prefix",
        "/p/.conda",
    ]


def test_upgrade_options_are_translated_for_conda_lock():
    assert conda.update_args(["--upgrade"]) == ([], True)
    assert conda.update_args(["--upgrade-package", "numpy", "-P", "pandas"]) == (
        ["--update", "numpy", "--update", "pandas"],
        False,
    )
    assert conda.update_args(["--upgrade-package=numpy"]) == (["--update", "numpy"], False)


# --- the sessions, with the stand-in solver --------------------------------------------


def path_without_solvers() -> str:
    return os.pathsep.join(
        p
        for p in os.environ["PATH"].split(os.pathsep)
        if not any((Path(p) / s).exists() for s in conda.SOLVERS)
    )


def standin_env(tmp_path: Path, *names: str, **settings: str) -> dict[str, str]:
    folder = solver_bin(tmp_path, *names)
    return nox_env(
        PATH=os.pathsep.join([str(folder), path_without_solvers()]),
        STANDIN_LOG=str(tmp_path / "solver-calls.jsonl"),
        STANDIN_LIST=str(FIXTURES / "conda-list.json"),
        STANDIN_PYTHON=sys._base_executable,
        STANDIN_SITE=sysconfig.get_paths()["purelib"],
        **settings,
    )


def solver_calls(tmp_path: Path) -> list[dict]:
    log = tmp_path / "solver-calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def use_conda_cli(project: Path, solver: str = "") -> Path:
    """A conda bake switched from the built-in solver to conda-lock's command line
    (``solver``, or the first of micromamba, mamba and conda on PATH)."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert 'conda-solver = "rattler"' in text
    pyproject.write_text(text.replace('conda-solver = "rattler"', f'conda-solver = "{solver}"'))
    return project


@pytest.fixture
def conda_project(tmp_path: Path) -> Path:
    """A conda bake for this test machine's Python on conda-lock's command line (the
    stand-in solver), with the fixture as its lock. The sessions trust a lock only with
    its whole set, so the pip locks are written too, empty: only `tests` and `lint` would
    install them, and these tests run neither."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    project = use_conda_cli(
        bake(tmp_path / "out", env_manager="conda", python_version=python, python_versions=python)
    )
    settings = load_project(project)
    target = conda_lock_target(settings)
    members = [*locks.lock_targets(settings), target]
    bodies = {m.output.relative_to(project).as_posix(): "" for m in members}
    bodies[target.output.name] = (FIXTURES / "conda-lock.yml").read_text()
    for member in members:
        body = bodies[member.output.relative_to(project).as_posix()]
        member.output.write_text(locks.render_lock(settings, member, body, lock_set=bodies))
    return project


def test_missing_solver_fails_at_once_with_the_message(tmp_path: Path):
    project = use_conda_cli(bake(tmp_path / "out", env_manager="conda"))
    started = time.monotonic()
    result = run_nox(
        project, "-s", "setup", env=nox_env(PATH=path_without_solvers()), check=False, timeout=60
    )
    took = time.monotonic() - started
    assert result.returncode != 0
    assert conda.NO_SOLVER in result.stdout, result.stdout
    print(f"missing-solver message after {took:.1f} s")
    assert not (project / "conda-lock.yml").exists() and not (project / ".conda").exists()


@pytest.mark.slow
def test_standin_setup_installs_the_prefix_through_conda_lock(tmp_path: Path, conda_project):
    env = standin_env(tmp_path, "micromamba", "mamba", "conda")
    result = run_nox(conda_project, "-s", "setup", env=env)
    prefix = conda_project / ".conda"
    creates = [c for c in solver_calls(tmp_path) if c["argv"][:1] == ["create"]]
    assert len(creates) == 1 and creates[0]["tool"] == "micromamba"
    assert creates[0]["argv"][creates[0]["argv"].index("--prefix") + 1] == str(prefix)
    assert (prefix / "envlock-state.json").exists()
    assert "conda activate ./.conda" in result.stdout
    again = run_nox(conda_project, "-s", "setup", env=env)
    assert "nothing to install" in again.stdout
    assert len([c for c in solver_calls(tmp_path) if c["argv"][:1] == ["create"]]) == 1


@pytest.mark.slow
def test_standin_rebuild_verifies_then_replaces_the_prefix(tmp_path: Path, conda_project):
    env = standin_env(tmp_path, "mamba", "conda")
    run_nox(conda_project, "-s", "setup", env=env)
    marker = conda_project / ".conda" / "old-prefix-marker"
    marker.touch()
    run_nox(conda_project, "-s", "rebuild", env=env)
    report = json.loads((conda_project / "rebuild-report.json").read_text())
    assert report["ok"] is True and report["env"] == ".conda"
    assert [c["result"] for c in report["checks"]] == ["ok"] * 4
    prefixes = [
        c["argv"][c["argv"].index("--prefix") + 1]
        for c in solver_calls(tmp_path)
        if c["argv"][:1] == ["create"]
    ]
    root = str(conda_project)
    assert prefixes == [f"{root}/.conda", f"{root}/.conda.new", f"{root}/.conda"]
    assert {c["tool"] for c in solver_calls(tmp_path)} == {"mamba"}
    assert not marker.exists()
    assert not (conda_project / ".conda.new").exists()
    assert not (conda_project / ".conda.old").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fail_after", [1, 2], ids=["building-beside", "putting-in-place"])
def test_standin_failure_in_the_middle_of_rebuild_keeps_the_old_prefix(
    tmp_path: Path, conda_project, fail_after: int
):
    run_nox(conda_project, "-s", "setup", env=standin_env(tmp_path, "micromamba"))
    marker = conda_project / ".conda" / "old-prefix-marker"
    marker.touch()
    env = standin_env(
        tmp_path, "micromamba", STANDIN_FAIL_ON="create", STANDIN_FAIL_AFTER=str(fail_after)
    )
    result = run_nox(conda_project, "-s", "rebuild", env=env, check=False)
    assert result.returncode != 0
    assert marker.exists()
    assert (conda_project / ".conda" / "envlock-state.json").exists()
    assert not (conda_project / ".conda.new").exists()
    assert not (conda_project / ".conda.old").exists()


@pytest.mark.slow
def test_standin_stale_conda_lock_stops_setup(tmp_path: Path, conda_project):
    environment = conda_project / "environment.yml"
    environment.write_text(environment.read_text().replace("  - pip\n", "  - pip\n  - six\n"))
    result = run_nox(
        conda_project, "-s", "setup", env=standin_env(tmp_path, "micromamba"), check=False
    )
    assert result.returncode != 0
    assert (
        "conda-lock.yml is out of date with environment.yml (or conda-lock's version): "
        "run `nox -s lock`" in result.stdout
    )
    assert solver_calls(tmp_path) == []


@pytest.mark.slow
def test_standin_failed_solve_leaves_the_conda_lock_unchanged(tmp_path: Path, conda_project):
    lock = conda_project / "conda-lock.yml"
    before = lock.read_bytes()
    (conda_project / "environment.yml").write_text(
        (conda_project / "environment.yml").read_text() + "\n"
    )
    result = run_nox(
        conda_project, "-s", "lock", env=standin_env(tmp_path, "micromamba"), check=False
    )
    assert result.returncode != 0
    assert lock.read_bytes() == before
    assert not list(conda_project.glob(".conda-lock.yml*"))
    lock_calls = [c for c in solver_calls(tmp_path) if c["argv"][:1] not in (["--version"],)]
    assert lock_calls, "conda-lock never called the solver"
