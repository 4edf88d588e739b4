"""The secrets checks, `nox -s doctor` (the isolation check) and the offline pre-commit hooks."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import dotenv
import pytest
from conftest import bake, nox_env, run_nox
from envlock import EnvlockError, dotenv_file, secret_checks

REAL_LOOKING = {
    "OPENAI_KEY": "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8t",
    "AWS_KEY": "AKIA" + "IOSFODNN7EXAMPLE",
    "TOKEN": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "RANDOM": "q8Zr2LmX0vT7yW4kN9bJ3cH6fD1sG5pA",
    "SLACK": "xoxb-" + "2048-6120-Zk3Qm8Rt5Wb2Ye7P",
    "SESSION_JWT": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSJ9"
    + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}
# A private key over several lines: python-dotenv reads it whole between quotes.
PEM_LINES = [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQAAACDxKq7Zr2LmX0vT7yW4kN9bJ3cH6fD1sG5pAq8",
    "AAAAB3NzaC1yc2E=",
    "-----END OPENSSH PRIVATE KEY-----",
]
PEM = "\n".join(PEM_LINES)
SECRET_VALUES = [*REAL_LOOKING.values(), *PEM_LINES[1:4]]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def assert_no_secret_in(text: str) -> None:
    for value in SECRET_VALUES:
        assert value not in text, value[:12]


def python_of_venv(project: Path, code: str) -> str:
    return subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.parametrize(
    "value",
    [
        *sorted(REAL_LOOKING.values()),
        PEM,
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # base64 has / in it
    ],
)
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
        "eyJ-not-a-token",
        # Paths and snake_case names: short words between separators, not random.
        "/mnt/shared/datasets/project_2024_v2",
        "my_project_data_dir_2024_final_v2",
    ],
)
def test_placeholders_pass(value: str):
    assert secret_checks.looks_secret(value) is None


def test_env_files_are_read_by_python_dotenv():
    """The reader is python-dotenv's own: the same keys and values as dotenv_values
    (without ${VAR} expansion), and a line it cannot parse is a problem by number."""
    path = Path(__file__).parent / "fixtures" / "sample.env"
    entries = secret_checks.read_entries(path)
    parsed = {e.key: e.value for e in entries if e.key}
    assert parsed == dict(dotenv.dotenv_values(path, interpolate=False))
    assert parsed["EXPORTED"] == "yes" and parsed["HASH_IN_QUOTES"] == "a # b"
    assert secret_checks.file_problems("sample.env", entries) == [
        (
            "sample.env line 8 could not be parsed: write KEY=VALUE (quotes around a value "
            "of several lines)"
        )
    ]


def example_with_secrets() -> str:
    return (
        "".join(f"{key}={value}\n" for key, value in REAL_LOOKING.items())
        + "export EXPORTED_SAFE=replace-me\n"
        + f'DEPLOY_KEY="{PEM}"\n'
        + "SAFE=replace-me\n"
        + f"UNQUOTED_KEY={PEM}\n"
        + "AFTER=replace-me\n"
    )


def test_problems_name_keys_and_files_never_values(tmp_path: Path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".env.example").write_text(example_with_secrets())
    (tmp_path / ".env").write_text("SAFE=x\nexport AFTER=y\n")
    (tmp_path / ".env").chmod(0o600)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / ".env.local").write_text(f"LOCAL_TOKEN={REAL_LOOKING['TOKEN']}\n")
    git(tmp_path, "add", "-f", "config/.env.local", ".env.example")
    found = secret_checks.problems(tmp_path)
    text = "\n".join(found)
    assert "config/.env.local is tracked by git: `git rm --cached config/.env.local`" in text
    assert "config/.env.local: LOCAL_TOKEN holds what looks like a GitHub token" in text
    for key in REAL_LOOKING:
        assert f".env.example: {key} holds what looks like" in text
    assert ".env.example: SESSION_JWT holds what looks like a JSON Web Token" in text
    assert ".env.example: DEPLOY_KEY holds what looks like a private key block" in text
    assert (
        "UNQUOTED_KEY starts a private key block whose other lines are not between quotes" in text
    )
    assert ".env.example: EXPORTED_SAFE" not in text  # export and a placeholder: fine
    missing = ".env lacks AWS_KEY, DEPLOY_KEY, EXPORTED_SAFE, OPENAI_KEY, RANDOM, SESSION_JWT, SLACK, TOKEN, UNQUOTED_KEY"
    assert missing in text  # the key lines of the unquoted block are not keys
    assert "could not be parsed" not in text  # the END line belongs to the block
    assert_no_secret_in(text)


PEM_TAIL = "TAILTWO=="  # a short last line parses as KEY=VALUE: TAILTWO with "="
BROKEN_PEM_LAYOUTS = {
    "closing quote missing": (
        (
            'DATA_DIR=data\nDEPLOY_KEY="-----BEGIN RSA PRIVATE KEY-----\n'
            f"{PEM_LINES[1]}\n{PEM_TAIL}\n-----END RSA PRIVATE KEY-----\n"
        ),
        (2, 5),
    ),
    "block on lines of its own": (
        (
            "DATA_DIR=data\nDEPLOY_KEY=\n-----BEGIN RSA PRIVATE KEY-----\n"
            f"{PEM_LINES[1]}\n{PEM_TAIL}\n-----END RSA PRIVATE KEY-----\nAFTER=1\n"
        ),
        (3, 6),
    ),
    "no END line": (
        f"DATA_DIR=data\n-----BEGIN RSA PRIVATE KEY-----\n{PEM_LINES[1]}\n{PEM_TAIL}\n",
        (2, 4),
    ),
}


@pytest.mark.parametrize("layout", sorted(BROKEN_PEM_LAYOUTS))
def test_a_private_key_block_is_found_in_the_raw_text_and_no_line_of_it_is_a_key(
    tmp_path: Path, layout: str
):
    text, (first, last) = BROKEN_PEM_LAYOUTS[layout]
    git(tmp_path, "init", "-q")
    (tmp_path / ".env.example").write_text(text)
    (tmp_path / ".env").write_text("DATA_DIR=mine\n")
    (tmp_path / ".env").chmod(0o600)
    found = secret_checks.problems(tmp_path)
    assert f".env.example lines {first}-{last} hold a private key block" in "\n".join(found)
    # The pre-commit hook: the same file run as a script, as .pre-commit-config.yaml does.
    hook = subprocess.run(
        [sys.executable, str(Path(secret_checks.__file__))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert hook.returncode == 1
    for output in ("\n".join(found), hook.stdout + hook.stderr):
        assert "TAILTWO" not in output and PEM_LINES[1] not in output
        assert "could not be parsed" not in output  # the block is reported once, as a block
        for line in output.splitlines():
            for named in re.findall(r"lacks ([A-Z_, ]+) \(", line):
                assert set(named.split(", ")) <= {"DEPLOY_KEY", "AFTER"}, line


def test_a_fresh_bake_has_no_secret_problems(tmp_path: Path):
    assert secret_checks.problems(bake(tmp_path / "out")) == []


def test_env_file_mode_and_links(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    env = root / ".env"
    env.write_text("A=1\n")
    env.chmod(0o644)
    assert secret_checks.dotenv_file_problems(root) == [
        ".env is readable by others (mode 0644): `chmod 600 .env`"
    ]
    env.chmod(0o600)
    assert secret_checks.dotenv_file_problems(root) == []
    env.unlink()
    (root / "settings").mkdir()
    (root / "settings" / "env").write_text("A=1\n")
    (root / "settings" / "env").chmod(0o640)
    env.symlink_to("settings/env")
    assert secret_checks.dotenv_file_problems(root) == [
        ".env links to settings/env, readable by others (mode 0640): `chmod 600 settings/env`"
    ]
    (root / "settings" / "env").chmod(0o600)
    assert secret_checks.dotenv_file_problems(root) == []
    env.unlink()
    outside = tmp_path / "elsewhere.env"
    outside.write_text("A=1\n")
    outside.chmod(0o600)
    env.symlink_to(outside)
    (problem,) = secret_checks.dotenv_file_problems(root)
    assert problem.startswith(".env links outside the project") and "cp " in problem
    env.unlink()
    env.symlink_to("gone.env")
    assert secret_checks.dotenv_file_problems(root) == [
        (
            ".env is a link to gone.env, which does not exist: point it at your settings "
            "file, or `rm .env` and `nox -s setup` for a fresh copy of .env.example"
        )
    ]


@pytest.mark.parametrize("kind", ["loop", "cycle", "folder", "missing"])
def test_a_env_that_is_no_file_is_one_line_in_doctor_and_the_hook(tmp_path: Path, kind: str):
    git(tmp_path, "init", "-q")
    (tmp_path / ".env.example").write_text("DATA_DIR=data\nAPI_KEY=replace-me\n")
    env = tmp_path / ".env"
    if kind == "loop":
        env.symlink_to(".env")
    elif kind == "cycle":
        env.symlink_to("a")
        (tmp_path / "a").symlink_to(".env")
    elif kind == "folder":
        env.mkdir()
    expected = {
        "loop": ".env is a link (to .env) that leads back to itself: `rm .env`",
        "cycle": ".env is a link (to a) that leads back to itself: `rm .env`",
        "folder": ".env is a folder, not a file: move it away",
        "missing": ".env does not exist, and .env.example lists API_KEY, DATA_DIR: "
        "`nox -s setup` makes .env from it",
    }[kind]
    (problem,) = secret_checks.problems(tmp_path)
    assert problem.startswith(expected), problem
    hook = subprocess.run(
        [sys.executable, str(Path(secret_checks.__file__))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert hook.returncode == 1 and hook.stderr.splitlines() == [problem], hook.stderr
    if kind == "folder":
        with pytest.raises(EnvlockError, match=r"^\.env is a folder, not a file"):
            dotenv_file.ensure_dotenv(tmp_path)


def test_ensure_dotenv_makes_a_private_copy_and_refuses_a_dangling_link(tmp_path: Path):
    (tmp_path / ".env.example").write_text("A=replace-me\n")
    old_umask = os.umask(0)  # even with nothing masked, the file is the owner's only
    try:
        assert dotenv_file.ensure_dotenv(tmp_path).startswith(".env created")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    (tmp_path / ".env").write_text("A=mine\n")
    assert dotenv_file.ensure_dotenv(tmp_path) == ".env exists, left as it is"
    assert (tmp_path / ".env").read_text() == "A=mine\n"
    (tmp_path / ".env").unlink()
    (tmp_path / ".env").symlink_to("missing")
    with pytest.raises(EnvlockError, match=r"^\.env is a link to missing, which does not exist"):
        dotenv_file.ensure_dotenv(tmp_path)
    assert (tmp_path / ".env").is_symlink() and not (tmp_path / "missing").exists()


@pytest.fixture(scope="module")
def python_without_dotenv(tmp_path_factory) -> Path:
    """A real Python that lacks python-dotenv, as the `python` of a pre-commit hook may."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    found = subprocess.run([str(python), "-c", "import dotenv"], capture_output=True, check=False)
    assert found.returncode != 0
    return python


