"""The shape of tools/envlock: backends through their one interface, no session module
that branches on env-manager, strict typing, the session guard's byte range, the matrix."""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_TEMPLATE, TEMPLATE, bake
from envlock import EnvlockError, backends, env_dirs, lockfiles, pythons, session_guard
from envlock.backends.conda_cli import conda_lock_target
from envlock.context import Context
from envlock.matrix import locks_left_over, parse_request, set_matrix, supported_pythons
from envlock.runner import run_streaming
from envlock.settings import load_project
from test_conda import FIXTURES, standin_env, use_conda_cli

LIBRARY = PROJECT_TEMPLATE / "tools" / "envlock"
SESSION_MODULES = ["lock", "setup", "rebuild", "doctor", "hooks", "dev_install", "matrix"]
HERE_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


# --- one interface, chosen in one place ----------------------------------------------


def test_no_session_module_branches_on_the_env_manager():
    for name in SESSION_MODULES:
        tree = ast.parse((LIBRARY / f"{name}.py").read_text())
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "env_manager" not in used, f"{name}.py looks at env_manager"
        assert "conda_prefix" not in used and "conda_solver" not in used, name


def test_backends_are_chosen_in_one_function():
    mentions = [
        path.relative_to(LIBRARY).as_posix()
        for path in LIBRARY.rglob("*.py")
        if "env_manager" in path.read_text() and path.name != "settings.py"
    ]
    assert mentions == ["backends/__init__.py"]


@pytest.mark.parametrize("version", ["3.10", "3.13"])
def test_library_passes_strict_mypy(version: str, tmp_path: Path):
    # The cache goes to the test's folder: nothing may appear in the template.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", version,
         "--config-file", os.devnull, "--cache-dir", str(tmp_path), "tools/envlock"],
        cwd=PROJECT_TEMPLATE, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def quiet_context(lines: list[str]) -> Context:
    from uv import find_uv_bin

    def run(argv: list[str], env: object) -> None:
        run_streaming(argv, env, echo=lines.append)  # type: ignore[arg-type]

    return Context(run=run, log=lines.append, uv=find_uv_bin())


@pytest.fixture(params=["venv", "conda"])
def backend_project(request, tmp_path: Path, monkeypatch):
    """A bake for this machine's Python with a trusted lock for the backend: the real dev
    lock for a venv; for conda the fixture conda-lock.yml and the stand-in solver."""
    project = bake(
        tmp_path / "out",
        env_manager=request.param,
        python_version=HERE_PYTHON,
        python_versions=HERE_PYTHON,
    )
    settings = load_project(project)
    lines: list[str] = []
    ctx = quiet_context(lines)
    if request.param == "conda":
        settings = load_project(use_conda_cli(project))
        for key, value in standin_env(tmp_path, "micromamba").items():
            monkeypatch.setenv(key, value)
        target = conda_lock_target(settings)
        body = (FIXTURES / "conda-lock.yml").read_text()
        target.output.write_text(lockfiles.render_lock(settings, target, body))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.chdir(project)  # as nox runs the sessions
    return settings, ctx, lines


@pytest.mark.slow
def test_every_backend_builds_verifies_and_puts_in_place(backend_project):
    project, ctx, _ = backend_project
    backend = backends.for_project(project, ctx)
    assert backend.env_dir.parent == project.root
    if not backend.main_lock.output.exists():
        from envlock.lock import compile_locks

        compile_locks(project, ctx, [])
    lockfiles.trusted_body(project, backend.main_lock)
    for target in backend.own_lock_targets():
        lockfiles.trusted_body(project, target)  # the lock check needs no solver

    staging = env_dirs.staging_dir(backend.env_dir)
    backend.build(staging)
    python = backend.python(staging)
    assert pythons.interpreter_problem(python) is None
    comparison = backends.compare_with_lock(backend, project, staging)
    assert comparison.matches, comparison.problems()
    facts = pythons.inspect_env(python)
    assert all(check.ok for check in backend.isolation_checks(staging, facts))

    state = env_dirs.wanted_state(project, backend.main_lock.output)
    backend.put_in_place(staging, state)
    assert not staging.exists()
    assert env_dirs.is_current(backend.env_dir, state, backend.python(backend.env_dir))
    assert any(backend.env_dir.name in line for line in backend.activation_lines())

    assert backends.compare_with_lock(backend, project, backend.env_dir).matches


