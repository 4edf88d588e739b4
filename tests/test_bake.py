"""Real bakes: the generated tree, its rendered files, and the first git commit."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE, bake, load_toml

EXPECTED_FILES = [
    ".env.example",
    ".gitignore",
    ".python-version",
    "README.md",
    "noxfile.py",
    "pyproject.toml",
    "requirements.in",
    "requirements-dev.in",
    "data/raw/.gitkeep",
    "data/processed/.gitkeep",
    "notebooks/.gitkeep",
    "src/my_project/__init__.py",
    "src/my_project/config.py",
    "tests/test_config.py",
    "tools/envlock/__init__.py",
    "tools/envlock/lockfiles.py",
    "tools/envlock/setup.py",
    "tools/envlock/backends/__init__.py",
]


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def tracked(project: Path) -> set[str]:
    return set(git(project, "ls-files").split())


def test_tree_and_first_commit(baked: Path):
    for name in EXPECTED_FILES:
        assert (baked / name).is_file(), name
    assert git(baked, "log", "--format=%s").strip() == "Initial project setup"
    assert git(baked, "status", "--porcelain") == ""
    assert set(EXPECTED_FILES) <= tracked(baked)


def test_env_is_created_private_and_never_committed(baked: Path):
    env = baked / ".env"
    assert env.read_text() == (baked / ".env.example").read_text()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert ".env" not in tracked(baked)
    assert ".env" in (baked / ".gitignore").read_text().split()
    assert git(baked, "check-ignore", ".env").strip() == ".env"


def test_no_jinja_is_left_and_config_files_parse(baked: Path):
    for path in baked.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = re.sub(r"\$\{\{.*?\}\}", "", path.read_text(encoding="utf-8"))  # GitHub's
            if path.parent.name != "envlock" and path.name != "noxfile.py":
                assert "{{" not in text and "{%" not in text, path
    pyproject = load_toml(baked / "pyproject.toml")
    assert pyproject["project"]["requires-python"] == ">=3.10"
    assert pyproject["tool"]["envlock"]["python-matrix"] == ["3.10", "3.11", "3.12", "3.13"]
    assert pyproject["tool"]["envlock"]["python"] == "3.12"


def test_python_version_file_lists_main_first_then_the_matrix(tmp_path: Path):
    project = bake(tmp_path, python_version="3.11", python_versions="3.13,3.10 3.11, 3.12")
    assert (project / ".python-version").read_text().split() == ["3.11", "3.10", "3.12", "3.13"]


@pytest.mark.parametrize("preset", ["none", "ml", "dl", "nlp"])
def test_presets_list_their_packages(tmp_path: Path, preset: str):
    project = bake(tmp_path, preset=preset)
    lines = (project / "requirements.in").read_text().splitlines()
    packages = {line for line in lines if line and not line.startswith("#")}
    expected = {
        "none": set(),
        "ml": {"numpy", "pandas", "scikit-learn", "matplotlib"},
        "dl": {"torch", "torchvision"},
        "nlp": {"transformers", "tokenizers"},
    }[preset]
    assert packages == {"python-dotenv"} | expected
    dev = (project / "requirements-dev.in").read_text().splitlines()
    stubs = ["pandas-stubs"] if preset == "ml" else []
    assert dev[2:] == ["-r requirements.in", "pytest", "ruff", "mypy", "pre-commit", *stubs]
    overrides = load_toml(project / "pyproject.toml")["tool"]["mypy"].get("overrides", [])
    untyped = {"ml": ["sklearn", "sklearn.*"], "dl": ["torchvision", "torchvision.*"]}
    assert overrides == (
        [{"module": untyped[preset], "ignore_missing_imports": True}] if preset in untyped else []
    )


def test_baked_project_passes_ruff(baked: Path):
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    subprocess.run([ruff, "check", "."], cwd=baked, check=True)
    subprocess.run([ruff, "format", "--check", "."], cwd=baked, check=True)


def test_no_git_init_when_declined(tmp_path: Path):
    project = bake(tmp_path, init_git="no")
    assert not (project / ".git").exists()
    assert (project / "noxfile.py").is_file()


def test_bake_without_git_identity_leaves_staged_repo(tmp_path: Path, capfd):
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "EMAIL": "",
        "GIT_AUTHOR_NAME": "",
        "GIT_COMMITTER_NAME": "",
        "GIT_AUTHOR_EMAIL": "",
        "GIT_COMMITTER_EMAIL": "",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        project = bake(tmp_path / "out")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    out = capfd.readouterr().out
    assert "git could not commit" in out
    assert "README.md" in git(project, "diff", "--cached", "--name-only")
    assert ".env" not in git(project, "diff", "--cached", "--name-only").split()


def test_bake_without_git_says_so_and_succeeds(tmp_path: Path):
    bin_dir = tmp_path / "bin"  # a PATH with Python but no git
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "-o",
            str(tmp_path / "out"),
            str(TEMPLATE),
            "python_versions=3.12",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(bin_dir)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "git not found" in result.stdout
    project = tmp_path / "out" / "my-project"
    assert (project / "pyproject.toml").is_file() and not (project / ".git").exists()


def test_bake_from_a_git_url(tmp_path: Path):
    """The path `cookiecutter gh:ORG/REPO` takes: a clone of the template's git repository."""
    clone = tmp_path / "template"
    shutil.copytree(
        TEMPLATE,
        clone,
        ignore=shutil.ignore_patterns(".git", ".nox", ".venv*", "__pycache__", "demo"),
    )
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    git(clone, "add", "-A")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "t")
    project = bake(tmp_path / "out", template=f"git+file://{clone}")
    assert (project / "tools" / "envlock" / "setup.py").is_file()
    assert os.access(project / "noxfile.py", os.X_OK)
    assert git(project, "log", "--format=%s").strip() == "Initial project setup"


@pytest.mark.parametrize("lock_engine", ["uv", "pip-tools"])
@pytest.mark.parametrize("preset", ["none", "ml", "dl", "nlp"])
def test_every_engine_and_preset_bakes_a_consistent_project(
    tmp_path: Path, lock_engine: str, preset: str
):
    project = bake(tmp_path / "out", lock_engine=lock_engine, preset=preset, init_git="no")
    settings = load_toml(project / "pyproject.toml")["tool"]["envlock"]
    assert settings["lock-engine"] == lock_engine
    assert settings["env-manager"] == "venv"
    readme = (project / "README.md").read_text()
    assert ("uv pip compile --universal" in readme) == (lock_engine == "uv")
    assert ("requirements-dev-pyX.Y.txt" in readme) == (lock_engine == "pip-tools")
    assert not (project / "environment.yml").exists()
