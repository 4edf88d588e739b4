"""Faults of the environment side, each caused for real in a real bake: installs that fail
after a lock change, Ctrl-C, SIGTERM and SIGKILL of the whole process group at points
found by watching the file system (and /proc: which command runs, who waits for a
lock), a full and a read-only disk (a small tmpfs), a folder without write permission
(root's override of folder modes dropped), a file name too long, linked environments, a
Python that was removed, folders of the user that carry the sessions' names, `.nox`
deleted under a running session, and two sessions installing the pinned uv at once. Each checks that nothing was lost
(the old environment imports the project, the locks are byte-identical, the user's files
are there) and the one line the session ends with.

The stalled download is a package index on 127.0.0.1 that accepts connections and never
answers (test_faults.StalledIndex): it holds a session at a known step without a sleep.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import bake, edited, nox_env, run_nox
from envlock import owners
from test_faults import StalledIndex, index_env

pytestmark = pytest.mark.slow

PYTHON = "3.12"
OLD = "old-env-marker"


def project_venv_works(project: Path) -> bool:
    """The environment imports the project (and what it depends on) and runs its tests."""
    python = project / ".venv" / "bin" / "python"
    imports = subprocess.run([str(python), "-c", "import my_project, dotenv"], check=False)
    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q"], cwd=project, check=False, capture_output=True
    )
    return imports.returncode == 0 and tests.returncode == 0


def locks_of(project: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(project.glob("requirements*.txt"))}


def untracked(project: Path) -> list[str]:
    """What `git status` would show a user besides the files the test itself changed."""
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [line for line in result.stdout.splitlines() if line.startswith("??")]


def session_line(output: str, session: str) -> str:
    """The one line a failed session ends with (without what nox adds: "Session NAME
    aborted: " and the time it took); nothing else in the output may look like a failure's traceback."""
    lines = [line for line in output.splitlines() if f"Session {session} aborted: " in line]
    assert len(lines) == 1, output
    assert "Traceback" not in output, output
    return re.sub(r"( \(took [^)]*\))?\.?$", "", lines[0].split(" aborted: ", 1)[1])


def beside_venv(project: Path) -> list[str]:
    return sorted(p.name for p in project.iterdir() if p.name.startswith(".venv."))


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    project = bake(
        tmp_path_factory.mktemp("env-faults") / "out",
        python_version=PYTHON,
        python_versions=PYTHON,
    )
    run_nox(project, "-s", "setup")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "baked and locked"], cwd=project, check=True)
    return project


@pytest.fixture
def project(made: Path) -> Iterator[Path]:
    """The project with its committed locks and a working .venv marked as the old one;
    what a test changes in tracked files is restored afterwards."""
    (made / ".venv" / OLD).touch()
    yield made
    subprocess.run(["git", "checkout", "--", "."], cwd=made, check=True)


# Small pure-Python distributions whose module has the same name: one per use, so the
# lock always differs from whatever .venv was last synced to.
NEW_PINS = iter(["six", "toml", "idna", "zipp", "certifi", "wrapt", "decorator", "attrs"])


@pytest.fixture
def lock_changed(project: Path) -> tuple[Path, str]:
    """A new pin in the lock that .venv does not have yet, and its module."""
    added = next(NEW_PINS)
    with (project / "requirements.in").open("a") as handle:
        handle.write(f"{added}\n")
    run_nox(project, "-s", "lock")
    return project, added


def imports(project: Path, module: str) -> bool:
    python = project / ".venv" / "bin" / "python"
    return subprocess.run([str(python), "-c", f"import {module}"], check=False).returncode == 0


def wait_for(process: subprocess.Popen, what: str, condition: Callable[[], bool]) -> None:
    """Until the file system shows ``condition`` (polled; fails if the session ends first)."""
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the session ended before {what}:\n{process.stdout.read()}")
        time.sleep(0.02)


