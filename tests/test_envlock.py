"""Unit tests of the generated project's tools/envlock, run from the template (no bake)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from envlock import EnvlockError, engines, env_dirs, fs, layout, owners, pythons
from envlock import lockfiles as locks
from envlock.backends.venv import activation_commands
from envlock.checks import Check, render_table
from envlock.comparison import compare
from envlock.dotenv_file import ensure_dotenv
from envlock.settings import load_project

PYPROJECT = """
[project]
name = "demo-project"

[tool.envlock]
package = "demo_project"
python = "3.12"
python-matrix = ["3.12", "3.10", "3.11"]
lock-engine = "{engine}"
"""

BODY = """\
colorama==0.4.6 ; sys_platform == 'win32' \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
    # via pytest
numpy==1.26.4 ; python_full_version < '3.12' \\
    --hash=sha256:cccc
numpy==2.1.0 ; python_full_version >= '3.12' \\
    --hash=sha256:dddd
python-dotenv==1.2.4 \\
    --hash=sha256:eeee
    # via -r requirements.in
"""


def make_project(root: Path, engine: str = "uv"):
    (root / "pyproject.toml").write_text(PYPROJECT.format(engine=engine))
    (root / "requirements.in").write_text("python-dotenv\nnumpy\n")
    (root / "requirements-dev.in").write_text("-r requirements.in\npytest\n")
    return load_project(root)


def write_lock(project, body: str = BODY):
    target = locks.lock_targets(project)[0]
    target.output.write_text(locks.render_lock(project, target, body))
    return target


# --- settings --------------------------------------------------------------------------


def test_settings_are_read_and_the_matrix_sorted(tmp_path: Path):
    project = make_project(tmp_path)
    assert project.matrix == ("3.10", "3.11", "3.12")
    assert project.min_python == "3.10"
    assert project.distribution == "demo-project"
    assert project.venv == tmp_path / ".venv"


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('package = "p"\npython = "3.12"\npython-matrix = ["3.11"]', "python-matrix"),
        ('package = "p"\npython = "3.12"\nlock-engine = "poetry"', "lock-engine"),
        ('package = "p"\npython = 3.12', "python"),
        ('python = "3.12"', "package"),
        ('package = "p"', r'has no python: add it \(see the README, "Settings and secrets"\)'),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, table: str, named: str):
    (tmp_path / "pyproject.toml").write_text(f"[tool.envlock]\n{table}\n")
    with pytest.raises(EnvlockError, match=named):
        load_project(tmp_path)


def test_missing_table_is_explained(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(EnvlockError, match=r"no \[tool.envlock\]"):
        load_project(tmp_path)


# --- lock targets ----------------------------------------------------------------------


def test_uv_has_one_universal_dev_lock_and_a_constrained_runtime_lock(tmp_path: Path):
    project = make_project(tmp_path)
    dev, runtime = locks.lock_targets(project)
    assert (dev.output.name, dev.python, dev.universal) == ("requirements-dev.txt", "3.10", True)
    assert runtime.output.name == "requirements.txt"
    assert runtime.constraint == dev.output
    assert locks.dev_lock_path(project, "3.11") == dev.output


def test_pip_tools_has_a_dev_lock_per_python(tmp_path: Path):
    project = make_project(tmp_path, engine="pip-tools")
    names = [t.output.name for t in locks.lock_targets(project)]
    assert names == [
        "requirements-dev-py3.10.txt",
        "requirements-dev-py3.11.txt",
        "requirements-dev.txt",
        "requirements.txt",
    ]
    assert not any(t.universal for t in locks.lock_targets(project))
    assert locks.dev_lock_path(project, "3.12").name == "requirements-dev.txt"


# --- freshness and integrity -----------------------------------------------------------


def test_fresh_lock_gives_its_pins(tmp_path: Path):
    project = make_project(tmp_path)
    target = write_lock(project)
    pins = locks.trusted_pins(project, target)
    assert [p.name for p in pins] == ["colorama", "numpy", "numpy", "python-dotenv"]
    assert pins[0].hashes == ("sha256:aaaa", "sha256:bbbb")


def test_rendering_is_deterministic(tmp_path: Path):
    project = make_project(tmp_path)
    target = locks.lock_targets(project)[0]
    assert locks.render_lock(project, target, BODY) == locks.render_lock(project, target, BODY)


def test_changed_input_makes_the_lock_stale(tmp_path: Path):
    project = make_project(tmp_path)
    target = write_lock(project)
    (tmp_path / "requirements.in").write_text("python-dotenv\nnumpy\npandas\n")
    with pytest.raises(EnvlockError, match=r"out of date.*nox -s lock"):
        locks.trusted_pins(project, target)


def test_line_endings_alone_do_not_make_the_lock_stale(tmp_path: Path):
    project = make_project(tmp_path)
    target = write_lock(project)
    (tmp_path / "requirements.in").write_bytes(b"python-dotenv\r\nnumpy\r\n")
    locks.trusted_pins(project, target)


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace("sha256:eeee", "sha256:ffff"),  # a hash changed
        lambda text: text.replace("python-dotenv==1.2.4 \\\n    --hash=sha256:eeee\n", ""),
        lambda text: text[: len(text) // 2],  # truncated
    ],
    ids=["hash-changed", "pin-removed", "truncated"],
)
def test_hand_edited_lock_is_refused(tmp_path: Path, edit):
    project = make_project(tmp_path)
    target = write_lock(project)
    target.output.write_text(edit(target.output.read_text()))
    with pytest.raises(EnvlockError, match=r"requirements-dev.txt .*(edited|damaged|header)"):
        locks.trusted_pins(project, target)


def test_missing_lock_names_the_file_and_the_command(tmp_path: Path):
    project = make_project(tmp_path)
    with pytest.raises(
        EnvlockError, match=r"requirements-dev.txt does not exist: run `nox -s lock`"
    ):
        locks.trusted_pins(project, locks.lock_targets(project)[0])


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("--index-url https://example.invalid/simple\nx==1 --hash=sha256:aa\n", "option line"),
        ("numpy>=1 \\\n    --hash=sha256:aa\n", "not pinned"),
        ("numpy==1.0\n", "no --hash"),
    ],
)
def test_unportable_or_loose_lines_are_refused(tmp_path: Path, body: str, problem: str):
    with pytest.raises(EnvlockError, match=problem):
        locks.parse_pins(tmp_path / "requirements.txt", body)


def test_markers_select_the_pins_of_an_environment(tmp_path: Path):
    pins = locks.parse_pins(tmp_path / "lock.txt", BODY)
    linux_311 = {"sys_platform": "linux", "python_full_version": "3.11.7", "python_version": "3.11"}
    win_312 = {"sys_platform": "win32", "python_full_version": "3.12.1", "python_version": "3.12"}
    assert locks.pins_for_environment(pins, linux_311) == {
        "numpy": "1.26.4",
        "python-dotenv": "1.2.4",
    }
    assert locks.pins_for_environment(pins, win_312) == {
        "colorama": "0.4.6",
        "numpy": "2.1.0",
        "python-dotenv": "1.2.4",
    }


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path: Path):
    path = tmp_path / "requirements.txt"
    path.write_text("old\n")

    with pytest.raises(TypeError):
        fs.write_atomically(path, 12345)  # not text: the write fails half-way
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["requirements.txt"]
    fs.write_atomically(path, "new\n")
    assert path.read_text() == "new\n"


# --- comparing an environment with its lock --------------------------------------------


def test_compare_finds_missing_extra_and_different():
    result = compare(
        {"numpy": "2.1.0", "python-dotenv": "1.2.4", "rich": "13"},
        {"NumPy": "2.0.0", "python_dotenv": "1.2.4", "six": "1.16", "demo-project": "0.1"},
        ignore={"demo_project"},
    )
    assert not result.matches
    assert result.missing == {"rich": "13"}
    assert result.extra == {"six": "1.16"}
    assert result.different == {"numpy": ("2.1.0", "2.0.0")}
    assert "numpy: locked 2.1.0, installed 2.0.0" in result.problems()


def test_compare_names_packages_from_paths_and_urls_as_their_lock_lines_do():
    result = compare(
        {"mylib": "./libs/mylib", "devtool": "-e ./libs/devtool"},
        {"served": "https://example.org/served-2.0.tar.gz"},
        ignore=(),
    )
    assert result.problems() == [
        "missing: -e devtool @ ./libs/devtool",
        "missing: mylib @ ./libs/mylib",
        "not in the lock: served @ https://example.org/served-2.0.tar.gz",
    ]


def test_compare_identical_sets_match():
    assert compare({"a": "1"}, {"A": "1", "me": "0"}, ignore={"me"}).matches


def test_table_aligns_columns():
    table = render_table([Check("installed = lock", True, "8"), Check("tests", False)])
    lines = table.splitlines()
    assert lines[0].split() == ["check", "result", "detail"]
    assert lines[2].index("ok") == lines[3].index("FAILED")


# --- interpreters ----------------------------------------------------------------------


def fake_python(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_pyenv_lookup_takes_the_newest_release_build(tmp_path: Path):
    root = tmp_path / "pyenv"
    for name in ("3.12.1", "3.12.10", "3.12.11t", "3.12-dev", "3.13.0"):
        fake_python(root / "versions" / name / "bin" / "python3.12")
    env = {"PYENV_ROOT": str(root), "PATH": ""}
    found = pythons.find_python("3.12", env, "linux")
    assert found == root / "versions" / "3.12.10" / "bin" / "python3.12"


def test_path_lookup_skips_pyenv_shims(tmp_path: Path):
    root = tmp_path / "pyenv"
    fake_python(root / "shims" / "python3.11")
    real = fake_python(tmp_path / "usr" / "bin" / "python3.11")
    env = {
        "PYENV_ROOT": str(root),
        "PATH": os.pathsep.join([str(root / "shims"), str(real.parent)]),
    }
    assert pythons.find_python("3.11", env, "linux") == real


def test_pyenv_win_layout(tmp_path: Path):
    root = tmp_path / "pyenv-win"
    exe = fake_python(root / "versions" / "3.12.4" / "python.exe")
    assert pythons.find_python("3.12", {"PYENV_ROOT": str(root), "PATH": ""}, "win32") == exe


def test_missing_python_says_how_to_install_it(tmp_path: Path):
    env = {"PYENV_ROOT": str(tmp_path), "PATH": ""}
    with pytest.raises(EnvlockError, match=r"Python 3.14 was not found.*`pyenv install 3.14`"):
        pythons.require_python("3.14", env, "linux")


def test_real_pyenv_pythons_are_found():
    for version in ("3.10", "3.11", "3.12", "3.13"):
        found = pythons.find_python(version)
        assert found is not None and found.name.startswith("python"), version


# --- environments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "python", "activate"),
    [
        ("linux", ".venv/bin/python", "source .venv/bin/activate"),
        ("darwin", ".venv/bin/python", "source .venv/bin/activate"),
        ("win32", ".venv/Scripts/python.exe", ".venv\\Scripts\\Activate.ps1"),
    ],
)
def test_paths_per_platform(platform: str, python: str, activate: str):
    assert layout.env_executable(Path(".venv"), "python", platform).as_posix() == python
    uv = python.replace("python", "uv")
    assert layout.env_executable(Path(".venv"), "uv", platform).as_posix() == uv
    assert activate in activation_commands(".venv", platform).values()


def gone_process() -> owners.Owner:
    """The owner marker of a real process that has ended."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(ended.stdout)
    assert owners.process_started(pid) is None
    return owners.Owner(pid, "", socket.gethostname(), "`nox -s rebuild`")


