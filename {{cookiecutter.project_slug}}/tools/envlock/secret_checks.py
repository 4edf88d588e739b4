"""Checks that keep secrets out of git and ``.env`` complete; values are never printed.

``.env`` files are read with a small reader of ``KEY=VALUE`` lines because these checks
run where no package is installed (nox's own environment, a pre-commit hook offline).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

SECRET_PATTERNS = {
    "an OpenAI-style key (sk-...)": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    "an AWS access key (AKIA...)": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a private key block": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
}
ENTROPY_MIN_LENGTH = 24
ENTROPY_BITS = 4.0


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` pairs (``export`` and quotes allowed, comments skipped)."""
    values = {}
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.sub(r"\s+#.*$", "", value)
        values[key.strip()] = value
    return values


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_secret(value: str) -> str | None:
    """What kind of secret a value looks like, or None for a placeholder."""
    for kind, pattern in SECRET_PATTERNS.items():
        if pattern.search(value):
            return kind
    token = re.fullmatch(r"[A-Za-z0-9+/=_-]+", value)  # one word: not a URL or a sentence
    classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    if (
        token
        and len(value) >= ENTROPY_MIN_LENGTH
        and classes >= 2
        and entropy(value) >= ENTROPY_BITS
    ):
        return "a long random-looking string"
    return None


def tracked_env_files(root: Path) -> list[str]:
    """Files git tracks named .env or .env.* (other than .env.example), in any folder."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    names = [n for n in listed.split("\0") if n]
    return [
        n
        for n in names
        if (Path(n).name == ".env" or Path(n).name.startswith(".env."))
        and Path(n).name != ".env.example"
    ]


def problems(root: Path) -> list[str]:
    """Every secret or .env problem of the project, one line each, naming keys only."""
    found = [
        f"{name} is tracked by git: `git rm --cached {name}` (it must stay private)"
        for name in tracked_env_files(root)
    ]
    example = root / ".env.example"
    if example.exists():
        example_values = read_env_file(example)
        for key, value in example_values.items():
            kind = looks_secret(value)
            if kind:
                found.append(
                    f".env.example: {key} holds what looks like {kind}: "
                    "put a placeholder there and the real value in .env"
                )
        env = root / ".env"
        if env.exists():
            missing = sorted(set(example_values) - set(read_env_file(env)))
            if missing:
                found.append(
                    f".env lacks {', '.join(missing)} (listed in .env.example): add them to .env"
                )
    return found


if __name__ == "__main__":
    # python tools/envlock/secret_checks.py: the pre-commit hook (exit 1 on any problem).
    lines = problems(Path.cwd())
    for line in lines:
        print(line, file=sys.stderr)
    sys.exit(1 if lines else 0)
