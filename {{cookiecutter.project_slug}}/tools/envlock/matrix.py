"""`nox -s matrix -- 3.11 3.12 3.13 [--main 3.12]`: change the Pythons the project
supports, and with ``--main`` the main one, in every file that lists them:
pyproject.toml (requires-python, the classifiers, ``python-matrix``, mypy's
``python_version``, ``[tool.envlock] python``), ``.python-version``, the CI workflow
and, in a conda project, the ``python=`` line of environment.yml.

Only the Pythons in ``supported.json`` are taken: the same list the bake offers.

Each file is edited line by line (its comments and layout stay; a key of pyproject.toml
only in its own table), and only once every edit is known to apply: a file that no
longer has the expected line is an error that names it and the line to write, and
nothing is written. The new files are then put in place as one set, pyproject.toml
last: it holds the main Python the edits start from, so a set cut short by the
operating system is finished by running the session again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from envlock import EnvlockError, backends, fs, interrupts, lockfiles
from envlock.session_guard import changes_environment
from envlock.settings import Project, version_key

__all__ = [
    "MatrixRequest",
    "locks_left_over",
    "matrix_edits",
    "parse_request",
    "set_matrix",
    "supported_pythons",
]

VERSION = re.compile(r"^3\.\d+$")
CI_FILE = Path(".github") / "workflows" / "ci.yml"
ENVIRONMENT_FILE = Path("environment.yml")
SUPPORTED_FILE = Path(__file__).with_name("supported.json")
MAIN_OPTION = "--main"
CLASSIFIER = re.compile(r'^(\s*)"Programming Language :: Python :: 3\.\d+",\n', re.MULTILINE)
# A CI job's Python however it is quoted (`{}`: the versions): one on the main Python
# written another way is refused, not missed; a workflow with none is left alone.
CI_SPELLED = r"^[ \t]*python-version:[ \t]*['\"]?(?:{})['\"]?[ \t]*(#.*)?$"
# `[name]` or `[[name]]` alone on a line (an array's line holds quotes or commas).
TABLE_HEADER = re.compile(r"^[ \t]*\[\[?[^\[\]\n\"',]+\]\]?[ \t]*(#.*)?$", re.MULTILINE)
GENERIC_CLASSIFIER = re.compile(r'^(\s*)"Programming Language :: Python :: 3",\n', re.MULTILINE)


def supported_pythons() -> list[str]:
    """The Pythons the project's tools are made for (the bake offers the same ones)."""
    shown = "tools/envlock/supported.json"
    try:
        data = json.loads(fs.read_utf8(SUPPORTED_FILE, shown, "restore it from git"))
        pythons = data["pythons"]
        if not isinstance(pythons, list) or not all(VERSION.match(str(v)) for v in pythons):
            raise TypeError(pythons)
    except (OSError, ValueError, KeyError, TypeError) as error:
        found = error.strerror if isinstance(error, OSError) else str(error)
        if not isinstance(error, (OSError, json.JSONDecodeError)):
            found = 'no "pythons" list of X.Y versions'
        raise EnvlockError(
            f"{shown} cannot be read ({found}): it lists the Pythons this session takes; "
            f"restore it from git (`git checkout -- {shown}`)"
        ) from None
    return [str(version) for version in pythons]


@dataclass(frozen=True)
class MatrixRequest:
    """What `nox -s matrix` was asked for: the whole matrix, sorted, and the main Python."""

    matrix: list[str]
    main: str
    main_given: bool = False  # ``--main`` was given: every file must end on ``main``


def _split_main(words: Sequence[str]) -> tuple[list[str], str | None]:
    """The version words and the value of ``--main`` (``--main 3.12`` or ``--main=3.12``)."""
    rest: list[str] = []
    main: str | None = None
    items = iter(words)
    for word in items:
        if word == MAIN_OPTION or word.startswith(MAIN_OPTION + "="):
            if main is not None:
                raise EnvlockError(f"{MAIN_OPTION} is given twice: give the main Python once")
            main = next(items, "") if word == MAIN_OPTION else word.split("=", 1)[1]
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
        wanted = " ".join(sorted({*versions, main}, key=version_key))
        also = f" {MAIN_OPTION} {main}" if new_main is not None else ""
        raise EnvlockError(
            f"the matrix must include the main Python {main}: add it (`nox -s matrix -- "
            f"{wanted}{also}`), or choose another main one with `{MAIN_OPTION} X.Y`"
        )
    return MatrixRequest(sorted(versions, key=version_key), main, new_main is not None)


Edit = Callable[[str], str]


