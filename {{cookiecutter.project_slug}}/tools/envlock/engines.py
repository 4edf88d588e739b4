"""The command lines of the lock engines and of the installer (all argv, no shell)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tool_locks imports this module, and lockfiles imports tool_locks
    from envlock.lockfiles import LockTarget

__all__ = [
    "check_argv",
    "editable_argv",
    "index_args",
    "isolated_pip_env",
    "pip_compile_argv",
    "sync_argv",
    "uv_compile_argv",
    "uv_env",
    "venv_argv",
]

# Options of pip's own configuration that would make a lock depend on this machine.
PIP_MACHINE_SETTINGS = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "PIP_CONSTRAINT",
    "PIP_TRUSTED_HOST",
    "PIP_CONFIG_FILE",
)


# The only UV_* variables uv is given: how it caches, links, waits, reaches the network
# (or not: UV_OFFLINE) and authenticates, none of which changes what is resolved or
# installed (offline, uv installs the same hash-pinned files from its cache, or fails).
# Every other UV_* variable is dropped (an allow-list, so a variable a newer uv adds
# cannot change a lock unnoticed): an index, find-links, constraint, override,
# exclude-newer, prerelease, resolution or binary policy of this machine must not reach a
# lock or an install, since the lock's inputs digest cannot see it. The project's own
# indexes come from ``extra-index-urls`` instead.
UV_KEPT = frozenset(
    {
        "UV_CACHE_DIR",
        "UV_NO_CACHE",
        "UV_LINK_MODE",
        "UV_OFFLINE",
        "UV_CONCURRENT_DOWNLOADS",
        "UV_CONCURRENT_BUILDS",
        "UV_CONCURRENT_INSTALLS",
        "UV_HTTP_TIMEOUT",
        "UV_REQUEST_TIMEOUT",
        "UV_HTTP_RETRIES",
        "UV_NATIVE_TLS",
        "UV_SYSTEM_CERTS",  # UV_NATIVE_TLS's newer name
        "UV_NO_PROGRESS",
        "UV_KEYRING_PROVIDER",
        "UV_CREDENTIALS_DIR",
    }
)


# The terminal's size as a shell exports it: uv wraps its messages to it.
TERMINAL_SIZE = frozenset({"COLUMNS", "LINES"})


def uv_compile_argv(
    uv: str,
    target: LockTarget,
    output: Path,
    extra: list[str],
    source: Path | None = None,
    constraint: Path | None = None,
) -> list[str]:
    """``uv pip compile`` of one lock, blind to every uv configuration file (``--no-config``:
    ``[tool.uv]`` in pyproject.toml, uv.toml, the user's and the machine's). ``source``
    and ``constraint``: the copies the engine reads (engine_inputs)."""
    argv = [
        uv,
        "pip",
        "compile",
        "--no-config",
        str(source or target.source.name),
        "--output-file",
        str(output),
        "--generate-hashes",
        "--no-header",
        "--quiet",
        "--python-version",
        target.python,
    ]
    if target.universal:
        argv.append("--universal")
    if constraint is not None:
        argv += ["--constraint", str(constraint)]
    elif target.constraint is not None:
        argv += ["--constraint", target.constraint.name]
    return argv + extra


def pip_compile_argv(
    python: str,
    target: LockTarget,
    output: Path,
    extra: list[str],
    source: Path | None = None,
    constraint: Path | None = None,
) -> list[str]:
    """pip-compile, told to leave the machine's pip settings out of the lock."""
    argv = [
        python,
        "-m",
        "piptools",
        "compile",
        str(source or target.source.name),
        "--output-file",
        str(output),
        "--generate-hashes",
        "--no-header",
        "--quiet",
        "--allow-unsafe",
        "--strip-extras",
        "--no-config",
        "--no-emit-index-url",
        "--no-emit-find-links",
        "--no-emit-trusted-host",
        "--no-emit-options",
    ]
    if constraint is not None:
        argv += ["--constraint", str(constraint)]
    elif target.constraint is not None:
        argv += ["--constraint", target.constraint.name]
    return argv + extra


def isolated_pip_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment for pip-compile: the machine's pip configuration files and PIP_*
    index settings are ignored, so the lock resolves against the default index only."""
    env = {k: v for k, v in environ.items() if k not in PIP_MACHINE_SETTINGS}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def uv_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of every uv command: only the ``UV_KEPT`` variables of uv's own,
    no configuration file (``UV_NO_CONFIG``), and no interpreter downloaded behind the
    user's back (offline it would hang). Without ``COLUMNS`` uv never wraps what it
    prints into a pipe, so its sentences stay whole for the one-line messages that
    quote them (with ``COLUMNS=80`` a long file URL is cut over two lines)."""
    env = {
        k: v
        for k, v in environ.items()
        if (not k.startswith("UV_") or k in UV_KEPT) and k not in TERMINAL_SIZE
    }
    return {**env, "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never"}


def venv_argv(uv: str, interpreter: Path, env: Path) -> list[str]:
    """A virtual environment that can be renamed (built beside the old one, then swapped)."""
    return [uv, "venv", "--quiet", "--relocatable", "--python", str(interpreter), str(env)]


def index_args(urls: Sequence[str]) -> list[str]:
    """The project's extra indexes (``extra-index-urls``), for locking and installing alike."""
    return [f"--extra-index-url={url}" for url in urls]


def sync_argv(
    uv: str,
    python: Path | str,
    lock: Path,
    indexes: Sequence[str] = (),
    installer_args: Sequence[str] = (),
    require_hashes: bool = True,
    rebuilt: Sequence[str] = (),
) -> list[str]:
    """Make an environment hold exactly the lock's packages, every one hash-checked.

    ``installer_args``: the noxfile's ``INSTALLER_ARGS``, for every install. A local
    directory or a VCS checkout has no hash, so a lock holding one is synced without
    ``--require-hashes``: uv still checks every hash the lock has, and the lock parser
    has made sure that every file from an index or URL has one. ``rebuilt``: the local
    packages installed without ``-e``, built afresh each time (uv would reuse its cached
    build of an unchanged pyproject.toml, with the old code).
    """
    return [
        uv,
        "pip",
        "sync",
        "--no-config",
        *(["--require-hashes"] if require_hashes else []),
        *(f"--reinstall-package={name}" for name in rebuilt),
        *index_args(indexes),
        *installer_args,
        "--python",
        str(python),
        str(lock),
    ]


def editable_argv(
    uv: str, python: Path | str, root: Path, installer_args: Sequence[str] = ()
) -> list[str]:
    """Install the project itself, editable, without touching its locked dependencies."""
    return [
        uv,
        "pip",
        "install",
        "--no-deps",
        *installer_args,
        "--python",
        str(python),
        "--editable",
        str(root),
    ]


def check_argv(uv: str, python: Path | str) -> list[str]:
    """Whether the installed distributions' requirements are consistent."""
    return [uv, "pip", "check", "--python", str(python)]