def start(project: Path, session: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nox", "-s", session],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )


def installing_into_staging(project: Path) -> bool:
    """The new environment is made (its Python is there) and the sync has begun."""
    return (project / ".venv.new" / "bin" / "python").exists() and (
        project / ".venv.new.owner.json"
    ).exists()


def group_runs(process: subprocess.Popen, *words: str) -> bool:
    """A process of the session's group (it leads its own) runs a command whose argv has
    ``words`` (read from Linux's /proc): the step is under way, not about to begin."""
    wanted = [word.encode() for word in words]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            group = int(stat.read_text().rsplit(")", 1)[1].split()[2])
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if group == process.pid and all(word in argv for word in wanted):
            return True
    return False


def waiting_for_a_flock(pid: int) -> bool:
    """Process ``pid`` is blocked waiting for a flock another process holds (/proc/locks)."""
    waiters = re.findall(r"-> FLOCK +ADVISORY +WRITE +(\d+) ", Path("/proc/locks").read_text())
    return str(pid) in waiters


def run_unprivileged(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`nox ARGS` for whom folder modes apply: run as root (as on CI), without root's
    power to write anywhere (CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped)."""
    argv = [sys.executable, "-m", "nox", *args]
    if os.geteuid() == 0:
        dropped = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
        probe = subprocess.run([*dropped, "true"], capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            pytest.skip(f"cannot drop root's override of folder modes: {probe.stderr.strip()}")
        argv = dropped + argv
    return subprocess.run(
        argv, cwd=project, env=nox_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=900, check=False,
    )  # fmt: skip


# --- item 1: setup after a lock change never touches .venv until the new one is whole -----


def test_setup_that_fails_after_a_lock_change_leaves_the_old_env(lock_changed):
    project, added = lock_changed
    locks = locks_of(project)
    # The build backend no longer finds the package: the editable install fails, after
    # every locked package was installed (in place, this used to leave no project).
    with edited(
        project / "pyproject.toml",
        lambda text: text.replace('module-name = "my_project"', 'module-name = "gone"'),
    ):
        assert 'module-name = "gone"' in (project / "pyproject.toml").read_text()
        result = run_nox(project, "-s", "setup", check=False)
    line = session_line(result.stdout, "setup")
    assert line.startswith(
        "`uv pip install` could not build this project (my-project) (Expected a Python "
        "module at: src/gone/__init__.py): fix pyproject.toml (or setup.py)"
    ), line
    assert line.endswith(".venv was left as it was")
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)
    assert locks_of(project) == locks
    assert beside_venv(project) == [] and untracked(project) == []
    again = run_nox(project, "-s", "setup")
    assert "creating .venv.new" in again.stdout
    assert not (project / ".venv" / OLD).exists() and project_venv_works(project)
    assert imports(project, added)


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_setup_stopped_while_installing_keeps_the_old_env(tmp_path: Path, lock_changed, how):
    project, added = lock_changed
    locks = locks_of(project)
    index = StalledIndex()
    try:
        process = start(project, "setup", index_env(tmp_path, index.url))
        wait_for(process, "installing into .venv.new", lambda: installing_into_staging(project))
        os.killpg(process.pid, getattr(signal, how))  # the whole group: nox, uv
        output, _ = process.communicate(timeout=120)
    finally:
        index.stop()
    assert process.returncode != 0
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)
    assert locks_of(project) == locks
    if how == "SIGKILL":  # nothing could run: the claimed staging folder is left ...
        assert beside_venv(project) == [".venv.new", ".venv.new.owner.json"]
        run_nox(project, "-s", "setup")  # ... and the next session clears it
        assert not (project / ".venv" / OLD).exists() and project_venv_works(project)
        assert imports(project, added)
    else:
        line = session_line(output, "setup")
        said = "Ctrl-C" if how == "SIGINT" else "SIGTERM"
        assert line.endswith(
            f"interrupted ({said}) before it finished; .venv was left as it was; "
            "the lock files were not changed"
        ), line
    assert beside_venv(project) == [] and untracked(project) == []


def test_scratch_files_of_a_killed_lock_are_ignored_by_git_and_cleaned_next_time(
    tmp_path: Path, project: Path
):
    locks = locks_of(project)
    index = StalledIndex()
    try:
        process = start(project, "lock", index_env(tmp_path, index.url))
        wait_for(process, "compiling", lambda: any(project.glob(".*.envlock-compiling-*")))
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        index.stop()
    left = list(project.glob(".*.envlock-*"))
    assert left and all(re.search(r"\.envlock-compiling-\d+$", p.name) for p in left), left
    assert locks_of(project) == locks and untracked(project) == []
    # A scratch file of a process that still runs (this test's own) is not touched.
    ours = project / f".requirements.txt.envlock-compiling-{os.getpid()}"
    ours.write_text("being written")
    run_nox(project, "-s", "lock")
    assert not any(p.exists() for p in left) and ours.read_text() == "being written"
    assert locks_of(project) == locks
    ours.unlink()


def test_lock_interrupted_while_compiling_says_the_locks_are_the_old_set(
    tmp_path: Path, project: Path
):
    """SIGTERM, as a terminal's close or a CI timeout sends it (Ctrl-C takes the same path)."""
    with (project / "requirements.in").open("a") as handle:
        handle.write("six\n")  # the new set would differ from the old
    locks = locks_of(project)
    index = StalledIndex()
    try:
        process = start(project, "lock", index_env(tmp_path, index.url))
        wait_for(process, "uv pip compile runs", lambda: group_runs(process, "pip", "compile"))
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
    finally:
        index.stop()
    assert session_line(output, "lock") == (
        "interrupted (SIGTERM) before it finished; the lock files are the old set, unchanged"
    )
    assert locks_of(project) == locks
    assert list(project.glob(".*.envlock-*")) == [] and untracked(project) == []


def test_setup_interrupted_while_locking_first_says_no_lock_was_written(
    tmp_path: Path, project: Path
):
    """Without locks, setup locks first: Ctrl-C there has no old set to speak of."""
    locks = locks_of(project)
    for lock in project.glob("requirements*.txt"):
        lock.unlink()
    index = StalledIndex()
    try:
        process = start(project, "setup", index_env(tmp_path, index.url))
        wait_for(process, "uv pip compile runs", lambda: group_runs(process, "pip", "compile"))
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    finally:
        index.stop()
        written = locks_of(project)
        for name, text in locks.items():  # the tests after this one share the project
            (project / name).write_bytes(text)
    assert session_line(output, "setup") == (
        "interrupted (Ctrl-C) before it finished; no lock file was written"
    )
    assert written == {} and list(project.glob(".*.envlock-*")) == []
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)


def test_a_file_where_a_session_makes_a_folder_says_move_it_away(tmp_path: Path, project: Path):
    """`.nox` made a file by hand, then `.nox/envlock-uv`: one line naming what to move."""
    nox_dir, locks = project / ".nox", locks_of(project)
    nox_dir.rename(tmp_path / "nox")
    try:
        nox_dir.write_text("mine\n")
        result = run_nox(project, "-s", "setup", check=False)
        assert session_line(result.stdout, "setup") == (
            f"a file is in the way of a folder at {nox_dir}: move {nox_dir} away (the session "
            "makes a folder there), then run this again; the pinned uv was not installed into "
            ".nox/envlock-uv, the environment and the locks were not touched"
        )
        assert nox_dir.read_text() == "mine\n"
        nox_dir.unlink()
        (tmp_path / "nox").rename(nox_dir)
        shutil.rmtree(nox_dir / "envlock-uv")
        (nox_dir / "envlock-uv").write_text("mine\n")
        result = run_nox(project, "-s", "setup", check=False)
        assert session_line(result.stdout, "setup").startswith(
            f"a part of the path is a file, not a folder at {nox_dir / 'envlock-uv'}: move that "
            "file away (the session makes a folder there), then run this again; "
        )
        assert (nox_dir / "envlock-uv").read_text() == "mine\n"
        (nox_dir / "envlock-uv").unlink()
    finally:
        if nox_dir.is_file():
            nox_dir.unlink()
        if (tmp_path / "nox").exists():
            (tmp_path / "nox").rename(nox_dir)
    assert locks_of(project) == locks and project_venv_works(project)
    # The pinned uv is installed again (setup, not doctor: the tests before this one
    # leave .venv with pins that the restored lock no longer has).
    run_nox(project, "-s", "setup")
    assert (nox_dir / "envlock-uv" / "bin" / "uv").is_file()


def test_a_folder_named_like_the_report_is_left_alone_in_one_line(project: Path):
    report = project / "rebuild-report.json"
    report.mkdir()
    (report / "mine").write_text("kept\n")
    try:
        result = run_nox(project, "-s", "rebuild", check=False)
        assert session_line(result.stdout, "rebuild") == (
            "rebuild-report.json is a folder, where the rebuild writes its report: move it "
            "away; nothing was rebuilt"
        )
        assert (report / "mine").read_text() == "kept\n"
        assert (project / ".venv" / OLD).exists() and beside_venv(project) == []
    finally:
        shutil.rmtree(report)


# --- the pinned uv: installed by one session at a time, never left half made -------------


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_stopped_install_of_the_pinned_uv_leaves_nothing_half_made(
    tmp_path: Path, project: Path, how: str
):
    """The first session installs the pinned uv (.nox/envlock-uv is gone) and stalls on
    the index; a read-only session started meanwhile waits for it, then installs it."""
    nox_dir = project / ".nox"
    shutil.rmtree(nox_dir / "envlock-uv")
    index = StalledIndex()
    second = None
    try:
        first = start(project, "setup", index_env(tmp_path, index.url))
        wait_for(
            first,
            "installing the pinned uv",
            lambda: (
                (nox_dir / "envlock-uv.new" / "bin" / "python").exists()
                and group_runs(first, "pip", "sync")
            ),
        )
        if how == "SIGKILL":  # the second waits its turn instead of building beside it
            second = start(project, "doctor", nox_env())
            wait_for(second, "waiting its turn", lambda: waiting_for_a_flock(second.pid))
        os.killpg(first.pid, getattr(signal, how))
        output, _ = first.communicate(timeout=120)
    finally:
        index.stop()
    if how == "SIGTERM":
        assert session_line(output, "setup") == (
            "interrupted (SIGTERM) before it finished; the pinned uv was not installed into "
            ".nox/envlock-uv (what was half installed was removed); the environment and "
            "the locks were not touched"
        )
        assert sorted(p.name for p in nox_dir.iterdir() if p.name.startswith("envlock-uv")) == [
            "envlock-uv.lock"
        ]
        second = start(project, "doctor", nox_env())
    assert second is not None  # after SIGKILL, it clears the half-made uv left behind
    doctor, _ = second.communicate(timeout=300)
    assert "doctor:" in doctor and "Traceback" not in doctor, doctor
    assert not (nox_dir / "envlock-uv.new").exists()
    uv = nox_dir / "envlock-uv" / "bin" / "uv"
    version = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True)
    from envlock.tool_locks import pinned_version

    assert version.stdout.split()[1] == pinned_version("uv")
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)
    # Once installed, no session waits for the install's lock, even while it is held.
    with (nox_dir / "envlock-uv.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        again = run_nox(project, "-s", "doctor", check=False, timeout=300)
    assert "doctor:" in again.stdout and "envlock-uv.new" not in again.stdout, again.stdout


# --- item 4: a broken or foreign .venv ----------------------------------------------------


def test_removed_python_is_found_and_setup_builds_again(tmp_path: Path, project: Path):
    """A copy of this machine's pyenv Python builds .venv, and is then deleted."""
    from envlock.pythons import find_python

    real = find_python(PYTHON)
    assert real is not None
    version_dir = real.parents[1]
    copy_root = tmp_path / "pyenv"
    copied = copy_root / "versions" / version_dir.name
    copied.parent.mkdir(parents=True)
    subprocess.run(["cp", "-al", str(version_dir), str(copied)], check=True)  # hard links
    (project / ".venv").rename(tmp_path / "first-venv")
    run_nox(project, "-s", "setup", env=nox_env(PYENV_ROOT=str(copy_root)))
    cfg = (project / ".venv" / "pyvenv.cfg").read_text()
    assert str(copied) in cfg
    (project / ".venv" / OLD).touch()
    shutil.rmtree(copied)  # `pyenv uninstall` of that patch version

    doctor = run_nox(project, "-s", "doctor", "--", "--json", check=False)
    rows = json.loads(doctor.stdout[doctor.stdout.index("{") : doctor.stdout.rindex("}") + 1])
    works = {c["check"]: c for c in rows["checks"]}["environment works"]
    assert works["result"] == "FAILED"
    assert "does not exist" in works["detail"]
    assert works["detail"].endswith("`nox -s setup` builds it again, beside the old one")

    result = run_nox(project, "-s", "setup")
    assert ": building .venv again, beside the old one" in result.stdout
    assert not (project / ".venv" / OLD).exists() and project_venv_works(project)
    assert str(copied) not in (project / ".venv" / "pyvenv.cfg").read_text()
    assert run_nox(project, "-s", "doctor").returncode == 0


def test_foreign_venv_and_users_own_dot_old_are_left_alone(tmp_path: Path, project: Path):
    saved = tmp_path / "ours"
    (project / ".venv").rename(saved)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=project,
                       check=True)  # fmt: skip
        (project / ".venv" / "users-file").touch()
        (project / ".venv.old").mkdir()
        (project / ".venv.old" / "users-notes.txt").write_text("keep me")

        result = run_nox(project, "-s", "setup", check=False)
        line = session_line(result.stdout, "setup")
        assert "has no envlock-state.json" in line and "`nox -s rebuild` replaces it" in line
        doctor = run_nox(project, "-s", "doctor", check=False)
        assert re.search(r"environment works +FAILED +.*`nox -s rebuild` replaces", doctor.stdout)

        rebuild = run_nox(project, "-s", "rebuild", check=False)
        line = session_line(rebuild.stdout, "rebuild")
        assert ".venv.old was not made by a nox session" in line and "left alone" in line
        assert line.endswith(".venv was left as it was")
        assert (project / ".venv" / "users-file").exists()
        assert (project / ".venv.old" / "users-notes.txt").read_text() == "keep me"
        report = json.loads((project / "rebuild-report.json").read_text())
        assert report["ok"] is False and "not made by a nox session" in report["error"]

        shutil.rmtree(project / ".venv.old")  # the user moves it away, as told
        run_nox(project, "-s", "rebuild")
        assert not (project / ".venv" / "users-file").exists() and project_venv_works(project)
    finally:
        shutil.rmtree(project / ".venv.old", ignore_errors=True)
        shutil.rmtree(project / ".venv")
        saved.rename(project / ".venv")


