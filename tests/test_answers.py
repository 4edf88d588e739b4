"""Answers: a bad one stops the bake in one line, the moment it is given and whichever way
it arrives (prompts, --no-input key=value, a config file's default_context, a replay
file, cruft create, the API), and leaves nothing on disk; odd good ones bake."""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import MATRIX_HERE, TEMPLATE, bake, bake_cli, load_toml
from cookiecutter.exceptions import CookiecutterException


def load_answers():
    spec = importlib.util.spec_from_file_location(
        "answers_under_test", TEMPLATE / "hooks" / "answers.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


answers = load_answers()
DATA = answers.load_template(TEMPLATE)
CONFIG = json.loads((TEMPLATE / "cookiecutter.json").read_text())
BIN = Path(sys.executable).parent

# (key, bad value): each must stop the bake.
BAD_ANSWERS = [
    ("project_name", ""),
    ("project_name", "   "),
    ("project_name", "Two\nlines"),
    ("project_slug", "my project"),
    ("project_slug", "my/project"),
    ("project_slug", "a/b/c"),
    ("project_slug", ".."),
    ("project_slug", "-project"),
    ("project_slug", "1project"),
    ("project_slug", "MyProject"),
    ("project_slug", "projét"),
    ("project_slug", "my--project"),
    ("project_slug", "a" * 65),
    ("project_slug", "con"),
    ("project_slug", "python-dotenv"),
    ("project_slug", "mypy"),
    ("project_slug", "typing-extensions"),
    ("project_slug", "pre-commit"),
    ("package_name", "class"),
    ("package_name", "match"),
    ("package_name", "test"),
    ("package_name", "json"),
    ("package_name", "site"),
    ("package_name", "list"),
    ("package_name", "numpy"),
    ("package_name", "torch"),
    ("package_name", "yaml"),
    ("package_name", "mypy"),
    ("package_name", "pre_commit"),
    ("package_name", "virtualenv"),
    ("package_name", "typing_extensions"),
    ("package_name", "packaging"),
    ("package_name", "pluggy"),
    ("package_name", "_pytest"),
    # What the tool locks pin (tools/envlock/tool-locks/*.txt), and the modules of those.
    ("project_slug", "uv"),
    ("project_slug", "pip"),
    ("project_slug", "conda-lock"),
    ("project_slug", "py-rattler"),
    ("package_name", "rattler"),
    ("package_name", "setuptools"),
    ("package_name", "piptools"),
    ("package_name", "wheel"),
    ("package_name", "urllib3"),
    ("package_name", "certifi"),
    ("package_name", "dotenv"),
    ("package_name", "envlock"),
    ("package_name", "test_config"),
    ("package_name", "sitecustomize"),
    ("package_name", "b" * 65),
    ("package_name", "my-package"),
    ("package_name", "2fast"),
    ("package_name", "Upper"),
    ("author_name", "Tab\there"),
    ("author_name", "{% if true %}x{% endif %}"),
    ("author_email", "not an address"),
    ("description", "{{ 7*7 }}"),
    ("description", "{# hidden #}"),
    # Jinja that is one of cookiecutter.json's own texts, given for another key.
    ("description", CONFIG["package_name"]),
    ("author_name", CONFIG["__answers_checked"]),
    ("package_name", CONFIG["project_slug"]),
    ("description", "first line\nsecond line"),
    ("description", "nul\x00byte"),
    ("description", "line\u2028separator"),
    ("project_name", "\u202eevil \u2066name\u2069"),
    ("author_name", "Al\u2067ice"),
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
    ("preset", "dl-rocm"),
    ("init_git", "maybe"),
]
# One of each kind, for the ways of answering that are slower to drive.
SAMPLE = [
    ("project_slug", "a/b/c"),
    ("description", "nul\x00byte"),
    ("package_name", "pluggy"),
    ("description", "{{ 7*7 }}"),
    ("description", CONFIG["package_name"]),
    ("description", "first line\nsecond line"),
    ("python_version", "3.9"),
    ("preset", "web"),
]


def answers_with(**changes: str) -> dict:
    context = {k: v for k, v in CONFIG.items() if not k.startswith("_")}
    context.update(
        project_slug="my-project", package_name="my_project", python_versions=MATRIX_HERE
    )
    context.update(changes)
    return context


def extra_for(key: str, value: str) -> dict[str, str]:
    extra = {key: value, "python_versions": MATRIX_HERE}
    if key == "project_name":  # the slug derived from a bad name would fail first
        extra["project_slug"] = "my-project"
    if key == "python_versions":
        extra["python_versions"] = value
    return extra


def assert_refused(result: subprocess.CompletedProcess, key: str, output: Path) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ERROR: {key}="), lines[0]
    assert "is not valid" in lines[0] and f"for example {key}=" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not output.exists() or list(output.iterdir()) == [], list(output.rglob("*"))
    return lines[0]


# --- the checks themselves ----------------------------------------------------------


@pytest.mark.parametrize(("key", "value"), BAD_ANSWERS)
def test_check_names_the_key_and_an_example(key: str, value: str):
    with pytest.raises(answers.BadAnswer) as caught:
        answers.check(answers_with(**extra_for(key, value)), DATA)
    message = str(caught.value)
    assert message.startswith(f"{key}={value!r} is not valid")
    assert "for example" in message
    assert "\n" not in message and "\x00" not in message and "\u2028" not in message
    assert not set(message) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    example = answers_with(**{**extra_for(key, value), key: caught.value.example})
    answers.check(example, DATA)  # the example it offers is a good answer


@pytest.mark.parametrize(
    ("key", "typed", "meant"),
    [
        ("preset", "mll", "ml"),
        ("preset", "NLP", "nlp"),
        ("preset", "dl-cpu", "dl-cuda"),  # near in spelling: still a valid example
        ("license", "mit", "MIT"),
        ("license", "gpl", "GPL-3.0-or-later"),
        ("license", "apache", "Apache-2.0"),
        ("license", "BSD", "BSD-3-Clause"),
        ("lock_engine", "pip_tools", "pip-tools"),
        ("env_manager", "Conda", "conda"),
        ("docs", "mkdoc", "mkdocs"),
        ("init_git", "y", "yes"),
        ("python_version", "3.1", "3.12"),  # a version is not a spelling: the default
        ("license", "proprietary", "MIT"),  # nothing near: the default
    ],
)
def test_a_mistyped_choice_is_offered_what_it_most_likely_meant(key, typed, meant):
    """The example (and so the command that bakes again) holds the likely answer, not the
    default, so the user need not fix it by hand."""
    with pytest.raises(answers.BadAnswer) as caught:
        answers.check(answers_with(**{key: typed}), DATA)
    assert caught.value.example == meant
    assert str(caught.value).endswith(f"for example {key}={meant!r}")


def test_the_modules_of_the_projects_tests_are_refused_as_package_names():
    """pytest imports tests/test_config.py as test_config: a package of that name would be
    shadowed by the test that imports it."""
    tests = TEMPLATE / answers.PROJECT_FOLDER / "tests"
    stems = {path.stem for path in tests.glob("*.py")}
    assert stems >= {"conftest", "test_config"}
    for stem in stems:
        with pytest.raises(answers.BadAnswer, match="the project or Python already uses"):
            answers.check_package_name(stem, DATA)


def test_default_answers_pass():
    answers.check(answers_with(), DATA)


def test_names_in_the_locks_are_refused_by_their_normalised_form():
    for name in ("Typing.Extensions", "PYTHON_DOTENV", "pre.commit"):
        with pytest.raises(answers.BadAnswer, match="the project's locks can hold"):
            answers.check_file_name("project_slug", name, DATA)


def tool_lock_pins() -> dict[str, str]:
    """Distribution -> the tool lock that pins it, read here from the locks themselves."""
    folder = TEMPLATE / answers.TOOL_LOCKS
    pin = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)
    return {
        name: lock.name
        for lock in sorted(folder.glob("*.txt"))
        for name in pin.findall(lock.read_text())
    }


