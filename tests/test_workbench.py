"""A data scientist's first day in a baked project, for real: the Jupyter kernel of the
locked environment (a notebook executed on it, JupyterLab offering it, outputs stripped
on commit), the docs, the matrix found through a pyenv shim whatever PYENV_VERSION says,
coverage combined across Pythons, fmt, the `pythons` session, and the locks-to-commit line.

One bake (preset none, notebooks=yes, docs=mkdocs), set up once; the tests go on from
its state, each leaving it as it found it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import bake, nox_env, run_nox
from envlock import pythons

pytestmark = pytest.mark.slow

MATRIX = "3.11, 3.12, 3.14"  # 3.14 is not installed on the test machines
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
KERNEL = "my-project"
DISPLAY_NAME = "my-project (.venv)"


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def env_python(project: Path) -> Path:
    return project / ".venv" / "bin" / "python"


def without_ci(**changes: str) -> dict[str, str]:
    """nox makes a missing interpreter an error when CI is set; these runs are local."""
    env = nox_env(**changes)
    env.pop("CI", None)
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    made = bake(
        tmp_path_factory.mktemp("workbench") / "out",
        notebooks="yes",
        docs="mkdocs",
        license="Apache-2.0",
        python_versions=MATRIX,
    )
    result = run_nox(made, "-s", "setup")
    (made.parent / "setup.log").write_text(result.stdout)
    return made


def test_setup_registers_the_kernel_inside_the_environment(project: Path):
    output = (project.parent / "setup.log").read_text()
    assert f"Jupyter kernel {DISPLAY_NAME!r} registered in the environment" in output
    spec = json.loads(
        (project / ".venv" / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json").read_text()
    )
    assert spec["display_name"] == DISPLAY_NAME
    assert spec["argv"][0] == str(env_python(project))
    listed = subprocess.run(
        [str(env_python(project)), "-m", "jupyter", "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
    )
    kernels = json.loads(listed.stdout)["kernelspecs"]
    assert kernels[KERNEL]["resource_dir"].startswith(str(project / ".venv"))
    assert "registered" not in run_nox(project, "-s", "setup").stdout  # once is enough


def test_setup_names_the_locks_to_commit_and_doctor_warns_until_they_are(project: Path):
    output = (project.parent / "setup.log").read_text()
    assert (
        "requirements-dev.txt, requirements.txt are new or changed and not committed: commit "
        "them (`git add requirements-dev.txt requirements.txt`, then `git commit`)"
    ) in output
    result = run_nox(project, "-s", "doctor", "--", "--json")
    report = json.loads(result.stdout[result.stdout.index("{\n") : result.stdout.index("\n}") + 2])
    rows = {c["check"]: c for c in report["checks"]}
    assert report["ok"] is True  # a warning does not fail the check
    assert rows["locks committed"]["result"] == "warning"
    assert "requirements-dev.txt, requirements.txt" in rows["locks committed"]["detail"]
    assert git(project, "status", "--porcelain", "--", "requirements.txt").startswith("??")

    git(project, "add", "requirements.txt", "requirements-dev.txt")
    git(project, "commit", "-qm", "Add the locks")
    result = run_nox(project, "-s", "doctor")
    assert "locks committed              ok" in result.stdout
    assert "not committed" not in run_nox(project, "-s", "lock").stdout


def test_a_notebook_runs_on_the_registered_kernel(project: Path):
    notebook = project / "notebooks" / "explore.ipynb"
    script = f"""
import nbformat
from nbclient import NotebookClient
nb = nbformat.v4.new_notebook()
nb.cells.append(nbformat.v4.new_code_cell(
    "import sys, dotenv, my_project\\nprint(my_project.__file__)\\nprint(sys.prefix)"))
