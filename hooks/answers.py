"""The checks every answer goes through, however it reached cookiecutter.

Plain functions over a dict of answers, so that the template's Jinja extension
(local_extensions.py) can run them while the prompts are answered and again before any
file is written, and the tests can call them without a bake. Cookiecutter does not run
this file as a hook (only pre_gen_project and post_gen_project are hooks); it is never
rendered with Jinja either, so the Jinja markers below are plain strings.

What a check needs from the template is read from the template itself: the fixed choices
(``_choices`` in cookiecutter.json), the supported Pythons (tools/envlock/supported.json
of the project, which `nox -s matrix` reads too), the names of every package the
project's locks can hold (tools/envlock/names.json of the project) and the
distributions its tool locks pin (tools/envlock/tool-locks/*.txt, whose modules
names.json lists).
"""

from __future__ import annotations

import builtins
import difflib
import json
import keyword
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_FOLDER = "{" + "{cookiecutter.project_slug}" + "}"
NAMES_FILE = Path(PROJECT_FOLDER) / "tools" / "envlock" / "names.json"
SUPPORTED_FILE = Path(PROJECT_FOLDER) / "tools" / "envlock" / "supported.json"
TOOL_LOCKS = Path(PROJECT_FOLDER) / "tools" / "envlock" / "tool-locks"
# A pinned requirement in a compiled lock: ``name==version`` at the start of a line.
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)

# A file system takes 255 bytes per name, Windows 260 characters per path: the slug and
# the package name are folder names and parts of longer names inside .venv
# (site-packages/<package>-0.1.0.dist-info/...), so they are kept well below that.
NAME_MAX_LENGTH = 64
# Jinja's openers: an answer holding one would be evaluated as a template.
JINJA_MARKERS = ("{" + "{", "{" + "%", "{" + "#")
# Unicode categories of control characters and line or paragraph separators: none of
# them belongs in a one-line answer (a newline in description breaks pyproject.toml).
CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")
# Bidirectional embeddings, overrides and isolates: they make text show in another order
# than it is stored ("Trojan Source", CVE-2021-42574), in the README, pyproject.toml and
# the commit alike. The marks U+200E and U+200F, which right-to-left names may need, stay.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Names the project itself uses at its top level, the library behind its noxfile, and
# the stdlib's test package (which sys.stdlib_module_names leaves out); the modules of
# its tests/ folder, which pytest imports by their bare names (a package test_config
# would be shadowed by tests/test_config.py, which imports it); and the modules Python's
# site imports at every start of the environment's interpreter, when they exist.
PROJECT_NAMES = frozenset(
    {"test", "tests", "src", "data", "notebooks", "tools", "noxfile", "envlock", "run_in_venv"}
    | {"conftest", "test_config", "test_tiny_model"}
    | {"sitecustomize", "usercustomize"}
)
# Device names Windows reserves in every folder (the project is made for Windows too).
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in range(1, 10)}
    | {f"lpt{n}" for n in range(1, 10)}
)
EXAMPLES = {
    "project_name": "My Project",
    "project_slug": "my-project",
    "package_name": "my_project",
    "author_name": "Your Name",
    "author_email": "you@example.com",
    "description": "A reproducible Python project.",
}
SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CANONICAL = re.compile(r"[-_.]+")


class BadAnswer(Exception):
    """An answer that cannot make a working project; the message is one line."""

    def __init__(
        self, key: str, value: object, reason: str, example: str, *, missing: bool = False
    ) -> None:
        self.key, self.value, self.example = key, value, example
        # repr escapes newlines and other control characters: the message stays one line.
        given = f"{key} is missing" if missing else f"{key}={value!r} is not valid"
        super().__init__(f"{given}: {reason}; for example {key}={example!r}")


@dataclass(frozen=True)
class TemplateData:
    """What the checks read from the template."""

    choices: dict[str, list[str]]
    defaults: dict[str, object]  # cookiecutter.json's own values
    taken: dict[str, str]  # canonical name -> what in the locks has that name

    @property
    def pythons(self) -> list[str]:
        return self.choices["python_version"]


def canonical(name: str) -> str:
    """PEP 503 normalisation: ``Typing_Extensions`` and ``typing-extensions`` are one name."""
    return CANONICAL.sub("-", name).lower()


def tool_lock_pins(template: Path) -> dict[str, str]:
    """Canonical name -> the tool lock (``uv.txt``, ...) that pins it, for every
    distribution the project's tool locks pin."""
    pins: dict[str, str] = {}
    for lock in sorted((template / TOOL_LOCKS).glob("*.txt")):
        for name in PIN.findall(lock.read_text(encoding="utf-8")):
            pins.setdefault(canonical(name), lock.name)
    return pins