def test_every_backend_refuses_a_missing_input_before_any_lock(tmp_path: Path):
    for manager in ("venv", "conda"):
        project = load_project(bake(tmp_path / manager, env_manager=manager))
        backend = backends.for_project(project, quiet_context([]))
        assert {t.output for t in backend.own_lock_targets()} <= {backend.main_lock.output} | {
            t.output for t in lockfiles.lock_targets(project)
        }
        assert backend.python(backend.env_dir).is_relative_to(backend.env_dir)


# --- the session guard, on Windows as well --------------------------------------------


class WindowsByteLocks:
    """STAND-IN for msvcrt.locking (Windows is not available here): mandatory locks of
    byte ranges, from each handle's current position, shared by every handle."""

    def __init__(self) -> None:
        self.held: dict[int, int] = {}  # byte offset -> fd holding it

    def lock(self, fd: int) -> None:
        start = os.lseek(fd, 0, os.SEEK_CUR)
        wanted = range(start, start + session_guard.LOCKED_BYTES)
        if any(self.held.get(b, fd) != fd for b in wanted):
            raise OSError(36, "Resource deadlock avoided")
        self.held.update(dict.fromkeys(wanted, fd))

    def unlock(self, fd: int) -> None:
        self.held = {b: owner for b, owner in self.held.items() if owner != fd}


def test_guard_locks_the_same_bytes_whatever_the_holder_wrote(tmp_path: Path):
    locks = WindowsByteLocks()
    (tmp_path / session_guard.GUARD_FILE).parent.mkdir()
    # A previous holder left a long text: in append mode the next lock would start there.
    (tmp_path / session_guard.GUARD_FILE).write_text("x`nox -s rebuild` (process 99999999)")
    with session_guard.one_session_at_a_time(tmp_path, "setup", locks.lock, locks.unlock):
        assert set(locks.held) == {0}
        session_guard._depth = 0  # a second process, as far as the guard can tell
        try:
            with (
                pytest.raises(EnvlockError, match=r"`nox -s setup` \(process \d+\) is changing"),
                session_guard.one_session_at_a_time(tmp_path, "lock", locks.lock, locks.unlock),
            ):
                pass
        finally:
            session_guard._depth = 1
    assert locks.held == {}


def test_guard_seeks_to_the_start_before_locking():
    handle = io.BytesIO(b"\0`nox -s setup` (process 1)")
    handle.seek(0, io.SEEK_END)
    positions: list[int] = []
    handle.fileno = lambda: 0  # type: ignore[method-assign]
    assert session_guard.try_to_hold(handle, lambda fd: positions.append(handle.tell()))
    assert positions == [0]


# --- the matrix, after a bake ---------------------------------------------------------


def test_matrix_is_sorted_as_versions_and_checked():
    supported = ["3.9", "3.10", "3.11", "3.12", "3.13"]
    request = parse_request(["3.9,3.10", "3.13"], ["3.10"], "3.10", supported)
    assert (request.matrix, request.main) == (["3.9", "3.10", "3.13"], "3.10")
    moved = parse_request(["--main", "3.11"], ["3.10", "3.11"], "3.10", supported)
    assert (moved.matrix, moved.main) == (["3.10", "3.11"], "3.11")
    both = parse_request(["3.12", "3.11", "--main=3.12"], ["3.10"], "3.10", supported)
    assert (both.matrix, both.main) == (["3.11", "3.12"], "3.12")
    refusals = {
        r"include the main Python 3\.12: add it \(`nox -s matrix -- 3\.11 3\.12`\), or choose "
        r"another main one": (["3.11"], "3.12"),
        r"add it \(`nox -s matrix -- 3\.12 3\.13 --main 3\.13`\)": (["--main", "3.13"], "3.12"),
        r"as X\.Y": (["three"], "3.12"),
        r"Python 3\.8 is not one the project's tools are made for: choose from 3\.9, ": (
            ["3.8", "3.12"],
            "3.12",
        ),
        r"Python 3\.99 is not one": (["--main", "3.99"], "3.12"),
        r"--main X\.Y": (["3.12", "--main"], "3.12"),
        r"--pythons is not an option of this session": (["--pythons", "3.12"], "3.12"),
        r"listed twice": (["3.12", "3.12"], "3.12"),
        r"--main is given twice: give the main Python once": (
            ["--main=3.12", "--main", "3.11"],
            "3.12",
        ),
    }
    for pattern, (words, main) in refusals.items():
        with pytest.raises(EnvlockError, match=pattern) as refused:
            parse_request(words, ["3.12"], main, supported)
        assert "\n" not in str(refused.value)


