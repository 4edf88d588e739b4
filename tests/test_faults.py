"""Faults caused for real in the middle of the sessions, and what survives them.

The network failure is a package index on a closed port of 127.0.0.1 with an empty uv
cache; the stalled download is an index on 127.0.0.1 that accepts connections and never
answers. Both stay on this machine.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import bake, edited, nox_env, run_nox
from envlock import lockfiles as locks
from envlock.settings import load_project

pytestmark = pytest.mark.slow


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the probe goes


class StalledIndex:
    """Accepts connections on 127.0.0.1 and never answers, until stopped."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/simple"
        self.held: list[socket.socket] = []
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        deadline = time.monotonic() + 300
        while self.running and time.monotonic() < deadline:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.held.append(connection)

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        for connection in self.held:
            connection.close()
        self.server.close()


def index_env(tmp_path: Path, url: str) -> dict[str, str]:
    """Every request of uv goes to ``url``'s server, as its proxy (the sessions drop a
    UV_INDEX_URL of the machine, so the index cannot be replaced that way)."""
    cache = tmp_path / "empty-uv-cache"
    cache.mkdir(exist_ok=True)
    proxy = url.removesuffix("/simple")
    env = nox_env(
        HTTPS_PROXY=proxy, HTTP_PROXY=proxy, ALL_PROXY=proxy, UV_CACHE_DIR=str(cache),
        UV_HTTP_TIMEOUT="120",
    )  # fmt: skip
    for name in ("NO_PROXY", "no_proxy", "https_proxy", "http_proxy", "all_proxy"):
        env.pop(name, None)
    return env


def venv_works(project: Path) -> bool:
    """The old environment still imports the package and runs its tests."""
    python = project / ".venv" / "bin" / "python"
    imports = subprocess.run([str(python), "-c", "import my_project, dotenv"], check=False)
    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q"], cwd=project, check=False, capture_output=True
    )
    return imports.returncode == 0 and tests.returncode == 0


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    made = bake(tmp_path_factory.mktemp("faults") / "out")
    run_nox(made, "-s", "setup")
    return made


@pytest.fixture
def marked(project: Path) -> Path:
    """The project, its current .venv marked so that a replacement would show."""
    (project / ".venv" / "old-env-marker").touch()
    return project


def no_leftovers(project: Path) -> bool:
    return not any(project.glob(".venv.*")) and not any(project.glob(".requirements*"))


def test_network_failure_during_setup_keeps_the_env(tmp_path: Path, marked: Path):
    requirements = marked / "requirements.in"
    original = requirements.read_text()
    locks_before = {p.name: p.read_bytes() for p in marked.glob("requirements*.txt")}
    requirements.write_text(original + "six\n")
    try:
        run_nox(marked, "-s", "lock")  # the new lock needs a package .venv lacks
        url = f"http://127.0.0.1:{closed_port()}/simple"
        result = run_nox(marked, "-s", "setup", env=index_env(tmp_path, url), check=False)
    finally:
        requirements.write_text(original)
        for name, content in locks_before.items():
            (marked / name).write_bytes(content)
    assert result.returncode != 0
    through = r"`uv pip sync` could not reach \S+ through the proxy 127\.0\.0\.1:\d+ for http"
    assert re.search(through, result.stdout), result.stdout
    assert ".venv was left as it was" in result.stdout
    assert (marked / ".venv" / "old-env-marker").exists()
    assert venv_works(marked)
    assert no_leftovers(marked)


def test_network_failure_during_rebuild_keeps_the_env(tmp_path: Path, marked: Path):
    url = f"http://127.0.0.1:{closed_port()}/simple"
    result = run_nox(marked, "-s", "rebuild", env=index_env(tmp_path, url), check=False)
    assert result.returncode != 0
    line = next(line for line in result.stdout.splitlines() if "aborted" in line)
    assert re.search(r"`uv pip sync` could not reach \S+ through the proxy 127\.0\.0\.1:", line)
    assert ".venv was left as it was" in line
    assert (marked / ".venv" / "old-env-marker").exists()
    assert venv_works(marked)
    assert no_leftovers(marked)