def test_every_name_a_tool_lock_pins_is_refused():
    """Each distribution the tool locks pin, and each module names.json lists for them."""
    names = json.loads((TEMPLATE / answers.NAMES_FILE).read_text())
    pins = tool_lock_pins()
    assert {"uv", "pip", "wheel", "certifi", "urllib3", "conda-lock", "py-rattler"} <= set(pins)
    modules = {m for d in pins for m in {**names["imports"], **names["tool_imports"]}.get(d, [])}
    assert {"rattler", "setuptools", "piptools", "conda_lock"} <= modules
    for name in sorted(set(pins) | modules):
        with pytest.raises(answers.BadAnswer, match="the project's locks can hold"):
            answers.check_file_name("package_name", name, DATA)
    with pytest.raises(answers.BadAnswer) as caught:
        answers.check_file_name("project_slug", "uv", DATA)
    assert "the distribution uv (pinned by tools/envlock/tool-locks/uv.txt)" in str(caught.value)


def test_a_project_name_a_tool_lock_pins_is_refused_in_one_line(tmp_path: Path):
    """``project_name=Pip``: the slug it gives is the tool locks' pip."""
    result = bake_cli(tmp_path / "out", "project_name=Pip", f"python_versions={MATRIX_HERE}")
    line = assert_refused(result, "project_slug", tmp_path / "out")
    assert line.startswith("ERROR: project_slug='pip' is not valid: the project's locks can hold")