def _table(text: str, table: str) -> tuple[int, int] | None:
    """Where the body of ``[table]`` is in ``text`` (a key may appear in other tables)."""
    header = re.search(rf"^\[{re.escape(table)}\][ \t]*(#.*)?$", text, re.MULTILINE)
    if header is None:
        return None
    following = TABLE_HEADER.search(text, header.end())
    return header.end(), following.start() if following else len(text)


def _toml(
    table: str, key: str, value: str, written: str, kind: str = "", optional: bool = False
) -> Edit:
    """Set ``key`` of ``[table]`` (a string, or a list on one line) to ``value``, or
    only the part of it that ``kind`` matches; the rest of its line (a comment) stays.
    ``written`` is the line a user can write; an ``optional`` table may be absent."""
    kind = kind or (r"\[[^\]\n]*\]" if value.startswith("[") else r"\"[^\"\n]*\"|'[^'\n]*'")
    regex = re.compile(rf"^({re.escape(key)}[ \t]*=[ \t]*)(?:{kind})", re.MULTILINE)

    def edit(text: str) -> str:
        where = _table(text, table)
        if where is None and optional:
            return text
        start, end = where or (len(text), len(text))
        body, count = regex.subn(lambda m: m.group(1) + value, text[start:end], count=1)
        if count != 1:
            raise EnvlockError(
                f"pyproject.toml has no {key} line of this form in [{table}] to update: "
                f"write it as `{written}` by hand (on one line)"
            )
        return text[:start] + body + text[end:]

    return edit


def _ci_matrix(quoted: str) -> Edit:
    regex = re.compile(r"^(\s+)python: \[.*\]$", re.MULTILINE)

    def edit(text: str) -> str:
        new, count = regex.subn(rf"\g<1>python: [{quoted}]", text, count=1)
        if count != 1:
            raise EnvlockError(
                f"{CI_FILE.as_posix()} has no one-line matrix `python: [...]` to update: "
                f"write it as `python: [{quoted}]` by hand"
            )
        return new

    return edit


def _main_lines(
    name: str, line: str, olds: Sequence[str], main: str, spelled: str | None = None
) -> Edit:
    """Every line ``line.format(old)``, for each former main Python, becomes
    ``line.format(main)``. A file that has a ``main`` line already (moved by hand) is
    fine as it is, and so is one where ``spelled`` (any way of writing such a line)
    finds no former main Python: nothing in it runs on the main Python."""
    prefix, suffix = (re.escape(part) for part in line.split("{}"))
    former = "|".join(re.escape(old) for old in olds)
    regex = re.compile(rf"^([ \t]*){prefix}(?:{former}){suffix}$", re.MULTILINE)
    done = re.compile(rf"^[ \t]*{prefix}{re.escape(main)}{suffix}$", re.MULTILINE)
    loose = re.compile(spelled.format(former), re.MULTILINE) if spelled else None

    def edit(text: str) -> str:
        new, count = regex.subn(lambda m: m.group(1) + line.format(main), text)
        if count or done.search(text) or (loose and not loose.search(text)):
            return new
        old = olds[0]
        found = (
            f"no `{line.format(old)}` line to move to {main}"
            if old != main
            else f"no `{line.format(main)}` line, though {main} is the main Python"
        )
        raise EnvlockError(
            f"{name} has {found}: make it `{line.format(main)}` by hand where it means "
            "the main Python"
        )

    return edit


def _classifiers(matrix: list[str]) -> Edit:
    def edit(text: str) -> str:
        generic = GENERIC_CLASSIFIER.search(text)
        if generic is None:
            raise EnvlockError(
                'pyproject.toml has no "Programming Language :: Python :: 3" classifier to '
                'put the versions after: add `"Programming Language :: Python :: 3",` to '
                "the classifiers by hand"
            )
        indent = generic.group(1)
        text = CLASSIFIER.sub("", text)
        lines = "".join(f'{indent}"Programming Language :: Python :: {v}",\n' for v in matrix)
        at = GENERIC_CLASSIFIER.search(text)
        assert at is not None  # it was there before the versions were removed
        return text[: at.end()] + lines + text[at.end() :]

    return edit


