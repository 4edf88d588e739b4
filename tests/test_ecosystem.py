"""A fresh bake against the tools of its ecosystem: ruff, mypy, validate-pyproject, the
GitHub workflow schema, sp-repo-review, pre-commit offline, cruft, and locks of the
heavier presets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE, bake, load_toml, run_nox
from standin.torch_index import build_index
from standin.torch_index import serve as serve_index

BIN = Path(sys.executable).parent
COMBINATIONS = [(m, p) for m in ("venv", "conda") for p in ("none", "ml", "dl", "nlp")]
# Hooks that run the project's own locked tools from its environment (made by
# `nox -s setup`, which needs the preset's packages): in a fresh bake they say they are
# skipped; test_checks.py runs them for real after a real setup. The same tools are run
# here from this test environment instead (test_ruff_and_mypy).
ENVIRONMENT_HOOKS = ("ruff check", "ruff format", "mypy", "locks match their inputs")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
SKIPPED = "skipped: the project has no environment (.venv or .conda) yet"


def tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / name), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module", params=COMBINATIONS, ids=[f"{m}-{p}" for m, p in COMBINATIONS])
def fresh(request, tmp_path_factory) -> Path:
    manager, preset = request.param
    return bake(
        tmp_path_factory.mktemp(f"{manager}-{preset}") / "out", env_manager=manager, preset=preset
    )


def test_ruff_and_mypy(fresh: Path):
    # The preset's packages are not in this environment (the nlp sample test imports torch
    # and transformers): mypy takes them as Any here; test_checks.py type-checks with them
    # installed, after a real setup.
    mypy = ("mypy", "--ignore-missing-imports")
    for args in (("ruff", "check", "."), ("ruff", "format", "--check", "."), mypy):
        result = tool(*args, cwd=fresh)
        assert result.returncode == 0, result.stdout + result.stderr


def test_validate_pyproject(fresh: Path):
    result = tool("validate-pyproject", "pyproject.toml", cwd=fresh)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("email", ["", "   "])
def test_an_empty_email_bakes_authors_without_one(tmp_path: Path, email: str):
    """The prompt allows an empty e-mail: the author then has a name only (validate-pyproject
    refuses ``email = ""``)."""
    project = bake(tmp_path / "out", author_email=email, init_git="no")
    assert load_toml(project / "pyproject.toml")["project"]["authors"] == [{"name": "Your Name"}]
    result = tool("validate-pyproject", "pyproject.toml", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_their_schemas(fresh: Path):
    workflow = fresh / ".github" / "workflows" / "ci.yml"
    for schema, path in (
        ("vendor.github-workflows", workflow),
        ("vendor.dependabot", fresh / ".github" / "dependabot.yml"),
    ):
        result = tool("check-jsonschema", "--builtin-schema", schema, str(path), cwd=fresh)
        assert result.returncode == 0, result.stdout + result.stderr
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    assert set(jobs) == {"lint", "tests", "rebuild", "coverage", "zizmor"}
    uploads = [s for s in jobs["tests"]["steps"] if s.get("uses", "").startswith("actions/upload")]
    assert [s["with"]["path"] for s in uploads] == [".coverage.*"]
    assert uploads[0]["with"]["include-hidden-files"] is True  # .coverage.* are hidden files
    combine = jobs["coverage"]
    assert combine["needs"] == "tests"
    assert {"run": "nox -s coverage"} in combine["steps"]
    download = next(s for s in combine["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"] == {"pattern": "coverage-data-*", "merge-multiple": True}
    report = combine["steps"][-1]
    assert report["uses"].startswith("actions/upload-artifact")
    assert report["with"]["path"].split() == ["coverage.xml", "htmlcov/"]
    assert jobs["tests"]["strategy"]["matrix"]["os"] == [
        "ubuntu-latest",
        "macos-latest",
        "windows-latest",
    ]
    assert jobs["tests"]["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12", "3.13"]
    steps = [s.get("uses", "") for s in jobs["rebuild"]["steps"]]
    assert any(s.startswith("actions/upload-artifact") for s in steps)
    # conda bakes too: their built-in solver needs no conda on the runner
    assert not any(s.startswith("mamba-org/setup-micromamba") for s in steps)


def test_repo_review_passes_with_only_the_documented_exceptions(fresh: Path):
    result = tool("repo-review", ".", "--format", "json", cwd=fresh)
    report = json.loads(result.stdout)
    failed = [name for name, check in report["checks"].items() if check["result"] is False]
    assert failed == [] and result.returncode == 0, failed
    nox_checks = {n: c["result"] for n, c in report["checks"].items() if n.startswith("NOX")}
    assert nox_checks and all(nox_checks.values()), nox_checks
    ignored = load_toml(fresh / "pyproject.toml")["tool"]["repo-review"]["ignore"]
    readme = (TEMPLATE / "README.md").read_text()
    for name in ignored:
        assert f"`{name}`" in readme, f"{name} is ignored but not explained in README.md"


def test_pre_commit_runs_offline(fresh: Path, tmp_path: Path):
    subprocess.run(["git", "add", "-A"], cwd=fresh, check=True)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "home"),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "PIP_NO_INDEX": "1",
        "UV_OFFLINE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=fresh,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Passed") == 7, result.stdout
    assert result.stdout.count(SKIPPED) == len(ENVIRONMENT_HOOKS), result.stdout
    for name in ENVIRONMENT_HOOKS:
        section = result.stdout.split(name, 1)[1].split("\n\n", 2)[1]
        assert section.startswith(SKIPPED), (name, result.stdout)
    config = yaml.safe_load((fresh / ".pre-commit-config.yaml").read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"]


def test_run_in_venv_skips_only_when_asked_and_only_without_an_environment(tmp_path: Path):
    made = bake(tmp_path / "out")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "tools/run_in_venv.py", *args],
            cwd=made,
            capture_output=True,
            text=True,
            check=False,
        )

    skipped = run("--skip-without-env", "ruff", "check")
    assert skipped.returncode == 0 and skipped.stdout.startswith(SKIPPED)
    assert len(skipped.stdout.splitlines()) == 1 and "`nox -s setup` makes it" in skipped.stdout
    asked = run("ruff", "check")
    assert asked.returncode == 1
    assert asked.stderr.strip() == (
        "ruff is not in the project's environment: run `nox -s setup` first"
    )
    (made / ".venv" / "bin").mkdir(parents=True)
    broken = run("--skip-without-env", "ruff", "check")
    assert broken.returncode == 1 and "run `nox -s setup` first" in broken.stderr


def test_run_in_venv_finds_tools_per_platform(tmp_path: Path):
    sys.path.insert(0, str(TEMPLATE / "{{cookiecutter.project_slug}}" / "tools"))
    try:
        from run_in_venv import find_tool
    finally:
        sys.path.pop(0)
    (tmp_path / ".venv" / "Scripts").mkdir(parents=True)
    (tmp_path / ".venv" / "Scripts" / "ruff.exe").touch()
    (tmp_path / ".conda" / "bin").mkdir(parents=True)
    (tmp_path / ".conda" / "bin" / "mypy").touch()
    assert find_tool(tmp_path, "ruff", "win32") == tmp_path / ".venv" / "Scripts" / "ruff.exe"
    assert find_tool(tmp_path, "ruff", "linux") is None
    assert find_tool(tmp_path, "mypy", "linux") == tmp_path / ".conda" / "bin" / "mypy"


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "packages"), [("dl-cuda", ["torch", "torchvision"])])
def test_heavier_presets_lock(tmp_path: Path, preset: str, packages: list[str]):
    """Compile only: installing these is left to the user's machine."""
    # dl-cuda: PyPI's builds (the CPU index of preset=dl is not reachable from the test machines)
    made = bake(tmp_path / "out", preset=preset)
    run_nox(made, "-s", "lock")
    runtime = (made / "requirements.txt").read_text()
    for package in packages:
        assert f"\n{package}==" in runtime, package


