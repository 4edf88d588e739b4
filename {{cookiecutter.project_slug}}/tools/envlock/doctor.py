"""`nox -s doctor`: check the environment's isolation and the project's secrets."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from envlock import (
    EnvlockError,
    backends,
    engines,
    env_dirs,
    lock_platform,
    names,
    pythons,
    secret_checks,
)
from envlock.backends import Backend
from envlock.checks import Check, all_passed
from envlock.comparison import compare
from envlock.context import Context
from envlock.lock import trusted_set_body
from envlock.runner import quiet_output
from envlock.settings import Project

__all__ = ["diagnose", "environment_checks", "isolation_checks"]


def isolation_checks(project: Project, ctx: Context, backend: Backend) -> list[Check]:
    """The isolation checks of the existing environment (whose Python runs)."""
    env = backend.env_dir
    python = backend.python(env)
    probes = names.import_probes()
    facts = pythons.inspect_env(python, sorted(probes))
    found = backend.packages(env)
    version = facts.python_version
    checks = [
        _fixed_by_rebuild(
            Check(
                "Python version", version == project.python, f"{version}, expected {project.python}"
            )
        )
    ]
    checks += backend.isolation_checks(env, facts)
    comparison = compare(found.locked, found.installed, ignore={project.distribution})
    checks.append(
        _fixed_by_rebuild(
            Check("installed = lock", comparison.matches, "; ".join(comparison.problems()))
        )
    )
    checks.append(dependencies_check(ctx, python))
    locked = names.pypi_names(found.locked)
    wrong = []
    for module, distributions in sorted(probes.items()):
        expected = bool(distributions & locked)
        importable = facts.importable.get(module, False)
        if importable and not expected:
            wrong.append(f"{module} importable but not locked")
        elif expected and not importable:
            wrong.append(f"{module} locked but not importable")
    checks.append(
        _fixed_by_rebuild(Check("only locked modules import", not wrong, "; ".join(wrong)))
    )
    return checks


# uv pip check's own summary lines, which say how many problems but not which.
UV_SUMMARY = re.compile(r"^(Using Python|Checked \d+ packages?|Found \d+ incompatibilit)")


def dependencies_check(ctx: Context, python: Path) -> Check:
    """``uv pip check`` of the environment; on failure the detail is its lines that name
    the packages, and what fixes them."""
    passed, lines = quiet_output(engines.check_argv(ctx.uv, python))
    if passed:
        return Check("dependencies consistent", True, "; ".join(lines[:3]))
    named = [line for line in lines if not UV_SUMMARY.match(line)] or lines
    return Check(
        "dependencies consistent",
        False,
        f"{'; '.join(named)}: `nox -s rebuild` installs the lock's packages again",
    )


def environment_checks(project: Project, ctx: Context, backend: Backend) -> list[Check]:
    """Whether the environment exists and is sound (the same test `nox -s setup` makes
    before it builds), then its isolation checks."""
    env = backend.env_dir
    try:
        place = env_dirs.place(env)
    except EnvlockError as error:
        return [Check("environment exists", False, str(error))]
    if not place.exists():
        return [Check("environment exists", False, f"no {env.name}: run `nox -s setup`")]
    checks = [Check("environment exists", True, env.name)]
    not_one = env_dirs.not_an_environment(place, env.is_symlink())
    if not_one:
        return [*checks, Check("environment works", False, not_one)]
    found = env_dirs.problem(place, backend.python(place), project.python)
    if found and found[1]:
        todo = "`nox -s rebuild` replaces it with one that has passed its checks"
        return [*checks, Check("environment works", False, f"{found[0]}: {todo}")]
    if found:
        todo = "`nox -s setup` builds it again, beside the old one"
        return [*checks, Check("environment works", False, f"{found[0]}: {todo}")]
    try:
        return checks + isolation_checks(project, ctx, backend)
    except EnvlockError as error:
        return [*checks, Check("environment works", False, str(error))]


def _fixed_by_rebuild(check: Check) -> Check:
    """A failed row of the environment's contents ends with the command that fixes it:
    `setup` would find the environment current (its state matches), `rebuild` makes it
    afresh from the lock."""
    if check.ok:
        return check
    fix = "run `nox -s rebuild`"
    return dataclasses.replace(check, detail=f"{check.detail}: {fix}" if check.detail else fix)


def diagnose(project: Project, ctx: Context) -> tuple[bool, list[Check]]:
    """Every doctor row (the noxfile's ``DOCTOR_CHECKS`` last), and whether all passed."""
    backend = backends.for_project(project, ctx)
    target = backend.main_lock
    checks = []
    try:
        trusted_set_body(project, ctx, target)
    except EnvlockError as error:
        checks.append(Check("lock trusted", False, str(error)))
    else:
        checks.append(Check("lock trusted", True, target.output.name))
        checks += lock_platform.doctor_checks(target)  # a warning row
        checks += environment_checks(project, ctx, backend)
    problems = secret_checks.problems(project.root)
    checks.append(Check("secrets and .env", not problems, "; ".join(problems)))
    checks += [extra(project) for extra in ctx.extensions.doctor_checks]
    return all_passed(checks), checks