def run_hook(project: Path, python: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "tools/envlock/secret_checks.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_hook_without_dotenv_or_environment_skips_contents_but_catches_tracked_files(
    tmp_path: Path, python_without_dotenv: Path
):
    made = bake(tmp_path / "out")
    (made / ".env.example").write_text(example_with_secrets())
    result = run_hook(made, python_without_dotenv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("skipped: checking what .env.example and .env hold")
    (made / ".env.production").write_text(f"KEY={REAL_LOOKING['AWS_KEY']}\n")
    git(made, "add", "-f", ".env.production")
    tracked = run_hook(made, python_without_dotenv)
    assert tracked.returncode == 1
    assert ".env.production is tracked by git" in tracked.stderr
    assert_no_secret_in(tracked.stdout + tracked.stderr)
    git(made, "rm", "-q", "--cached", ".env.production")
    (made / ".env").chmod(0o644)  # the mode needs no parser either
    loose = run_hook(made, python_without_dotenv)
    assert loose.returncode == 1
    assert "`chmod 600 .env`" in loose.stderr


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
        "locks committed",
    ]
    assert report["checks"][-1]["result"] == "warning"  # the bake's commit has no locks yet
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
    for check in ("installed = lock", "only locked modules import"):
        assert problems[check].endswith(": run `nox -s rebuild`"), problems[check]


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