@pytest.mark.slow
def test_nlp_locks_pytorchs_cpu_build(nlp_project: Path):
    """Locked (and installed) against conftest's stand-in CPU index with the real wheel."""
    runtime = (nlp_project / "requirements.txt").read_text()
    for package in ("transformers", "tokenizers", "torch"):
        assert f"\n{package}==" in runtime, package
    assert "\ntorch==2.13.0+cpu \\\n    --hash=sha256:" in runtime
    assert "nvidia" not in runtime  # none of the CUDA wheels


@pytest.mark.parametrize("manager", ["venv", "conda"])
def test_torch_variant_reaches_the_lock_settings(tmp_path: Path, manager: str):
    cpu = bake(tmp_path / "cpu", preset="dl", env_manager=manager)
    cuda = bake(tmp_path / "cuda", preset="dl-cuda", env_manager=manager)
    cpu_settings = load_toml(cpu / "pyproject.toml")["tool"]["envlock"]
    assert cpu_settings["extra-index-urls"] == [TORCH_CPU_INDEX]
    assert "extra-index-urls" not in load_toml(cuda / "pyproject.toml")["tool"]["envlock"]
    assert "CPU build" in (cpu / "README.md").read_text()
    if manager == "conda":
        deps = yaml.safe_load((cpu / "environment.yml").read_text())["dependencies"]
        assert "pytorch=*=cpu*" in deps
        assert (
            "pytorch=*=cuda*"
            in yaml.safe_load((cuda / "environment.yml").read_text())["dependencies"]
        )


