"""`nox -s setup`: bring the project's environment to its lock, and say how to use it.

The environment is never changed in place: a new one is built beside it and swapped in
(or, for a conda prefix, built at its path with the old one kept aside), so a failure,
a full disk or Ctrl-C at any point leaves the old one working.
"""

from __future__ import annotations

from envlock import EnvlockError, backends, env_dirs, lock_platform, pythons
from envlock.context import Context
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
    place = env_dirs.place(env)
    env_dirs.recover(place)
    not_one = env_dirs.not_an_environment(place, env.is_symlink())
    if not_one:
        raise EnvlockError(not_one)
    target = backend.main_lock
    read_trusted_lock(project, ctx, target, lock_if_missing=True)
    state = env_dirs.wanted_state(project, target.output)
    found = env_dirs.problem(place, backend.python(place), project.python)
    if found and found[1]:
        raise EnvlockError(
            f"{found[0]}, so setup leaves it alone: `nox -s rebuild` replaces it with a "
            "new environment once that has passed its checks (or move it away)"
        )
    if found is None and place.exists():  # its files look sound: does its Python run?
        broken = pythons.running_problem(backend.python(place))
        found = (broken, False) if broken else None
    if found is None and env_dirs.read_state(place) == state:
        ctx.log(f"{env.name} already matches {target.output.name}: nothing to install")
        in_the_way = env_dirs.leftovers_in_the_way(place)
        if in_the_way:
            ctx.log(in_the_way)
    else:
        if found:
            ctx.log(f"{found[0]}: building {env.name} again, beside the old one")
        with env_dirs.changing(env):
            backend.bring_to_lock(state)
    other_platform = lock_platform.mismatch(target)
    return [
        *([other_platform] if other_platform else []),
        ensure_dotenv(project.root),
        "Activate the environment with:",
        *backend.activation_lines(),
        "Install the offline pre-commit hooks with `nox -s hooks` (once per clone).",
    ]
