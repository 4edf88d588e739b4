"""Jinja filters that quote prompt answers for the file formats they are rendered into.

Answers are free text (names with apostrophes, ampersands, quotes, non-ASCII letters),
so every answer that lands in TOML or Python goes through one of these filters instead
of being pasted between quotes.
"""

from __future__ import annotations

import json

from jinja2.ext import Extension


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


class QuotingExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["toml_str"] = toml_str
        environment.filters["py_docstring"] = py_docstring
