"""Finish the generated project, touching only what this bake wrote.

- Files of options not chosen are removed if this bake created them, put back as they
  were if the folder had them before (cookiecutter ``-f`` overwrote them), and left
  alone if cookiecutter skipped them (``-s``).
- ``.env`` is made from ``.env.example`` by the project's own tools/envlock/dotenv_file.py.
- git: a folder that is already inside a git repository gets no commit and nothing
  staged, only one line saying what to commit. Otherwise a new repository commits the
  files this bake wrote, each named, never ``.env`` or another ``.env.*`` file.

Git problems never fail the bake: without git, or without a git identity, the project
is still complete and one line says what to do.
"""

from __future__ import annotations

import base64
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

# Rendered by the template's extension: the template's hooks folder (existing_folder.py,
# shared with the pre-generation hook), the file of the pre-generation hook's note, and
# the plan.
STATE = json.loads(r"""{{ cookiecutter | post_gen_state | tojson }}""")
sys.dont_write_bytecode = True  # no __pycache__ in the template's hooks folder
sys.path.insert(0, STATE["hooks"])
import existing_folder

COMMIT_MESSAGE = "Initial project setup"


def keep_skipped(project: Path, state: dict, written: list[str]) -> list[str]:
    """With -s, put back the user's files cookiecutter copied over anyway (those of
    ``_copy_without_render``); the files this bake really wrote."""
    if not state.get("skip"):
        return written
    kept = []
    for name in written:
        saved = state["saved"].get(name)
        if saved is None or state["files"].get(name) is None:
            kept.append(name)
            continue
        path = project / name
        path.write_bytes(base64.b64decode(saved["content"]))
        path.chmod(saved["mode"])
    return kept


def settle_unchosen(project: Path, state: dict, written: list[str], unchosen: list[str]) -> None:
    for name in unchosen:
        path = project / name
        if name not in written:  # skipped (-s): the user's file, untouched
            continue
        if name in state["saved"]:  # the user's own file, overwritten (-f): back as it was
            saved = state["saved"][name]
            path.write_bytes(base64.b64decode(saved["content"]))
            path.chmod(saved["mode"])
        elif state["files"].get(name) is None:  # made by this bake for nothing
            path.unlink()


def remove_empty_folders(project: Path, plan: dict[str, list[str]], existed: list[str]) -> None:
    """The folders cookiecutter made only for files of options not chosen (``docs/`` of a
    ``docs=none`` bake), deepest first; a folder that was there before is the user's."""
    folders = existing_folder.unchosen_folders(plan)
    for name in sorted(folders, key=lambda folder: folder.count("/"), reverse=True):
        path = project / name
        if name not in existed and path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def remove_caches(project: Path, caches: list[str], existed: list[str]) -> None:
    """Caches copied from a template folder used in place (its tools ran there)."""
    for name in caches:
        if name not in existed:
            shutil.rmtree(project / name, ignore_errors=True)


def private(name: str) -> bool:
    """``.env`` and ``.env.*`` files (but the example) hold secrets: never committed."""
    base = Path(name).name
    return (base == ".env" or base.startswith(".env.")) and base != ".env.example"


def create_dotenv(project: Path) -> str:
    """``.env`` through the project's own code, the one place that makes it (mode 0600)."""
    sys.path.insert(0, str(project / "tools"))
    try:
        try:
            from envlock import EnvlockError
            from envlock.dotenv_file import ensure_dotenv
        except ImportError:  # the user's own tools/envlock, kept by -s
            return (
                ".env not created: tools/envlock here is not the template's (kept by -s); "
                "make it with `install -m 600 .env.example .env`"
            )
        try:
            return ensure_dotenv(project)
        except EnvlockError as error:
            return f".env not created: {error}"
    finally:
        sys.path.remove(str(project / "tools"))


def git(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args], cwd=project, input=stdin, capture_output=True, text=True, check=False
    )


def to_commit(project: Path, files: list[str]) -> list[str]:
    """The files git should track: not private, not ignored by the project's .gitignore."""
    candidates = [f for f in files if not private(f) and (project / f).exists()]
    ignored = git(project, "check-ignore", "--no-index", "--stdin", stdin="\n".join(candidates))
    skip = set(ignored.stdout.splitlines())
    return [f for f in candidates if f not in skip]


def in_existing_repository(project: Path, files: list[str]) -> str:
    top = git(project, "rev-parse", "--show-toplevel").stdout.strip()
    names = to_commit(project, files)
    add = shlex.join(["git", "add", "--", *names])
    # What the user had staged before, anywhere in the repository (paths from its top):
    # `git commit` would take it along.
    staged = git(project, "diff", "--cached", "--name-only").stdout.split()
    first = (
        f"first commit or unstage what you had staged ({', '.join(staged)}), as "
        "`git commit` would take it along; then "
        if staged
        else ""
    )
    # Files git tracks that this bake overwrote (-f): the command below would commit the
    # template's version over the user's, so they are named first.
    replaced = git(project, "diff", "--name-only", "--relative", "--", *files).stdout.split()
    warning = (
        f"; -f replaced {len(replaced)} file(s) git tracks with the template's: "
        f"{', '.join(replaced)} (`git diff` shows how, `git checkout -- FILE` puts yours "
        "back; the command below commits the template's)"
        if replaced
        else ""
    )
    return (
        f"{project.name} is inside the git repository {top}: nothing was staged or "
        f"committed{warning}; to commit what the template wrote: {first}"
        f"cd {shlex.quote(project.name)} && {add} && git commit -m {shlex.quote(COMMIT_MESSAGE)}"
    )


