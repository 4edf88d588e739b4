"""Running commands: streamed with a failure told in one line, queried for JSON, or run
quietly for a yes/no answer. A program that cannot even start (missing, not executable,
a broken interpreter behind it) is an EnvlockError too, never a traceback. Also the one
line for an OS error (a full disk, a read-only folder; ``os_errors``) and for an
interruption."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from envlock import EnvlockError, failures, os_errors

__all__ = [
    "cannot_start",
    "command_name",
    "command_passes",
    "describe_fault",
    "explain_failure",
    "one_line",
    "query_json",
    "quiet_check",
    "run_captured",
    "run_streaming",
]

# ``python -m MODULE ...`` is told by the name its users know.
MODULE_COMMANDS = {"piptools": "pip-compile", "conda_lock": "conda-lock"}


def command_name(argv: list[str]) -> str:
    """``uv pip sync`` for ``/path/to/uv pip sync --require-hashes ...``; ``pip-compile``
    for ``python -m piptools compile ...``."""
    if len(argv) > 2 and argv[1] == "-m":
        return MODULE_COMMANDS.get(argv[2], argv[2])
    words = [Path(argv[0]).name]
    for word in argv[1:3]:
        if word.startswith("-") or "/" in word or "\\" in word:
            break
        words.append(word)
    return " ".join(words)


def explain_failure(
    argv: list[str], returncode: int, output: str, context: failures.Context | None = None
) -> str:
    """One line saying why a command failed, from what it printed: what ``failures``
    tells (a hash, the network, the inputs), else what the file system said."""
    name = command_name(argv)
    context = dataclasses.replace(context or failures.Context(), proxy=_proxy())
    told = failures.explain(name, returncode, output, context)
    if told != failures.generic(name, returncode):
        return told
    found = os_errors.printed(output)
    if found is not None:
        return f"`{name}` failed because {found[0]}: {found[1]}, then run this again"
    return told


def _proxy() -> str:
    """The proxy the commands' requests go through (``HTTPS_PROXY`` and its kin)."""
    for key in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY"):
        value = os.environ.get(key, "")
        if value:
            return urlsplit(value if "://" in value else f"http://{value}").netloc
    return ""


def run_captured(argv: list[str], env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """Run ``argv`` without showing its output; return its exit code and output.

    For commands whose failure is told in one line (the lock engines), where their own
    account (pip-compile: three tracebacks) would bury it. Interrupted, the command is
    stopped too.
    """
    try:
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            text=True,
            errors="replace",
        )
    except OSError as error:
        raise cannot_start(argv, error) from None
    try:
        output, _ = process.communicate()
    except BaseException:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    return process.returncode, output


def describe_fault(error: BaseException) -> str:
    """What an error, an OS error or an interruption that ended a step was, in words."""
    if isinstance(error, KeyboardInterrupt):
        how = str(error) or "Ctrl-C"
        return f"interrupted ({how}) before it finished"
    if isinstance(error, OSError):
        return os_errors.line(error)
    return str(error)


def one_line(error: BaseException) -> str:
    """The line a session ends with, for an error nothing closer to it explained: an
    EnvlockError's own, an OS error's, or an interruption's."""
    if isinstance(error, KeyboardInterrupt):
        return (
            f"{describe_fault(error)}; each file it was writing is the old one or a "
            "complete new one (files are only replaced once complete)"
        )
    return describe_fault(error)


def run_streaming(
    argv: list[str],
    env: Mapping[str, str] | None = None,
    echo: Callable[[str], object] = sys.stderr.write,
) -> None:
    """Run ``argv``, echoing its output; raise EnvlockError explaining a failure.

    If this is interrupted (Ctrl-C, or SIGTERM while an environment is being changed),
    the command is stopped too before the interruption goes on.
    """
    try:
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            text=True,
            errors="replace",
        )
    except OSError as error:
        raise cannot_start(argv, error) from None
    assert process.stdout is not None  # stdout=PIPE
    tail: collections.deque[str] = collections.deque(maxlen=300)
    try:
        for line in process.stdout:
            echo(line)
            tail.append(line)
        returncode = process.wait()
    except BaseException:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    finally:
        process.stdout.close()
    if returncode != 0:
        raise EnvlockError(explain_failure(argv, returncode, "".join(tail)))


def cannot_start(argv: list[str], error: OSError) -> EnvlockError:
    """The one line for a program that did not start at all."""
    if isinstance(error, FileNotFoundError) and ".nox" in Path(argv[0]).parts:
        # A pinned tool of this session, deleted with `.nox` while the session ran.
        return EnvlockError(
            f"cannot run {argv[0]}: it is gone (was .nox deleted while this session ran?); "
            "the next session installs it again"
        )
    return EnvlockError(
        f"cannot run {argv[0]} ({error.strerror or error}): if it is in the project's "
        "environment, rebuild that with `nox -s setup`"
    )


def query_json(argv: list[str], env: Mapping[str, str] | None = None) -> object:
    """Run a command that prints JSON, and return what it printed."""
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=None if env is None else dict(env),
            check=False,
        )
    except OSError as error:
        raise cannot_start(argv, error) from None
    if result.returncode != 0:
        raise EnvlockError(f"{Path(argv[0]).name} failed: {result.stderr.strip() or result.stdout}")
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise EnvlockError(
            f"{command_name(argv)} printed something that is not JSON: {result.stdout[:200]!r}"
        ) from None


def quiet_check(argv: list[str]) -> tuple[bool, str]:
    """Whether a command passes, and the first lines it printed (for a table's detail)."""
    passed, lines = quiet_output(argv)
    return passed, "; ".join(lines[:3])


def quiet_output(argv: list[str]) -> tuple[bool, list[str]]:
    """Whether a command passes, and every non-empty line it printed."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as error:
        return False, [str(cannot_start(argv, error))]
    lines = (result.stderr + "\n" + result.stdout).strip().splitlines()
    return result.returncode == 0, [line.strip() for line in lines if line.strip()]


def command_passes(argv: list[str], cwd: Path | None = None) -> bool:
    """Run a verification command with its output shown; whether it passed."""
    try:
        return subprocess.run(argv, cwd=cwd, check=False).returncode == 0
    except OSError as error:
        print(cannot_start(argv, error), file=sys.stderr)
        return False