def load_template(template: Path) -> TemplateData:
    """The choices (cookiecutter.json, supported.json), every name in the project's
    names.json, and every distribution its tool locks pin, with the modules names.json
    lists for it."""
    config = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))
    names = json.loads((template / NAMES_FILE).read_text(encoding="utf-8"))
    taken: dict[str, str] = {}
    modules_of = {canonical(d): m for d, m in {**names["tool_imports"], **names["imports"]}.items()}
    for distribution, modules in names["imports"].items():
        taken.setdefault(canonical(distribution), f"the distribution {distribution}")
        for module in modules:
            taken.setdefault(canonical(module), f"the module {module} (from {distribution})")
    for members in names["sets"].values():
        for distribution in members:
            taken.setdefault(canonical(distribution), f"the distribution {distribution}")
    for conda_name, pypi_name in names["conda"].items():
        taken.setdefault(canonical(conda_name), f"the conda package {conda_name} ({pypi_name})")
    for distribution, lock in tool_lock_pins(template).items():
        where = f"(pinned by tools/envlock/tool-locks/{lock})"
        taken.setdefault(distribution, f"the distribution {distribution} {where}")
        for module in modules_of.get(distribution, []):
            taken.setdefault(
                canonical(module), f"the module {module} (from {distribution}) {where}"
            )
    supported = json.loads((template / SUPPORTED_FILE).read_text(encoding="utf-8"))
    choices = {"python_version": supported["pythons"], **config["_choices"]}
    return TemplateData(choices=choices, defaults=config, taken=taken)


def answer_keys(data: TemplateData) -> list[str]:
    """The keys a user answers (cookiecutter.json's own, in its order)."""
    return [k for k in data.defaults if not k.startswith("_")]


def quote_hint(text: str, allowed: list[str]) -> str:
    """Why an unquoted number in YAML or JSON may read as another choice: ``3.10``
    without quotes is the number 3.1."""
    try:
        number = float(text)
    except ValueError:
        return ""
    for choice in allowed:
        try:
            same = float(choice) == number and choice != text
        except ValueError:
            continue
        if same:
            return (
                f" (YAML and JSON read {choice} without quotes as the number {text}: "
                "put the answer in quotes)"
            )
    return ""


def check_type(key: str, value: object, data: TemplateData) -> None:
    """Every answer is text: YAML (a config file) and JSON (a replay file) read some
    unquoted answers as other things."""
    if isinstance(value, str):
        return
    if isinstance(value, bool):
        reason = (
            f"it is the boolean {str(value).lower()}, not text: YAML reads yes, no, on, off, "
            "true and false without quotes as booleans; put the answer in quotes"
        )
    elif isinstance(value, (int, float)):
        reason = (
            f"it is the number {value}, not text (without quotes YAML and JSON read "
            "numbers: 3.10 as 3.1); put the answer in quotes"
        )
    elif value is None:
        reason = "it has no value (null): give the answer as text in quotes"
    else:
        reason = f"it is a {type(value).__name__}, not text: give one answer, in quotes"
    raise BadAnswer(key, value, reason, example_for(key, data))


def example_for(key: str, data: TemplateData) -> str:
    if key in EXAMPLES:
        return EXAMPLES[key]
    if key == "python_versions":  # every supported Python: it holds any main one
        return ", ".join(data.pythons)
    allowed = data.choices.get(key, [""])
    default = data.defaults.get(key)
    return default if isinstance(default, str) and default in allowed else allowed[0]


def closest_choice(value: object, allowed: list[str]) -> str | None:
    """The choice a mistyped answer most likely meant: the same but for case, the only one
    it begins (``gpl`` for ``GPL-3.0-or-later``), or a near spelling (``mll`` for ``ml``)."""
    typed = str(value).strip().lower()
    if not typed:
        return None
    for choice in allowed:
        if choice.lower() == typed:
            return choice
    starting = [choice for choice in allowed if choice.lower().startswith(typed)]
    if len(starting) == 1:
        return starting[0]
    lowered = {choice.lower(): choice for choice in allowed}
    near = difflib.get_close_matches(typed, list(lowered), n=1, cutoff=0.6)
    return lowered[near[0]] if near else None


def parse_matrix(text: str) -> list[str]:
    """``"3.10, 3.11 3.12"`` -> ``["3.10", "3.11", "3.12"]`` (commas or spaces)."""
    return text.replace(",", " ").split()


def check_text(key: str, value: str, data: TemplateData) -> None:
    """What no answer may hold, whatever the key."""
    for char in value:
        if unicodedata.category(char) == "Cs":
            # Python's stand-in for a byte it could not decode (surrogateescape): no file
            # of the project could hold it.
            raise BadAnswer(
                key,
                value,
                f"it holds {char!r}, a byte that is not UTF-8 text: type it again in a "
                "UTF-8 terminal, or write the answer in UTF-8",
                example_for(key, data),
            )
        if unicodedata.category(char) in CONTROL_CATEGORIES:
            raise BadAnswer(
                key,
                value,
                f"it holds the control character {char!r}: answers are one line of text",
                example_for(key, data),
            )
        if char in BIDI_CONTROLS:
            raise BadAnswer(
                key,
                value,
                f"it holds {char!r}, a bidirectional control that shows the text in another "
                "order than it is written",
                example_for(key, data),
            )
    for marker in JINJA_MARKERS:
        if marker in value:
            raise BadAnswer(
                key,
                value,
                f"{marker!r} starts Jinja syntax, which the template would evaluate",
                example_for(key, data),
            )


