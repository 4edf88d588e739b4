"""The ``.env`` file: created from ``.env.example`` when missing, readable by its owner only."""

from __future__ import annotations

import os
from pathlib import Path


def ensure_dotenv(root: Path) -> str:
    """Copy ``.env.example`` to ``.env`` unless ``.env`` exists; say what happened."""
    target, example = root / ".env", root / ".env.example"
    if target.exists():
        return ".env exists, left as it is"
    if not example.exists():
        return "no .env.example to copy, no .env created"
    content = example.read_bytes()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return ".env exists, left as it is"
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return ".env created from .env.example (mode 0600): fill in your values"
