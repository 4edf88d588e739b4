"""Answers to the prompts: bad ones stop the bake with one clear line, odd good ones bake."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from conftest import MATRIX_HERE, TEMPLATE, bake, bake_cli, load_toml


def load_hook(name: str):
    spec = importlib.util.spec_from_file_location(name, TEMPLATE / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre_gen = load_hook("pre_gen_project")

DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text())

# (key, bad value): each must stop the bake.
BAD_ANSWERS = [
    ("project_name", ""),
    ("project_name", "   "),
    ("project_slug", "my project"),
    ("project_slug", "my/project"),
    ("project_slug", ".."),
    ("project_slug", "-project"),
    ("project_slug", "1project"),
    ("project_slug", "MyProject"),
    ("project_slug", "projét"),
    ("project_slug", "my--project"),
    ("package_name", "class"),
    ("package_name", "match"),
    ("package_name", "test"),
    ("package_name", "json"),
    ("package_name", "site"),
    ("package_name", "list"),
    ("package_name", "numpy"),
    ("package_name", "torch"),
    ("package_name", "my-package"),
    ("package_name", "2fast"),
    ("package_name", "Upper"),
    ("author_email", "not an address"),
    ("python_version", "3.9"),
    ("python_version", "3.x"),
    ("python_version", "python3"),
    ("python_version", "3.15"),
    ("python_versions", "3.10, 3.11"),
    ("python_versions", "3.8, 3.12"),
    ("python_versions", "3.12, 3.12"),
    ("python_versions", "garbage"),
    ("python_versions", ""),
    ("env_manager", "pipenv"),
    ("lock_engine", "poetry"),
    ("preset", "web"),
    ("init_git", "maybe"),
]


def answers(**changes: str) -> dict:
    context = {k: v for k, v in DEFAULTS.items() if not k.startswith("_")}
    context.update(
        project_slug="my-project", package_name="my_project", python_versions=MATRIX_HERE
    )
    context.update(changes)
    return context


@pytest.mark.parametrize(("key", "value"), BAD_ANSWERS)
def test_check_names_the_key_and_an_example(key: str, value: str):
    with pytest.raises(pre_gen.BadAnswer) as caught:
        pre_gen.check(answers(**{key: value}))
    message = str(caught.value)
    assert message.startswith(f"{key}={value!r} is not valid")
    assert "for example" in message
    assert "\n" not in message


def test_default_answers_pass():
    pre_gen.check(answers())


@pytest.mark.parametrize(("key", "value"), BAD_ANSWERS)
def test_bad_answer_fails_the_bake_in_one_line_and_leaves_nothing(
    tmp_path: Path, key: str, value: str
):
    extra = [f"{key}={value}"]
    if key == "project_name":  # the derived slug would fail first otherwise
        extra.append("project_slug=my-project")
    result = bake_cli(tmp_path, *extra)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ERROR: {key}=")
    assert "is not valid" in lines[0] and f"for example {key}=" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_existing_output_directory_is_refused_and_kept(tmp_path: Path):
    existing = tmp_path / "my-project"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    result = bake_cli(tmp_path)
    assert result.returncode != 0
    assert "already exists" in result.stdout + result.stderr
    assert (existing / "keep.txt").read_text() == "mine"
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("name", "author", "description"),
    [
        ("Bob's Data & Models", "Zoë O'Brien-Ñúñez", 'Says "hello" \\ & <b>bold</b>'),
        ("A" * 80 + " very long project name", "李小龍", "Ünïcödé ☃ and emoji 🚀"),
    ],
)
def test_odd_but_good_answers_render_valid_files(
    tmp_path: Path, name: str, author: str, description: str
):
    project = bake(
        tmp_path,
        project_name=name,
        author_name=author,
        description=description,
        env_manager="conda",
    )
    assert pre_gen.SLUG.match(project.name)
    environment = yaml.safe_load((project / "environment.yml").read_text(encoding="utf-8"))
    assert environment["name"] == project.name
    pyproject = load_toml(project / "pyproject.toml")
    assert pyproject["project"]["authors"][0]["name"] == author
    assert pyproject["project"]["description"] == description
    (package,) = (project / "src").iterdir()
    init = (package / "__init__.py").read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(init), clean=False) == description
    assert name in (project / "README.md").read_text(encoding="utf-8")