def dead_pid() -> int:
    """The id of a process that has ended (a real one, waited for)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_link_to_a_folder_that_is_no_environment_is_never_replaced(tmp_path: Path, project: Path):
    """`.venv` linked to the folder that holds the environments, not to one of them:
    setup said that `rebuild` replaces it, and rebuild deleted everything in it."""
    envs = tmp_path / "envs"
    (envs / "another-project").mkdir(parents=True)
    (envs / "notes.txt").write_text("mine\n")
    venv = project / ".venv"
    venv.rename(tmp_path / "saved")
    venv.symlink_to(envs)
    try:
        expected = (
            f"{envs} holds files but is not an environment (it has no pyvenv.cfg or "
            "conda-meta), so no session replaces it: point the link at an environment's own "
            "folder, or remove the link, then run this again"
        )
        for session in ("setup", "rebuild"):
            result = run_nox(project, "-s", session, check=False)
            assert session_line(result.stdout, session) == expected
        doctor = run_nox(project, "-s", "doctor", check=False)
        assert doctor.returncode != 0 and expected in doctor.stdout
        assert sorted(p.name for p in envs.iterdir()) == ["another-project", "notes.txt"]
        assert (envs / "notes.txt").read_text() == "mine\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["envs", "saved"]
    finally:
        venv.unlink()
        (tmp_path / "saved").rename(venv)


def test_a_users_venv_beside_a_dead_sessions_dot_old_is_never_deleted(
    tmp_path: Path, project: Path
):
    """A kill between the two renames of a swap leaves .venv.old claimed by a dead session
    and no .venv; the user (or an IDE) then makes a .venv of their own."""
    (project / ".venv").rename(project / ".venv.old")
    owner = owners.this_process("`nox -s setup`")
    owners.write_marker(project / ".venv.old", dataclasses.replace(owner, pid=dead_pid()))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=project,
                       check=True)  # fmt: skip
        (project / ".venv" / "MYFILE").write_text("my work")
        for session in ("setup", "rebuild"):
            result = run_nox(project, "-s", session, check=False)
            line = session_line(result.stdout, session)
            assert line.startswith(
                ".venv has no envlock-state.json and was not made by a nox session, and "
                ".venv.old holds the last environment a session made: delete or move .venv"
            ), line
            assert (project / ".venv" / "MYFILE").read_text() == "my work"
            assert (project / ".venv.old" / OLD).exists()
        shutil.rmtree(project / ".venv")  # as the line says: the last good one comes back
        run_nox(project, "-s", "setup")
        assert (project / ".venv" / OLD).exists() and project_venv_works(project)
        assert beside_venv(project) == []
    finally:
        if (project / ".venv.old").exists():
            shutil.rmtree(project / ".venv", ignore_errors=True)
            (project / ".venv.old").rename(project / ".venv")
        owners.unmark(project / ".venv.old")


# --- item 3: a linked .venv stays a link ------------------------------------------------


def test_linked_venv_stays_a_link_through_setup_and_rebuild(tmp_path: Path, lock_changed):
    project, added = lock_changed
    disk = tmp_path / "big-disk" / "envs"
    disk.mkdir(parents=True)
    target = disk / "my-project"
    (project / ".venv").rename(target)
    (project / ".venv").symlink_to(target)
    try:
        run_nox(project, "-s", "setup")
        assert (project / ".venv").is_symlink() and (project / ".venv").resolve() == target
        assert not (target / OLD).exists()  # the new one is in the target's place
        assert imports(project, added)
        assert sorted(p.name for p in disk.iterdir()) == ["my-project"]
        (target / OLD).touch()
        run_nox(project, "-s", "rebuild")
        assert (project / ".venv").resolve() == target and not (target / OLD).exists()
        assert project_venv_works(project) and beside_venv(project) == []
        assert sorted(p.name for p in disk.iterdir()) == ["my-project"]
        assert untracked(project) == []  # the link is ignored as the folder was

        (project / ".venv").unlink()
        (project / ".venv").symlink_to(tmp_path / "unplugged-disk" / "envs" / "my-project")
        result = run_nox(project, "-s", "setup", check=False)
        line = session_line(result.stdout, "setup")
        assert "whose folder" in line and "does not exist" in line
        assert (project / ".venv").is_symlink() and not (tmp_path / "unplugged-disk").exists()
    finally:
        (project / ".venv").unlink()
        target.rename(project / ".venv")


# --- item 9: the report never outlives its run -------------------------------------------


def test_failed_or_killed_rebuild_never_leaves_an_older_success(tmp_path: Path, project: Path):
    report_path = project / "rebuild-report.json"
    run_nox(project, "-s", "rebuild")
    assert json.loads(report_path.read_text())["ok"] is True
    (project / ".venv" / OLD).touch()
    with edited(
        project / "pyproject.toml",
        lambda text: text.replace('module-name = "my_project"', 'module-name = "gone"'),
    ):
        result = run_nox(project, "-s", "rebuild", check=False)
    report = json.loads(report_path.read_text())
    assert report["ok"] is False and report["step"] == "building"
    assert report["error"] == session_line(result.stdout, "rebuild")

    index = StalledIndex()
    try:
        process = start(project, "rebuild", index_env(tmp_path, index.url))
        wait_for(process, "installing into .venv.new", lambda: installing_into_staging(project))
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        index.stop()
    report = json.loads(report_path.read_text())
    assert report["ok"] is False and "did not finish" in report["error"]
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)
    run_nox(project, "-s", "setup")  # clears the killed session's folder
    assert beside_venv(project) == []


def test_rebuild_killed_while_putting_in_place_says_so_and_the_next_session_finishes(
    project: Path,
):
    process = start(project, "rebuild", nox_env())
    marker = project / ".venv.old.owner.json"  # written just before .venv moves aside
    wait_for(process, "the swap begins", marker.exists)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    report = json.loads((project / "rebuild-report.json").read_text())
    assert report["ok"] is False and report["step"] == "putting in place", report
    run_nox(project, "-s", "setup")  # finishes or undoes the swap
    assert beside_venv(project) == [] and project_venv_works(project)


# --- item 10: one session at a time, even without .nox -----------------------------------


def test_deleting_dot_nox_does_not_let_a_second_session_in(tmp_path: Path, project: Path):
    index = StalledIndex()
    try:
        # uv gives up on the stalled index only after the second session is done (the
        # second one installs uv into the new .nox first, which is slow on a busy machine).
        env = {**index_env(tmp_path, index.url), "UV_HTTP_TIMEOUT": "280"}
        process = start(project, "rebuild", env)
        wait_for(
            process,
            "uv pip sync into .venv.new runs",  # not only about to: its uv is deleted next
            lambda: installing_into_staging(project) and group_runs(process, "pip", "sync"),
        )
        shutil.rmtree(project / ".nox")
        began = time.monotonic()
        second = run_nox(project, "-s", "setup", check=False, timeout=200)
        took = f"the second session took {time.monotonic() - began:.0f} s:\n{second.stdout}"
        assert process.poll() is None, f"the rebuild ended: {process.stdout.read()}\n{took}"
        assert (project / ".venv.new" / "bin" / "python").exists(), took  # its work is untouched
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        index.stop()
    assert session_line(second.stdout, "setup") == (
        "another nox session is changing this project's environment: wait for it to "
        "finish, then run this again"
    )
    assert session_line(output, "rebuild") == (
        "interrupted (Ctrl-C) before it finished; .venv was left as it was; the lock "
        "files were not changed"
    )
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)
    assert beside_venv(project) == []


# --- item 11: a full disk and a read-only one --------------------------------------------


def test_read_only_project_folder_ends_in_one_line_and_keeps_everything(lock_changed):
    project, added = lock_changed  # setup has a new pin to install
    locks = locks_of(project)
    todo = f"give yourself write permission on {project} (`ls -ld` shows its owner and mode)"
    project.chmod(0o555)
    try:
        lock = run_unprivileged(project, "-s", "lock")
        setup = run_unprivileged(project, "-s", "setup")
    finally:
        project.chmod(0o755)
    line = session_line(lock.stdout, "lock")
    scratch = rf"{re.escape(str(project))}/\.requirements[-\w.]*\.txt\.envlock-compiling-\d+"
    assert re.fullmatch(
        rf"cannot write {scratch} \(Permission denied\): every lock was kept as it was; "
        rf"{re.escape(todo)}, then run this again",
        line,
    ), line
    assert session_line(setup.stdout, "setup") == (
        f"permission was denied at {project}/.venv.new.owner.json.partial: {todo}, then run "
        "this again; .venv was left as it was"
    )
    assert locks_of(project) == locks and untracked(project) == []
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)
    assert beside_venv(project) == []
    run_nox(project, "-s", "setup")
    assert imports(project, added)


def test_linked_venv_whose_folder_takes_no_new_one_ends_in_one_line(tmp_path: Path, project: Path):
    """The folder the link points into gives too long a name to what is built beside
    it, then is read-only."""
    disk = tmp_path / "disk"
    disk.mkdir()
    long_target = disk / ("env-" + "x" * 246)  # 250 bytes: NAME.new fits, its marker not
    (project / ".venv").rename(long_target)
    (project / ".venv").symlink_to(long_target)
    try:
        result = run_nox(project, "-s", "rebuild", check=False)
        assert session_line(result.stdout, "rebuild") == (
            f"a file name is too long at {long_target}.new.owner.json.partial: use shorter "
            "folder names on that path (a name has at most 255 bytes), or move the project "
            "to a shorter path, then run this again; .venv was left as it was"
        )
        assert sorted(p.name for p in disk.iterdir()) == [long_target.name]
        assert (long_target / OLD).exists() and project_venv_works(project)

        target = disk / "env"
        long_target.rename(target)
        (project / ".venv").unlink()
        (project / ".venv").symlink_to(target)
        disk.chmod(0o555)
        try:
            result = run_unprivileged(project, "-s", "rebuild")
        finally:
            disk.chmod(0o755)
        assert session_line(result.stdout, "rebuild") == (
            f"permission was denied at {target}.new.owner.json.partial: give yourself write "
            f"permission on {disk} (`ls -ld` shows its owner and mode), then run this again; "
            ".venv was left as it was"
        )
        assert sorted(p.name for p in disk.iterdir()) == ["env"]
        assert (target / OLD).exists() and project_venv_works(project)
    finally:
        (project / ".venv").unlink()
        next(disk.iterdir()).rename(project / ".venv")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 400 MB of its own (needs the right to mount: root, or skipped)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400m", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}): no real full disk")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` up to ``leave`` free bytes with one file; its path."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free - leave
    with filler.open("wb") as handle:
        handle.truncate(0)
        block = b"\0" * 2**20
        while free > 0:
            handle.write(block[: min(free, len(block))])
            free -= len(block)
    return filler


def test_full_and_read_only_disk_end_in_one_line_and_keep_everything(small_disk: Path):
    project = bake(small_disk / "out", python_version=PYTHON, python_versions=PYTHON)
    env = nox_env()  # uv's cache is on another disk: installs copy, as they need room
    run_nox(project, "-s", "setup", env=env)
    (project / ".venv" / OLD).touch()
    with (project / "requirements.in").open("a") as handle:
        handle.write("six\n")
    locks = locks_of(project)

    filler = fill(small_disk, leave=0)
    result = run_nox(project, "-s", "lock", env=env, check=False)
    line = session_line(result.stdout, "lock")
    assert "free some space" in line and str(project) in line, line
    assert locks_of(project) == locks
    filler.unlink()
    run_nox(project, "-s", "lock", env=env)
    locks = locks_of(project)

    filler = fill(small_disk, leave=2 * 2**20)  # room to start, not for a new environment
    result = run_nox(project, "-s", "setup", env=env, check=False)
    line = session_line(result.stdout, "setup")
    assert "the disk is full" in line and line.endswith(".venv was left as it was"), line
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)
    assert locks_of(project) == locks and beside_venv(project) == []
    assert [p.name for p in project.glob(".*.envlock.tmp")] == []
    filler.unlink()

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        result = run_nox(project, "-s", "setup", env=env, check=False)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    line = session_line(result.stdout, "setup")
    assert "read-only" in line and str(project) in line, line
    assert (project / ".venv" / OLD).exists() and project_venv_works(project)
    assert locks_of(project) == locks

    run_nox(project, "-s", "setup", env=env)
    assert not (project / ".venv" / OLD).exists() and project_venv_works(project)


def test_a_report_that_cannot_be_written_never_leaves_an_older_success(small_disk: Path):
    project = bake(small_disk / "out", python_version=PYTHON, python_versions=PYTHON)
    env = nox_env()
    run_nox(project, "-s", "setup", env=env)
    run_nox(project, "-s", "rebuild", env=env)
    report = project / "rebuild-report.json"
    assert json.loads(report.read_text())["ok"] is True
    (project / ".venv" / OLD).touch()

    filler = fill(small_disk, leave=0)
    result = run_nox(project, "-s", "rebuild", env=env, check=False)
    line = session_line(result.stdout, "rebuild")
    assert line.startswith(f"cannot write {report} (No space left on device): nothing was "
                           "rebuilt and the old rebuild-report.json was removed"), line  # fmt: skip
    assert not report.exists() and (project / ".venv" / OLD).exists()

    with (project / "requirements.in").open("a") as handle:  # setup has work to do
        handle.write("six\n")
    filler.unlink()
    run_nox(project, "-s", "lock", env=env)
    filler = fill(small_disk, leave=0)
    result = run_nox(project, "-s", "setup", env=env, check=False)
    line = session_line(result.stdout, "setup")
    assert "the disk is full at " in line and str(project) in line, line
    assert not [p.name for p in project.iterdir() if p.name.endswith(".partial")]
    assert (project / ".venv" / OLD).exists()
    filler.unlink()

    run_nox(project, "-s", "rebuild", env=env)
    report.chmod(0o444)
    result = run_nox(project, "-s", "rebuild", env=env, check=False)
    line = session_line(result.stdout, "rebuild")
    assert line.startswith("rebuild-report.json is read-only: nothing was rebuilt and the "
                           "old rebuild-report.json was removed"), line  # fmt: skip
    assert not report.exists()
