"""Settings of the project, read from the environment and from a ``.env`` file.

Copy ``.env.example`` to ``.env`` (``nox -s setup`` does it) and put real values there;
``.env`` is never committed. Variables already set in the environment win over ``.env``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path
    log_level: str
    # A secret: kept out of the repr that failing assertions and log lines show.
    api_token: str | None = dataclasses.field(repr=False)


def load_settings(env_file: Path | None = None) -> Settings:
    """Load ``.env`` (if present) into the environment, then read the settings."""
    load_dotenv(env_file or PROJECT_ROOT / ".env", override=False)
    data_dir = Path(os.environ.get("DATA_DIR", "data"))
    if not data_dir.is_absolute():
        data_dir = PROJECT_ROOT / data_dir
    return Settings(
        data_dir=data_dir,
        log_level=os.environ.get("LOG_LEVEL", "INFO"),
        api_token=os.environ.get("API_TOKEN"),
    )
