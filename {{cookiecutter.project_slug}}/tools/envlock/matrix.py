"""`nox -s matrix -- 3.11 3.12 3.13 [--main 3.12]`: change the Pythons the project
supports, and with ``--main`` the main one, in every file that lists them:
pyproject.toml (requires-python, the classifiers, ``python-matrix``, mypy's
``python_version``, ``[tool.envlock] python``), ``.python-version``, the CI workflow
and, in a conda project, the ``python=`` line of environment.yml.

Only the Pythons in ``supported.json`` are taken: the same list the bake offers.

Each file is edited line by line (its comments and layout stay), and only once every
edit is known to apply: a file that no longer has the expected line is an error that
names it, and nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from envlock import EnvlockError
from envlock.fs import write_atomically
from envlock.session_guard import changes_environment
from envlock.settings import Project, version_key

__all__ = ["MatrixRequest", "matrix_edits", "parse_request", "set_matrix", "supported_pythons"]

VERSION = re.compile(r"^3\.\d+$")
CI_FILE = Path(".github") / "workflows" / "ci.yml"
ENVIRONMENT_FILE = Path("environment.yml")
SUPPORTED_FILE = Path(__file__).with_name("supported.json")
MAIN_OPTION = "--main"
CLASSIFIER = re.compile(r'^(\s*)"Programming Language :: Python :: 3\.\d+",\n', re.MULTILINE)
GENERIC_CLASSIFIER = re.compile(r'^(\s*)"Programming Language :: Python :: 3",\n', re.MULTILINE)


def supported_pythons() -> list[str]:
    """The Pythons the project's tools are made for (the bake offers the same ones)."""
    data = json.loads(SUPPORTED_FILE.read_text(encoding="utf-8"))
    return [str(version) for version in data["pythons"]]


@dataclass(frozen=True)
class MatrixRequest:
    """What `nox -s matrix` was asked for: the whole matrix, sorted, and the main Python."""

    matrix: list[str]
    main: str


def _split_main(words: Sequence[str]) -> tuple[list[str], str | None]:
    """The version words and the value of ``--main`` (``--main 3.12`` or ``--main=3.12``)."""
    rest: list[str] = []
    main: str | None = None
    items = iter(words)
    for word in items:
        if word == MAIN_OPTION:
            main = next(items, "")
        elif word.startswith(MAIN_OPTION + "="):
            main = word.removeprefix(MAIN_OPTION + "=")
        elif word.startswith("-"):
            raise EnvlockError(
                f"{word} is not an option of this session: give the Pythons, and "
                f"`{MAIN_OPTION} X.Y` to change the main one"
            )
        else:
            rest.append(word)
    if main is not None and not VERSION.match(main):
        raise EnvlockError(f"give the main Python as {MAIN_OPTION} X.Y, e.g. {MAIN_OPTION} 3.12")
    return rest, main


def parse_request(
    words: Sequence[str],
    current: Sequence[str],
    main: str,
    supported: Sequence[str] | None = None,
) -> MatrixRequest:
    """The new matrix and main Python from ``3.11 3.12`` or ``3.11,3.12`` and an optional
    ``--main 3.12`` (alone, it keeps the ``current`` matrix): sorted as versions, checked."""
    allowed = list(supported if supported is not None else supported_pythons())
    version_words, new_main = _split_main(words)
    versions = [v for word in version_words for v in word.replace(",", " ").split()]
    if not versions and new_main is not None:
        versions = list(current)
    bad = [v for v in versions if not VERSION.match(v)]
    if not versions or bad:
        raise EnvlockError(
            f"give the Pythons as X.Y, e.g. `nox -s matrix -- 3.11 3.12 3.13` (got {bad or 'none'})"
        )
    unknown = [v for v in [*versions, new_main or main] if v not in allowed]
    if unknown:
        raise EnvlockError(
            f"Python {unknown[0]} is not one the project's tools are made for: choose "
            f"from {', '.join(allowed)}"
        )
    if len(set(versions)) != len(versions):
        raise EnvlockError("a Python is listed twice: list each once")
    main = new_main or main
    if main not in versions:
        raise EnvlockError(
            f"the matrix must include the main Python {main}: add it, or choose another "
            f"main one with `{MAIN_OPTION} X.Y`"
        )
    return MatrixRequest(sorted(versions, key=version_key), main)


