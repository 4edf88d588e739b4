"""Checks that keep secrets out of git and ``.env`` complete and private.

No value from a ``.env`` file is ever printed: a problem names the file, a line number
and, at most, a key, and only a key that python-dotenv's parser returned and that looks
like a variable name. Private key blocks are found in the file's raw text, not only in
parsed values: whatever the parser makes of the lines of a block (a missing quote, a
block on lines of its own), nothing from inside it is ever shown as a key.

``.env`` files are read with python-dotenv's own parser (``dotenv.parser.parse_stream``:
multi-line values in quotes, ``export``, comments, as the library defines them). These
checks also run where python-dotenv may be missing: as the pre-commit hook (the
``python`` on PATH) and inside ``nox -s doctor`` (nox's own environment). There the
parsing runs in the project's environment instead (.venv or .conda, which always has
python-dotenv: requirements.in lists it), through this same file. Before ``nox -s setup``
has made that environment the hook says the ``.env`` contents were not checked, and runs
the checks that need no parser: tracked ``.env`` files, ``.env``'s mode and link.
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
import os
import re
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["looks_secret", "problems", "read_entries"]

SECRET_PATTERNS = {
    "an OpenAI-style key (sk-...)": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    "an AWS access key (AKIA...)": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a private key block": re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    # header.payload.signature, each base64url; a JSON header always starts with eyJ.
    "a JSON Web Token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
}
PEM_BEGIN = SECRET_PATTERNS["a private key block"]
PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
ENTROPY_MIN_LENGTH = 24
ENTROPY_BITS = 4.0
# A random string has a long stretch without separators; a path or a snake_case name
# (/mnt/data/raw_2024_v2) is short words and numbers between / _ - and . characters.
RANDOM_RUN_MIN_LENGTH = 12
SEPARATORS = re.compile(r"[/_.-]+")
KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NO_PARSER = (
    ".env.example and .env were not checked: python-dotenv reads them, and neither this "
    "Python nor a project environment has it; `nox -s setup` makes the environment"
)
FOLDER = ".env is a folder, not a file: move it away, then `nox -s setup` makes .env"
SKIPPED = (
    "skipped: checking what .env.example and .env hold needs python-dotenv from the "
    "project's environment; `nox -s setup` makes it (tracked .env files were checked)"
)


@dataclass(frozen=True)
class Entry:
    """One statement of a ``.env`` file as python-dotenv parsed it."""

    line: int  # where its key (or its first character) is
    key: str | None
    value: str | None
    error: bool
    # Its place in a private key block of the raw text: "holds" (a plain key whose value
    # has the BEGIN line), "inside" (it starts on a line of a block it does not hold),
    # or None.
    block: str | None = None
    block_lines: tuple[int, int] | None = None


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
    longest_run = max((len(run) for run in SEPARATORS.split(value)), default=0)
    if (
        token
        and len(value) >= ENTROPY_MIN_LENGTH
        and classes >= 2
        and longest_run >= RANDOM_RUN_MIN_LENGTH
        and entropy(value) >= ENTROPY_BITS
    ):
        return "a long random-looking string"
    return None


def key_blocks(text: str) -> list[tuple[int, int]]:
    """The lines (first, last; from 1) of each private key block in the raw text: from a
    BEGIN line to its END line, or to the end of the file when the END is missing."""
    lines = text.splitlines()
    blocks: list[tuple[int, int]] = []
    number = 0
    while number < len(lines):
        if PEM_BEGIN.search(lines[number]):
            last = number
            while last < len(lines) - 1 and not PEM_END.search(lines[last]):
                last += 1
            blocks.append((number + 1, last + 1))
            number = last
        number += 1
    return blocks


def place_in_blocks(
    start: int, end: int, key: str | None, value: str | None, blocks: list[tuple[int, int]]
) -> tuple[str | None, tuple[int, int] | None]:
    """Whether a statement on lines start..end holds a block, lies inside one, or neither."""
    for first, last in blocks:
        holds = bool(key and KEY_NAME.fullmatch(key) and PEM_BEGIN.search(value or ""))
        if holds and start <= first <= end:
            return "holds", (first, last)
        if first <= start <= last:
            return "inside", (first, last)
    return None, None


def read_entries(path: Path) -> list[Entry]:
    """The statements of a ``.env`` file, parsed by python-dotenv (raw values: no
    ``${VAR}`` expansion, so nothing of the environment is read in)."""
    from dotenv.parser import parse_stream  # here: the module must import without it

    text = path.read_text(encoding="utf-8", errors="replace")
    blocks = key_blocks(text)
    entries = []
    for b in parse_stream(io.StringIO(text)):
        original = b.original.string
        # A statement's text starts with the blank lines before it.
        start = b.original.line + original[: len(original) - len(original.lstrip())].count("\n")
        end = b.original.line + original.rstrip().count("\n")
        key = None if b.error else b.key
        block, lines = place_in_blocks(start, end, key, b.value, blocks)
        entries.append(Entry(start, b.key, b.value, b.error, block, lines))
    return entries


def unheld_blocks(entries: list[Entry]) -> list[tuple[int, int]]:
    """The private key blocks no plain key holds (written outside any KEY=VALUE)."""
    held = {e.block_lines for e in entries if e.block == "holds"}
    inside = {e.block_lines for e in entries if e.block == "inside"}
    return sorted(b for b in inside - held if b is not None)


def key_entries(entries: list[Entry]) -> Iterator[tuple[Entry, str | None]]:
    """Each statement with a key, and the problem that makes its key unshowable (None
    when the key is a plain variable name with a value)."""
    for entry in entries:
        if entry.block == "inside":  # a line of a private key, whatever the parser made of it
            yield entry, "inside"
            continue
        if entry.error or entry.key is None:
            continue
        value = entry.value or ""
        if entry.block == "holds" and not PEM_END.search(value):
            yield entry, "starts"
        elif entry.value is None:
            yield entry, "bare"
        elif not KEY_NAME.fullmatch(entry.key) or looks_secret(entry.key):
            yield entry, "odd"
        else:
            yield entry, None


def parse_errors(name: str, entries: list[Entry]) -> list[str]:
    """Lines python-dotenv could not parse (not those inside an unquoted private key,
    which is reported once, by the key that starts it)."""
    return [
        f"{name} line {e.line} could not be parsed: write KEY=VALUE (quotes around a value "
        "of several lines)"
        for e in entries
        if e.error and e.block is None
    ]


def file_problems(name: str, entries: list[Entry]) -> list[str]:
    """Problems of a file that is shared (.env.example, a tracked .env file): lines that
    do not parse, keys that hide a value, values that look like real secrets."""
    found = parse_errors(name, entries)
    found += [
        f"{name} lines {first}-{last} hold a private key block that no quoted KEY=VALUE holds: put "
        'KEY="<placeholder>" there (a real key belongs in .env, between quotes)'
        for first, last in unheld_blocks(entries)
    ]
    for entry, problem in key_entries(entries):
        where = f"{name} line {entry.line}"
        if problem == "starts":
            found.append(
                f"{where}: {shown(entry)} starts a private key block whose other lines are "
                "not between quotes: quote the whole value (a real key belongs in .env)"
            )
        elif problem == "bare":
            found.append(f"{where} has no `=`: write KEY=VALUE (quotes for several lines)")
        elif problem == "odd":
            found.append(f"{where}: a key that looks like a value: write KEY=VALUE")
        elif problem is None:
            kind = looks_secret(entry.value or "")
            if kind:
                found.append(
                    f"{name}: {entry.key} holds what looks like {kind}: "
                    "put a placeholder there and the real value in .env"
                )
    return found


def shown(entry: Entry) -> str:
    key = entry.key or ""
    return key if KEY_NAME.fullmatch(key) and not looks_secret(key) else "a key"


def declared_keys(entries: list[Entry]) -> set[str]:
    return {e.key for e, problem in key_entries(entries) if problem in (None, "starts") and e.key}


def tracked_files(root: Path) -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [n for n in listed.split("\0") if n]


def is_private(name: str) -> bool:
    """``.env`` and ``.env.*`` in any folder, but the example: they hold real values."""
    base = Path(name).name
    return (base == ".env" or base.startswith(".env.")) and base != ".env.example"


def tracked_env_files(root: Path) -> list[str]:
    """Files git tracks named .env or .env.* (other than .env.example), in any folder."""
    return [n for n in tracked_files(root) if is_private(n)]


def dotenv_file_problems(root: Path) -> list[str]:
    """``.env`` itself: readable by its owner only, and a link only to a file of the
    project. No parser needed. Windows has no such modes; there only links are checked."""
    env = root / ".env"
    if env.is_dir() and not env.is_symlink():
        return [FOLDER]
    if not env.is_symlink():
        mode = stat.S_IMODE(env.stat().st_mode) if env.is_file() else 0
        if os.name != "nt" and mode & 0o077:
            return [f".env is readable by others (mode {mode:04o}): `chmod 600 .env`"]
        return []
    link = env.readlink()
    try:
        target = env.resolve(strict=True)
    except FileNotFoundError:
        target = None
    except (OSError, RuntimeError):  # a loop (Python 3.10-3.12 raise RuntimeError)
        return [
            (
                f".env is a link (to {link}) that leads back to itself: `rm .env`, then "
                "`nox -s setup` for a fresh copy of .env.example"
            )
        ]
    if target is None:
        problem = (
            f".env is a link to {link}, which does not exist: point it at your settings "
            "file, or `rm .env` and `nox -s setup` for a fresh copy of .env.example"
        )
    elif target.is_dir():
        problem = f".env is a link to {link}, a folder: point it at a file, or `rm .env`"
    elif not target.is_relative_to(root.resolve()):
        problem = (
            f".env links outside the project (to {link}): put the file itself in the "
            f"project, `rm .env && cp {target} .env && chmod 600 .env`"
        )
    elif os.name != "nt" and stat.S_IMODE(target.stat().st_mode) & 0o077:
        relative = target.relative_to(root.resolve())
        mode = stat.S_IMODE(target.stat().st_mode)
        problem = f".env links to {relative}, readable by others (mode {mode:04o}): `chmod 600 {relative}`"
    else:
        return []
    return [problem]


def content_problems(root: Path) -> list[str]:
    """Everything python-dotenv must read: secrets in .env.example and in tracked .env
    files, keys of .env.example missing from .env, lines nobody can parse."""
    found: list[str] = []
    example = root / ".env.example"
    example_entries = read_entries(example) if example.is_file() else []
    found += file_problems(".env.example", example_entries)
    for name in tracked_env_files(root):
        if (root / name).is_file():
            found += file_problems(name, read_entries(root / name))
    env = root / ".env"
    declared = sorted(declared_keys(example_entries))
    if declared and not os.path.lexists(env):
        found.append(
            f".env does not exist, and .env.example lists {', '.join(declared)}: "
            "`nox -s setup` makes .env from it"
        )
    if env.is_file():
        env_entries = read_entries(env)
        found += parse_errors(".env", env_entries)
        missing = sorted(declared_keys(example_entries) - {e.key for e in env_entries if e.key})
        if missing:
            found.append(
                f".env lacks {', '.join(missing)} (listed in .env.example): add them to .env"
            )
    return found


def environment_python(root: Path) -> Path | None:
    """The project environment's Python (tools/run_in_venv.py knows where they are)."""
    spec = importlib.util.spec_from_file_location("run_in_venv", root / "tools" / "run_in_venv.py")
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: Path | None = module.find_tool(root, "python")
    return found