NotebookClient(nb, kernel_name={KERNEL!r}, timeout=300).execute()
nbformat.write(nb, {str(notebook)!r})
"""
    # A clean environment: the kernel is found through the environment's own prefix.
    clean = {"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"], "JUPYTER_PLATFORM_DIRS": "1"}
    subprocess.run(
        [str(env_python(project)), "-c", script], cwd=project, env=clean, check=True, timeout=600
    )
    try:
        outputs = json.loads(notebook.read_text())["cells"][0]["outputs"]
        # nbformat stores a multi-line text as a list of lines
        printed = "".join("".join(o.get("text", "")) for o in outputs).split()
        assert printed == [
            str(project / "src" / "my_project" / "__init__.py"),
            str(project / ".venv"),
        ]
    finally:
        notebook.unlink()


WITH_OUTPUT = """
import nbformat, sys
nb = nbformat.v4.new_notebook()
cell = nbformat.v4.new_code_cell("print(42)", execution_count=7)
cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\\n")]
nb.cells.append(cell)
nbformat.write(nb, sys.argv[1])
"""


def test_the_commit_hook_strips_notebook_outputs(project: Path, tmp_path: Path):
    notebook = project / "notebooks" / "with-output.ipynb"
    subprocess.run(
        [
            str(env_python(project)),
            "-c",
            WITH_OUTPUT,
            str(notebook),
        ],
        check=True,
    )
    try:
        git(project, "add", str(notebook))
        env = nox_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit"), **OFFLINE)
        hook = subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "nbstripout", "--files", str(notebook)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert hook.returncode == 1 and "files were modified by this hook" in hook.stdout
        cell = json.loads(notebook.read_text())["cells"][0]
        assert cell["outputs"] == [] and cell["execution_count"] is None
        assert "".join(cell["source"]) == "print(42)"  # the code stays
    finally:
        git(project, "reset", "-q", "--", str(notebook))
        notebook.unlink()


UNFORMATTED = """
import nbformat, sys
nb = nbformat.v4.new_notebook()
nb.cells.append(nbformat.v4.new_code_cell("import os\\nx=[1,\\n2]"))
nbformat.write(nb, sys.argv[1])
"""


def test_the_ruff_hooks_check_notebooks_as_nox_s_lint_does(project: Path, tmp_path: Path):
    """`nox -s lint` (ruff check ., ruff format --check .) reads notebooks: the hooks must
    too, or a commit that passes them fails lint on CI."""
    notebook = project / "notebooks" / "unformatted.ipynb"
    subprocess.run([str(env_python(project)), "-c", UNFORMATTED, str(notebook)], check=True)
    try:
        git(project, "add", str(notebook))
        env = nox_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit"), **OFFLINE)
        for hook_id, finding in (("ruff-check", "F401"), ("ruff-format", "unformatted.ipynb")):
            hook = subprocess.run(
                [sys.executable, "-m", "pre_commit", "run", hook_id, "--files", str(notebook)],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert hook.returncode == 1 and finding in hook.stdout, hook.stdout
    finally:
        git(project, "reset", "-q", "--", str(notebook))
        notebook.unlink()


@contextlib.contextmanager
def running(argv: list[str], cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A process group of this test's own, stopped (SIGTERM, then SIGKILL) at the end."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_lab_offers_the_kernel(project: Path):
    port, token = free_port(), "workbench-test"
    args = [f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1", "--no-browser"]
    args += [f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # JupyterLab refuses root without it
    argv = [sys.executable, "-m", "nox", "-s", "lab", "--", *args]
    url = f"http://127.0.0.1:{port}/api/kernelspecs?token={token}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with running(argv, project, nox_env(**OFFLINE)) as lab:
        specs = None
        for _ in range(600):  # until the server answers (or the session ends)
            if lab.poll() is not None:
                break
            try:
                with opener.open(url, timeout=5) as response:
                    specs = json.load(response)["kernelspecs"]
                    break
            except OSError:
                time.sleep(0.5)
    assert specs is not None, lab.stdout.read() if lab.stdout else "no output"
    assert specs[KERNEL]["spec"]["display_name"] == DISPLAY_NAME
    assert specs[KERNEL]["spec"]["argv"][0] == str(env_python(project))


def test_docs_build_offline_and_strictly(project: Path):
    # Offline: the build uses the project's environment, so nothing is installed.
    offline = nox_env(**OFFLINE)
    built = run_nox(project, "-s", "docs", env=offline)
    assert "uv pip" not in built.stdout
    assert "my-project" in (project / "site" / "index.html").read_text().lower()
    orphan = project / "docs" / "orphan.md"
    orphan.write_text("# Not in nav\n")
    try:
        result = run_nox(project, "-s", "docs", env=offline, check=False)
    finally:
        orphan.unlink()
    assert result.returncode != 0
    assert "orphan.md" in result.stdout


VERSIONED = '''"""What differs between Pythons: each covers one branch."""

import sys

if sys.version_info >= (3, 12):
    NEWER = True
else:
    NEWER = False
'''
VERSIONED_TEST = """from my_project import versioned


