"""The Pythons of the test matrix as pyenv has them: what nox is told, which are missing,
and installing the missing ones with pyenv.

nox finds ``pythonX.Y`` through pyenv's shims. A shim answers for the versions named by
``PYENV_VERSION`` when that is set, and only otherwise for those of ``.python-version``;
a shim exports ``PYENV_VERSION`` to every program it starts (``python3 -m nox`` through a
shim) and ``pyenv shell`` sets it. So ``nox_environment`` names every installed Python of
the matrix there, before whatever it said already, and each shim resolves.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from envlock import EnvlockError
from envlock.checks import Check
from envlock.pythons import find_python, pyenv_root

__all__ = [
    "MatrixPython",
    "install_missing",
    "matrix_status",
    "missing_notice",
    "nox_environment",
    "status_checks",
]

RELEASE = re.compile(r"^(\d+\.\d+)\.(\d+)$")
# pyenv's download tools give up on a connection that cannot be made or that stalls
# (below 1 byte/s for this long), instead of waiting for ever; a slow but moving
# download goes on. python-build reads these variables (see its README). One try each:
# wget and aria2c retry on their own (aria2c five times), which would multiply the wait.
STALL_SECONDS = 20
DOWNLOAD_OPTIONS = {
    "PYTHON_BUILD_CURL_OPTS": (
        f"--connect-timeout {STALL_SECONDS} --speed-limit 1 --speed-time {STALL_SECONDS}"
    ),
    "PYTHON_BUILD_WGET_OPTS": f"--timeout={STALL_SECONDS} --tries=1",
    "PYTHON_BUILD_ARIA2_OPTS": (
        f"--connect-timeout={STALL_SECONDS} --timeout={STALL_SECONDS} --max-tries=1"
    ),
}
# `pyenv latest --known` answers from pyenv's own files in a second or two. One that has
# not answered after this long is stuck (a broken install, a plugin's hook waiting on
# something) and is stopped, with everything it started.
ANSWER_SECONDS = 10
NETWORK_SIGNS = (
    "could not resolve host",
    "failed to connect",
    "connection timed out",
    "operation too slow",
    "network is unreachable",
    "temporary failure in name resolution",
    "failed to download",
    "unable to resolve host",
)


@dataclasses.dataclass(frozen=True)
class MatrixPython:
    """One Python of the matrix: pyenv's name for it, and the interpreter found (if any)."""

    version: str
    pyenv_name: str | None
    interpreter: Path | None

    @property
    def missing(self) -> bool:
        return self.interpreter is None


def installed_versions(environ: Mapping[str, str]) -> dict[str, str]:
    """pyenv's newest CPython release of each ``X.Y``: ``{"3.12": "3.12.1"}``."""
    newest: dict[str, tuple[int, str]] = {}
    try:
        names = [p.name for p in (pyenv_root(environ) / "versions").iterdir() if p.is_dir()]
    except OSError:
        return {}
    for name in names:
        match = RELEASE.match(name)
        if match and int(match[2]) >= newest.get(match[1], (-1, ""))[0]:
            newest[match[1]] = (int(match[2]), name)
    return {version: name for version, (_, name) in newest.items()}


def matrix_status(
    matrix: Sequence[str], environ: Mapping[str, str] | None = None
) -> list[MatrixPython]:
    """Each Python of the matrix, with what pyenv (or PATH) has of it."""
    environ = os.environ if environ is None else environ
    names = installed_versions(environ)
    return [
        MatrixPython(version, names.get(version), find_python(version, environ))
        for version in matrix
    ]


