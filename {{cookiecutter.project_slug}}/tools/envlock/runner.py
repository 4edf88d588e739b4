"""Running the sessions' commands: output shown as it comes, a failure told in one line."""

from __future__ import annotations

import collections
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from envlock import EnvlockError

HASH_SIGNS = ("hash mismatch", "hashes do not match", "do not match the hashes")
NETWORK_SIGNS = (
    "failed to fetch",
    "connection refused",
    "error sending request",
    "dns error",
    "failed to connect",
    "tcp connect error",
    "network is unreachable",
    "timed out",
    "max retries exceeded",
    "connectionerror",
    "name resolution",
    "could not connect",
    "failed to download",
)


def command_name(argv: list[str]) -> str:
    """``uv pip sync`` for ``/path/to/uv pip sync --require-hashes ...``."""
    words = [Path(argv[0]).name]
    for word in argv[1:3]:
        if word.startswith("-") or "/" in word or "\\" in word:
            break
        words.append(word)
    return " ".join(words)


def explain_failure(argv: list[str], returncode: int, output: str) -> str:
    """One line saying why a command failed, from what it printed."""
    name, text = command_name(argv), output.lower()
    if any(sign in text for sign in HASH_SIGNS):
        return (
            f"`{name}` refused a file whose hash is not the one in the lock (the file on the "
            "index changed, or the lock was tampered with); nothing was installed from it: "
            "check the lock with `git diff`"
        )
    if any(sign in text for sign in NETWORK_SIGNS):
        return (
            f"`{name}` failed because the network failed (the package index could not be "
            "reached): check the connection or the index settings, then run this again"
        )
    return f"`{name}` failed with exit code {returncode} (its output is above)"


def run_streaming(
    argv: list[str],
    env: Mapping[str, str] | None = None,
    echo: Callable[[str], object] = sys.stderr.write,
) -> None:
    """Run ``argv``, echoing its output; raise EnvlockError explaining a failure.

    If this is interrupted (Ctrl-C, or SIGTERM while an environment is being changed),
    the command is stopped too before the interruption goes on.
    """
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        text=True,
        errors="replace",
    )
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