def test_the_matrix_session_takes_the_pythons_the_bake_offers():
    config = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    offered = config["python_versions"].replace(",", " ").split()  # the default: all of them
    assert supported_pythons() == offered
    assert "python_version" not in config["_choices"]  # the bake reads supported.json


def test_a_broken_supported_json_is_one_line(tmp_path: Path, monkeypatch):
    from envlock import matrix

    broken = tmp_path / "supported.json"
    monkeypatch.setattr(matrix, "SUPPORTED_FILE", broken)
    for text, found in [
        ("", r"No such file or directory"),
        ('{"pythons": ["3.12",', r"Expecting value: line 1"),
        ('{"python": ["3.12"]}', r'no "pythons" list'),
        ('{"pythons": "3.12"}', r'no "pythons" list'),
        ('["3.12"]', r'no "pythons" list'),
    ]:
        if text:
            broken.write_text(text)
        with pytest.raises(EnvlockError, match=found) as refused:
            supported_pythons()
        assert "`git checkout -- tools/envlock/supported.json`" in str(refused.value)
        assert "\n" not in str(refused.value)


def test_matrix_rewrites_every_file_that_lists_it(tmp_path: Path):
    from conftest import load_toml

    project = bake(tmp_path / "out", python_version="3.12", python_versions="3.12, 3.10")
    files = [project / n for n in ("pyproject.toml", ".python-version", ".github/workflows/ci.yml")]
    before = [path.read_bytes() for path in files]
    # The last file refused (read-only, or not UTF-8): none is written, in one line.
    files[-1].chmod(0o444)
    with pytest.raises(EnvlockError, match=r"ci.yml is read-only.* nothing was changed"):
        set_matrix(load_project(project), ["3.13", "3.12", "3.11"])
    assert [path.read_bytes() for path in files] == before
    files[-1].chmod(0o644)
    files[-1].write_bytes(before[-1] + b"# \xff\n")
    with pytest.raises(EnvlockError, match=r"ci.yml is not UTF-8 \(byte 0xff at line") as bad:
        set_matrix(load_project(project), ["3.13", "3.12", "3.11"])
    assert "\n" not in str(bad.value)
    assert [path.read_bytes() for path in files[:-1]] == before[:-1]
    files[-1].write_bytes(before[-1])
    # A line edited out of the form it had: refused, naming the file and the line to write.
    hand_edits = {
        0: ('python-matrix = ["3.10", "3.12"]', 'python-matrix = [\n  "3.10",\n  "3.12",\n]'),
        2: ('python: ["3.10", "3.12"]', 'python:\n          - "3.10"\n          - "3.12"'),
    }
    wanted = {0: 'python-matrix = ["3.11", "3.12", "3.13"]', 2: 'python: ["3.11", "3.12", "3.13"]'}
    for index, (line, edited) in hand_edits.items():
        assert line in before[index].decode(), line
        files[index].write_text(before[index].decode().replace(line, edited))
        with pytest.raises(EnvlockError) as refused:
            set_matrix(load_project(project), ["3.13", "3.12", "3.11"])
        message = str(refused.value)
        assert message.startswith(files[index].name if index == 0 else ".github/workflows/ci.yml")
        assert f"write it as `{wanted[index]}` by hand" in message and "\n" not in message
        assert [path.read_bytes() for path in files if path != files[index]] == [
            data for i, data in enumerate(before) if i != index
        ]
        files[index].write_bytes(before[index])
    changed = set_matrix(load_project(project), ["3.13", "3.12", "3.11"])
    assert {p.name for p in changed} == {"pyproject.toml", ".python-version", "ci.yml"}
    pyproject = load_toml(project / "pyproject.toml")
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert [c for c in pyproject["project"]["classifiers"] if c.count(".") == 1] == [
        f"Programming Language :: Python :: {v}" for v in ("3.11", "3.12", "3.13")
    ]
    assert pyproject["tool"]["envlock"]["python-matrix"] == ["3.11", "3.12", "3.13"]
    assert pyproject["tool"]["mypy"]["python_version"] == "3.11"
    assert (project / ".python-version").read_text() == "3.12\n3.11\n3.13\n"
    ci = (project / ".github" / "workflows" / "ci.yml").read_text()
    assert 'python: ["3.11", "3.12", "3.13"]' in ci
    fresh = bake(tmp_path / "fresh", python_version="3.12", python_versions="3.11, 3.12, 3.13")
    for name in ("pyproject.toml", ".python-version", ".github/workflows/ci.yml"):
        assert (project / name).read_text() == (fresh / name).read_text(), name
    assert set_matrix(load_project(project), ["3.11", "3.12", "3.13"]) == []

    # [tool.envlock] python moved by hand: --main moves the CI jobs still on the former
    # main Python (.python-version's first line) too.
    ci_path = project / ".github" / "workflows" / "ci.yml"
    files[0].write_text(files[0].read_text().replace('python = "3.12"', 'python = "3.13"'))
    set_matrix(load_project(project), ["--main", "3.13"])
    assert 'python-version: "3.12"' not in ci_path.read_text()
    assert ci_path.read_text().count('python-version: "3.13"') == ci.count('python-version: "3.12"')
    assert (project / ".python-version").read_text() == "3.13\n3.11\n3.12\n"
    # A job on the main Python written another way: refused, not missed.
    ci_path.write_text(
        ci_path.read_text().replace('python-version: "3.13"', "python-version: '3.13'")
    )
    with pytest.raises(EnvlockError, match=r'no `python-version: "3.13"` line to move to 3.11'):
        set_matrix(load_project(project), ["--main", "3.11"])
    # A workflow without any job on it (they were removed): nothing to move there.
    ci_path.write_text(re.sub(r"(?m)^ *python-version: '3.13'\n", "", ci_path.read_text()))
    set_matrix(load_project(project), ["--main", "3.11"])
    assert load_project(project).python == "3.11"