def test_versioned() -> None:
    assert isinstance(versioned.NEWER, bool)
"""


def coverage_total(project: Path, data_file: str) -> str:
    """The coverage of versioned.py in one data file (reports combine the per-Python files
    into .coverage on their own: --keep-combined keeps them)."""
    report = ["report", "--format=total", "--fail-under=0", "--keep-combined"]
    only = ["--data-file", data_file, "--include", "src/my_project/versioned.py"]
    return subprocess.run(
        [str(env_python(project)), "-m", "coverage", *report, *only],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_tests_find_the_matrix_through_a_pyenv_shim_and_coverage_combines(project: Path):
    """Started through pyenv's `python3` shim with PYENV_VERSION set, as `python3 -m nox`
    is on a pyenv machine: the shim exports PYENV_VERSION to nox, which alone would hide
    every Python but one from the shims nox looks up."""
    shim = pythons.pyenv_root(os.environ) / "shims" / "python3"
    if not shim.is_file() or pythons.find_python("3.11") is None:
        pytest.skip("needs pyenv's shims and its Python 3.11")
    one_version = pythons.find_python("3.11").parents[1].name  # e.g. 3.11.7
    module = project / "src" / "my_project" / "versioned.py"
    test = project / "tests" / "test_versioned.py"
    module.write_text(VERSIONED)
    test.write_text(VERSIONED_TEST)
    exec_nox = "import os, sys; os.execv(sys.argv[1], sys.argv[1:])"
    try:
        result = subprocess.run(
            [str(shim), "-c", exec_nox, sys.executable, "-m", "nox", "-s", "tests"],
            cwd=project,
            env=without_ci(PYENV_VERSION=one_version),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            timeout=900,
        )
        output = result.stdout
        assert result.returncode == 0, output
        assert "tests-3.11: success" in output and "tests-3.12: success" in output
        assert "tests-3.14: skipped" in output
        missing = (
            "Python 3.14 is in the matrix but not installed, so those tests are skipped: "
            "`pyenv install 3.14` (or `nox -s pythons -- --install`)"
        )
        assert output.count(missing) == 1
        data = sorted(p.name for p in project.glob(".coverage.*"))
        assert data == [f".coverage.3.11-{sys.platform}", f".coverage.3.12-{sys.platform}"]
        for name in data:  # each Python took one branch of versioned.py
            assert float(coverage_total(project, name)) < 100
        # The user's UV_OFFLINE is honoured: the session's venv comes from uv's cache.
        report = run_nox(project, "-s", "coverage", env=nox_env(UV_OFFLINE="1", **OFFLINE)).stdout
        assert "TOTAL" in report and (project / "coverage.xml").is_file()
        assert (project / "htmlcov" / "index.html").is_file()
        assert coverage_total(project, ".coverage") == "100"  # combined: both branches
        assert sorted(p.name for p in project.glob(".coverage.*")) == data  # kept

        pyproject = project / "pyproject.toml"
        original = pyproject.read_text()
        assert "fail_under = 80" in original  # the documented default
        pyproject.write_text(original.replace("fail_under = 80", "fail_under = 100"))
        try:
            below = run_nox(project, "-s", "coverage", check=False)
        finally:
            pyproject.write_text(original)
        assert below.returncode != 0
        assert "Coverage failure: total of" in below.stdout and "fail-under=100" in below.stdout
        assert "TOTAL" in below.stdout  # the table is shown, the files written, then it fails
    finally:
        module.unlink()
        test.unlink()
        for data_file in project.glob(".coverage*"):
            data_file.unlink()


def test_coverage_without_data_says_what_to_run(project: Path):
    result = run_nox(project, "-s", "coverage", check=False)
    assert result.returncode != 0
    assert "installing requirements-dev.txt" not in result.stdout  # it says so at once
    assert (
        result.stdout.rstrip()
        .splitlines()[-1]
        .startswith(
            "nox > Session coverage aborted: there is no coverage data yet: `nox -s tests` writes it"
        )
    )


@contextlib.contextmanager
def stalled_server() -> Iterator[socket.socket]:
    """A server that takes connections and never answers: the kernel accepts them into
    the listen queue, and nothing ever reads or writes."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server