def folder_with(path: Path, name: str) -> Path:
    path.mkdir()
    (path / name).touch()
    return path


def test_swap_in_replaces_and_recover_undoes_a_half_swap_of_a_gone_session(tmp_path: Path):
    env = folder_with(tmp_path / ".venv", "old")
    new = folder_with(env_dirs.claim_staging(env), "new")
    env_dirs.write_state(new, {"lock": "a"})
    env_dirs.swap_in(new, env)
    assert sorted(p.name for p in env.iterdir()) == [env_dirs.STATE_FILE, "new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".venv"]  # no folder, no marker

    # A session that is gone now was cut between the two renames of its swap.
    dead = gone_process()
    env.rename(env_dirs.retired_dir(env))
    owners.write_marker(env_dirs.retired_dir(env), dead)
    folder_with(env_dirs.staging_dir(env), "half-built")
    owners.write_marker(env_dirs.staging_dir(env), dead)
    env_dirs.recover(env)
    assert sorted(p.name for p in env.iterdir()) == [env_dirs.STATE_FILE, "new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".venv"]


def test_recover_removes_only_a_build_at_the_path_that_a_gone_session_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)  # the sessions' folder: paths are shown relative to it
    env = folder_with(tmp_path / ".conda", "old")
    dead = gone_process()
    env.rename(env_dirs.retired_dir(env))
    owners.write_marker(env_dirs.retired_dir(env), dead)
    folder_with(env, "users-own")  # no state file, no claim: the user's
    with pytest.raises(EnvlockError, match=r"^\.conda has no envlock-state.json .* \.conda\.old"):
        env_dirs.recover(env)
    assert (env / "users-own").exists() and (env_dirs.retired_dir(env) / "old").exists()
    owners.write_marker(env, dead)  # as replace_in_place claims its build at the path
    env_dirs.recover(env)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".conda"]
    assert [p.name for p in env.iterdir()] == ["old"]