def nox_environment(matrix: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """``PYENV_VERSION`` naming the matrix's installed Pythons first, then what it named
    before; nothing to change when pyenv has none of them."""
    names = installed_versions(environ)
    wanted = [names[version] for version in matrix if version in names]
    if not wanted:
        return {}
    before = [name for name in environ.get("PYENV_VERSION", "").split(":") if name]
    return {"PYENV_VERSION": ":".join([*wanted, *(n for n in before if n not in wanted)])}


def install_command(versions: Sequence[str]) -> str:
    return f"pyenv install {' '.join(versions)}"


def missing_line(status: Sequence[MatrixPython]) -> str | None:
    """One line naming the matrix's Pythons that are not installed, or None."""
    missing = [python.version for python in status if python.missing]
    if not missing:
        return None
    subject = (
        f"Python {missing[0]} is" if len(missing) == 1 else f"Pythons {', '.join(missing)} are"
    )
    return (
        f"{subject} in the matrix but not installed, so those tests are skipped: "
        f"`{install_command(missing)}` (or `nox -s pythons -- --install`)"
    )


# nox runs every session of one command in one process: the line is said once per run.
_SAID: set[tuple[str, ...]] = set()


def missing_notice(matrix: Sequence[str]) -> str | None:
    """``missing_line`` for the matrix, the first time it is asked for in this process."""
    key = tuple(matrix)
    if key in _SAID:
        return None
    _SAID.add(key)
    return missing_line(matrix_status(matrix))


@dataclasses.dataclass(frozen=True)
class PythonRow(Check):
    """A row of `nox -s pythons`: "missing" rather than "FAILED"."""

    @property
    def result(self) -> str:
        return "ok" if self.ok else "missing"


def status_checks(status: Sequence[MatrixPython]) -> list[Check]:
    """The rows of `nox -s pythons`: each Python, whether it is there, and where from."""
    rows: list[Check] = []
    for python in status:
        name = f"Python {python.version}"
        if python.missing:
            rows.append(PythonRow(name, False, f"`pyenv install {python.version}`"))
        elif python.pyenv_name:
            rows.append(PythonRow(name, True, f"pyenv {python.pyenv_name}"))
        else:
            rows.append(PythonRow(name, True, f"{python.interpreter} (on PATH)"))
    return rows


def find_pyenv(environ: Mapping[str, str]) -> str:
    found = shutil.which("pyenv", path=environ.get("PATH"))
    if found:
        return found
    bundled = pyenv_root(environ) / "bin" / "pyenv"
    if bundled.is_file():
        return str(bundled)
    raise EnvlockError(
        "pyenv was not found: install it (https://github.com/pyenv/pyenv#installation), "
        "or install the missing Pythons another way and put pythonX.Y on PATH"
    )


def stop_tree(process: subprocess.Popen[str]) -> None:
    """Stop ``process`` and what it started (a child left running would hold its output
    open, and reading that output would wait for it), even when ``process`` itself ended."""
    if sys.platform == "win32":
        subprocess.run(
            ["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True, check=False
        )
        return
    with contextlib.suppress(ProcessLookupError):  # nothing of the group is left
        os.killpg(process.pid, signal.SIGKILL)  # its own session: see ask_pyenv


def ask_pyenv(
    argv: list[str], environ: Mapping[str, str]
) -> subprocess.CompletedProcess[str] | None:
    """Run a quick pyenv command; None when it has not answered within ``ANSWER_SECONDS``
    (then it is stopped, with what it started)."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(environ),
        start_new_session=sys.platform != "win32",  # a group of its own, stopped as one
    )
    try:
        stdout, stderr = process.communicate(timeout=ANSWER_SECONDS)
    except subprocess.TimeoutExpired:
        stop_tree(process)
        process.communicate()
        return None
    except BaseException:  # Ctrl-C: pyenv's own group does not get the terminal's signal
        stop_tree(process)
        raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def download_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of `pyenv install`: stall limits first, the user's options after
    (so theirs win), and no prompt can wait for an answer."""
    env = dict(environ)
    for key, options in DOWNLOAD_OPTIONS.items():
        env[key] = f"{options} {environ.get(key, '')}".strip()
    return env


def explain_install_failure(version: str, returncode: int, output: str) -> str:
    text = output.lower()
    if any(sign in text for sign in NETWORK_SIGNS):
        return (
            f"pyenv could not download Python {version}: the network is not reachable; "
            f"connect and try again, or install it another way (python{version} on PATH is found too)"
        )
    return (
        f"`pyenv install {version}` failed with exit code {returncode}: see its output above "
        "(a build that fails usually lacks a system library: pyenv's wiki lists them)"
    )


def run_install(
    argv: list[str], env: dict[str, str], echo: Callable[[str], object]
) -> tuple[int, str]:
    """Run `pyenv install`, echoing its output; return (exit code, the end of its output)."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        errors="replace",
    )
    tail: collections.deque[str] = collections.deque(maxlen=200)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            echo(line)
            tail.append(line)
        return process.wait(), "".join(tail)
    except BaseException:
        process.terminate()
        process.wait()
        raise
    finally:
        process.stdout.close()


def install_missing(
    status: Sequence[MatrixPython],
    environ: Mapping[str, str] | None = None,
    echo: Callable[[str], object] = sys.stderr.write,
) -> list[str]:
    """Install the matrix's missing Pythons with pyenv; return what was done, one line each.

    Each version is first looked up in pyenv's own (offline) list, so an unknown one fails
    at once (and a pyenv that does not answer, within ``ANSWER_SECONDS``); a download
    that cannot start or stalls fails within ``STALL_SECONDS``.
    """
    environ = os.environ if environ is None else environ
    missing = [python.version for python in status if python.missing]
    if not missing:
        return ["every Python of the matrix is installed: nothing to do"]
    pyenv = find_pyenv(environ)
    done = []
    for version in missing:
        known = ask_pyenv([pyenv, "latest", "--known", version], environ)
        if known is None:
            raise EnvlockError(
                f"`pyenv latest --known {version}` did not answer within {ANSWER_SECONDS} "
                "seconds and was stopped: pyenv is stuck (try `pyenv --version` in a shell; "
                f"a plugin or hook may be waiting), or install Python {version} another way "
                f"(python{version} on PATH is found too)"
            )
        release = known.stdout.strip()
        if known.returncode != 0 or not release:
            raise EnvlockError(
                f"pyenv does not know Python {version} yet: update pyenv (`pyenv update`, "
                f"or `git pull` in `pyenv root`), then `pyenv install {version}`"
            )
        argv = [pyenv, "install", "--skip-existing", release]
        returncode, output = run_install(argv, download_environment(environ), echo)
        if returncode != 0:
            raise EnvlockError(explain_install_failure(version, returncode, output))
        done.append(f"Python {version} installed with pyenv ({release})")
    return done