def test_an_answer_that_is_the_keys_own_template_is_as_if_not_given(tmp_path: Path):
    """The one text rendered as a template: cookiecutter.json's own for that very key."""
    result = bake_cli(
        tmp_path / "out",
        "project_name=Data Study",
        f"project_slug={CONFIG['project_slug']}",
        f"python_versions={MATRIX_HERE}",
        "init_git=no",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "data-study" / "src" / "data_study" / "__init__.py").is_file()


def test_a_long_project_name_gets_a_slug_within_the_limit(tmp_path: Path):
    name = "A Study Of " + "Very " * 20 + "Long Names"
    project = bake(tmp_path, project_name=name, init_git="no")
    assert len(project.name) <= answers.NAME_MAX_LENGTH
    assert project.name.startswith("a-study-of-very") and not project.name.endswith("-")


def test_the_choices_have_one_source():
    """cookiecutter.json's _choices and the project's supported.json feed the checks; each
    prompt and the README's prompt table list exactly those values."""
    readme = (TEMPLATE / "README.md").read_text()
    assert "python_version" not in CONFIG["_choices"]  # supported.json holds them
    for key, allowed in DATA.choices.items():
        prompt = CONFIG["__prompts__"][key]
        # Choices are lower-case words, Python versions and SPDX names (Apache-2.0).
        word = r"\d+\.\d+|[a-z][a-z-]*[a-z0-9]|[A-Z][A-Za-z0-9.-]*[A-Za-z0-9]"
        listed = re.findall(rf"(?<![\w.-])({word})(?![\w.-])", prompt)
        assert [word for word in listed if word in allowed] == allowed, (key, prompt)
        assert CONFIG[key] in allowed
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{key}`"))
        quoted = re.findall(r"`([^`]+)`", row.split("|")[3])
        assert [word for word in quoted if word in allowed] == allowed, row
    assert parse(CONFIG["python_versions"]) == DATA.pythons
    assert f"at most {answers.NAME_MAX_LENGTH} characters" in readme


def parse(text: str) -> list[str]:
    return text.replace(",", " ").split()


# --- every way of answering ----------------------------------------------------------


# A command line cannot carry a NUL byte; the other ways below take it.
@pytest.mark.parametrize(("key", "value"), [kv for kv in BAD_ANSWERS if "\x00" not in kv[1]])
def test_refused_on_the_command_line(tmp_path: Path, key: str, value: str):
    pairs = [f"{k}={v}" for k, v in extra_for(key, value).items()]
    result = bake_cli(tmp_path / "out", *pairs)
    line = assert_refused(result, key, tmp_path / "out")
    assert re.search(r"to bake again with your answers so far: (python -m )?cookiecutter ", line)


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> dict:
    """A real replay file, from a real bake."""
    root = tmp_path_factory.mktemp("replay")
    bake(root / "out", init_git="no")
    (found,) = (root / ".cookiecutter-out" / "replay").iterdir()
    return json.loads(found.read_text())


@pytest.mark.parametrize(("key", "value"), BAD_ANSWERS)
def test_refused_from_a_replay_file(tmp_path: Path, replay: dict, key: str, value: str):
    """Replayed answers skip the prompts, so nothing checks them before the files but the
    check at the project folder's name: one line, and not even an empty folder."""
    edited = json.loads(json.dumps(replay))
    edited["cookiecutter"][key] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(edited))
    result = replay_cli(tmp_path, path)
    assert_refused(result, key, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def replay_cli(tmp_path: Path, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BIN / "cookiecutter"),
            "--replay-file",
            str(path),
            "-o",
            str(tmp_path / "out"),
            str(TEMPLATE),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# Values that are not text, as JSON (and YAML) give them without quotes.
NOT_TEXT = [
    ("python_version", 3.1, "it is the number 3.1, not text"),
    ("project_name", 3, "it is the number 3, not text"),
    ("init_git", True, "it is the boolean true, not text"),
    ("description", ["a", "b"], "it is a list, not text"),
    ("author_name", {"first": "Ada"}, "it is a dict, not text"),
    ("license", None, "it has no value (null)"),
]


@pytest.mark.parametrize(("key", "value", "reason"), NOT_TEXT)
def test_an_answer_that_is_not_text_in_a_replay_file_is_one_line(
    tmp_path: Path, replay: dict, key: str, value: object, reason: str
):
    edited = json.loads(json.dumps(replay))
    edited["cookiecutter"][key] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(edited))
    line = assert_refused(replay_cli(tmp_path, path), key, tmp_path / "out")
    assert f"is not valid: {reason}" in line
    assert "in quotes" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


@pytest.mark.parametrize("key", ["project_name", "project_slug", "package_name", "license"])
def test_an_answer_missing_from_a_replay_file_is_asked_for_never_a_traceback(
    tmp_path: Path, replay: dict, key: str
):
    """Cookiecutter asks for what a replay file lacks, itself, in an environment without
    the template's extension, and with only the missing answers: each default renders
    there (project_slug's and package_name's to nothing), so the question is asked, and
    without a terminal the bake ends in one line with nothing on disk."""
    edited = json.loads(json.dumps(replay))
    del edited["cookiecutter"][key]
    path = tmp_path / "missing.json"
    path.write_text(json.dumps(edited))
    result = replay_cli(tmp_path, path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Aborted!"], result.stderr
    assert CONFIG["__prompts__"][key].split(" (")[0] in result.stdout  # the question
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def test_an_answer_missing_from_a_replay_file_is_checked_when_given(tmp_path: Path, replay: dict):
    edited = json.loads(json.dumps(replay))
    del edited["cookiecutter"]["project_slug"]
    path = tmp_path / "missing.json"
    path.write_text(json.dumps(edited))
    command = [str(BIN / "cookiecutter"), "--replay-file", str(path), "-o", "out", str(TEMPLATE)]
    bad = subprocess.run(
        command, input="my project\n", capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert_refused(bad, "project_slug", tmp_path / "out")
    good = subprocess.run(
        command, input="data-lab\n", capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert good.returncode == 0, good.stderr
    assert (tmp_path / "out" / "data-lab" / "src" / "my_project" / "__init__.py").is_file()


def test_unquoted_yaml_numbers_and_booleans_are_refused_saying_to_quote_them(tmp_path: Path):
    """A config file's ``python_version: 3.10`` is the number 3.1, ``init_git: yes`` a
    boolean; the line says to quote them (cookiecutter turns the number into text)."""
    lines = {}
    for key, text in (("python_version", "3.10"), ("init_git", "yes")):
        config = tmp_path / f"{key}.yaml"
        config.write_text(f"replay_dir: {tmp_path / 'replay'}\ndefault_context:\n  {key}: {text}\n")
        result = subprocess.run(
            [
                str(BIN / "cookiecutter"),
                "--no-input",
                "--config-file",
                str(config),
                "-o",
                str(tmp_path / "out"),
                str(TEMPLATE),
                f"python_versions={MATRIX_HERE}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        lines[key] = assert_refused(result, key, tmp_path / "out")
    assert lines["python_version"].startswith("ERROR: python_version='3.1' is not valid")
    quote = "read 3.10 without quotes as the number 3.1: put the answer in quotes"
    assert quote in lines["python_version"]
    assert lines["init_git"].startswith("ERROR: init_git=True is not valid: it is the boolean")
    assert "put the answer in quotes" in lines["init_git"]


def test_a_context_missing_an_answer_is_one_line_and_nothing_on_disk(tmp_path: Path, replay: dict):
    """A program (or a tool) that calls cookiecutter's generate_files with answers of its
    own: one that lacks an answer is refused before the project folder is made."""
    from cookiecutter.generate import generate_files

    context = json.loads(json.dumps(replay))
    del context["cookiecutter"]["description"]
    (tmp_path / "out").mkdir()
    with pytest.raises(CookiecutterException) as caught:
        generate_files(repo_dir=str(TEMPLATE), context=context, output_dir=str(tmp_path / "out"))
    (line,) = str(caught.value).splitlines()
    assert line.startswith("ERROR: description is missing: the answers have no value for it")
    assert "for example description=" in line
    assert list((tmp_path / "out").iterdir()) == []


def test_a_good_replay_file_bakes(tmp_path: Path, replay: dict):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(replay))
    subprocess.run(
        [
            str(BIN / "cookiecutter"),
            "--replay-file",
            str(path),
            "-o",
            str(tmp_path / "out"),
            str(TEMPLATE),
        ],
        capture_output=True,
        check=True,
    )
    assert (tmp_path / "out" / "my-project" / "pyproject.toml").is_file()


def config_file(tmp_path: Path, default_context: dict) -> Path:
    path = tmp_path / "config.yaml"
    state = tmp_path / "state"
    path.write_text(
        yaml.safe_dump(
            {
                "cookiecutters_dir": str(state / "clones"),
                "replay_dir": str(state / "replay"),
                "default_context": default_context,
            }
        )
    )
    return path


@pytest.mark.parametrize(("key", "value"), SAMPLE)
def test_refused_from_a_config_files_default_context(tmp_path: Path, key: str, value: str):
    config = config_file(tmp_path, extra_for(key, value))
    result = subprocess.run(
        [
            str(BIN / "cookiecutter"),
            "--no-input",
            "--config-file",
            str(config),
            "-o",
            str(tmp_path / "out"),
            str(TEMPLATE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert_refused(result, key, tmp_path / "out")


def test_refused_from_the_users_cookiecutterrc(tmp_path: Path):
    """~/.cookiecutterrc, the config file cookiecutter reads when none is given."""
    home = tmp_path / "home"
    home.mkdir()
    config_file(tmp_path, {"package_name": "pluggy"}).rename(home / ".cookiecutterrc")
    env = {k: v for k, v in os.environ.items() if k != "COOKIECUTTER_CONFIG"}
    result = subprocess.run(
        [str(BIN / "cookiecutter"), "--no-input", "-o", str(tmp_path / "out"), str(TEMPLATE)],
        capture_output=True,
        text=True,
        env={**env, "HOME": str(home)},
        check=False,
    )
    assert_refused(result, "package_name", tmp_path / "out")


@pytest.mark.parametrize(("key", "value"), SAMPLE)
def test_refused_through_the_api(tmp_path: Path, key: str, value: str, capfd):
    """A program that bakes catches the refusal as an ordinary exception and goes on."""
    caught: Exception | None = None
    try:
        bake(tmp_path / "out", **extra_for(key, value))
    except Exception as error:  # noqa: BLE001 - what a bake script or a service writes
        caught = error
    assert isinstance(caught, CookiecutterException), caught
    (line,) = str(caught).splitlines()
    assert line.startswith(f"ERROR: {key}=") and f"for example {key}=" in line
    assert capfd.readouterr().err == ""  # the caller decides what to print
    assert list((tmp_path / "out").iterdir()) == []


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory) -> Path:
    """The template as a git repository, as cruft needs it."""
    clone = tmp_path_factory.mktemp("template") / "template"
    shutil.copytree(
        TEMPLATE,
        clone,
        ignore=shutil.ignore_patterns(
            ".git", ".nox", ".venv*", ".ci-venv", "__pycache__", "demo", ".*_cache"
        ),
    )
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "t"],
        cwd=clone,
        check=True,
    )
    return clone


@pytest.mark.parametrize(("key", "value"), SAMPLE)
def test_refused_by_cruft_create(tmp_path: Path, template_repo: Path, key: str, value: str):
    result = subprocess.run(
        [
            str(BIN / "cruft"),
            "create",
            "--no-input",
            "--output-dir",
            str(tmp_path / "out"),
            "--extra-context",
            json.dumps(extra_for(key, value)),
            f"file://{template_repo}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert_refused(result, key, tmp_path / "out")


def prompt_run(tmp_path: Path, typed: list[str], *args: str) -> subprocess.CompletedProcess:
    """Cookiecutter's own prompts, answered through stdin (Enter takes the default)."""
    config = config_file(tmp_path, {})
    return subprocess.run(
        [str(BIN / "cookiecutter"), "--config-file", str(config), *args],
        input="".join(f"{line}\n" for line in typed),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )


def test_a_typo_stops_the_prompts_at_once_and_the_line_bakes_again(tmp_path: Path):
    """A bad main Python ends the prompts right there (the matrix is never asked), and
    the command in the error line bakes with the earlier answers and the example."""
    typed = ["Data Study", "", "", "Ada", "", "Counts things.", "3.9"]
    first = prompt_run(
        tmp_path, typed, "-o", "out", str(TEMPLATE), f"python_versions={MATRIX_HERE}"
    )
    line = assert_refused(first, "python_version", tmp_path / "out")
    assert "Main Python" in first.stdout and "Test matrix" not in first.stdout
    command = shlex.split(line.split("to bake again with your answers so far: ", 1)[1])
    assert command[0] == "cookiecutter" and "author_name=Ada" in command
    again = prompt_run(tmp_path, [""] * 20, *command[1:])  # Enter for every prompt
    assert again.returncode == 0, again.stderr
    project = tmp_path / "out" / "data-study"
    pyproject = load_toml(project / "pyproject.toml")
    assert pyproject["project"]["authors"][0]["name"] == "Ada"
    assert pyproject["project"]["description"] == "Counts things."
    assert pyproject["tool"]["envlock"]["python"] == CONFIG["python_version"]


def test_a_mistyped_choice_at_the_prompt_bakes_again_with_what_it_meant(tmp_path: Path):
    order = [k for k in CONFIG if not k.startswith("_")]
    typed = ["mll" if k == "preset" else "" for k in order[: order.index("preset") + 1]]
    first = prompt_run(
        tmp_path, typed, "-o", "out", str(TEMPLATE), f"python_versions={MATRIX_HERE}"
    )
    line = assert_refused(first, "preset", tmp_path / "out")
    command = shlex.split(line.split("to bake again with your answers so far: ", 1)[1])
    assert command[-1] == "preset=ml"
    again = prompt_run(tmp_path, [""] * 20, *command[1:])  # Enter for every prompt
    assert again.returncode == 0, again.stderr
    requirements = (tmp_path / "out" / "my-project" / "requirements.in").read_text().split()
    assert {"numpy", "pandas", "scikit-learn", "matplotlib"} <= set(requirements)


@pytest.mark.parametrize(("key", "value"), [kv for kv in SAMPLE if "\n" not in kv[1]])
def test_refused_when_typed_at_the_prompt(tmp_path: Path, key: str, value: str):
    order = [k for k in CONFIG if not k.startswith("_")]
    typed = [value if k == key else "" for k in order[: order.index(key) + 1]]
    result = prompt_run(
        tmp_path, typed, "-o", "out", str(TEMPLATE), f"python_versions={MATRIX_HERE}"
    )
    assert_refused(result, key, tmp_path / "out")


@pytest.mark.parametrize("key", ["project_name", "description"])
def test_an_answer_that_is_not_utf8_is_one_line_and_nothing_on_disk(tmp_path: Path, key: str):
    """A byte that is not UTF-8 (a Latin-1 terminal), given on the command line and typed."""
    bad = b"caf\xe9"
    extra = extra_for(key, "x")
    pairs = [os.fsencode(f"{k}={v}") for k, v in extra.items() if k != key]
    command = [BIN / "cookiecutter", "--no-input", "-o", tmp_path / "out", TEMPLATE]
    given = subprocess.run(
        [*command, *pairs, key.encode() + b"=" + bad], capture_output=True, check=False
    )
    order = [k for k in CONFIG if not k.startswith("_")]
    typed = b"".join((bad if k == key else b"") + b"\n" for k in order[: order.index(key) + 1])
    config = config_file(tmp_path, {})
    prompted = subprocess.run(
        [BIN / "cookiecutter", "--config-file", config, "-o", tmp_path / "out", TEMPLATE],
        input=typed,
        capture_output=True,
        env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        check=False,
    )
    for result in (given, prompted):
        text = subprocess.CompletedProcess(
            result.args,
            result.returncode,
            result.stdout.decode(errors="replace"),
            result.stderr.decode(errors="replace"),
        )
        line = assert_refused(text, key, tmp_path / "out")
        assert "a byte that is not UTF-8 text" in line


@pytest.mark.parametrize(
    ("main", "typed", "example"),
    [
        ("3.12", "3.11,3.13", "3.11, 3.12, 3.13"),  # the main one added, in order
        ("3.12", "3.12, 3.11, 3.12", "3.11, 3.12"),  # each once
        ("3.11", "3.13, 3.13", "3.11, 3.13"),  # both
    ],
)
def test_a_bad_matrix_is_fixed_in_the_example_not_replaced(main: str, typed: str, example: str):
    """The example keeps the user's matrix: the full list would add Pythons they left out."""
    with pytest.raises(answers.BadAnswer) as refused:
        answers.check_matrix({"python_version": main, "python_versions": typed}, DATA)
    assert refused.value.example == example
    answers.check_matrix({"python_version": main, "python_versions": example}, DATA)


@pytest.mark.parametrize("main", DATA.pythons)
def test_the_rerun_command_for_a_bad_matrix_bakes_with_any_main_python(tmp_path: Path, main: str):
    """The example matrix comes from the supported Pythons, so it holds every main one."""
    other = next(v for v in DATA.pythons if v != main)
    result = bake_cli(tmp_path / "out", f"python_version={main}", f"python_versions={other}")
    line = assert_refused(result, "python_versions", tmp_path / "out")
    command = shlex.split(line.split("to bake again with your answers so far: ", 1)[1])
    assert command[0] in ("cookiecutter", "python")
    start = [str(BIN / "cookiecutter")] if command[0] == "cookiecutter" else [sys.executable]
    again = subprocess.run(
        [*start, *command[1:], "init_git=no"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    baked = load_toml(tmp_path / "out" / "my-project" / "pyproject.toml")
    assert baked["tool"]["envlock"]["python"] == main


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
        ("Bob's Data & Models", "Zoë O'Brien-Ñúñez", 'Says "hello" \\ & <b>bold</b> {braces} %'),
        ("A" * 40 + " long project name", "李小龍", "Ünïcödé ☃ and emoji 🚀"),
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
    assert answers.SLUG.match(project.name)
    environment = yaml.safe_load((project / "environment.yml").read_text(encoding="utf-8"))
    assert environment["name"] == project.name
    pyproject = load_toml(project / "pyproject.toml")
    assert pyproject["project"]["authors"][0]["name"] == author
    assert pyproject["project"]["description"] == description
    (package,) = (project / "src").iterdir()
    init = (package / "__init__.py").read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(init), clean=False) == description
    assert name in (project / "README.md").read_text(encoding="utf-8")


def test_the_note_is_private_found_by_the_post_hook_and_removed(tmp_path: Path):
    """The pre-generation hook's note (it may hold a copy of a user's file) goes into a
    fresh private file (mkstemp), not a name anyone can guess: a link planted at the name
    the note once had (a hash of the project path) is not written through. The
    post-generation hook finds the note (the user's environment.yml, overwritten by -f,
    is put back) and removes it."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"not the bake's\n")
    folder = tmp_path / "out" / "my-project"
    folder.mkdir(parents=True)
    mine = b"name: mine  # the user's own\n"
    (folder / "environment.yml").write_bytes(mine)
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    (temp / f"cookiecutter-bake-{digest}.json").symlink_to(victim)
    before = set(os.listdir(temp))
    result = subprocess.run(
        [
            str(BIN / "cookiecutter"),
            "--no-input",
            "-f",
            "--config-file",
            str(config_file(tmp_path, {})),
            "-o",
            str(tmp_path / "out"),
            str(TEMPLATE),
            f"python_versions={MATRIX_HERE}",
            "init_git=no",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "the note of the pre-generation hook is missing" not in result.stdout
    assert (folder / "environment.yml").read_bytes() == mine  # the note was read
    assert victim.read_bytes() == b"not the bake's\n"
    # What is left in the temporary folder is cookiecutter's own rendered hook scripts.
    left = set(os.listdir(temp)) - before
    assert left and all(name.startswith("tmp") and name.endswith(".py") for name in left), left
    copy = base64.b64encode(mine).decode()
    assert not [n for n in left if copy in (temp / n).read_text()], "a copy of a user's file"
