"""`nox -s setup`: bring the project's environment to its lock, and say how to use it."""

from __future__ import annotations

from envlock import backends, env_dirs, pythons
from envlock.context import Context, saying_what_became_of
from envlock.dotenv_file import ensure_dotenv
from envlock.lock import read_trusted_lock
from envlock.session_guard import changes_environment
from envlock.settings import Project

__all__ = ["set_up"]


@changes_environment("setup")
def set_up(project: Project, ctx: Context) -> list[str]:
    """Bring the environment to the lock (locking first if there is no lock); return the
    lines to show at the end."""
    backend = backends.for_project(project, ctx)
    env = backend.env_dir
    env_dirs.recover(env)
    target = backend.main_lock
    read_trusted_lock(project, ctx, target, lock_if_missing=True)
    state = env_dirs.wanted_state(project, target.output)
    python = backend.python(env)
    if env_dirs.is_current(env, state, python) and pythons.interpreter_problem(python) is None:
        ctx.log(f"{env.name} already matches {target.output.name}: nothing to install")
    else:
        try:
            with saying_what_became_of(env):
                backend.bring_to_lock(state)
        finally:
            env_dirs.recover(env)
    return [
        ensure_dotenv(project.root),
        "Activate the environment with:",
        *backend.activation_lines(),
        "Install the offline pre-commit hooks with `nox -s hooks` (once per clone).",
    ]