def test_recover_leaves_unclaimed_folders_and_those_of_a_running_session(tmp_path: Path):
    env = folder_with(tmp_path / ".venv", "mine")
    folder_with(env_dirs.retired_dir(env), "users-own")
    with pytest.raises(EnvlockError, match=r"\.venv\.old was not made by a nox session .*left"):
        env_dirs.claim_staging(env)
    env_dirs.recover(env)
    assert (env_dirs.retired_dir(env) / "users-own").exists() and (env / "mine").exists()

    running = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                               stdin=subprocess.PIPE)  # fmt: skip
    try:
        started = owners.process_started(running.pid)
        assert started
        owner = owners.Owner(running.pid, started, socket.gethostname(), "`nox -s rebuild`")
        folder_with(env_dirs.staging_dir(env), "being-built")
        owners.write_marker(env_dirs.staging_dir(env), owner)
        env_dirs.recover(env)
        assert (env_dirs.staging_dir(env) / "being-built").exists()
        line = env_dirs.leftovers_in_the_way(env)
        assert line and f"`nox -s rebuild` (process {running.pid}" in line
        assert "still running: wait for it to finish" in line and "\n" not in line
        # The same process id with another start time is a later process: the owner is gone.
        owners.write_marker(env_dirs.staging_dir(env), dataclasses.replace(owner, started="1"))
        env_dirs.recover(env)
        assert not env_dirs.staging_dir(env).exists()
        assert not owners.marker_path(env_dirs.staging_dir(env)).exists()
    finally:
        running.communicate(b"")


