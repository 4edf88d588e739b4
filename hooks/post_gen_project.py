"""Finish the generated project: drop files of options not chosen, make .env, commit.

Git problems never fail the bake: without git, or without a git identity, the project
is still complete and one line says what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Files that belong to one value of an option; removed when another value is chosen.
FILES_OF_OPTION = {
    ("env_manager", "conda"): ["environment.yml"],
}
COMMIT_MESSAGE = "Initial project setup"


def remove_unchosen(project: Path, context: dict) -> None:
    for (key, value), names in FILES_OF_OPTION.items():
        if context[key] != value:
            for name in names:
                path = project / name
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()


CACHE_DIRS = ("__pycache__", ".ruff_cache", ".pytest_cache")


def remove_caches(project: Path) -> None:
    """A template folder used in place may hold caches from running its tools there."""
    for name in CACHE_DIRS:
        for cache in list(project.rglob(name)):
            shutil.rmtree(cache, ignore_errors=True)


def create_dotenv(project: Path) -> None:
    """``.env`` from ``.env.example``, readable by its owner only (it will hold secrets)."""
    target = project / ".env"
    if target.exists():
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write((project / ".env.example").read_bytes())


def git(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=False)


def init_git(project: Path) -> str:
    """Make the first commit; return a line saying what happened."""
    if shutil.which("git") is None:
        return "git not found: the project has no repository yet; install git, then `git init`"
    init = ["init", "--quiet"]
    if not git(project, "config", "--get", "init.defaultBranch").stdout.strip():
        init.append("--initial-branch=main")
    if git(project, *init).returncode != 0:
        return "git init failed: the project has no repository yet; run `git init` yourself"
    git(project, "add", "--all")
    if git(project, "ls-files", "--", ".env").stdout.strip():  # never, but never commit it
        git(project, "rm", "--cached", "--quiet", "--", ".env")
    commit = git(project, "commit", "--quiet", "--message", COMMIT_MESSAGE)
    if commit.returncode != 0:
        return (
            "git could not commit (no user identity?): files are staged, not committed; "
            "set `git config --global user.name/user.email`, then `git commit -m "
            f"'{COMMIT_MESSAGE}'`"
        )
    return f"git repository created with a first commit: {COMMIT_MESSAGE!r}"


def main(context: dict) -> int:
    project = Path.cwd()
    remove_unchosen(project, context)
    remove_caches(project)
    create_dotenv(project)
    if context["init_git"] == "yes":
        print(init_git(project))
    print(f"Next: cd {project.name} && nox -s setup")
    return 0


if __name__ == "__main__":
    # tojson writes ' as \u0027, so no answer can end this string early.
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