def overwritten_untracked(project: Path, note: dict, written: list[str]) -> str | None:
    """One line naming the files the user had that -f overwrote and git has no copy of
    (a tracked one is named with the git line, which says how to get it back)."""
    had = [name for name in written if note["files"].get(name) is not None]
    if not had:
        return None
    if shutil.which("git") is not None:
        listed = git(project, "ls-files", "-z", "--", *had)
        tracked = set(listed.stdout.split("\0")) if listed.returncode == 0 else set()
        had = [name for name in had if name not in tracked]
    if not had:
        return None
    return (
        f"-f replaced {len(had)} file(s) you had, which git does not track, with the "
        f"template's: {', '.join(had)} (their former content is not kept; `-f -s` keeps "
        "the files that exist)"
    )


def identity_commands(context: dict) -> str:
    """The two commands that give git an identity, with the author's answers in them."""
    name = str(context.get("author_name") or "").strip() or "Your Name"
    email = str(context.get("author_email") or "").strip() or "you@example.com"
    return (
        f"`git config --global user.name {shlex.quote(name)}` and "
        f"`git config --global user.email {shlex.quote(email)}`"
    )


def new_repository(project: Path, files: list[str], context: dict) -> str:
    init = ["init", "--quiet"]
    if not git(project, "config", "--get", "init.defaultBranch").stdout.strip():
        init.append("--initial-branch=main")
    initialised = git(project, *init)
    if initialised.returncode != 0:
        # Its reason (a stray .git file, a folder it may not write): running git init
        # again would only fail the same way.
        reason = (initialised.stderr.strip().splitlines() or ["no output"])[-1]
        return (
            f"git init failed ({reason}): the project has no repository yet; once that "
            "is fixed, `git init`, then commit the files"
        )
    names = to_commit(project, files)
    if git(project, "add", "--", *names).returncode != 0:
        return "git could not stage the new files: nothing was committed; run `git status`"
    committed = git(project, "commit", "--quiet", "--message", COMMIT_MESSAGE)
    if committed.returncode != 0:
        commit = f"`cd {shlex.quote(project.name)} && git commit -m {shlex.quote(COMMIT_MESSAGE)}`"
        if "ident" in committed.stderr.lower() or "who you are" in committed.stderr:
            return (
                "git could not commit, as it has no user identity here: the new files are "
                f"staged, not committed; set one ({identity_commands(context)}), then {commit}"
            )
        last = (committed.stderr.strip().splitlines() or ["no output"])[-1]
        return (
            f"git could not commit ({last}): the new files are staged, not committed; "
            f"once `git commit` works here, {commit}"
        )
    return f"git repository created with a first commit of {len(names)} files: {COMMIT_MESSAGE!r}"


def dotenv_not_ignored(project: Path) -> str | None:
    """One line when git would offer ``.env`` to ``git add``: a .gitignore the bake kept
    (``-f -s``), or one above the project, that does not ignore it."""
    if (
        not (project / ".env").exists()
        # check-ignore: 0 ignored, 1 not ignored, 128 no repository (git init failed)
        or git(project, "check-ignore", "-q", ".env").returncode != 1
    ):
        return None
    return (
        "git does not ignore .env here (the .gitignore that applies lacks it): add a line "
        "`.env` to .gitignore before any `git add`, so that your secrets are never committed"
    )


def set_up_git(project: Path, files: list[str], context: dict) -> list[str]:
    if shutil.which("git") is None:
        return ["git not found: the project has no repository yet; install git, then `git init`"]
    if git(project, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true":
        said = in_existing_repository(project, files)
    else:
        said = new_repository(project, files, context)
    warning = dotenv_not_ignored(project)
    return [said] + ([warning] if warning else [])


def main(state: dict, context: dict) -> int:
    project = Path.cwd()
    plan = state["plan"]
    note = existing_folder.read_note(Path(state["note"]))
    if note is None:
        print(
            "the note of the pre-generation hook is missing: files of options not chosen "
            "were left in place and nothing was committed; check `git status`"
        )
        return 0
    written = keep_skipped(
        project, note, existing_folder.written_by_this_bake(project, note["files"])
    )
    settle_unchosen(project, note, written, plan["unchosen"])
    lost = overwritten_untracked(project, note, [f for f in written if f not in plan["unchosen"]])
    if lost:
        print(lost)
    remove_empty_folders(project, plan, note["folders"])
    remove_caches(project, plan["caches"], note["caches"])
    print(create_dotenv(project))
    if context["init_git"] == "yes":
        # The files of options not chosen are gone, or the user's own again.
        kept = [f for f in written if f not in plan["unchosen"]]
        for line in set_up_git(project, kept, context):
            print(line)
    print(f"Next: cd {shlex.quote(project.name)} && nox -s setup")
    return 0


if __name__ == "__main__":
    # tojson writes ' as \u0027, so no answer can end these strings early.
    sys.exit(main(STATE, json.loads(r"""{{ cookiecutter | tojson }}""")))