def check_file_name(key: str, name: str, data: TemplateData) -> None:
    """Limits of a name that becomes a folder and a distribution or module name."""
    example = example_for(key, data)
    if len(name) > NAME_MAX_LENGTH:
        raise BadAnswer(
            key, name, f"it is {len(name)} characters long, at most {NAME_MAX_LENGTH}", example
        )
    if name.lower() in WINDOWS_RESERVED:
        raise BadAnswer(key, name, "Windows reserves that name for a device", example)
    if canonical(name) in data.taken:
        raise BadAnswer(
            key,
            name,
            f"the project's locks can hold {data.taken[canonical(name)]}, which it would shadow",
            example,
        )


def check_slug(slug: str, data: TemplateData) -> None:
    if not SLUG.match(slug):
        raise BadAnswer(
            "project_slug",
            slug,
            "use lower-case ASCII letters and digits joined by single dashes, "
            "starting with a letter",
            example_for("project_slug", data),
        )
    check_file_name("project_slug", slug, data)


def check_package_name(name: str, data: TemplateData) -> None:
    example = example_for("package_name", data)
    if not PACKAGE.match(name):
        raise BadAnswer(
            "package_name",
            name,
            "use lower-case ASCII letters, digits and _, starting with a letter",
            example,
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise BadAnswer("package_name", name, "it is a Python keyword", example)
    if name in PROJECT_NAMES:
        raise BadAnswer(
            "package_name", name, "the project or Python already uses that name", example
        )
    if name in sys.stdlib_module_names:
        raise BadAnswer(
            "package_name", name, "it is the name of a standard-library module", example
        )
    if hasattr(builtins, name):
        raise BadAnswer("package_name", name, "it is the name of a Python builtin", example)
    check_file_name("package_name", name, data)


def check_matrix(answers: Mapping[str, object], data: TemplateData) -> None:
    text = str(answers["python_versions"])
    example = example_for("python_versions", data)
    matrix = parse_matrix(text)
    if not matrix:
        raise BadAnswer("python_versions", text, "list at least the main version", example)
    for version in matrix:
        if version not in data.pythons:
            raise BadAnswer(
                "python_versions",
                text,
                f"{version!r} is not one of {', '.join(data.pythons)}"
                + quote_hint(version, data.pythons),
                example,
            )
    main = answers.get("python_version")
    # From here every version is a supported one: the example is the user's own matrix,
    # each once and with the main one, so the command to bake again keeps their choice.
    example = ", ".join(v for v in data.pythons if v in matrix or v == main)
    if len(set(matrix)) != len(matrix):
        raise BadAnswer("python_versions", text, "a version is listed twice", example)
    if main in data.pythons and main not in matrix:
        raise BadAnswer(
            "python_versions",
            text,
            f"it must include the main version python_version={main}",
            example,
        )


def check_complete(answers: Mapping[str, object], data: TemplateData) -> None:
    """Every answer is there (a replay file or a tool's context may lack some)."""
    for key in answer_keys(data):
        if key not in answers:
            raise BadAnswer(
                key, None, "the answers have no value for it", example_for(key, data), missing=True
            )


def check(answers: Mapping[str, object], data: TemplateData) -> None:
    """Raise BadAnswer for the first answer that cannot make a working project.

    Only the answers present are checked, so the same function checks each answer as
    soon as it is given (the later ones are still missing) and all of them at the end.
    Keys starting with ``_`` are the template's own data, not answers.
    """
    public = {k: v for k, v in answers.items() if not k.startswith("_")}
    for key in answer_keys(data):
        if key in public:
            check_type(key, public[key], data)
    for key, value in public.items():
        if isinstance(value, str):
            check_text(key, value, data)
    if "project_name" in public and not str(public["project_name"]).strip():
        raise BadAnswer("project_name", public["project_name"], "it is empty", "My Project")
    if "project_slug" in public:
        check_slug(str(public["project_slug"]), data)
    if "package_name" in public:
        check_package_name(str(public["package_name"]), data)
    email = str(public.get("author_email", "")).strip()
    if email and not EMAIL.match(email):
        raise BadAnswer(
            "author_email",
            email,
            "it is not an e-mail address (or leave it empty)",
            example_for("author_email", data),
        )
    for key, allowed in data.choices.items():
        if key in public and public[key] not in allowed:
            # A version is not a spelling: 3.15 means no supported Python, not 3.14.
            meant = None if key == "python_version" else closest_choice(public[key], allowed)
            raise BadAnswer(
                key,
                public[key],
                f"choose one of {', '.join(allowed)}" + quote_hint(str(public[key]), allowed),
                meant or example_for(key, data),
            )
    if "python_versions" in public:
        check_matrix(public, data)
