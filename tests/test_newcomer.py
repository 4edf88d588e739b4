"""A newcomer's first minutes: the README's commands, run exactly as written in a fresh
folder with a fresh home, through a pyenv shim with PYENV_VERSION set.

The folder holds a clone of the template (the README asks for one, named
``python-template``). Every ``$`` line of the README's "Start" section runs in one shell,
in order, as a user would paste them; then those of "Try the template itself". The shell
itself is started by pyenv's ``python3`` shim, so every command sees what such a shell
sees: ``PYENV_VERSION`` exported and that version's bin folder first on PATH. The home
folder is new (tools land in its ``~/.local``), only the package cache is shared so that
packages are not downloaded again. One change: ``nox -s tests`` (the template's whole
suite, which this test belongs to) runs with a selection of quick tests; `.ci/run` runs
it word for word.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE
from envlock import pythons

pytestmark = pytest.mark.slow

QUICK_TESTS = "tests/test_day_one_units.py"


def readme_commands(section: str) -> list[str]:
    """The ``$`` lines of the console blocks of one README section, comments kept."""
    text = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    body = re.split(r"^#+ ", text.split(f"\n{section}\n", 1)[1], maxsplit=1, flags=re.MULTILINE)[0]
    blocks = re.findall(r"```console\n(.*?)```", body, flags=re.DOTALL)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def uncommented(command: str) -> str:
    return command.split(" #", 1)[0].strip()


def clone_template(folder: Path) -> Path:
    """The template as committed in a repository of its own, cloned as the README says."""
    source = folder / "template-repository"
    shutil.copytree(
        TEMPLATE,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".nox", ".venv*", ".ci-venv", "__pycache__", "demo", ".*_cache"
        ),
    )
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(source)], check=True)
    subprocess.run(["git", "add", "-A"], cwd=source, check=True)
    subprocess.run(["git", *identity, "commit", "-qm", "template"], cwd=source, check=True)
    start = folder / "start"
    start.mkdir()
    subprocess.run(["git", "clone", "-q", str(source), "python-template"], cwd=start, check=True)
    return start


def uv_cache() -> str:
    uv = Path(sys.executable).parent / "uv"
    return subprocess.run(
        [str(uv), "cache", "dir"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_readme_start_works_as_written_through_a_pyenv_shim(tmp_path: Path):
    root = pythons.pyenv_root(os.environ)
    shim = root / "shims" / "python3"
    interpreter = pythons.find_python("3.11")
    if not shim.is_file() or interpreter is None:
        pytest.skip("needs pyenv's shims and its Python 3.11")
    start_commands = readme_commands("## Start")
    try_commands = readme_commands("### Try the template itself")
    assert [uncommented(c) for c in start_commands[-2:]] == [
        "cookiecutter python-template",
        "cd my-project && nox -s setup",
    ]
    assert [uncommented(c) for c in try_commands] == [
        "cd python-template",
        "nox -s demo",
        "nox -s tests",
    ]
    try_commands[-1] = f"{uncommented(try_commands[-1])} -- {QUICK_TESTS}"

    start = clone_template(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    # What a newcomer's shell has: a home, pyenv, ~/.local/bin on PATH, git's identity.
    path = [str(home / ".local" / "bin"), str(root / "shims"), str(root / "bin")]
    path += ["/usr/local/bin", "/usr/bin", "/bin"]
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join(path),
        "PYENV_ROOT": str(root),
        "PYENV_VERSION": interpreter.parents[1].name,  # as `pyenv shell 3.11.N` sets it
        "UV_CACHE_DIR": uv_cache(),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "GIT_AUTHOR_NAME": "New Comer",
        "GIT_AUTHOR_EMAIL": "new@example.com",
        "GIT_COMMITTER_NAME": "New Comer",
        "GIT_COMMITTER_EMAIL": "new@example.com",
    }
    # This machine's settings for reaching package indexes, as its users have them.
    network = ("PIP_", "SSL_CERT_", "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
    env.update({k: v for k, v in os.environ.items() if k.upper().startswith(network)})
    shell = "import os, sys; os.execvp('bash', ['bash', '-euxo', 'pipefail', sys.argv[1]])"
    for name, commands in (("start", start_commands), ("try", try_commands)):
        script = tmp_path / f"{name}.sh"
        script.write_text("\n".join(commands) + "\n")
        result = subprocess.run(
            [str(shim), "-c", shell, str(script)],
            cwd=start,
            env=env,
            input="\n" * 100,  # Enter at every question: the defaults
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            timeout=1500,
        )
        assert result.returncode == 0, f"{name}:\n{result.stdout[-6000:]}"
        assert "Traceback" not in result.stdout, result.stdout[-6000:]

    project = start / "my-project"
    assert (project / ".venv" / "bin" / "python").is_file()
    assert (project / "requirements-dev.txt").is_file() and (project / "LICENSE").is_file()
    demo = start / "python-template" / "demo" / "my-project"
    assert (demo / ".venv" / "bin" / "python").is_file()
    # The demo is a repository of its own, not a folder the template's .gitignore hides.
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=demo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert Path(top.stdout.strip()) == demo, top.stdout + top.stderr
    assert "passed" in result.stdout and "Session tests was successful" in result.stdout
