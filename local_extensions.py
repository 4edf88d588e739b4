"""Jinja filters of the template.

``toml_str`` and ``py_docstring`` quote answers for the files they are rendered into:
answers are free text (apostrophes, ampersands, quotes, non-ASCII letters), so none is
pasted between quotes as it is.

``check_answers`` runs the checks of hooks/pre_gen_project.py as soon as the last answer
is given, through the rendered variable ``__answers_checked`` that ends
cookiecutter.json. That is before cookiecutter makes the project directory, so a bad
answer (even a slug such as ``a/b`` that would make nested folders) leaves nothing
behind and is reported in one line, without cookiecutter's hook-failure traceback.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from jinja2.ext import Extension


def load_answer_checks():
    """The pre-generation hook, imported as a module (its checks are plain functions)."""
    path = Path(__file__).resolve().parent / "hooks" / "pre_gen_project.py"
    spec = importlib.util.spec_from_file_location("template_answer_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_answers(answers: dict) -> str:
    checks = load_answer_checks()
    try:
        checks.check(dict(answers))
    except checks.BadAnswer as error:
        print(f"ERROR: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    return "yes"


def toml_str(value: object) -> str:
    """A TOML basic string (JSON's escapes are a subset of TOML's; DEL must be escaped)."""
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def py_docstring(value: object) -> str:
    """A one-line triple-quoted docstring, as ruff format writes it."""
    text = " ".join(str(value).split()) or "The package."
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    return f'"""{text}"""'


def python_matrix(value: object) -> list[str]:
    """The ``python_versions`` answer as a list, sorted as versions (3.9 before 3.10): the
    one reading of the matrix for every file that lists it."""
    versions = str(value).replace(",", " ").split()
    return sorted(versions, key=lambda v: tuple(int(p) if p.isdigit() else 0 for p in v.split(".")))


class QuotingExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["toml_str"] = toml_str
        environment.filters["py_docstring"] = py_docstring
        environment.filters["check_answers"] = check_answers
        environment.filters["python_matrix"] = python_matrix