def test_pythons_lists_the_matrix_and_install_gives_up_a_stalled_download(project: Path):
    listed = run_nox(project, "-s", "pythons").stdout
    table = {line.split()[1]: line.split()[2] for line in listed.splitlines()}
    assert table["3.11"] == "ok" and table["3.12"] == "ok" and table["3.14"] == "missing"
    assert "`pyenv install 3.14`" in listed
    # The real pyenv, whose download tool (curl here) first asks pyenv's mirror: a server
    # that never answers, so only the stall limit the session gives curl ends the wait
    # (curl has none of its own: without it this run would wait until the timeout below).
    # Then python.org, through a proxy that refuses (this machine reaches package indexes
    # only).
    with stalled_server() as mirror:
        port = mirror.getsockname()[1]
        offline = without_ci(
            **OFFLINE, NO_PROXY="127.0.0.1", PYTHON_BUILD_MIRROR_URL=f"http://127.0.0.1:{port}"
        )
        result = run_nox(
            project, "-s", "pythons", "--", "--install", env=offline, check=False, timeout=300
        )
        mirror.setblocking(False)
        mirror.accept()[0].close()  # the download did reach the stalled mirror
    assert result.returncode != 0
    last = [line for line in result.stdout.splitlines() if line.startswith("nox > ")][-1]
    assert "pyenv could not download Python 3.14: the network is not reachable" in last, (
        result.stdout
    )
    assert "Traceback" not in result.stdout
    assert pythons.find_python("3.14") is None


# STAND-IN for a pyenv that hangs (a broken install, a plugin's hook waiting on something):
# the real one answers. It starts a child that holds its output open and waits for it, so
# only stopping the whole group ends the wait.
HANGING_PYENV = """#!/bin/sh
echo "$$" > "$(dirname "$0")/pyenv.pid"
sleep 3600 &
echo "$!" > "$(dirname "$0")/child.pid"
wait
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_a_pyenv_that_hangs_is_stopped_with_one_line(project: Path, tmp_path: Path):
    if not Path("/proc/self/stat").is_file():
        pytest.skip("reads /proc to see the stand-in's processes end")
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    (stand_in / "pyenv").write_text(HANGING_PYENV)
    (stand_in / "pyenv").chmod(0o755)
    env = without_ci(**OFFLINE, PATH=f"{stand_in}{os.pathsep}{os.environ['PATH']}")
    result = run_nox(project, "-s", "pythons", "--", "--install", env=env, check=False, timeout=300)
    assert result.returncode != 0
    last = result.stdout.rstrip().splitlines()[-1]
    assert last.startswith(
        "nox > Session pythons aborted: `pyenv latest --known 3.14` did not answer within 10 "
        "seconds and was stopped: pyenv is stuck"
    ), result.stdout
    assert "Traceback" not in result.stdout
    for name in ("pyenv.pid", "child.pid"):  # the stand-in and what it started: both gone
        assert not alive(int((stand_in / name).read_text())), name


def test_fmt_fixes_a_badly_formatted_file_offline(project: Path):
    """With the user's UV_OFFLINE (and no network at all), fmt and lint build their venvs
    from uv's cache: the setting reaches every uv command."""
    offline = nox_env(UV_OFFLINE="1", **OFFLINE)
    ugly = project / "src" / "my_project" / "ugly.py"
    ugly.write_text(
        '"""Badly formatted."""\nimport sys\nimport json\ndef dump( x:dict[str,int] )->str :\n'
        "  return json.dumps( x,indent = 2 )\n"
    )
    try:
        run_nox(project, "-s", "fmt", env=offline)
        assert ugly.read_text() == (
            '"""Badly formatted."""\n\nimport json\n\n\ndef dump(x: dict[str, int]) -> str:\n'
            "    return json.dumps(x, indent=2)\n"
        )
        run_nox(project, "-s", "lint", env=offline)
    finally:
        ugly.unlink()


def test_rebuild_registers_the_kernel_in_the_new_environment(project: Path):
    spec = project / ".venv" / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json"
    marker = project / ".venv" / "old-env-marker"
    marker.touch()
    result = run_nox(project, "-s", "rebuild")
    assert not marker.exists()
    assert f"Jupyter kernel {DISPLAY_NAME!r} registered in the environment" in result.stdout
    assert json.loads(spec.read_text())["argv"][0] == str(env_python(project))
    run_nox(project, "-s", "doctor")