def start_rebuild_that_stalls(project: Path, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "nox", "-s", "rebuild"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in process.stdout:  # wait until the download is under way
        seen.append(line)
        if "installing requirements-dev.txt ..." in line:
            time.sleep(1.0)
            return process
    raise AssertionError("rebuild ended before installing:\n" + "".join(seen))


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_interrupted_rebuild_keeps_the_env_and_the_next_one_works(
    tmp_path: Path, marked: Path, how: str
):
    index = StalledIndex()
    try:
        process = start_rebuild_that_stalls(marked, index_env(tmp_path, index.url))
        assert (marked / ".venv.new").exists()  # it was building beside .venv
        if how == "SIGINT":  # Ctrl-C in a terminal reaches the whole process group
            os.killpg(process.pid, signal.SIGINT)
        else:  # `kill PID`: nox alone
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    finally:
        index.stop()
    assert process.returncode != 0
    assert (marked / ".venv" / "old-env-marker").exists()
    assert venv_works(marked)
    assert not (marked / ".venv.new").exists()
    run_nox(marked, "-s", "rebuild")
    assert not (marked / ".venv" / "old-env-marker").exists()


def test_second_session_refuses_while_a_rebuild_runs(tmp_path: Path, marked: Path):
    index = StalledIndex()
    try:
        process = start_rebuild_that_stalls(marked, index_env(tmp_path, index.url))
        second = run_nox(marked, "-s", "setup", check=False, timeout=60)
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=60)
    finally:
        index.stop()
    assert second.returncode != 0
    assert re.search(
        r"`nox -s rebuild` \(process \d+\) is changing this project's environment: "
        r"wait for it to finish",
        second.stdout,
    ), second.stdout
    assert venv_works(marked)


def test_impossible_pin_leaves_the_locks_unchanged(project: Path):
    before = {p.name: p.read_bytes() for p in project.glob("requirements*.txt")}
    with edited(project / "requirements.in", lambda text: text + "python-dotenv==0.0.0.1\n"):
        result = run_nox(project, "-s", "lock", check=False)
    assert result.returncode != 0
    assert (
        "requirements.in line 3: no version of python-dotenv matches ==0.0.0.1 on the "
        "package index: change the version"
    ) in result.stdout
    assert "Traceback" not in result.stdout
    assert {p.name: p.read_bytes() for p in project.glob("requirements*.txt")} == before
    assert no_leftovers(project)


@pytest.mark.parametrize("session", ["setup", "rebuild"])
def test_hand_edited_lock_is_refused_before_installing(project: Path, session: str):
    def change_three_hashes(text: str) -> str:
        return re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text, count=3)

    with edited(project / "requirements-dev.txt", change_three_hashes):
        result = run_nox(project, "-s", session, check=False)
    assert result.returncode != 0
    assert "requirements-dev.txt was edited by hand or is damaged" in result.stdout
    assert "nox -s lock" in result.stdout
    assert "uv pip sync" not in result.stdout


def test_rebuild_refuses_without_a_lock(project: Path):
    lock = project / "requirements-dev.txt"
    original = lock.read_bytes()
    lock.unlink()
    try:
        result = run_nox(project, "-s", "rebuild", check=False)
    finally:
        lock.write_bytes(original)
    assert result.returncode != 0
    assert "requirements-dev.txt does not exist: run `nox -s lock`" in result.stdout


def test_a_file_that_does_not_match_its_hash_is_refused(tmp_path: Path, marked: Path):
    """The lock is consistent (its digests updated too), but a hash in it is not the one
    of the file the index serves: what a tampered wheel or a tampered lock looks like."""
    settings = load_project(marked)
    target = locks.lock_targets(settings)[0]
    _, body = locks.split_lock(target.output.read_text())
    tampered = re.sub(
        r"(python-dotenv==\S+ \\\n(?:\s+--hash=sha256:[0-9a-f]{64} ?\\?\n?)+)",
        lambda m: re.sub(r"[0-9a-f]{64}", "f" * 64, m.group(1)),
        body,
    )
    assert tampered != body
    # Every member of the lock set is written again around the tampered body, as a lock
    # run would write them: each header's digests agree with the files.
    members = locks.lock_targets(settings)
    originals = {t.output: t.output.read_text() for t in members}
    bodies = {
        t.output.relative_to(marked).as_posix(): locks.split_lock(originals[t.output])[1]
        for t in members
    }
    bodies[target.output.relative_to(marked).as_posix()] = tampered
    for member in members:
        header, member_body = locks.split_lock(originals[member.output])
        assert header is not None
        member.output.write_text(
            locks.render_lock(
                settings,
                member,
                tampered if member.output == target.output else member_body,
                inputs=header.inputs,
                lock_set=bodies,
            )
        )
    try:
        cache = tmp_path / "empty-uv-cache"
        result = run_nox(marked, "-s", "rebuild", env=nox_env(UV_CACHE_DIR=str(cache)), check=False)
    finally:
        for path, text in originals.items():
            path.write_text(text)
    assert result.returncode != 0
    assert "refused a file whose hash is not the one in the lock" in result.stdout
    assert (marked / ".venv" / "old-env-marker").exists()
    assert venv_works(marked)