@pytest.mark.slow
def test_doctor_and_setup_check_the_env_file_itself(project: Path, tmp_path: Path):
    env = project / ".env"
    original = env.read_bytes()
    try:
        env.chmod(0o644)
        code, report = doctor(project)
        assert code != 0
        assert "`chmod 600 .env`" in failed(report)["secrets and .env"]
        env.unlink()
        outside = tmp_path / "shared.env"
        outside.write_bytes(original)
        outside.chmod(0o600)
        env.symlink_to(outside)
        assert ".env links outside the project" in failed(doctor(project)[1])["secrets and .env"]
        env.unlink()
        env.symlink_to("nowhere.env")
        assert "which does not exist" in failed(doctor(project)[1])["secrets and .env"]
        result = run_nox(project, "-s", "setup", check=False)
        assert result.returncode != 0
        (line,) = [line for line in result.stdout.splitlines() if "nowhere.env" in line]
        assert "which does not exist" in line and "`rm .env`" in line
        assert "Traceback" not in result.stdout
        assert env.is_symlink()  # left as it was
    finally:
        if env.is_symlink() or env.exists():
            env.unlink()
        env.write_bytes(original)
        env.chmod(0o600)
    assert doctor(project)[0] == 0


@pytest.mark.slow
def test_the_hook_without_dotenv_uses_the_projects_environment(
    project: Path, python_without_dotenv: Path
):
    example = project / ".env.example"
    original = example.read_text()
    example.write_text(original + f'DEPLOY_KEY="{PEM}"\n')
    try:
        result = run_hook(project, python_without_dotenv)
    finally:
        example.write_text(original)
    assert result.returncode == 1
    assert ".env.example: DEPLOY_KEY holds what looks like a private key block" in result.stderr
    assert "skipped" not in result.stdout
    assert_no_secret_in(result.stdout + result.stderr)
    assert run_hook(project, python_without_dotenv).returncode == 0


