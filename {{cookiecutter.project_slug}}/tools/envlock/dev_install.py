"""`nox -s tests` and `nox -s lint`: sync the session's own venv to the dev lock."""

from __future__ import annotations

from pathlib import Path

from envlock import lock_platform, lockfiles
from envlock.backends.venv import install_lock
from envlock.context import Context
from envlock.lock import read_trusted_lock
from envlock.settings import Project

__all__ = ["install_dev_lock"]


def install_dev_lock(project: Project, ctx: Context, python: str, venv_python: Path) -> None:
    """Sync the venv of ``venv_python`` to the dev lock of Python ``python``.

    The lock is compiled first when there is none, and refused when it is stale or edited.
    """
    target = lockfiles.dev_target(project, python)
    lockfiles.parse_pins(target.output, read_trusted_lock(project, ctx, target, True))
    if other_platform := lock_platform.mismatch(target):
        ctx.log(other_platform)  # what fails below may be this platform's dependencies
    install_lock(project, ctx, venv_python, target.output)