@pytest.mark.parametrize("env_manager", ["venv", "conda"])
def test_matrix_moves_the_main_python_as_a_bake_with_it_would_have(
    tmp_path: Path, env_manager: str
):
    files = ["pyproject.toml", ".python-version", ".github/workflows/ci.yml"]
    files += ["environment.yml"] if env_manager == "conda" else []
    answers = {"python_versions": "3.11, 3.12", "env_manager": env_manager}
    project = bake(tmp_path / "out", python_version="3.12", **answers)
    before = {name: (project / name).read_text() for name in files}
    with pytest.raises(EnvlockError, match=r"Python 3\.9 is not one"):
        set_matrix(load_project(project), ["3.9", "3.12"])
    if env_manager == "conda":  # a hand-edited python line: refused, and nothing written
        edited_yml = before["environment.yml"].replace("- python=3.12", "- python>=3.12")
        (project / "environment.yml").write_text(edited_yml)
        with pytest.raises(
            EnvlockError,
            match=r"environment.yml has no `- python=3.12` line .* make it `- python=3.11` by hand",
        ):
            set_matrix(load_project(project), ["--main", "3.11"])
        after = {name: (project / name).read_text() for name in files}
        assert after == {**before, "environment.yml": edited_yml}
        # Moved by hand, as that line says: taken as it is, not refused again.
        moved_yml = before["environment.yml"].replace("- python=3.12", "- python=3.13")
        (project / "environment.yml").write_text(moved_yml)
    # Another table's `python` key, before [tool.envlock]'s: left alone.
    other = '[tool.other]\npython = "3.9"\n\n'
    (project / "pyproject.toml").write_text(
        before["pyproject.toml"].replace("[tool.envlock]\n", other + "[tool.envlock]\n")
    )

    changed = set_matrix(load_project(project), ["3.11", "3.13", "--main", "3.13"])
    expected = set(files) - {"environment.yml"}  # (moved by hand above)
    assert {p.relative_to(project).as_posix() for p in changed} == expected
    pyproject = (project / "pyproject.toml").read_text()
    assert other + "[tool.envlock]\n" in pyproject
    (project / "pyproject.toml").write_text(pyproject.replace(other, ""))
    fresh = bake(
        tmp_path / "fresh", python_version="3.13", **{**answers, "python_versions": "3.11, 3.13"}
    )
    for name in [*files, "README.md"]:  # the README names no main Python to go stale
        assert (project / name).read_text() == (fresh / name).read_text(), name
    assert load_project(project).python == "3.13"


