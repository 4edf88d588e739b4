"""`nox -s matrix -- 3.11 3.12 3.13`: change the Pythons the project supports, in every
file that lists them: pyproject.toml (requires-python, the classifiers,
``python-matrix``, mypy's ``python_version``), ``.python-version`` and the CI workflow.

Each file is edited line by line (its comments and layout stay), and only once every
edit is known to apply: a file that no longer has the expected line is an error that
names it, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from envlock import EnvlockError
from envlock.fs import write_atomically
from envlock.session_guard import changes_environment
from envlock.settings import Project, version_key

__all__ = ["matrix_edits", "parse_matrix", "set_matrix"]

VERSION = re.compile(r"^3\.\d+$")
CI_FILE = Path(".github") / "workflows" / "ci.yml"
CLASSIFIER = re.compile(r'^(\s*)"Programming Language :: Python :: 3\.\d+",\n', re.MULTILINE)
GENERIC_CLASSIFIER = re.compile(r'^(\s*)"Programming Language :: Python :: 3",\n', re.MULTILINE)


def parse_matrix(words: Sequence[str], main: str) -> list[str]:
    """The new matrix from ``3.11 3.12`` or ``3.11,3.12``: sorted as versions, checked."""
    versions = [v for word in words for v in word.replace(",", " ").split()]
    bad = [v for v in versions if not VERSION.match(v)]
    if not versions or bad:
        raise EnvlockError(
            f"give the Pythons as X.Y, e.g. `nox -s matrix -- 3.11 3.12 3.13` (got {bad or 'none'})"
        )
    if len(set(versions)) != len(versions):
        raise EnvlockError("a Python is listed twice: list each once")
    if main not in versions:
        raise EnvlockError(
            f"the matrix must include the main Python {main} ([tool.envlock] python): add it, "
            "or change `python` in pyproject.toml first"
        )
    return sorted(versions, key=version_key)


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


def matrix_edits(project: Project, matrix: list[str]) -> dict[Path, list[Callable[[str], str]]]:
    """For each file that lists the matrix, the edits that make it list ``matrix``."""
    quoted = ", ".join(f'"{v}"' for v in matrix)
    oldest = matrix[0]
    others = [v for v in matrix if v != project.python]
    return {
        project.root / "pyproject.toml": [
            _sub(r'^requires-python = ".*"$', f'requires-python = ">={oldest}"', "pyproject.toml"),
            _classifiers(matrix),
            _sub(r"^python-matrix = \[.*\]$", f"python-matrix = [{quoted}]", "pyproject.toml"),
            _sub(r'^python_version = ".*"$', f'python_version = "{oldest}"', "pyproject.toml"),
        ],
        project.root / ".python-version": [
            lambda _: "".join(f"{v}\n" for v in [project.python, *others]),
        ],
        project.root / CI_FILE: [
            _sub(r"^(\s+)python: \[.*\]$", rf"\g<1>python: [{quoted}]", CI_FILE.as_posix()),
        ],
    }


@changes_environment("matrix")
def set_matrix(project: Project, words: Sequence[str]) -> list[Path]:
    """Make every file list the matrix ``words``; the files changed (none if it was so)."""
    matrix = parse_matrix(words, project.python)
    new_texts: dict[Path, str] = {}
    for path, edits in matrix_edits(project, matrix).items():
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if path.name == ".python-version" or path.name == "ci.yml":
                continue  # removed on purpose: nothing there to keep in step
            raise EnvlockError(f"{path.name} not found: run this from the project") from None
        new = text
        for edit in edits:
            new = edit(new)
        if new != text:
            new_texts[path] = new
    for path, text in new_texts.items():
        write_atomically(path, text)
    return sorted(new_texts)
