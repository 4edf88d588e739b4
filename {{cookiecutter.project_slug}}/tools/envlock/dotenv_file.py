"""The ``.env`` file: created from ``.env.example`` when missing, readable by its owner only.

The one place that makes ``.env``: ``nox -s setup`` and the template's post-generation
hook both call ``ensure_dotenv``. It only copies bytes (no parsing), so it needs nothing
beyond the standard library and runs in any Python, the hook's included.
"""

from __future__ import annotations

import os
from pathlib import Path

from envlock import EnvlockError

__all__ = ["ensure_dotenv"]


def ensure_dotenv(root: Path) -> str:
    """Copy ``.env.example`` to ``.env`` (mode 0600) unless ``.env`` exists; say what
    happened. A ``.env`` link that points nowhere is an error, not an existing file."""
    target, example = root / ".env", root / ".env.example"
    if target.is_symlink() and not target.exists():
        raise EnvlockError(
            f".env is a link to {target.readlink()}, which does not exist: point it at "
            "your settings file, or remove it (`rm .env`) to get a fresh copy of .env.example"
        )
    if target.is_dir():
        raise EnvlockError(
            ".env is a folder, not a file: move it away, then `nox -s setup` makes .env"
        )
    if target.exists():
        return ".env exists, left as it is"
    if not example.exists():
        return "no .env.example to copy, no .env created"
    content = example.read_bytes()
    try:
        # O_EXCL: never write through a file (or link) that appeared meanwhile; the mode
        # applies from the first byte, so the secrets are never readable by others.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return ".env exists, left as it is"
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return ".env created from .env.example (mode 0600): fill in your values"