def test_state_says_whether_an_env_is_current(tmp_path: Path):
    env = tmp_path / ".venv"
    fake_python(layout.env_executable(env, "python"))
    python = layout.env_executable(env, "python")
    assert not env_dirs.is_current(env, {"lock": "a"}, python)
    env_dirs.write_state(env, {"lock": "a"})
    assert env_dirs.is_current(env, {"lock": "a"}, python)
    assert not env_dirs.is_current(env, {"lock": "b"}, python)
    python.unlink()
    assert not env_dirs.is_current(env, {"lock": "a"}, python)


# --- .env --------------------------------------------------------------------------------


def test_dotenv_is_copied_private_and_never_overwritten(tmp_path: Path):
    (tmp_path / ".env.example").write_text("TOKEN=replace-me\n")
    assert "created" in ensure_dotenv(tmp_path)
    env = tmp_path / ".env"
    assert env.read_text() == "TOKEN=replace-me\n"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    env.write_text("TOKEN=real\n")
    assert "left as it is" in ensure_dotenv(tmp_path)
    assert env.read_text() == "TOKEN=real\n"


def test_no_example_no_dotenv(tmp_path: Path):
    assert "no .env.example" in ensure_dotenv(tmp_path)
    assert not (tmp_path / ".env").exists()


# --- engines -----------------------------------------------------------------------------


def test_pip_compile_never_sees_the_machine_pip_settings():
    env = engines.isolated_pip_env(
        {
            "PATH": "/bin",
            "PIP_FIND_LINKS": "/wheels",
            "PIP_EXTRA_INDEX_URL": "file:///x",
            "PIP_CONFIG_FILE": "a",
        }
    )
    assert env == {"PATH": "/bin", "PIP_CONFIG_FILE": os.devnull}