def content_problems_anywhere(root: Path) -> list[str] | None:
    """``content_problems`` here when python-dotenv imports, else in the project's
    environment; None when neither has it."""
    if importlib.util.find_spec("dotenv") is not None:
        return content_problems(root)
    python = environment_python(root)
    if python is None:
        return None
    result = subprocess.run(
        [str(python), "-I", str(Path(__file__).resolve()), "--content", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        env_name = python.parent.parent.name
        return [f"{env_name} cannot run the .env checks (no python-dotenv?): run `nox -s setup`"]
    lines: list[str] = json.loads(result.stdout)
    return lines


def problems(root: Path) -> list[str]:
    """Every secret or .env problem of the project, one line each (doctor's row)."""
    found = [
        f"{name} is tracked by git: `git rm --cached {name}` (it must stay private)"
        for name in tracked_env_files(root)
    ]
    found += dotenv_file_problems(root)
    content = content_problems_anywhere(root)
    return found + (content if content is not None else [NO_PARSER])


def main(argv: list[str]) -> int:
    """The pre-commit hook (exit 1 on any problem); ``--content ROOT`` is its helper in
    the project's environment (prints the content problems as JSON)."""
    if argv[:1] == ["--content"]:
        try:
            print(json.dumps(content_problems(Path(argv[1]))))
        except ImportError:
            return 2
        return 0
    root = Path.cwd()
    lines = [
        f"{name} is tracked by git: `git rm --cached {name}` (it must stay private)"
        for name in tracked_env_files(root)
    ] + dotenv_file_problems(root)
    content = content_problems_anywhere(root)
    if content is None:
        print(SKIPPED)
    for line in lines + (content or []):
        print(line, file=sys.stderr)
    return 1 if lines or content else 0


if __name__ == "__main__":
    # Run as a script, tools/ is not on the path; run_in_venv.py imports envlock from it.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main(sys.argv[1:]))