def matrix_edits(
    project: Project, request: MatrixRequest, olds: Sequence[str] = ()
) -> dict[Path, list[Edit]]:
    """For each file that lists the matrix or the main Python, the edits to ``request``
    (pyproject.toml last: see the module's docstring). ``olds``: the former main
    Pythons whose lines move (``project.python`` when none is given)."""
    matrix, main = request.matrix, request.main
    quoted = ", ".join(f'"{v}"' for v in matrix)
    oldest = matrix[0]
    others = [v for v in matrix if v != main]
    moves = main != project.python or request.main_given
    ci, olds = CI_FILE.as_posix(), list(olds) or [project.python]
    return {
        project.root / ".python-version": [
            lambda _: "".join(f"{v}\n" for v in [main, *others]),
        ],
        project.root / CI_FILE: [
            _ci_matrix(quoted),
            *([_main_lines(ci, 'python-version: "{}"', olds, main, CI_SPELLED)] if moves else []),
        ],
        project.root / ENVIRONMENT_FILE: (
            [_main_lines(ENVIRONMENT_FILE.name, "- python={}", olds, main)]
            if moves and backends.environment_file(project) is not None
            else []
        ),
        project.root / "pyproject.toml": [
            # Only the lower bound: an upper one the user set (`,<3.15`) stays.
            _toml(
                "project",
                "requires-python",
                f'">={oldest}',
                f'requires-python = ">={oldest}"',
                kind=r'">=3\.\d+(?![\d.])',
            ),
            _classifiers(matrix),
            _toml("tool.envlock", "python", f'"{main}"', f'python = "{main}"'),
            _toml("tool.envlock", "python-matrix", f"[{quoted}]", f"python-matrix = [{quoted}]"),
            # A project that dropped mypy's table has no version there to keep in step.
            _toml(
                "tool.mypy",
                "python_version",
                f'"{oldest}"',
                f'python_version = "{oldest}"',
                optional=True,
            ),
        ],
    }


# Files a user may have removed on purpose: nothing there to keep in step.
OPTIONAL_FILES = (".python-version", CI_FILE.name, ENVIRONMENT_FILE.name)


@changes_environment("matrix")
def set_matrix(project: Project, words: Sequence[str]) -> list[Path]:
    """Make every file list the matrix (and main Python) that ``words`` ask for; the
    files changed (none if they already did)."""
    request = parse_request(words, project.matrix, project.python)
    new_texts: dict[Path, str] = {}
    for path, edits in matrix_edits(project, request, _former_mains(project)).items():
        if not edits:
            continue
        try:
            text = fs.read_utf8(path, path.name, "save it as UTF-8, then run this again")
        except FileNotFoundError:
            if path.name in OPTIONAL_FILES:
                continue
            raise EnvlockError(f"{path.name} not found: run this from the project") from None
        # Edited with \n line ends, written back with the file's own (a Windows checkout).
        crlf = "\r\n" in text
        new = text.replace("\r\n", "\n")
        for edit in edits:
            new = edit(new)
        new = new.replace("\n", "\r\n") if crlf else new
        if new != text:
            new_texts[path] = new
    _put_in_place(new_texts)
    return sorted(new_texts)


def _former_mains(project: Project) -> list[str]:
    """The main Python as pyproject.toml says, and as the first line of .python-version
    does if it differs (one of them was edited by hand): the lines of either move."""
    try:
        first = (project.root / ".python-version").read_bytes().decode().split("\n")[0]
    except (OSError, UnicodeDecodeError):  # missing, or refused when it is read for its edit
        first = ""
    first = first.strip()
    return [project.python] + ([first] if VERSION.match(first) and first != project.python else [])


def _put_in_place(texts: dict[Path, str]) -> None:
    """Write the files as one set: every one staged beside its file before any is
    replaced, so a refusal or a failed write changes nothing."""
    fs.refuse_read_only(list(texts), "the matrix")
    staged: list[fs.Staged] = []
    try:
        for path, text in texts.items():
            staged.append(fs.stage(path, text))
    except OSError as error:
        fs.discard(staged)
        raise fs.os_error(error, "nothing was changed") from None
    except BaseException:
        fs.discard(staged)
        raise
    placed = 0
    try:
        with interrupts.held_off():  # the renames take moments: never half a set
            for item in staged:
                fs.put_in_place(item)
                placed += 1
    except OSError as error:
        fs.discard(staged[placed:])
        kept = "the files before it in the set were updated, it and the others kept"
        raise fs.os_error(error, kept, staged[placed].path) from None


def locks_left_over(project: Project) -> list[Path]:
    """The per-Python dev locks (pip-tools) that no Python of the matrix installs any
    more: a Python taken out, or the new main one, whose lock is requirements-dev.txt."""
    wanted = {target.output for target in lockfiles.lock_targets(project)}
    return sorted(p for p in project.root.glob("requirements-dev-py*.txt") if p not in wanted)
