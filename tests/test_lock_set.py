"""Locks that never lie: what the inputs digest covers, the lock set as one unit, files
that keep their nature, and the pinned, hash-checked tools (issue 10, items 5 to 8).

The unit tests use the library from the template; the slow ones bake a project and run
its sessions for real.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import bake, edited, nox_env, run_nox
from envlock import EnvlockError, fs, lock, lockfiles, tool_locks
from envlock.context import Context
from envlock.lock_set import Compiled, mismatched_pins, put_lock_set, remove_dead_scratch
from envlock.settings import load_project

PYPROJECT = """
[project]
name = "demo-project"

[tool.envlock]
package = "demo_project"
python = "3.12"
python-matrix = ["3.11", "3.12"]
"""

DEV_BODY = """\
pytest==8.0.0 \\
    --hash=sha256:aaaa
python-dotenv==1.2.4 \\
    --hash=sha256:bbbb
"""
RUNTIME_BODY = """\
python-dotenv==1.2.4 \\
    --hash=sha256:bbbb
"""


def make_project(root: Path):
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "requirements.in").write_text("python-dotenv\n-c constraints/base.txt\n")
    (root / "constraints").mkdir()
    (root / "constraints" / "base.txt").write_text("-c more.txt\npython-dotenv<2\n")
    (root / "constraints" / "more.txt").write_text("six<2\n")
    (root / "requirements-dev.in").write_text("-r requirements.in\n--requirement=extra.in\n")
    (root / "extra.in").write_text("pytest \\\n  >=8\n")
    return load_project(root)


def write_set(project, dev: str = DEV_BODY, runtime: str = RUNTIME_BODY) -> list[Path]:
    dev_target, runtime_target = lockfiles.lock_targets(project)
    compiled = [
        Compiled(target, body, lockfiles.inputs_digest(project, target), Path("unused"))
        for target, body in ((dev_target, dev), (runtime_target, runtime))
    ]
    return put_lock_set(project, compiled)


# --- item 5: what the inputs digest covers ---------------------------------------------


def test_the_include_closure_follows_r_and_c_relative_to_the_naming_file(tmp_path: Path):
    project = make_project(tmp_path)
    names = [rel for rel, _ in lockfiles.input_files(project, project.inputs)]
    assert names == [
        "requirements.in",
        "requirements-dev.in",
        "constraints/base.txt",
        "extra.in",
        "constraints/more.txt",
    ]


def test_a_missing_include_names_the_line_that_wants_it(tmp_path: Path):
    project = make_project(tmp_path)
    (tmp_path / "constraints" / "more.txt").unlink()
    with pytest.raises(EnvlockError) as caught:
        lockfiles.input_files(project, project.inputs)
    assert str(caught.value) == (
        "constraints/more.txt is missing (`-c more.txt` in constraints/base.txt names it): "
        "create it, or remove that line"
    )


def test_an_include_through_an_environment_variable_is_refused_as_one(tmp_path: Path):
    """`-r ${HOME}/x.in` is not a missing file to create: `nox -s lock` reads the include
    closure first, then the lines, which refuse the variable and say why."""
    from envlock import requirements_in

    project = make_project(tmp_path)
    (tmp_path / "requirements.in").write_text("python-dotenv\n-r ${HOME}/x.in\n")
    names = [rel for rel, _ in lockfiles.input_files(project, project.inputs)]
    assert names[:2] == ["requirements.in", "requirements-dev.in"]
    with pytest.raises(EnvlockError) as caught:
        requirements_in.read_inputs(project.root, project.inputs)
    assert str(caught.value).startswith(
        "requirements.in line 2: `${HOME}` is an environment variable, which the engines "
        "replace by this machine's value"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "constraints" / "more.txt").write_text("six<1.5\n"),
        lambda root: (root / "extra.in").write_text("pytest>=8\n"),
        lambda root: rename_include(root),
        lambda root: edit(root / "pyproject.toml", '["3.11", "3.12"]', '["3.12"]'),
        lambda root: edit(
            root / "pyproject.toml",
            'python = "3.12"',
            'python = "3.12"\nextra-index-urls = ["https://example.org/simple"]',
        ),
    ],
    ids=["nested-constraint", "included-file", "include-renamed", "matrix", "index"],
)
def test_every_input_changes_the_digest_and_every_lock_is_refused(tmp_path: Path, change):
    project = make_project(tmp_path)
    write_set(project)
    for target in lockfiles.lock_targets(project):
        lockfiles.trusted_body(project, target)
    change(tmp_path)
    changed = load_project(tmp_path)
    for target in lockfiles.lock_targets(changed):
        with pytest.raises(EnvlockError, match=r"is out of date .*: run `nox -s lock`$"):
            lockfiles.trusted_body(changed, target)


def test_an_include_beside_the_project_is_digested_by_its_relative_path(tmp_path: Path):
    first = tmp_path / "one" / "project"
    first.mkdir(parents=True)
    (tmp_path / "one" / "common").mkdir()
    (tmp_path / "one" / "common" / "shared.in").write_text("six<2\n")
    project = make_project(first)
    (first / "extra.in").write_text("pytest>=8\n-r ../common/shared.in\n")
    names = [rel for rel, _ in lockfiles.input_files(project, project.inputs)]
    assert "../common/shared.in" in names
    write_set(project)
    shutil.copytree(tmp_path / "one", tmp_path / "elsewhere" / "two", symlinks=True)
    moved = load_project(tmp_path / "elsewhere" / "two" / "project")
    for target in lockfiles.lock_targets(moved):
        lockfiles.trusted_body(moved, target)  # the same inputs, checked out elsewhere
    (tmp_path / "elsewhere" / "two" / "common" / "shared.in").write_text("six<1.5\n")
    with pytest.raises(EnvlockError, match="is out of date"):
        lockfiles.trusted_body(moved, lockfiles.lock_targets(moved)[0])


def test_an_input_that_is_not_utf8_is_one_line_naming_file_line_and_byte(tmp_path: Path):
    project = make_project(tmp_path)
    (tmp_path / "extra.in").write_bytes(b"pytest>=8\n# caf\xe9\n")
    with pytest.raises(EnvlockError) as caught:
        lockfiles.input_files(project, project.inputs)
    assert str(caught.value) == (
        "extra.in is not UTF-8 (byte 0xe9 at line 2, byte offset 15): save it as UTF-8 "
        "(your editor's encoding setting), then run this again"
    )


def test_a_lock_that_is_not_utf8_is_damaged_in_one_line(tmp_path: Path):
    project = make_project(tmp_path)
    write_set(project)
    runtime = tmp_path / "requirements.txt"
    size = len(runtime.read_bytes())
    runtime.write_bytes(runtime.read_bytes() + b"\xff\xfe junk\n")
    for target in lockfiles.lock_targets(project):  # the dev lock checks its set too
        with pytest.raises(EnvlockError) as caught:
            lockfiles.trusted_body(project, target)
        line = runtime.read_text(encoding="latin-1").count("\n")
        assert str(caught.value) == (
            f"requirements.txt is not UTF-8 (byte 0xff at line {line}, byte offset {size}): "
            "it is damaged: restore it (`git checkout -- requirements.txt`) or run "
            "`nox -s lock`"
        )


def rename_include(root: Path) -> None:
    (root / "constraints" / "base.txt").rename(root / "constraints" / "b.txt")
    (root / "requirements.in").write_text("python-dotenv\n-c constraints/b.txt\n")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_header_names_the_engine_version_the_tool_lock_pins(tmp_path: Path):
    project = make_project(tmp_path)
    write_set(project)
    pinned = tool_locks.pinned_version("uv")
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned)
    assert f"with uv {pinned}, for" in (tmp_path / "requirements.txt").read_text()


# --- item 6: the lock set is one unit ---------------------------------------------------


def test_a_set_mixed_from_two_runs_is_refused_for_every_member(tmp_path: Path):
    project = make_project(tmp_path)
    write_set(project)
    old_runtime = (tmp_path / "requirements.txt").read_bytes()
    newer = DEV_BODY.replace("1.2.4", "1.2.5")
    write_set(project, newer, RUNTIME_BODY.replace("1.2.4", "1.2.5"))
    (tmp_path / "requirements.txt").write_bytes(old_runtime)  # as a crash between renames
    for target in lockfiles.lock_targets(project):
        with pytest.raises(EnvlockError) as caught:
            lockfiles.trusted_body(project, target)
        assert "are not from the same run of `nox -s lock`" in str(caught.value)
        assert str(caught.value).endswith("run `nox -s lock`")


def test_a_set_with_one_stale_member_is_refused_for_the_main_lock_too(tmp_path: Path):
    """Two runs with identical bodies (as a merge can give): the set digest matches, but
    the runtime lock was compiled before an input changed. The hook refuses it; so must
    setup, rebuild and doctor, which start from the dev lock."""
    project = make_project(tmp_path)
    write_set(project)
    runtime = tmp_path / "requirements.txt"
    before_change = runtime.read_bytes()
    (tmp_path / "extra.in").write_text("pytest>=8.0\n")
    changed = load_project(tmp_path)
    write_set(changed)
    runtime.write_bytes(before_change)
    dev, _ = lockfiles.lock_targets(changed)
    lockfiles.trusted_body(changed, dev)  # the dev lock alone looks fine
    ctx = Context(run=lambda argv, env: None, log=print, uv="uv")
    with pytest.raises(EnvlockError, match=r"^requirements.txt is out of date .*nox -s lock`$"):
        lock.read_trusted_lock(changed, ctx, dev, lock_if_missing=False)


def test_a_member_missing_is_refused(tmp_path: Path):
    project = make_project(tmp_path)
    write_set(project)
    (tmp_path / "requirements.txt").unlink()
    dev = lockfiles.lock_targets(project)[0]
    with pytest.raises(EnvlockError, match=r"requirements.txt is missing, and requirements-dev"):
        lockfiles.trusted_body(project, dev)


def test_a_runtime_pin_the_dev_lock_lacks_writes_nothing(tmp_path: Path):
    project = make_project(tmp_path)
    write_set(project)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("requirements*.txt")}
    with pytest.raises(EnvlockError) as caught:
        write_set(project, DEV_BODY, RUNTIME_BODY.replace("1.2.4", "1.0.0"))
    assert str(caught.value) == (
        "requirements.txt would pin python-dotenv==1.0.0 (requirements-dev.txt has 1.2.4): "
        "requirements-dev.in must include `-r requirements.in`; nothing was written"
    )
    assert {p.name: p.read_bytes() for p in tmp_path.glob("requirements*.txt")} == before
    assert mismatched_pins(project, {}) == []


def test_writing_the_same_set_again_changes_no_file(tmp_path: Path):
    project = make_project(tmp_path)
    assert len(write_set(project)) == 2
    assert write_set(project) == []


def test_scratch_files_of_dead_processes_go_others_stay(tmp_path: Path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    left = [
        tmp_path / f".requirements.txt.envlock-compiling-{dead}",
        tmp_path / f".requirements.txt.envlock-tmp-{dead}-x1y2z3",
    ]
    alive = tmp_path / f".requirements.txt.envlock-compiling-{os.getppid()}"
    unmarked = tmp_path / ".requirements.txt.compiling"
    for path in [*left, alive, unmarked]:
        path.write_text("x")
    assert sorted(remove_dead_scratch(tmp_path)) == sorted(left)
    assert alive.exists() and unmarked.exists()


# --- item 8: files keep their nature ---------------------------------------------------


def test_a_new_file_is_0644_whatever_the_umask(tmp_path: Path):
    old = os.umask(0o077)
    try:
        fs.write_atomically(tmp_path / "report.json", "{}\n")
    finally:
        os.umask(old)
    assert (tmp_path / "report.json").stat().st_mode & 0o777 == 0o644


def test_the_old_mode_is_kept(tmp_path: Path):
    path = tmp_path / "requirements.txt"
    path.write_text("old\n")
    path.chmod(0o664)
    fs.write_atomically(path, "new\n")
    assert (path.stat().st_mode & 0o777, path.read_text()) == (0o664, "new\n")


def test_a_symlinked_file_keeps_its_link_and_its_target_changes(tmp_path: Path):
    (tmp_path / "locks").mkdir()
    target = tmp_path / "locks" / "requirements.txt"
    target.write_text("old\n")
    link = tmp_path / "requirements.txt"
    link.symlink_to(Path("locks") / "requirements.txt")
    fs.write_atomically(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(Path("locks") / "requirements.txt")
    assert target.read_text() == "new\n"
    assert not [p for p in (tmp_path / "locks").iterdir() if p != target]


def test_a_lock_that_is_a_link_loop_is_one_line_naming_it(tmp_path: Path):
    project = make_project(tmp_path)
    link = tmp_path / "requirements.txt"
    link.symlink_to("requirements.txt")
    with pytest.raises(EnvlockError) as caught:
        fs.refuse_read_only([t.output for t in lockfiles.lock_targets(project)], "the locks")
    assert str(caught.value) == (
        f"cannot write {link} (Too many levels of symbolic links): nothing was changed; "
        "make it a file, or a link that ends at one, then run this again"
    )


def test_a_read_only_file_is_refused_and_left_alone(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sessions run in the project folder
    path = tmp_path / "requirements.txt"
    path.write_text("old\n")
    path.chmod(0o444)
    with pytest.raises(EnvlockError) as caught:
        fs.write_atomically(path, "new\n")
    assert str(caught.value).startswith("requirements.txt is read-only, so it is not replaced")
    assert path.read_text() == "old\n" and path.stat().st_mode & 0o777 == 0o444
    assert os.listdir(tmp_path) == ["requirements.txt"]


def test_an_os_error_is_one_line_naming_the_path_and_what_was_kept(tmp_path: Path):
    error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "x.txt"))
    message = str(fs.os_error(error, "every lock was kept as it was"))
    assert message == (
        f"cannot write {tmp_path / 'x.txt'} (No space left on device): every lock was kept "
        "as it was; free some space on that disk, then run this again"
    )


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 1 MiB file system (tmpfs), where mounting is allowed."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_keeps_every_old_lock(small_disk: Path):
    project = make_project(small_disk)
    write_set(project)
    before = {p.name: p.read_bytes() for p in small_disk.glob("requirements*.txt")}
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last byte
        while os.write(fd, b"\0" * 512):
            pass
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    with pytest.raises(EnvlockError) as caught:
        write_set(project, DEV_BODY * 30, RUNTIME_BODY)
    assert "(No space left on device): every lock was kept as it was" in str(caught.value)
    filler.unlink()
    assert {p.name: p.read_bytes() for p in small_disk.glob("requirements*.txt")} == before
    assert not [p.name for p in small_disk.iterdir() if "envlock-tmp" in p.name]


# --- in a baked project, for real ------------------------------------------------------

# Loaded by every Python the killed `nox -s lock` starts (through PYTHONPATH): when the
# process renames its second lock into place it kills its whole process group first, so
# the first lock is new and the second is old, as a crash between two renames leaves them.
KILL_BETWEEN_RENAMES = """
import os, signal, sys
folder = os.environ.get("ENVLOCK_TEST_KILL_IN")
how = os.environ.get("ENVLOCK_TEST_SIGNAL")  # else SIGKILL of the whole group
if folder:
    renamed = []
    def watch(event, args):
        if event == "os.rename" and os.path.dirname(str(args[1])) == folder:
            if os.path.basename(str(args[1])) in ("requirements-dev.txt", "requirements.txt"):
                renamed.append(args[1])
                if len(renamed) == 2 and how:
                    os.kill(os.getpid(), getattr(signal, how))
                elif len(renamed) == 2:
                    os.killpg(os.getpgrp(), signal.SIGKILL)
    sys.addaudithook(watch)