def test_matrix_names_the_pip_tools_locks_no_python_installs_any_more(tmp_path: Path):
    answers = {"python_versions": "3.11, 3.12, 3.13", "lock_engine": "pip-tools"}
    project = bake(tmp_path / "out", python_version="3.12", **answers)
    # Stand-ins for compiled locks: only their names matter here, no lock is compiled.
    for name in (
        "requirements-dev.txt",
        "requirements-dev-py3.11.txt",
        "requirements-dev-py3.13.txt",
    ):
        (project / name).write_text("# a lock\n")
    assert locks_left_over(load_project(project)) == []
    # An upper bound the user put in requires-python stays (only the lower one moves).
    pyproject = (project / "pyproject.toml").read_text()
    capped = pyproject.replace('requires-python = ">=3.11"\n', 'requires-python = ">=3.11,<3.15"\n')
    # A project that dropped mypy's table: nothing there to keep in step, not refused.
    mypy_table = re.search(r"^\[tool\.mypy\]\n(?:[^\[].*\n|\n)*", capped, re.MULTILINE)
    assert mypy_table is not None
    (project / "pyproject.toml").write_text(capped.replace(mypy_table.group(), ""))
    # A Windows checkout (git's autocrlf): edited all the same, and its line ends kept.
    names = ("pyproject.toml", ".python-version", ".github/workflows/ci.yml")
    for name in names:
        (project / name).write_bytes((project / name).read_bytes().replace(b"\n", b"\r\n"))
    set_matrix(load_project(project), ["3.12", "3.13", "--main", "3.13"])
    for name in names:
        data = (project / name).read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n"), name
    ci = (project / names[2]).read_bytes().decode()
    assert 'python: ["3.12", "3.13"]\r\n' in ci and 'python-version: "3.12"' not in ci
    assert (project / names[1]).read_bytes() == b"3.13\r\n3.12\r\n"
    edited = (project / names[0]).read_bytes().decode()
    assert 'requires-python = ">=3.12,<3.15"\r\n' in edited and "python_version" not in edited
    assert load_project(project).python == "3.13"
    # 3.13's lock is requirements-dev.txt now, and 3.11 is out; 3.12's is still to lock.
    left = locks_left_over(load_project(project))
    assert [p.name for p in left] == ["requirements-dev-py3.11.txt", "requirements-dev-py3.13.txt"]


# --- a broken .venv/bin/python: one line, never a traceback ----------------------------


