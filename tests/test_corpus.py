"""The requirements corpus (tests/requirements_corpus/) locked, set up and rebuilt for real
in baked projects, with each engine the case names; every refusal's line asserted.

The git repository is made here, the file server runs on 127.0.0.1 and serves it and
archives built here from the corpus's own packages, and the unreachable URL is a closed port of
127.0.0.1: nothing leaves this machine but the package index.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEMPLATE, bake, load_toml, nox_env, run_nox
from envlock import lock_body

pytestmark = pytest.mark.slow

CORPUS = TEMPLATE / "tests" / "requirements_corpus"
CASES = load_toml(CORPUS / "cases.toml")
DEV_IN = "-r requirements.in\npytest\n"
# pip-compile runs once per Python of the matrix: its bakes get one Python.
ANSWERS = {
    "uv": {"lock_engine": "uv"},
    "pip-tools": {"lock_engine": "pip-tools", "python_versions": "3.12"},
}
PARAMS = [
    (group, name, engine)
    for group in ("stacks", "forms")
    for name, case in CASES[group].items()
    for engine in ("uv", "pip-tools")
    if engine in case
]


def uv_binary() -> str:
    """The uv of this test environment (installed from the template's lock)."""
    return str(Path(sys.executable).with_name("uv"))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> Path:
    """A folder with a wheel of mylib and an sdist of served, built here."""
    folder = tmp_path_factory.mktemp("served")
    for name, kind in (("mylib", "--wheel"), ("served", "--sdist")):
        subprocess.run(
            [uv_binary(), "build", "--quiet", kind, "--out-dir", str(folder)],
            cwd=CORPUS / "packages" / name,
            check=True,
        )
    return folder


@pytest.fixture(scope="module")
def server(archives: Path) -> Iterator[str]:
    """A file server on 127.0.0.1 serving ``archives``."""
    handler = functools.partial(QuietHandler, directory=str(archives))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory, archives: Path, server: str) -> tuple[str, str]:
    """A git repository of gitlib with a tag v1.0, served by ``server`` (git's "dumb"
    HTTP protocol: static files, which any file server serves): its URL and the commit."""
    repo = tmp_path_factory.mktemp("git") / "gitlib"
    shutil.copytree(CORPUS / "packages" / "gitlib", repo)
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "gitlib 1.0"]):
        subprocess.run(["git", *argv], cwd=repo, check=True)
    subprocess.run(["git", "tag", "v1.0"], cwd=repo, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    bare = archives / "gitlib.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    subprocess.run(["git", "update-server-info"], cwd=bare, check=True)
    return f"{server}/gitlib.git", commit


def fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), text)


def prepare(project: Path, group: str, name: str, values: dict[str, str], built: Path) -> None:
    """Put the case's files into the baked project (and the archives it names, from
    ``built``, where it says)."""
    case_dir = CORPUS / group / name
    (project / "requirements-dev.in").write_text(DEV_IN)
    for path in case_dir.rglob("*"):
        if path.is_file():
            target = project / path.relative_to(case_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(fill(path.read_text(), values))
    for target, source in CASES[group][name].get("copy", {}).items():
        shutil.copytree(CORPUS / source, project / target)
    for folder, files in CASES[group][name].get("archives", {}).items():
        (project / folder).mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copy2(built / file, project / folder / file)


def lock_texts(project: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(project.glob("requirements*.txt"))}


def assert_portable(project: Path, tmp_path: Path) -> list[lock_body.Pin]:
    """The locks carry no path of this machine, and every session can read them."""
    pins = []
    for name, text in lock_texts(project).items():
        assert str(tmp_path) not in text and "/tmp/" not in text, (name, text)
        assert "WARNING" not in text, text
        pins += lock_body.parse_pins(Path(name), text)
    return pins


def the_error_line(output: str) -> str:
    """The line nox prints for a session that failed with a message."""
    found = re.findall(r"Session lock (?:aborted|failed): (.+)$", output, re.MULTILINE)
    assert len(found) == 1, output
    # nox ends the line with a full stop, after a slow session with the time it took
    return re.sub(r"( \(took [^)]*\))?\.?$", "", found[0])


@pytest.mark.parametrize(
    ("group", "name", "engine"), PARAMS, ids=[f"{g}-{n}-{e}" for g, n, e in PARAMS]
)
def test_corpus_case(
    tmp_path: Path, archives: Path, server: str, git_repo, group: str, name: str, engine: str
):
    git_url, git_commit = git_repo
    values = {
        "server": server,
        "git_url": git_url,
        "git_commit": git_commit,
        "closed_port": str(closed_port()),
    }
    expected = fill(CASES[group][name][engine], values)
    answers = {**ANSWERS[engine], **CASES[group][name].get("answers", {}).get(engine, {})}
    project = bake(tmp_path / "out", **answers)
    prepare(project, group, name, values, archives)
    # uv retries an unreachable address for seconds; once is enough to tell it here
    result = run_nox(project, "-s", "lock", env=nox_env(UV_HTTP_RETRIES="0"), check=False)
    if expected not in ("locks", "setup", "rebuild", "clone"):
        assert result.returncode != 0, result.stdout
        assert the_error_line(result.stdout) == expected
        assert "Traceback" not in result.stdout
        assert lock_texts(project) == {}
        assert not list(project.glob(".requirements*"))
        return
    assert result.returncode == 0, result.stdout
    pins = assert_portable(project, tmp_path)
    if expected == "clone":
        project = clone_elsewhere(project, tmp_path)
    if expected in ("setup", "rebuild", "clone"):
        run_nox(project, "-s", "setup")
    if expected == "clone":
        assert_installed_from(project)
        # a package of the tree installed without -e: its changed code reaches the
        # environment with rebuild (not a build cached from before the change)
        init = project / "libs" / "mylib" / "src" / "mylib" / "__init__.py"
        init.write_text(init.read_text() + "CHANGED = True\n")
    if expected in ("rebuild", "clone"):
        run_nox(project, "-s", "rebuild")
        report = load_report(project)
        assert report["ok"], report
        if expected == "clone":
            python = project / ".venv" / "bin" / "python"
            subprocess.run([str(python), "-c", "import mylib; assert mylib.CHANGED"], check=True)
        run_nox(project, "-s", "lock")
        assert assert_portable(project, tmp_path) == pins  # locking again: same


def load_report(project: Path) -> dict:
    return json.loads((project / "rebuild-report.json").read_text())


def clone_elsewhere(project: Path, tmp_path: Path) -> Path:
    """Commit the locked project, clone it to another path and remove the original: what
    a colleague's checkout is."""
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "locked"], cwd=project, check=True)
    clone = tmp_path / "elsewhere" / project.name
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    shutil.rmtree(project)
    return clone


def assert_installed_from(clone: Path) -> None:
    """mylib installed as a package, devtool editable from the clone, served from the
    clone's committed archive; doctor agrees."""
    python = clone / ".venv" / "bin" / "python"
    shown = subprocess.run(
        [
            str(python),
            "-c",
            "import mylib, devtool, served; print(mylib.__file__, devtool.__file__, served.VERSION)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "site-packages" in shown[0]
    assert shown[1].startswith(str(clone / "libs" / "devtool"))
    assert shown[2] == "2.0.0"
    doctor = run_nox(clone, "-s", "doctor", "--", "--json", check=False)
    assert doctor.returncode == 0, doctor.stdout
    assert '"result": "FAILED"' not in doctor.stdout, doctor.stdout
