"""Check every answer before the project is generated.

A bad answer stops the bake with one line that names the key, the bad value and a
valid example; cookiecutter then removes the half-made project directory. The checks
are plain functions so the template's tests can call them without a bake.
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
import sys

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
CHOICES = {
    "env_manager": ("venv", "conda"),
    "lock_engine": ("uv", "pip-tools"),
    "preset": ("none", "ml", "dl", "nlp"),
    "torch_variant": ("cpu", "cuda"),
    "init_git": ("yes", "no"),
}
# Import names of what the presets and the dev tools install: a package of the same
# name would shadow them.
DEPENDENCY_IMPORTS = frozenset(
    {
        "dotenv",
        "numpy",
        "pandas",
        "sklearn",
        "matplotlib",
        "torch",
        "torchvision",
        "transformers",
        "tokenizers",
        "pytest",
        "ruff",
        "nox",
        "envlock",
    }
)
# Names the project itself uses at its top level, and the stdlib's test package (which
# sys.stdlib_module_names leaves out).
PROJECT_NAMES = frozenset({"test", "tests", "src", "data", "notebooks", "tools", "noxfile"})
EXAMPLES = {
    "project_name": "My Project",
    "project_slug": "my-project",
    "package_name": "my_project",
    "author_email": "you@example.com",
    "python_version": "3.12",
    "python_versions": "3.10, 3.11, 3.12, 3.13",
}
SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BadAnswer(Exception):
    def __init__(self, key: str, value: object, reason: str) -> None:
        example = EXAMPLES.get(key) or CHOICES.get(key, ("",))[0]
        super().__init__(f"{key}={value!r} is not valid: {reason}; for example {key}={example!r}")


def stdlib_modules() -> frozenset[str]:
    names = getattr(sys, "stdlib_module_names", None)
    if names is None:  # Python < 3.10
        names = {"test", "json", "site", "os", "sys", "io", "re", "typing", "string", "email"}
    return frozenset(names)


def parse_matrix(text: str) -> list[str]:
    """``"3.10, 3.11 3.12"`` -> ``["3.10", "3.11", "3.12"]`` (commas or spaces)."""
    return text.replace(",", " ").split()


def check_package_name(name: str) -> None:
    if not PACKAGE.match(name) or not name.isidentifier():
        raise BadAnswer(
            "package_name", name, "use lower-case letters, digits and _, starting with a letter"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise BadAnswer("package_name", name, "it is a Python keyword")
    if name in PROJECT_NAMES:
        raise BadAnswer("package_name", name, "the project or Python already uses that name")
    if name in stdlib_modules():
        raise BadAnswer("package_name", name, "it is the name of a standard-library module")
    if hasattr(builtins, name):
        raise BadAnswer("package_name", name, "it is the name of a Python builtin")
    if name in DEPENDENCY_IMPORTS:
        raise BadAnswer("package_name", name, "it would shadow a dependency of the same name")


def check_pythons(main: str, matrix_text: str) -> None:
    if main not in SUPPORTED_PYTHONS:
        raise BadAnswer(
            "python_version", main, f"supported versions are {', '.join(SUPPORTED_PYTHONS)}"
        )
    matrix = parse_matrix(matrix_text)
    if not matrix:
        raise BadAnswer("python_versions", matrix_text, "list at least the main version")
    for version in matrix:
        if version not in SUPPORTED_PYTHONS:
            raise BadAnswer(
                "python_versions",
                matrix_text,
                f"{version!r} is not one of {', '.join(SUPPORTED_PYTHONS)}",
            )
    if len(set(matrix)) != len(matrix):
        raise BadAnswer("python_versions", matrix_text, "a version is listed twice")
    if main not in matrix:
        raise BadAnswer(
            "python_versions",
            matrix_text,
            f"it must include the main version python_version={main}",
        )


def check(context: dict) -> None:
    """Raise BadAnswer for the first answer that cannot make a working project."""
    if not str(context["project_name"]).strip():
        raise BadAnswer("project_name", context["project_name"], "it is empty")
    if not SLUG.match(context["project_slug"]):
        raise BadAnswer(
            "project_slug",
            context["project_slug"],
            "use lower-case ASCII letters and digits joined by single dashes, "
            "starting with a letter",
        )
    check_package_name(context["package_name"])
    email = str(context["author_email"]).strip()
    if email and not EMAIL.match(email):
        raise BadAnswer("author_email", email, "it is not an e-mail address (or leave it empty)")
    for key, allowed in CHOICES.items():
        if context[key] not in allowed:
            raise BadAnswer(key, context[key], f"choose one of {', '.join(allowed)}")
    check_pythons(context["python_version"], context["python_versions"])


def main(context: dict) -> int:
    try:
        check(context)
    except BadAnswer as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    # tojson writes ' as \u0027, so no answer can end this string early.
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