@pytest.mark.slow
@pytest.mark.parametrize("breakage", ["dangling-link", "not-executable", "not-a-python"])
def test_broken_venv_python_is_one_line_in_every_session(
    tmp_path: Path, monkeypatch, breakage: str
):
    from envlock.doctor import diagnose
    from envlock.hooks import install_hooks
    from envlock.setup import set_up

    project_dir = bake(tmp_path / "out", python_version=HERE_PYTHON, python_versions=HERE_PYTHON)
    monkeypatch.chdir(project_dir)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    project = load_project(project_dir)
    lines: list[str] = []
    ctx = quiet_context(lines)
    set_up(project, ctx)
    python = project.venv / "bin" / "python"
    python.unlink()
    if breakage == "dangling-link":
        python.symlink_to(project.venv / "bin" / "no-such-python")
    elif breakage == "not-executable":
        python.write_text("#!/bin/sh\n")
        python.chmod(0o644)
    else:  # runs, exits 0, and is no Python
        python.write_text("#!/bin/sh\necho hello\n")
        python.chmod(0o755)

    ok, checks = diagnose(project, ctx)
    assert not ok
    (failed,) = [c for c in checks if not c.ok]
    assert failed.name == "environment works"
    assert "bin/python" in failed.detail and "`nox -s setup`" in failed.detail
    assert "\n" not in failed.detail

    with pytest.raises(EnvlockError, match=r"bin/python .*`nox -s setup`") as refused:
        install_hooks(project, ctx)
    assert "\n" not in str(refused.value)

    lines.clear()
    set_up(project, ctx)  # builds the environment again instead of trusting it
    assert any("building .venv again" in line for line in lines), lines
    assert pythons.interpreter_problem(python) is None
    assert diagnose(project, ctx)[0], diagnose(project, ctx)[1]


def test_a_pinned_tool_deleted_with_dot_nox_is_named_as_such(tmp_path: Path):
    """`.nox` removed while a session runs takes its pinned uv: the next command it runs
    says so, not "rebuild the environment"."""
    gone = tmp_path / ".nox" / "envlock-uv" / "bin" / "uv"
    with pytest.raises(EnvlockError) as caught:
        run_streaming([str(gone), "pip", "sync"])
    assert str(caught.value) == (
        f"cannot run {gone}: it is gone (was .nox deleted while this session ran?); the "
        "next session installs it again"
    )


def test_hooks_without_a_git_repository_is_one_line(tmp_path: Path, monkeypatch):
    from envlock.hooks import install_hooks

    project_dir = bake(tmp_path / "out", init_git="no")
    project = load_project(project_dir)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(EnvlockError, match=r"not in a git repository.*`git init`"):
        install_hooks(project, quiet_context([]))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(EnvlockError, match=r"git is not installed.*install git"):
        install_hooks(project, quiet_context([]))


def test_hooks_refused_in_a_project_inside_another_repository(tmp_path: Path):
    """Baked into a folder of an existing repository: its hooks stay as they were."""
    from envlock.hooks import install_hooks

    outer = tmp_path / "outer"
    outer.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=outer,
            check=True,
        )
    project = load_project(bake(outer))
    with pytest.raises(EnvlockError) as refused:
        install_hooks(project, quiet_context([]))
    message = str(refused.value)
    assert f"inside the git repository {outer.resolve()}, not the top of its own" in message
    assert "`git init` here" in message and "\n" not in message
    assert not (outer / ".git" / "hooks" / "pre-commit").exists()


@pytest.mark.slow
def test_readme_rebuild_check_runs_from_the_noxfile_and_keeps_the_environment(tmp_path: Path):
    """The README's example, pasted into the noxfile as it is: the package has no command
    line, so the check fails, the report says so, and .venv stays."""
    from conftest import run_nox

    project = bake(tmp_path / "out", python_version=HERE_PYTHON, python_versions=HERE_PYTHON)
    readme = (project / "README.md").read_text()
    example = readme.split("## Customising the sessions", 1)[1].split("```python\n")[1]
    example = example.split("```")[0]
    noxfile = project / "noxfile.py"
    text = noxfile.read_text()
    anchor = "REBUILD_CHECKS: list[Callable[[Path], Check]] = []\n"
    assert anchor in text
    noxfile.write_text(text.replace(anchor, anchor + example))
    run_nox(project, "-s", "setup")
    marker = project / ".venv" / "still-the-old-one"
    marker.touch()
    result = run_nox(project, "-s", "rebuild", check=False)
    assert result.returncode != 0
    assert re.search(r"command line starts +FAILED", result.stdout), result.stdout
    # The check's own output (python -m <package> fails) comes after its "checking:" line.
    output = result.stdout + (result.stderr or "")
    assert 0 <= output.find("checking: cli_starts") < output.find("No module named"), output
    report = json.loads((project / "rebuild-report.json").read_text())
    assert report["ok"] is False
    assert {c["check"]: c["result"] for c in report["checks"]}["command line starts"] == "FAILED"
    assert marker.exists()