def everything_written(root: Path) -> str:
    """The text of every file the sessions wrote: reports, logs, all of .nox/."""
    found = []
    for path in [root / "rebuild-report.json", *(root / ".nox").rglob("*")]:
        if path.is_file() and not path.is_symlink():
            found.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(found)


@pytest.mark.slow
def test_no_session_prints_or_writes_a_secret_value(tmp_path: Path):
    """Real-looking secrets in .env.example and .env (a multi-line key between quotes, one
    without quotes, a JWT, an export line): every session's output, the rebuild report,
    doctor's JSON and all of .nox/ are searched for each value."""
    made = bake(tmp_path / "out")
    (made / ".env.example").write_text((made / ".env.example").read_text() + example_with_secrets())
    (made / ".env").write_text(
        "".join(f"{key}={value}\n" for key, value in REAL_LOOKING.items())
        + f'DEPLOY_KEY="{PEM}"\nexport API_TOKEN={REAL_LOOKING["TOKEN"]}\n'
    )
    (made / ".env").chmod(0o600)
    outputs = []
    for args in (
        ("-s", "setup"),
        ("-s", "doctor"),
        ("-s", "doctor", "--", "--json"),
        ("-s", "rebuild"),
        ("-s", "lint"),
        ("-s", "hooks"),
    ):
        outputs.append(run_nox(made, *args, check=False).stdout)
    offline = nox_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    git(made, "add", "-A")
    hook = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=made,
        env=offline,
        capture_output=True,
        text=True,
        check=False,
    )
    outputs += [hook.stdout, hook.stderr]
    assert (made / "rebuild-report.json").is_file()  # searched below, with .nox/
    assert "DEPLOY_KEY holds what looks like a private key block" in outputs[1]
    assert "holds what looks like a private key block" in hook.stdout + hook.stderr
    assert_no_secret_in("\n".join(outputs))
    assert_no_secret_in(everything_written(made))


# What a project of each preset imports first; mypy (strict) must accept it as it is.
PRESET_IMPORTS = {
    "none": ["dotenv"],
    "ml": ["matplotlib.pyplot", "numpy", "pandas", "sklearn.linear_model"],
    "nlp": ["tokenizers", "torch", "transformers"],
}


@pytest.fixture(scope="module", params=sorted(PRESET_IMPORTS))
def set_up(request, tmp_path_factory) -> tuple[Path, str]:
    """A venv bake of each preset that installs here (dl needs gigabytes of torch, conda a
    solver), after a real `nox -s setup`; nlp's is conftest's ``nlp_project``."""
    if request.param == "nlp":
        return request.getfixturevalue("nlp_project"), "nlp"
    folder = tmp_path_factory.mktemp(f"hooks-{request.param}")
    made = bake(folder / "out", preset=request.param)
    run_nox(made, "-s", "setup")
    return made, request.param


@pytest.mark.slow
@pytest.mark.parametrize("set_up", ["nlp"], indirect=True)
def test_the_nlp_preset_runs_a_tiny_model_offline(set_up: tuple[Path, str]):
    """Its own sample test builds a tiny BERT and a tokenizer (no hub download) and runs
    them on the real CPU build of PyTorch; without the network."""
    project, _ = set_up
    offline = nox_env(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    result = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=project,
        env=offline,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_tiny_model.py ." in result.stdout or "4 passed" in result.stdout, result.stdout
    versions = python_of_venv(project, "import torch, transformers; print(torch.__version__)")
    assert versions == "2.13.0+cpu"


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