"""


def venv_imports(project: Path) -> bool:
    python = project / ".venv" / "bin" / "python"
    done = subprocess.run([str(python), "-c", "import my_project, dotenv"], check=False)
    return done.returncode == 0


def locks_of(project: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(project.glob("requirements*.txt"))}


def last_line(output: str) -> str:
    """The output's last line, without the time nox adds when a session took a second or
    more (" (took 2 seconds)" before the full stop), which depends on the machine's load."""
    return re.sub(r" \(took [^)]*\)(\.?)$", r"\1", output.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    made = bake(tmp_path_factory.mktemp("lockset") / "out")
    run_nox(made, "-s", "setup")
    (made / ".venv" / "old-env-marker").touch()
    return made


@pytest.fixture(autouse=True)
def locks_put_back(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test of the shared project fails half-way, its locks are put back, so the
    next test starts from a consistent set (each test asserts its own end state)."""
    if "project" not in request.fixturenames:
        yield
        return
    project = request.getfixturevalue("project")
    before = locks_of(project)
    yield
    for name, text in before.items():
        if (project / name).read_bytes() != text:
            (project / name).write_bytes(text)


@pytest.mark.slow
def test_a_change_in_an_included_file_stops_every_install_path(project: Path):
    constraints = project / "constraints.txt"
    constraints.write_text("python-dotenv<99\n")
    with edited(project / "requirements.in", lambda text: text + "-c constraints.txt\n"):
        run_nox(project, "-s", "lock")
        run_nox(project, "-s", "setup")  # a new .venv, swapped in: mark it as the one to keep
        (project / ".venv" / "old-env-marker").touch()
        locks = locks_of(project)
        with edited(constraints, lambda text: text + "six<99\n"):
            for session in ("setup", "rebuild", "tests-3.12", "lint"):
                result = run_nox(project, "-s", session, check=False)
                assert result.returncode != 0, session
                assert re.search(
                    r"requirements-dev.txt is out of date with the \*\.in files .*: run "
                    r"`nox -s lock`( \(took .*\))?\.$",
                    last_line(result.stdout),
                ), (session, result.stdout)
                assert "uv pip sync" not in result.stdout, session
            doctor = run_nox(project, "-s", "doctor", check=False)
            # (the columns are as wide as their longest cell, such as a "warning")
            stale = r"^lock trusted +FAILED +requirements-dev.txt is out of date"
            assert re.search(stale, doctor.stdout, re.MULTILINE), doctor.stdout
            hook = subprocess.run(
                [str(project / ".venv" / "bin" / "pre-commit"), "run", "locks-fresh", "--files",
                 "README.md"],
                cwd=project, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert hook.returncode != 0, hook.stdout
            assert "requirements.txt is out of date" in hook.stdout
        assert locks_of(project) == locks
        run_nox(project, "-s", "lock")
        assert locks_of(project) == locks  # the same inputs again: byte for byte
    constraints.unlink()
    run_nox(project, "-s", "lock")
    assert (project / ".venv" / "old-env-marker").exists() and venv_imports(project)


@pytest.mark.slow
def test_a_crash_between_two_renames_is_refused_before_installing(project: Path, tmp_path):
    (tmp_path / "sitecustomize.py").write_text(KILL_BETWEEN_RENAMES)
    before = locks_of(project)
    with edited(project / "requirements.in", lambda text: text + "six\n"):
        env = nox_env(PYTHONPATH=str(tmp_path), ENVLOCK_TEST_KILL_IN=str(project))
        killed = subprocess.run(
            [sys.executable, "-m", "nox", "-s", "lock"], cwd=project, env=env,
            start_new_session=True, capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        after = locks_of(project)
        assert after["requirements.txt"] == before["requirements.txt"]  # not renamed
        assert after["requirements-dev.txt"] != before["requirements-dev.txt"]  # renamed
        left = [p.name for p in project.iterdir() if "envlock-" in p.name and p.is_file()]
        assert left, "the kill left scratch files"
        status = subprocess.run(["git", "status", "--porcelain"], cwd=project,
                                capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert "envlock-" not in status  # ignored by git
        for session in ("setup", "rebuild"):
            result = run_nox(project, "-s", session, check=False)
            assert result.returncode != 0
            assert last_line(result.stdout).endswith(
                "requirements-dev.txt and requirements.txt are not from the same run of `nox -s "
                "lock` (an interrupted lock, or a merge or checkout that took only some of "
                "them): run `nox -s lock`."
            ), result.stdout
            assert "uv pip sync" not in result.stdout
        assert (project / ".venv" / "old-env-marker").exists() and venv_imports(project)
        relock = run_nox(project, "-s", "lock")
        for name in left:
            assert f"removed {name}, left by an interrupted `nox -s lock`" in relock.stdout
            assert not (project / name).exists()
        run_nox(project, "-s", "setup")
    run_nox(project, "-s", "lock")
    assert locks_of(project) == before


@pytest.mark.slow
def test_sigterm_between_two_renames_waits_for_the_last_and_says_the_new_set(
    project: Path, tmp_path
):
    (tmp_path / "sitecustomize.py").write_text(KILL_BETWEEN_RENAMES)
    before = locks_of(project)
    with edited(project / "requirements.in", lambda text: text + "six\n"):
        env = nox_env(
            PYTHONPATH=str(tmp_path),
            ENVLOCK_TEST_KILL_IN=str(project),
            ENVLOCK_TEST_SIGNAL="SIGTERM",
        )
        result = run_nox(project, "-s", "lock", env=env, check=False)
        assert re.search(
            r"Session lock aborted: interrupted \(SIGTERM\) as the locks were put in place, "
            r"which was let finish: the lock files are the new set \([^)]*requirements\.txt\)",
            last_line(result.stdout),
        ), result.stdout
        after = locks_of(project)
        assert all(after[name] != before[name] for name in before), "not the whole new set"
        again = run_nox(project, "-s", "lock")  # the set is complete and trusted
        assert "every lock was already up to date: nothing changed" in again.stdout
        assert locks_of(project) == after
    run_nox(project, "-s", "lock")
    assert locks_of(project) == before


@pytest.mark.slow
def test_locks_keep_mode_and_links_and_a_read_only_lock_is_refused(project: Path):
    before = locks_of(project)
    runtime, dev = project / "requirements.txt", project / "requirements-dev.txt"
    (project / "locks").mkdir()
    shutil.move(runtime, project / "locks" / "requirements.txt")
    runtime.symlink_to(Path("locks") / "requirements.txt")
    dev.chmod(0o640)
    try:
        with edited(project / "requirements.in", lambda text: text + "six\n"):
            run_nox(project, "-s", "lock")
            assert runtime.is_symlink() and "six==" in runtime.read_text()
            assert dev.stat().st_mode & 0o777 == 0o640 and "six==" in dev.read_text()
            run_nox(project, "-s", "setup")  # the set, one file behind a link, is trusted
            dev.chmod(0o444)
            dev_text = dev.read_bytes()
        result = run_nox(project, "-s", "lock", check=False)
        assert result.returncode != 0
        assert last_line(result.stdout) == (
            "nox > Session lock aborted: requirements-dev.txt is read-only, so it is not "
            "replaced; nothing was changed: make it writable (`chmod u+w requirements-dev.txt`)"
            " to update the locks, or leave it as it is."
        )
        assert "uv pip compile" not in result.stdout  # refused before any work
        assert dev.read_bytes() == dev_text and "six==" in runtime.read_text()
    finally:
        dev.chmod(0o644)
        runtime.unlink()
        shutil.move(project / "locks" / "requirements.txt", runtime)
        (project / "locks").rmdir()
    run_nox(project, "-s", "lock")
    assert locks_of(project) == before


@pytest.mark.slow
def test_uv_settings_of_the_project_user_or_machine_never_change_a_lock(
    project: Path, tmp_path: Path
):
    """Every one of these changes the pins (or fails, for the dead index) when uv reads it."""
    before = locks_of(project)
    user = tmp_path / "uv.toml"
    user.write_text('[pip]\nexclude-newer = "2024-01-01T00:00:00Z"\nresolution = "lowest"\n')
    dead = f"http://127.0.0.1:{free_port()}/simple"
    env = nox_env(
        UV_CONFIG_FILE=str(user),
        XDG_CONFIG_HOME=str(tmp_path),  # finds tmp_path/uv/uv.toml as the user's file
        UV_EXCLUDE_NEWER="2024-01-01T00:00:00Z",
        UV_RESOLUTION="lowest",
        UV_INDEX_URL=dead,
        UV_DEFAULT_INDEX=dead,
        UV_EXTRA_INDEX_URL=dead,
        UV_PRERELEASE="allow",
    )
    (tmp_path / "uv").mkdir()
    shutil.copy(user, tmp_path / "uv" / "uv.toml")
    (project / "uv.toml").write_text(f'index-url = "{dead}"\n')
    extra = '\n[tool.uv.pip]\nexclude-newer = "2024-01-01T00:00:00Z"\n'
    try:
        with edited(project / "pyproject.toml", lambda text: text + extra):
            run_nox(project, "-s", "lock", env=env)
            assert locks_of(project) == before
            tools = project / "tools" / "envlock" / "tool-locks"
            tool_locks_before = {p.name: p.read_bytes() for p in tools.glob("*.txt")}
            run_nox(project, "-s", "lock", "--", "--tools", env=env)
            assert {p.name: p.read_bytes() for p in tools.glob("*.txt")} == tool_locks_before
    finally:
        (project / "uv.toml").unlink()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_a_lock_that_is_not_utf8_is_refused_and_locking_repairs_it(project: Path):
    before = locks_of(project)
    (project / "requirements.txt").write_bytes(before["requirements.txt"] + b"\xff junk\n")
    for session in ("setup", "doctor"):
        result = run_nox(project, "-s", session, check=False)
        assert result.returncode != 0
        assert "Traceback" not in result.stdout, result.stdout
        assert "requirements.txt is not UTF-8 (byte 0xff at line" in result.stdout, session
    relock = run_nox(project, "-s", "lock")
    assert "requirements.txt is damaged (not UTF-8): locking it afresh" in relock.stdout
    assert locks_of(project) == before


@pytest.mark.slow
def test_a_tool_lock_with_a_wrong_hash_installs_nothing(project: Path):
    uv_lock = project / "tools" / "envlock" / "tool-locks" / "uv.txt"
    working = project / ".nox" / "envlock-uv" / "bin" / "uv"
    assert working.exists()
    with edited(uv_lock, lambda text: re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text)):
        result = run_nox(project, "-s", "lock", check=False)
    assert result.returncode != 0
    assert "refused a file whose hash is not the one in the lock" in last_line(result.stdout)
    assert "restore it (`git checkout -- tools/envlock/tool-locks/uv.txt`)" in result.stdout
    assert working.exists()  # the working pinned uv was not wiped for the bad one
    with edited(uv_lock, lambda text: text[:300]):  # truncated: a damaged file
        result = run_nox(project, "-s", "lock", "--", "--tools", check=False)
    assert result.returncode != 0
    assert re.search(
        r"installing the pinned uv from tools/envlock/tool-locks/uv.txt failed .*: if that "
        r"file was changed or damaged, restore it \(`git checkout -- "
        r"tools/envlock/tool-locks/uv.txt`\), then run this again",
        last_line(result.stdout),
    ), result.stdout
    assert working.exists()
    run_nox(project, "-s", "setup")  # the right tool lock: the pinned uv again


@pytest.mark.slow
def test_tool_locks_keep_their_mode_and_a_read_only_one_is_refused(project: Path):
    folder = project / "tools" / "envlock" / "tool-locks"
    uv_lock, pip_tools_lock = folder / "uv.txt", folder / "pip-tools.txt"
    pip_tools_text = pip_tools_lock.read_text()
    pip_tools_lock.write_text(pip_tools_text + "# not what uv writes\n")
    pip_tools_lock.chmod(0o600)
    uv_lock.chmod(0o444)
    try:
        result = run_nox(project, "-s", "lock", "--", "--tools", check=False)
        assert last_line(result.stdout) == (
            "nox > Session lock aborted: tools/envlock/tool-locks/uv.txt is read-only, so it "
            "is not replaced; nothing was changed: make it writable (`chmod u+w "
            "tools/envlock/tool-locks/uv.txt`) to update the tool locks, or leave it as it is."
        )
        assert "pip compile" not in result.stdout  # refused before any work
        assert uv_lock.stat().st_mode & 0o777 == 0o444
        assert pip_tools_lock.read_text().endswith("# not what uv writes\n")
        uv_lock.chmod(0o644)
        run_nox(project, "-s", "lock", "--", "--tools")
        assert pip_tools_lock.read_text() == pip_tools_text  # compiled again ...
        assert pip_tools_lock.stat().st_mode & 0o777 == 0o600  # ... and still its own mode
        assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []
    finally:
        uv_lock.chmod(0o644)
        pip_tools_lock.chmod(0o644)
        pip_tools_lock.write_text(pip_tools_text)


@pytest.mark.slow
def test_another_uv_version_in_the_tool_lock_makes_the_locks_stale(tmp_path: Path):
    made = bake(tmp_path / "out")
    run_nox(made, "-s", "setup")
    tool_in = made / "tools" / "envlock" / "tool-locks" / "uv.in"
    pinned = tool_locks.pinned_version("uv")
    major, minor, patch = (int(part) for part in pinned.split("."))
    other = f"{major}.{minor}.{patch - 1}" if patch else f"{major}.{minor - 1}.0"
    tool_in.write_text(tool_in.read_text().replace(f"uv=={pinned}", f"uv=={other}"))
    run_nox(made, "-s", "lock", "--", "--tools")
    assert f"uv=={other} " in (made / "tools" / "envlock" / "tool-locks" / "uv.txt").read_text()
    result = run_nox(made, "-s", "setup", check=False)
    assert result.returncode != 0
    assert "requirements-dev.txt is out of date" in last_line(result.stdout)
    assert last_line(result.stdout).endswith("run `nox -s lock`.")
    run_nox(made, "-s", "lock")
    assert f"with uv {other}, for" in (made / "requirements-dev.txt").read_text()
    uv = made / ".nox" / "envlock-uv" / "bin" / "uv"
    version = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.split()[1] == other
    run_nox(made, "-s", "setup")
