"""The secrets checks, `nox -s doctor` (the isolation check) and the offline pre-commit hooks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import bake, nox_env, run_nox
from envlock import secret_checks

REAL_LOOKING = {
    "OPENAI_KEY": "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8t",
    "AWS_KEY": "AKIA" + "IOSFODNN7EXAMPLE",
    "TOKEN": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "RANDOM": "q8Zr2LmX0vT7yW4kN9bJ3cH6fD1sG5pA",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.mark.parametrize("value", sorted(REAL_LOOKING.values()))
def test_real_looking_values_are_flagged(value: str):
    assert secret_checks.looks_secret(value)


@pytest.mark.parametrize(
    "value",
    [
        "replace-me",
        "",
        "INFO",
        "data",
        "changeme",
        "your-key-here",
        "postgresql://user:password@localhost:5432/db",
    ],
)
def test_placeholders_pass(value: str):
    assert secret_checks.looks_secret(value) is None


def test_env_file_reader():
    path = Path(__file__).parent / "fixtures" / "sample.env"
    assert secret_checks.read_env_file(path) == {
        "PLAIN": "value",
        "QUOTED": "two words",
        "EXPORTED": "yes",
        "COMMENTED": "kept",
        "EMPTY": "",
        "HASH_IN_QUOTES": "a # b",
    }


def test_problems_name_keys_and_files_never_values(tmp_path: Path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".env.example").write_text(
        "".join(f"{key}={value}\n" for key, value in REAL_LOOKING.items()) + "SAFE=replace-me\n"
    )
    (tmp_path / ".env").write_text("SAFE=x\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / ".env.local").write_text("X=1\n")
    git(tmp_path, "add", "-f", "config/.env.local", ".env.example")
    found = secret_checks.problems(tmp_path)
    text = "\n".join(found)
    assert "config/.env.local is tracked by git" in text
    for key in REAL_LOOKING:
        assert f".env.example: {key} holds what looks like" in text
    assert ".env lacks AWS_KEY, OPENAI_KEY, RANDOM, TOKEN" in text
    for value in REAL_LOOKING.values():
        assert value not in text


def test_a_fresh_bake_has_no_secret_problems(tmp_path: Path):
    assert secret_checks.problems(bake(tmp_path / "out")) == []


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    made = bake(tmp_path_factory.mktemp("checks") / "out")
    run_nox(made, "-s", "setup")
    return made


def doctor(project: Path) -> tuple[int, dict]:
    result = run_nox(project, "-s", "doctor", "--", "--json", check=False)
    start = result.stdout.index("{\n")
    end = result.stdout.index("\n}", start) + 2
    return result.returncode, json.loads(result.stdout[start:end])


def failed(report: dict) -> dict[str, str]:
    return {c["check"]: c["detail"] for c in report["checks"] if c["result"] != "ok"}


@pytest.mark.slow
def test_doctor_passes_on_a_fresh_setup(project: Path):
    code, report = doctor(project)
    assert code == 0 and report["ok"] is True, report
    names = [c["check"] for c in report["checks"]]
    assert names == [
        "lock trusted",
        "environment exists",
        "Python version",
        "global site-packages hidden",
        "installed = lock",
        "dependencies consistent",
        "only locked modules import",
        "secrets and .env",
    ]
    table = run_nox(project, "-s", "doctor").stdout
    assert "global site-packages hidden  ok" in table


@pytest.mark.slow
def test_doctor_catches_an_unlocked_package_and_a_missing_module(project: Path):
    python = project / ".venv" / "bin" / "python"
    uv = [sys.executable, "-m", "uv", "pip"]
    subprocess.run([*uv, "install", "--quiet", "--python", str(python), "requests"], check=True)
    try:
        code, report = doctor(project)
    finally:
        subprocess.run(
            [
                *uv,
                "uninstall",
                "--quiet",
                "--python",
                str(python),
                "requests",
                "urllib3",
                "idna",
                "certifi",
                "charset-normalizer",
            ],
            check=True,
        )
    problems = failed(report)
    assert code != 0
    assert "not in the lock: requests==" in problems["installed = lock"]
    assert "requests importable but not locked" in problems["only locked modules import"]


@pytest.mark.slow
def test_doctor_catches_visible_global_site_packages(project: Path):
    config = project / ".venv" / "pyvenv.cfg"
    original = config.read_text()
    config.write_text(
        original.replace(
            "include-system-site-packages = false", "include-system-site-packages = true"
        )
    )
    try:
        code, report = doctor(project)
    finally:
        config.write_text(original)
    assert code != 0
    assert "global site-packages hidden" in failed(report)


@pytest.mark.slow
def test_doctor_reports_env_problems_and_a_missing_env(tmp_path: Path):
    made = bake(tmp_path / "out")
    run_nox(made, "-s", "lock")
    (made / ".env").write_text("DATA_DIR=data\n")
    code, report = doctor(made)
    problems = failed(report)
    assert code != 0
    assert problems["environment exists"] == "no .venv: run `nox -s setup`"
    assert ".env lacks API_TOKEN, LOG_LEVEL" in problems["secrets and .env"]


# What a project of each preset imports first; mypy (strict) must accept it as it is.
PRESET_IMPORTS = {
    "none": ["dotenv"],
    "ml": ["matplotlib.pyplot", "numpy", "pandas", "sklearn.linear_model"],
    "nlp": ["tokenizers", "transformers"],
}


@pytest.fixture(scope="module", params=sorted(PRESET_IMPORTS))
def set_up(request, tmp_path_factory) -> tuple[Path, str]:
    """A venv bake of each preset that installs here (dl needs gigabytes of torch, conda a
    solver), after a real `nox -s setup`."""
    made = bake(tmp_path_factory.mktemp(f"hooks-{request.param}") / "out", preset=request.param)
    run_nox(made, "-s", "setup")
    return made, request.param


@pytest.mark.slow
def test_pre_commit_runs_every_hook_offline_after_setup_and_catches_problems(
    set_up: tuple[Path, str], tmp_path
):
    project, preset = set_up
    package = next(p for p in (project / "src").iterdir() if p.is_dir())
    imports = PRESET_IMPORTS[preset]
    (package / "uses_preset.py").write_text(
        '"""The preset\'s packages, as a project would import them."""\n\n'
        + "".join(f"import {name}\n" for name in sorted(imports))
        + f"\n__all__ = {json.dumps(sorted({name.split('.')[0] for name in imports}))}\n"
    )
    offline = nox_env(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        UV_OFFLINE="1",
        PIP_NO_INDEX="1",
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
    )
    pre_commit = [sys.executable, "-m", "pre_commit", "run", "--all-files"]

    def run() -> subprocess.CompletedProcess:
        git(project, "add", "-A")
        return subprocess.run(
            pre_commit, cwd=project, env=offline, capture_output=True, text=True, check=False
        )

    first = run()
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("Passed") == 7
    assert "skipped" not in first.stdout
    assert "Success: no issues found" in first.stdout  # mypy ran, with the locked packages

    example = project / ".env.example"
    original = example.read_text()
    example.write_text(original + f"OPENAI_KEY={REAL_LOOKING['OPENAI_KEY']}\n")
    requirements = project / "requirements.in"
    requirements_before = requirements.read_text()
    requirements.write_text(requirements_before + "six\n")
    broken = package / "broken.py"
    broken.write_text('"""Wrong."""\n\nimport os\n\n\ndef answer() -> int:\n    return "42"\n')
    try:
        second = run()
    finally:
        example.write_text(original)
        requirements.write_text(requirements_before)
        broken.unlink()
        git(project, "add", "-A")
    assert second.returncode != 0
    assert "F401" in second.stdout  # the unused import, found by ruff
    assert "Incompatible return value type" in second.stdout  # mypy
    assert ".env.example: OPENAI_KEY holds what looks like" in second.stdout
    assert "is out of date with the *.in files" in second.stdout
    assert REAL_LOOKING["OPENAI_KEY"] not in second.stdout