@pytest.mark.slow
def test_torch_variant_cpu_survives_into_the_lock_and_the_install(tmp_path: Path):
    """The CPU index is a STAND-IN (tests/standin/torch_index.py) serving torch 2.15.0+cpu on
    127.0.0.1, since PyTorch's real index is not reachable from the test machines. What is
    real: the baked setting, uv's resolution against both indexes, the hash-pinned lock and
    the hash-checked install from it."""
    made = bake(tmp_path / "out", preset="dl")
    build_index(tmp_path / "index", "torch", "2.15.0+cpu")
    with serve_index(tmp_path / "index") as url:
        pyproject = made / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace(TORCH_CPU_INDEX, url))
        assert load_toml(pyproject)["tool"]["envlock"]["extra-index-urls"] == [url]
        run_nox(made, "-s", "setup")
    for lock in ("requirements.txt", "requirements-dev.txt"):
        text = (made / lock).read_text()
        assert "\ntorch==2.15.0+cpu \\\n    --hash=sha256:" in text, lock
        assert "nvidia" not in text, lock  # none of the CUDA wheels
        assert url not in text, lock  # the index is a setting, not written into the lock
    venv = str(made / ".venv")
    listed = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "list", "--format", "json", "--python", venv],
        capture_output=True,
        text=True,
        check=True,
    )
    versions = {p["name"]: p["version"] for p in json.loads(listed.stdout)}
    assert versions["torch"] == "2.15.0+cpu"
    assert "torchvision" in versions


@pytest.mark.slow
def test_cruft_create_check_and_update(tmp_path: Path):
    """A project made with cruft from a git clone of the template takes a later template
    change with `cruft update`."""
    clone = tmp_path / "template"
    shutil.copytree(
        TEMPLATE,
        clone,
        ignore=shutil.ignore_patterns(
            ".git", ".nox", ".venv*", ".ci-venv", "__pycache__", "demo", ".*_cache"
        ),
    )
    commit = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm"]
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
    subprocess.run([*commit, "template"], cwd=clone, check=True)
    cruft = str(BIN / "cruft")
    subprocess.run(
        [
            cruft,
            "create",
            "--no-input",
            "--output-dir",
            str(tmp_path / "out"),
            "--extra-context",
            json.dumps({"python_versions": "3.12"}),
            f"file://{clone}",
        ],
        check=True,
        capture_output=True,
    )
    project = tmp_path / "out" / "my-project"
    assert json.loads((project / ".cruft.json").read_text())["template"]
    # As the README says: cruft writes .cruft.json after the bake's hooks (and its first
    # commit), so it is the one file left to commit.
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    )
    assert status.stdout.splitlines() == ["?? .cruft.json"]
    subprocess.run(["git", "add", ".cruft.json"], cwd=project, check=True)
    subprocess.run([*commit, "Track .cruft.json"], cwd=project, check=True)
    assert (
        subprocess.run([cruft, "check"], cwd=project, capture_output=True, check=False).returncode
        == 0
    )

    readme = clone / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text().replace("## Layout\n", "## Layout of the project\n"))
    subprocess.run([*commit[:-1], "-aqm", "README wording"], cwd=clone, check=True)
    assert (
        subprocess.run([cruft, "check"], cwd=project, capture_output=True, check=False).returncode
        != 0
    )
    subprocess.run([cruft, "update", "-y"], cwd=project, check=True, capture_output=True)
    assert "## Layout of the project" in (project / "README.md").read_text()
    assert (
        subprocess.run([cruft, "check"], cwd=project, capture_output=True, check=False).returncode
        == 0
    )
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    assert ".git" not in status and ".env" not in status.split()
