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
import yaml
from conftest import TEMPLATE, bake, load_toml
from envlock import wheels

EXPECTED_FILES = [
    ".env.example",
    ".gitignore",
    ".python-version",
    "README.md",
    "LICENSE",
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
    "tools/envlock/backends/rattler.py",
    "tools/envlock/conda_rattler.py",
    "tools/envlock/tool-locks/py-rattler.txt",
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
    # No folder is left empty by an option not chosen (docs/ of docs=none, the default).
    empty = [
        path.relative_to(baked).as_posix()
        for path in baked.rglob("*")
        if path.is_dir() and ".git" not in path.parts and not any(path.iterdir())
    ]
    assert empty == []
    assert not (baked / "docs").exists()
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


def test_settings_never_show_the_token(baked: Path, tmp_path: Path):
    """A failing assertion or a log line shows the Settings' repr: never the secret."""
    env_file = tmp_path / ".env"
    env_file.write_text("API_TOKEN=tok-never-shown-8f3a\n")
    script = (
        "import sys; from pathlib import Path; from my_project.config import load_settings; "
        "s = load_settings(Path(sys.argv[1])); assert s.api_token == 'tok-never-shown-8f3a'; "
        "print(repr(s), s)"
    )
    environ = {k: v for k, v in os.environ.items() if k != "API_TOKEN"}
    environ["PYTHONPATH"] = str(baked / "src")
    result = subprocess.run(
        [sys.executable, "-c", script, str(env_file)],
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    )
    assert "Settings(" in result.stdout
    assert "tok-never-shown-8f3a" not in result.stdout + result.stderr


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


@pytest.mark.parametrize("preset", ["none", "ml", "dl", "dl-cuda", "nlp"])
def test_presets_list_their_packages(tmp_path: Path, preset: str):
    project = bake(tmp_path, preset=preset)
    lines = (project / "requirements.in").read_text().splitlines()
    packages = {line for line in lines if line and not line.startswith("#")}
    expected = {
        "none": set(),
        "ml": {"numpy", "pandas", "scikit-learn", "matplotlib"},
        "dl": {"torch", "torchvision"},
        "dl-cuda": {"torch", "torchvision"},
        "nlp": {"transformers", "tokenizers", "torch"},
    }[preset]
    assert packages == {"python-dotenv"} | expected
    lines = (project / "requirements-dev.in").read_text().splitlines()
    dev = [line for line in lines if not line.startswith("#")]
    stubs = ["pandas-stubs"] if preset == "ml" else []
    jupyter = ["jupyterlab", "ipykernel", "nbstripout"] if preset != "none" else []  # auto
    assert dev == [
        *("-r requirements.in", "pytest", "ruff", "mypy", "pre-commit", "coverage"),
        *stubs,
        *jupyter,
    ]
    overrides = load_toml(project / "pyproject.toml")["tool"]["mypy"].get("overrides", [])
    torchvision = ["torchvision", "torchvision.*"]
    untyped = {"ml": ["sklearn", "sklearn.*"], "dl": torchvision, "dl-cuda": torchvision}
    rattler = {"module": ["rattler", "rattler.*"], "ignore_missing_imports": True}  # .nox's
    assert overrides == [rattler] + (
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


def test_bake_without_git_identity_leaves_staged_repo_and_says_how_to_commit(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "gitconfig"  # git may guess an identity from the host: not here
    config.write_text("[user]\n\tuseConfigOnly = true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "EMAIL"}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(config))
    answers = ["python_versions=3.12", "author_name=Dana O'Hara", "author_email=dana@example.com"]
    output = str(tmp_path / "out")
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", output, str(TEMPLATE), *answers],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "git" in line]
    project = tmp_path / "out" / "my-project"
    assert "README.md" in git(project, "diff", "--cached", "--name-only")
    assert ".env" not in git(project, "diff", "--cached", "--name-only").split()
    assert line.startswith("git could not commit, as it has no user identity here"), line
    # The commands it names, with the author's answers, make the first commit as given.
    commands = re.findall(r"`([^`]+)`", line)
    assert commands == [
        "git config --global user.name 'Dana O'\"'\"'Hara'",
        "git config --global user.email dana@example.com",
        "cd my-project && git commit -m 'Initial project setup'",
    ]
    for command in commands:
        subprocess.run(command, shell=True, cwd=project.parent, env=env, check=True)
    assert git(project, "log", "--format=%an <%ae> %s").strip() == (
        "Dana O'Hara <dana@example.com> Initial project setup"
    )


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
@pytest.mark.parametrize("preset", ["none", "ml", "dl", "dl-cuda", "nlp"])
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
    assert "### What requirements.in may contain" in readme
    assert ("compile the locks on Linux, where CI tests them" in readme) == (
        lock_engine == "pip-tools"
    )
    # a pip-tools lock holds what the platform it was compiled on needs: CI tests it there
    ci = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    oses = ci["jobs"]["tests"]["strategy"]["matrix"]["os"]
    linux_only = ["ubuntu-latest"]
    assert (oses == linux_only) == (lock_engine == "pip-tools"), oses
    assert not (project / "environment.yml").exists()
    # the wheel check's platforms as the README names them: CI's runners, no others
    said = " ".join(readme.split())
    if lock_engine == "uv":
        assert wheels.PLATFORMS == ("linux", "macos", "windows")
        assert wheels.MACOS_TARGET == "14.0"
        assert set(oses) == {"ubuntu-latest", "macos-latest", "windows-latest"}
        assert (
            "on Linux x86_64 (glibc), macOS 14 or later on Apple silicon (arm64) and Windows "
            "x86_64, the platforms of CI's runners; Linux on ARM, Intel Macs, Windows on ARM "
            "and musl Linux (Alpine) are not checked"
        ) in said
    else:
        assert (
            "Before compiling, `lock` checks that every version the `.in` files pin with `==` "
            "has a wheel for each Python of `python-matrix` on this platform"
        ) in said


# --- baking into a folder that exists ------------------------------------------------

USER_FILES = {
    "README.md": b"# mine\n",
    ".gitignore": b"secret.log\n.venv/\n",
    "notes.md": b"tracked notes\n",
    "environment.yml": b"name: mine  # the user's own, untracked\n",
    "credentials.json": b'{"token": "not for git"}\n',
    "data.csv": b"a,b\n1,2\n",
    ".env.local": b"LOCAL=1\n",
    "secret.log": b"ignored by the user's .gitignore\n",
    ".venv/marker": b"an ignored folder\n",
}
TRACKED = ["README.md", ".gitignore", "notes.md"]


def files_of(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root but .git, with its bytes and mode."""
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mode)
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def user_repository(folder: Path) -> Path:
    """A git repository with commits, untracked and ignored files."""
    folder.mkdir(parents=True)
    for name, content in USER_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    (folder / "credentials.json").chmod(0o600)
    git(folder, "init", "-q")
    git(folder, "add", *TRACKED)
    git(folder, "commit", "-qm", "the user's work")
    return folder


def repository_state(folder: Path) -> dict[str, str]:
    return {
        "head": git(folder, "rev-parse", "HEAD"),
        "log": git(folder, "log", "--format=%H %s"),
        "index": git(folder, "ls-files", "--stage"),
        "staged": git(folder, "diff", "--cached", "--name-only"),
    }


@pytest.fixture(scope="module")
def template_files(tmp_path_factory) -> set[str]:
    """What a plain bake commits: the files the template writes."""
    return tracked(bake(tmp_path_factory.mktemp("reference") / "out"))


def cookiecutter_cli(output: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(output), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def assert_only_told_what_to_commit(result, folder: Path, before: dict[str, str]) -> str:
    assert result.returncode == 0, result.stderr
    assert repository_state(folder) == before  # no commit, nothing staged
    (line,) = [line for line in result.stdout.splitlines() if "git repository" in line]
    assert "nothing was staged or committed" in line
    return line.split("to commit what the template wrote: ", 1)[1]


def test_f_into_a_repository_touches_only_what_the_template_writes(
    tmp_path: Path, template_files: set[str]
):
    folder = user_repository(tmp_path / "out" / "my-project")
    before, state = files_of(folder), repository_state(folder)
    result = cookiecutter_cli(tmp_path / "out", "-f", str(TEMPLATE), "python_versions=3.12")
    command = assert_only_told_what_to_commit(result, folder, state)
    # The tracked files -f overwrote are named before the command that would commit them.
    told = result.stdout.split("to commit what the template wrote: ")[0]
    assert "-f replaced 2 file(s) git tracks with the template's: .gitignore, README.md" in told
    after = files_of(folder)
    for name in set(before) - template_files:  # environment.yml too: not a venv bake's
        assert after[name] == before[name], name
    assert after["README.md"] != before["README.md"]  # -f: the template's README
    assert set(after) == set(before) | template_files | {".env"}
    # The command it gives commits the template's files, and nothing of the user's.
    subprocess.run(command, shell=True, cwd=folder.parent, check=True, capture_output=True)
    committed = set(git(folder, "show", "--name-only", "--format=", "HEAD").split())
    assert committed == template_files  # README.md and .gitignore: the template's now
    assert git(folder, "status", "--porcelain", "--", *TRACKED, ".env") == ""


def test_f_s_into_a_repository_changes_no_file_of_the_user(
    tmp_path: Path, template_files: set[str]
):
    folder = user_repository(tmp_path / "out" / "my-project")
    # Files cookiecutter copies without rendering, which its -s does not spare.
    (folder / "noxfile.py").write_bytes(b"# the user's own sessions\n")
    (folder / "tools" / "envlock").mkdir(parents=True)
    (folder / "tools" / "envlock" / "names.json").write_bytes(b"{}\n")
    before, state = files_of(folder), repository_state(folder)
    result = cookiecutter_cli(tmp_path / "out", "-f", "-s", str(TEMPLATE), "python_versions=3.12")
    command = assert_only_told_what_to_commit(result, folder, state)
    assert "replaced" not in result.stdout  # -s: no tracked file was overwritten
    after = files_of(folder)
    assert {name: after[name] for name in before} == before
    assert set(after) == set(before) | template_files | {".env"}
    for name in ("README.md", "environment.yml", "noxfile.py", "tools/envlock/names.json"):
        assert name not in command.split(), name
    # The user's .gitignore, kept by -s, does not ignore .env: one `git add .` away.
    assert (
        "git does not ignore .env here (the .gitignore that applies lacks it): add a line "
        "`.env` to .gitignore before any `git add`, so that your secrets are never committed"
    ) in result.stdout.splitlines()


@pytest.fixture(scope="module")
def template_clone(tmp_path_factory) -> Path:
    """The template as a git repository, as cruft needs it."""
    clone = tmp_path_factory.mktemp("template") / "template"
    shutil.copytree(
        TEMPLATE,
        clone,
        ignore=shutil.ignore_patterns(
            ".git", ".nox", ".venv*", ".ci-venv", "__pycache__", "demo", ".*_cache"
        ),
    )
    git(clone, "init", "-q")
    git(clone, "add", "-A")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "t")
    return clone


def cruft_create_f(clone: Path, output: Path, force: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "cruft"),
            "create",
            "--no-input",
            *(["-f"] if force else []),
            "--output-dir",
            str(output),
            "--extra-context",
            '{"python_versions": "3.12"}',
            f"file://{clone}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cruft_create_f_into_a_repository(
    tmp_path: Path, template_files: set[str], template_clone: Path
):
    folder = user_repository(tmp_path / "out" / "my-project")
    before, state = files_of(folder), repository_state(folder)
    result = cruft_create_f(template_clone, tmp_path / "out")
    assert_only_told_what_to_commit(result, folder, state)
    after = files_of(folder)
    for name in set(before) - template_files:
        assert after[name] == before[name], name
    assert set(after) == set(before) | template_files | {".env", ".cruft.json"}


def test_a_new_repository_commits_exactly_the_files_the_bake_wrote(
    tmp_path: Path, template_files: set[str]
):
    folder = tmp_path / "out" / "my-project"
    folder.mkdir(parents=True)
    mine = {k: v for k, v in USER_FILES.items() if k not in ("README.md", ".gitignore")}
    for name, content in mine.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    (folder / "docs").mkdir()  # the user's, empty: a docs=none bake leaves it
    result = cookiecutter_cli(tmp_path / "out", "-f", str(TEMPLATE), "python_versions=3.12")
    assert result.returncode == 0, result.stderr
    assert (folder / "docs").is_dir() and not any((folder / "docs").iterdir())
    assert git(folder, "log", "--format=%s").strip() == "Initial project setup"
    committed = set(git(folder, "show", "--name-only", "--format=", "HEAD").split())
    assert committed == template_files
    assert not committed & {".env", ".env.local", "credentials.json", "environment.yml"}
    for name, content in mine.items():
        assert (folder / name).read_bytes() == content, name
    untracked = git(folder, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert "?? credentials.json" in untracked and "?? environment.yml" in untracked


@pytest.mark.parametrize("tool", ["cookiecutter", "cruft"])
@pytest.mark.parametrize("link", ["environment.yml", "README.md", "src"])
def test_f_refuses_to_write_through_a_link_the_bake_did_not_make(
    tmp_path: Path, link: str, tool: str, request
):
    shared = tmp_path / "shared"
    (shared / "src").mkdir(parents=True)
    (shared / link if link != "src" else shared / "src" / "kept.txt").write_bytes(b"shared\n")
    folder = tmp_path / "out" / "my-project"
    folder.mkdir(parents=True)
    (folder / link).symlink_to(Path("..", "..", "shared", link))
    before_shared, before_folder = files_of(shared), sorted(os.listdir(folder))
    if tool == "cruft":  # cruft calls cookiecutter's generate_files itself
        result = cruft_create_f(request.getfixturevalue("template_clone"), tmp_path / "out")
    else:
        result = cookiecutter_cli(tmp_path / "out", "-f", str(TEMPLATE), "python_versions=3.12")
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"ERROR: my-project/{link} is a symbolic link to ../../shared/{link}")
    assert "Traceback" not in result.stdout + result.stderr
    assert files_of(shared) == before_shared  # the link's target is untouched
    assert sorted(os.listdir(folder)) == before_folder  # nothing was written


@pytest.mark.parametrize("tool", ["cookiecutter", "cruft"])
def test_f_refuses_to_write_into_a_hard_link(tmp_path: Path, tool: str, request):
    """cookiecutter writes a file in place: a README.md that is a hard link of a file
    outside the project would be overwritten under both names."""
    outside = tmp_path / "notes.md"
    outside.write_bytes(b"the user's notes, elsewhere\n")
    folder = tmp_path / "out" / "my-project"
    folder.mkdir(parents=True)
    os.link(outside, folder / "README.md")
    if tool == "cruft":
        result = cruft_create_f(request.getfixturevalue("template_clone"), tmp_path / "out")
    else:
        result = cookiecutter_cli(tmp_path / "out", "-f", str(TEMPLATE), "python_versions=3.12")
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        "ERROR: my-project/README.md is one of 2 hard links to the same file: the bake would "
        "change it under its other names too; make it a file of its own (`cp -p README.md "
        "README.md.copy && mv README.md.copy README.md` in my-project), then bake again"
    )
    assert outside.read_bytes() == b"the user's notes, elsewhere\n"
    assert os.listdir(folder) == ["README.md"]


@pytest.mark.parametrize(
    ("folder_at", "file_at", "said"),
    [
        ("README.md", None, "README.md is a folder where the template writes the file README.md"),
        (None, "src", "src is a file where the template writes the folder src/ (src/my_project/"),
        (None, "docs", "docs is a file where the template writes the folder docs/ (docs/index.md)"),
    ],
)
def test_f_refuses_a_folder_or_file_in_the_way_in_one_line(
    tmp_path: Path, folder_at: str | None, file_at: str | None, said: str
):
    """Without the check, the pre-generation hook or cookiecutter ends in a traceback."""
    folder = tmp_path / "out" / "my-project"
    folder.mkdir(parents=True)
    if folder_at:
        (folder / folder_at).mkdir()
        (folder / folder_at / "mine.txt").write_bytes(b"the user's\n")
    if file_at:
        (folder / file_at).write_bytes(b"the user's\n")
    before = files_of(folder)
    result = cookiecutter_cli(tmp_path / "out", "-f", str(TEMPLATE), "python_versions=3.12")
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"ERROR: my-project/{said}"), line
    assert line.endswith("move it out of my-project, then bake again")
    assert files_of(folder) == before
    assert sorted(os.listdir(folder)) == [folder_at or file_at]


@pytest.mark.parametrize("tool", ["cookiecutter", "cruft"])
def test_a_folder_that_exists_without_f_is_one_line_and_untouched(
    tmp_path: Path, tool: str, request
):
    """cruft does not catch cookiecutter's own error for this: the template says it."""
    folder = user_repository(tmp_path / "out" / "my-project")
    before, state = files_of(folder), repository_state(folder)
    if tool == "cruft":
        result = cruft_create_f(
            request.getfixturevalue("template_clone"), tmp_path / "out", force=False
        )
    else:
        result = cookiecutter_cli(tmp_path / "out", str(TEMPLATE), "python_versions=3.12")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        f"ERROR: {folder} already exists: bake into another folder (-o), or add -f to "
        "write the template's files into it (nothing else there is touched)"
    )
    assert result.stdout == ""
    assert files_of(folder) == before and repository_state(folder) == state


def test_f_names_the_untracked_files_it_replaced_and_what_the_user_had_staged(tmp_path: Path):
    """The only copy of an untracked file -f overwrites is gone: the bake names it; and
    the `git commit` it proposes would take along what the user had staged, in the
    whole repository (here the project is a folder of a bigger one)."""
    top = user_repository(tmp_path / "out")
    folder = top / "my-project"
    folder.mkdir()
    (folder / "noxfile.py").write_bytes(b"# the user's own sessions, never committed\n")
    (top / "staged.txt").write_bytes(b"work in progress\n")
    git(top, "add", "staged.txt")
    state = repository_state(top)
    result = cookiecutter_cli(top, "-f", str(TEMPLATE), "python_versions=3.12")
    assert result.returncode == 0, result.stderr
    assert repository_state(top) == state
    lines = result.stdout.splitlines()
    assert (
        "-f replaced 1 file(s) you had, which git does not track, with the template's: "
        "noxfile.py (their former content is not kept; `-f -s` keeps the files that exist)"
    ) in lines
    (line,) = [line for line in lines if "nothing was staged or committed" in line]
    assert (
        "to commit what the template wrote: first commit or unstage what you had staged "
        "(staged.txt), as `git commit` would take it along; then cd my-project && git add"
    ) in line


def test_f_s_over_an_own_tools_envlock_keeps_it_and_says_how_to_make_env(tmp_path: Path):
    """-s keeps the user's tools/envlock, which the hook cannot make .env with."""
    folder = tmp_path / "out" / "my-project"
    (folder / "tools" / "envlock").mkdir(parents=True)
    (folder / "tools" / "envlock" / "__init__.py").write_bytes(b"# the user's own\n")
    result = cookiecutter_cli(
        tmp_path / "out", "-f", "-s", str(TEMPLATE), "python_versions=3.12", "init_git=no"
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        ".env not created: tools/envlock here is not the template's (kept by -s); "
        "make it with `install -m 600 .env.example .env`"
    ) in result.stdout.splitlines()
    assert (folder / "tools" / "envlock" / "__init__.py").read_bytes() == b"# the user's own\n"
    assert not (folder / ".env").exists()


def test_a_failed_git_init_says_why_in_one_line(tmp_path: Path):
    """A stray .git file (a moved worktree) makes git init fail: the line says git's
    reason, and nothing about .gitignore (there is no repository to ask)."""
    folder = tmp_path / "out" / "my-project"
    folder.mkdir(parents=True)
    (folder / ".git").write_text("not a gitdir\n")
    result = cookiecutter_cli(tmp_path / "out", "-f", str(TEMPLATE), "python_versions=3.12")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if "git" in line]
    assert len(said) == 1, said
    assert said[0].startswith("git init failed (fatal: "), said[0]
    assert said[0].endswith(
        "): the project has no repository yet; once that is fixed, `git init`, then commit "
        "the files"
    )
    assert (folder / ".git").read_text() == "not a gitdir\n"


@pytest.mark.parametrize("force", [True, False])
@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_an_output_path_that_is_no_folder_is_one_line_and_untouched(
    tmp_path: Path, kind: str, force: bool
):
    project = tmp_path / "out" / "my-project"
    project.parent.mkdir()
    if kind == "file":
        project.write_bytes(b"the user's\n")
        said = "a file, not a folder"
    else:
        project.symlink_to("nowhere")
        said = "a link to nowhere, which is not a folder"
    args = ["-f"] if force else []
    result = cookiecutter_cli(tmp_path / "out", *args, str(TEMPLATE), "python_versions=3.12")
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        f"ERROR: {project} is {said}: bake into another folder (-o), or move it away, "
        "then bake again"
    )
    assert os.listdir(tmp_path / "out") == ["my-project"]
    assert not (tmp_path / "nowhere").exists() and not (project.parent / "nowhere").exists()
    if kind == "file":
        assert project.read_bytes() == b"the user's\n"