def _sub(pattern: str, replacement: str, name: str) -> Callable[[str], str]:
    regex = re.compile(pattern, re.MULTILINE)

    def edit(text: str) -> str:
        new, count = regex.subn(replacement, text, count=1)
        if count != 1:
            raise EnvlockError(
                f"{name} has no line matching {pattern!r} to update: edit it by hand"
            )
        return new

    return edit


def _classifiers(matrix: list[str]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        generic = GENERIC_CLASSIFIER.search(text)
        if generic is None:
            raise EnvlockError(
                'pyproject.toml has no "Programming Language :: Python :: 3" classifier to '
                "put the versions after: edit it by hand"
            )
        indent = generic.group(1)
        text = CLASSIFIER.sub("", text)
        lines = "".join(f'{indent}"Programming Language :: Python :: {v}",\n' for v in matrix)
        at = GENERIC_CLASSIFIER.search(text)
        assert at is not None  # it was there before the versions were removed
        return text[: at.end()] + lines + text[at.end() :]

    return edit


def _all(pattern: str, replacement: str, name: str) -> Callable[[str], str]:
    """Like ``_sub``, for every matching line (the CI jobs each name the main Python)."""
    regex = re.compile(pattern, re.MULTILINE)

    def edit(text: str) -> str:
        new, count = regex.subn(replacement, text)
        if count == 0:
            raise EnvlockError(
                f"{name} has no line matching {pattern!r} to update: edit it by hand"
            )
        return new

    return edit


def matrix_edits(
    project: Project, request: MatrixRequest
) -> dict[Path, list[Callable[[str], str]]]:
    """For each file that lists the matrix or the main Python, the edits to ``request``."""
    matrix, main = request.matrix, request.main
    quoted = ", ".join(f'"{v}"' for v in matrix)
    oldest = matrix[0]
    others = [v for v in matrix if v != main]
    old = re.escape(project.python)
    ci = CI_FILE.as_posix()
    return {
        project.root / "pyproject.toml": [
            _sub(r'^requires-python = ".*"$', f'requires-python = ">={oldest}"', "pyproject.toml"),
            _classifiers(matrix),
            _sub(r'^python = ".*"$', f'python = "{main}"', "pyproject.toml"),
            _sub(r"^python-matrix = \[.*\]$", f"python-matrix = [{quoted}]", "pyproject.toml"),
            _sub(r'^python_version = ".*"$', f'python_version = "{oldest}"', "pyproject.toml"),
        ],
        project.root / ".python-version": [
            lambda _: "".join(f"{v}\n" for v in [main, *others]),
        ],
        project.root / CI_FILE: [
            _sub(r"^(\s+)python: \[.*\]$", rf"\g<1>python: [{quoted}]", ci),
            *(
                [_all(rf'^(\s+python-version: )"{old}"$', rf'\g<1>"{main}"', ci)]
                if main != project.python
                else []
            ),
        ],
        project.root / ENVIRONMENT_FILE: (
            [_sub(rf"^(\s*- python)={old}$", rf"\g<1>={main}", ENVIRONMENT_FILE.name)]
            if main != project.python and project.env_manager == "conda"
            else []
        ),
    }


# Files a user may have removed on purpose: nothing there to keep in step.
OPTIONAL_FILES = (".python-version", CI_FILE.name, ENVIRONMENT_FILE.name)


@changes_environment("matrix")
def set_matrix(project: Project, words: Sequence[str]) -> list[Path]:
    """Make every file list the matrix (and main Python) that ``words`` ask for; the
    files changed (none if they already did)."""
    request = parse_request(words, project.matrix, project.python)
    new_texts: dict[Path, str] = {}
    for path, edits in matrix_edits(project, request).items():
        if not edits:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if path.name in OPTIONAL_FILES:
                continue
            raise EnvlockError(f"{path.name} not found: run this from the project") from None
        new = text
        for edit in edits:
            new = edit(new)
        if new != text:
            new_texts[path] = new
    for path, text in new_texts.items():
        write_atomically(path, text)
    return sorted(new_texts)
