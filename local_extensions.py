"""The template's Jinja extension: quoting filters, and the answer checks wired into
cookiecutter's rendering so that every answer is checked however it arrives.

``toml_str`` and ``py_docstring`` quote answers for the files they are rendered into:
answers are free text (apostrophes, ampersands, quotes, non-ASCII letters), so none is
pasted between quotes as it is.

The checks (hooks/answers.py) run at three moments, all inside cookiecutter's own
process and before anything is written:

- While the prompts are answered. Cookiecutter renders each answer's default from the
  answers before it, in the order of cookiecutter.json; ``preprocess`` puts a check of
  the answers given so far in front of every one of those renders. So a bad answer stops
  the bake the moment it is given (the prompts after it are not asked), with one line
  that names it and, for a command-line bake, the command that bakes again with the
  answers so far and the example in place of the bad one. ``__answers_checked`` at the
  end of cookiecutter.json checks the last answer. This covers typed answers,
  ``--no-input`` with ``key=value``, ``--config-file`` and ``default_context``, and
  ``cruft create`` (which prompts through cookiecutter's same function).
- When cookiecutter renders the project folder's name, the first thing it renders for
  the files: a full check. Answers replayed with ``--replay``/``--replay-file`` skip the
  prompts, so this is where they are checked; it runs before cookiecutter creates the
  folder, so a refused answer (even a slug such as ``a/b/c``) leaves nothing on disk.
- Cookiecutter renders an answer given on the command line or in a config file as a
  template while prompting (``description={{ 7*7 }}`` would become ``49``). An answer
  is never evaluated: a text is rendered as a template only when it is, character for
  character, cookiecutter.json's own value of the key being rendered (which is the same
  as leaving that key unanswered); any other text with Jinja syntax, even one of
  cookiecutter.json's values for another key, is rendered literally, and the check that
  follows refuses it by name.

Before the pre-generation hook runs, its render (in cookiecutter's process) refuses in
one line a bake that would write through a symbolic link, for every entry point (cruft
calls cookiecutter's generate_files itself), and makes the private file that carries the
hook's note to the post-generation hook.

Cookiecutter does not offer validation hooks; these work through its documented
extension points (a Jinja extension listed in ``_extensions``, filters, and Jinja's own
``Extension.preprocess``), relying on it rendering defaults in file order and, to know
the folder a hook will run in, on the name of its function that renders and runs hooks
(without it, the pre-generation hook refuses the links itself, after cookiecutter's
own line).
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from cookiecutter.exceptions import CookiecutterException
from jinja2 import pass_environment
from jinja2.ext import Extension
from slugify import slugify

TEMPLATE = Path(__file__).resolve().parent
HOOKS = TEMPLATE / "hooks"
CACHE_NAMES = ("__pycache__", ".ruff_cache", ".pytest_cache", ".mypy_cache")


def _load(name: str) -> Any:
    path = HOOKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"template_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


answers = _load("answers")
existing_folder = _load("existing_folder")
DATA = answers.load_template(TEMPLATE)
PROJECT_FOLDER = answers.PROJECT_FOLDER
# The keys cookiecutter renders while prompting, in its order (the answers, then the
# ``__`` ones; ``_`` keys are copied as they are, ``__prompts__`` is taken out first).
RENDERED_KEYS = [
    k for k in DATA.defaults if (not k.startswith("_") or k.startswith("__")) and k != "__prompts__"
]
OWN_TEMPLATES = {
    k: v
    for k in RENDERED_KEYS
    if isinstance(v := DATA.defaults[k], str) and any(m in v for m in answers.JINJA_MARKERS)
}
HOOK_SOURCES = frozenset(p.read_text(encoding="utf-8") for p in HOOKS.glob("*_gen_project.py"))
CHECK_SO_FAR = "{{ cookiecutter | check_answers_so_far }}"


# --- quoting -------------------------------------------------------------------------


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
    versions = answers.parse_matrix(str(value))
    return sorted(versions, key=lambda v: tuple(int(p) if p.isdigit() else 0 for p in v.split(".")))


def default_slug(name: object) -> str:
    """The slug offered for a project name: cut at a word boundary to the length limit."""
    return slugify(str(name), max_length=answers.NAME_MAX_LENGTH, word_boundary=True)


def jinja_literal(text: str) -> str:
    """A template that renders ``text`` exactly (a Jinja string literal; Jinja decodes
    backslash escapes in it, which JSON's escaping provides)."""
    return "{{ " + json.dumps(text, ensure_ascii=False) + " }}"


# --- checks --------------------------------------------------------------------------


def rerun_command(given: dict[str, Any], bad: Any) -> str | None:
    """The command line that bakes again with the answers given so far and the example
    in place of the bad one; None when this is not the cookiecutter command line."""
    program = Path(sys.argv[0])
    if program.stem != "cookiecutter" and program.parent.name != "cookiecutter":
        return None
    if "--replay" in sys.argv or any(a.startswith("--replay-file") for a in sys.argv):
        return None
    start = "cookiecutter" if program.stem == "cookiecutter" else "python -m cookiecutter"
    public = {k: str(v) for k, v in given.items() if not k.startswith("_")}
    public[bad.key] = bad.example
    keys_given = set(public)
    options = []
    for arg in sys.argv[1:]:
        key, sep, _ = arg.partition("=")
        if sep and not arg.startswith("-") and key in keys_given:
            continue  # replaced by the answer below
        options.append(arg)
    pairs = [f"{k}={v}" for k, v in public.items()]
    return f"{start} {shlex.join(options + pairs)}"


class BakeRefused(CookiecutterException, SystemExit):
    """A bake stopped before anything was written; the message is the one line.

    A cookiecutter exception, so a program baking through the Python API catches it with
    ``except Exception`` and goes on. Also a SystemExit whose code is the message: where
    nobody catches it (cookiecutter's and cruft's command lines do not know it), Python
    prints the line to stderr and exits with status 1, with no traceback.
    """

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.code = line


def refuse(error: object, given: dict[str, Any] | None = None) -> None:
    """Stop the bake with the one line (BakeRefused passes through Jinja and cookiecutter,
    which re-raise what they do not handle)."""
    line = f"ERROR: {error}"
    command = rerun_command(given, error) if given is not None else None
    if command:
        line += f"; to bake again with your answers so far: {command}"
    raise BakeRefused(line)


def is_own_template(given: dict[str, Any], text: str) -> bool:
    """Whether ``text`` is cookiecutter.json's own value of the key cookiecutter renders
    now: the first key, in file order, that has no value yet."""
    key = next((k for k in RENDERED_KEYS if k not in given), None)
    return key is not None and OWN_TEMPLATES.get(key) == text


def check_answers_so_far(given: dict[str, Any]) -> str:
    try:
        answers.check(given, DATA)
    except answers.BadAnswer as error:
        refuse(error, dict(given))
    return ""


def check_answers(given: dict[str, Any]) -> str:
    """The check after the last prompt (``__answers_checked``)."""
    check_answers_so_far(given)
    return "yes"


@pass_environment
def check_before_writing(environment: Any, given: dict[str, Any]) -> str:
    """The full check, before the project folder is made: every answer there and text
    (a replay file's may be missing, numbers or lists), and each one good; and, where
    cookiecutter names the output folder, no link the bake would write through (checked
    again before the pre-generation hook, for cruft, and the only check without hooks)."""
    try:
        answers.check_complete(given, DATA)
        answers.check(given, DATA)
    except answers.BadAnswer as error:
        refuse(error)
    output = cookiecutter_local("render_and_create_dir", "output_dir")
    if output is None:
        output = given.get("_output_dir")
    if output is not None:
        project = Path(output) / str(given["project_slug"])
        if os.path.lexists(project) and not project.is_dir():
            # cookiecutter would end in a traceback (Not a directory, or cannot create it)
            what = (
                f"a link to {os.readlink(project)}, which is not a folder"
                if project.is_symlink()
                else "a file, not a folder"
            )
            refuse(
                f"{project} is {what}: bake into another folder (-o), or move it away, "
                "then bake again"
            )
        if project.exists() and not cookiecutter_local(
            "render_and_create_dir", "overwrite_if_exists"
        ):
            # cruft does not catch cookiecutter's own error for this (a traceback)
            refuse(
                f"{project} already exists: bake into another folder (-o), or add -f to "
                "write the template's files into it (nothing else there is touched)"
            )
        refuse_links(project, bake_plan(environment, given))
    return ""


def refuse_links(project: Path, plan: dict[str, list[str]]) -> None:
    problem = existing_folder.links_refusal(project, plan["files"])
    if problem:
        refuse(problem)


# --- the hooks' state ----------------------------------------------------------------

# The note files made for bakes in this process. The post-generation hook removes its
# note once read; a bake that stopped between the hooks leaves one, removed at exit.
NOTES: list[Path] = []
atexit.register(lambda: [note.unlink(missing_ok=True) for note in NOTES])


def cookiecutter_local(function: str, name: str) -> Any:
    """A variable of the cookiecutter function that is rendering now, or None.
    Cookiecutter hands the folders it writes to nothing the template can see; cruft
    calls its generate_files without them in the answers."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == function and name in frame.f_locals:
            return frame.f_locals[name]
        frame = frame.f_back
    return None


def hook_folder() -> Path | None:
    """The folder the hook being rendered will run in: cookiecutter's
    ``run_script_with_context`` renders a hook, then runs it there (its ``cwd``)."""
    folder = cookiecutter_local("run_script_with_context", "cwd")
    return None if folder is None else Path(folder)


@pass_environment
def pre_gen_state(environment: Any, given: dict[str, Any]) -> dict[str, Any]:
    """For the pre-generation hook: refuse in one line a bake that would write through a
    link (``-f`` would overwrite the link's target), then a fresh private note file
    (mkstemp: a name nobody can guess or plant, mode 0600)."""
    plan = bake_plan(environment, given)
    project = hook_folder()
    if project is not None:
        refuse_links(project, plan)
    fd, name = tempfile.mkstemp(prefix="cookiecutter-bake-", suffix=".json")
    os.close(fd)
    NOTES.append(Path(name))
    # -s (skip_if_file_exists), which cookiecutter applies only to the files it renders.
    skip = bool(cookiecutter_local("generate_files", "skip_if_file_exists"))
    return {"hooks": str(HOOKS), "note": name, "plan": plan, "skip": skip}


@pass_environment
def post_gen_state(environment: Any, given: dict[str, Any]) -> dict[str, Any]:
    """For the post-generation hook: the note file of this bake's pre-generation hook."""
    note = str(NOTES[-1]) if NOTES else ""
    return {"hooks": str(HOOKS), "note": note, "plan": bake_plan(environment, given)}


# --- what the bake writes ------------------------------------------------------------

# Files that belong to some values of an option: kept only when one of them is chosen.
FILES_OF_OPTION: dict[tuple[str, frozenset[str]], list[str]] = {
    ("env_manager", frozenset({"conda"})): ["environment.yml"],
    ("license", frozenset(DATA.choices["license"]) - {"none"}): ["LICENSE"],
    ("docs", frozenset({"mkdocs"})): ["mkdocs.yml", "docs/index.md"],
    ("preset", frozenset({"nlp"})): ["tests/conftest.py", "tests/test_tiny_model.py"],
}


@pass_environment
def bake_plan(environment: Any, given: dict[str, Any]) -> dict[str, list[str]]:
    """What this bake writes into the project folder, for the hooks: ``files`` (relative
    paths with /, rendered as cookiecutter renders them), the template's stray
    ``caches`` it copies along, and the ``unchosen`` files of options not chosen."""
    root = TEMPLATE / PROJECT_FOLDER
    files, caches = [], []
    for folder, dirs, names in os.walk(root):
        relative = Path(folder).relative_to(root)
        for cache in [d for d in dirs if d in CACHE_NAMES]:
            dirs.remove(cache)
            caches.append(relative / cache)
        files += [relative / name for name in names]

    def render(path: Path) -> str:
        return environment.from_string(path.as_posix()).render(cookiecutter=given)

    unchosen = [
        name
        for (key, values), names in FILES_OF_OPTION.items()
        if given.get(key) not in values
        for name in names
    ]
    return {
        "files": sorted(map(render, files)),
        "caches": sorted(map(render, caches)),
        "unchosen": sorted(unchosen),
    }


class TemplateExtension(Extension):
    """Filters of the template, and the answer checks (see the module docstring)."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.filters.update(
            toml_str=toml_str,
            py_docstring=py_docstring,
            python_matrix=python_matrix,
            default_slug=default_slug,
            check_answers=check_answers,
            check_answers_so_far=check_answers_so_far,
            check_before_writing=check_before_writing,
            is_own_template=is_own_template,
            bake_plan=bake_plan,
            pre_gen_state=pre_gen_state,
            post_gen_state=post_gen_state,
        )
        # Decided by the first text this environment compiles: cookiecutter makes one
        # environment for the prompts, one for the files, one for each hook.
        self.role: str | None = None

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name is not None:  # a file of the project: its Jinja is the template's own
            return source
        if self.role is None:
            if source == PROJECT_FOLDER:
                self.role = "files"
                return "{{ cookiecutter | check_before_writing }}" + source
            self.role = "hook" if source in HOOK_SOURCES else "prompts"
        if self.role != "prompts":
            return source
        if any(m in source for m in answers.JINJA_MARKERS):
            literal = jinja_literal(source)  # an answer: literal, refused by the next check
            if source in OWN_TEMPLATES.values():  # valid Jinja: the template's own
                own = json.dumps(source, ensure_ascii=False)
                source = (
                    f"{{% if cookiecutter | is_own_template({own}) %}}{source}"
                    f"{{% else %}}{literal}{{% endif %}}"
                )
            else:
                source = literal
        return CHECK_SO_FAR + source


# Earlier bakes name the extension by its former name in their replay files and
# .cruft.json; replaying them still works.
QuotingExtension = TemplateExtension
