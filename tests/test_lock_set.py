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
from pathlib import Path

import pytest
from conftest import bake, edited, nox_env, run_nox
from envlock import EnvlockError, fs, lockfiles, tool_locks
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


def test_a_read_only_file_is_refused_and_left_alone(tmp_path: Path):
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