def test_extra_indexes_go_to_installs_and_into_the_inputs_digest(tmp_path: Path):
    project = make_project(tmp_path)
    target = locks.lock_targets(project)[0]
    before = locks.inputs_digest(project, target)
    (tmp_path / "pyproject.toml").write_text(
        PYPROJECT.format(engine="uv") + 'extra-index-urls = ["https://example.invalid/cpu"]\n'
    )
    with_index = load_project(tmp_path)
    assert with_index.extra_index_urls == ("https://example.invalid/cpu",)
    assert locks.inputs_digest(with_index, target) != before  # changing the index: re-lock
    sync = engines.sync_argv("uv", "py", Path("lock.txt"), with_index.extra_index_urls)
    assert "--extra-index-url=https://example.invalid/cpu" in sync


def test_compile_commands(tmp_path: Path):
    project = make_project(tmp_path)
    dev, runtime = locks.lock_targets(project)
    uv = engines.uv_compile_argv("uv", runtime, Path("out.txt"), ["--upgrade"])
    assert uv[:5] == ["uv", "pip", "compile", "--no-config", "requirements.in"]
    assert {"--universal", "--generate-hashes", "--no-header"} <= set(uv)
    assert uv[uv.index("--python-version") + 1] == "3.10"
    assert uv[uv.index("--constraint") + 1] == "requirements-dev.txt"
    assert uv[-1] == "--upgrade"
    pip = engines.pip_compile_argv("py", dev, Path("out.txt"), [])
    assert {"--no-emit-index-url", "--no-emit-find-links", "--generate-hashes"} <= set(pip)
    assert engines.uv_env({})["UV_PYTHON_DOWNLOADS"] == "never"


def test_uv_never_wraps_its_messages_for_the_sessions(tmp_path: Path):
    """A shell's (or a test worker's) COLUMNS makes uv cut its sentences over lines,
    which the one-line messages quote and match: the real uv, given the sessions' env."""
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    missing = tmp_path / "a-folder-with-a-long-name" / "that-does-not-exist" / "python3.99"
    argv = [uv, "venv", "--no-config", "--python", str(missing), str(tmp_path / "env")]
    narrow = {**os.environ, "COLUMNS": "40", "LINES": "24"}
    wrapped = subprocess.run(argv, env=narrow, capture_output=True, text=True, check=False)
    assert len(wrapped.stderr.strip().splitlines()) > 1  # uv does wrap to COLUMNS
    told = subprocess.run(
        argv, env=engines.uv_env(narrow), capture_output=True, text=True, check=False
    )
    assert told.returncode != 0
    assert told.stderr.strip().splitlines() == [f"error: No interpreter found at path `{missing}`"]


def test_uv_is_given_only_the_uv_settings_that_change_no_resolution():
    env = engines.uv_env(
        {"UV_CACHE_DIR": "/c", "UV_INDEX_URL": "x", "UV_EXCLUDE_NEWER": "2025-01-01",
         "UV_CONFIG_FILE": "u.toml", "UV_SOMETHING_NEWER": "1", "PATH": "/bin",
         "UV_OFFLINE": "1", "UV_NATIVE_TLS": "1", "UV_SYSTEM_CERTS": "1",
         "UV_DEFAULT_INDEX": "y", "UV_FIND_LINKS": "z", "UV_NO_BINARY": "1",
         "UV_PRERELEASE": "allow", "UV_RESOLUTION": "lowest", "UV_CONSTRAINT": "c.txt"}
    )  # fmt: skip
    # The user's way of reaching the network (or not) is kept; what to install is not.
    assert env == {
        "UV_CACHE_DIR": "/c",
        "PATH": "/bin",
        "UV_OFFLINE": "1",
        "UV_NATIVE_TLS": "1",
        "UV_SYSTEM_CERTS": "1",
        "UV_NO_CONFIG": "1",
        "UV_PYTHON_DOWNLOADS": "never",
    }
    assert "--no-config" in engines.sync_argv("uv", "py", Path("lock.txt"))
