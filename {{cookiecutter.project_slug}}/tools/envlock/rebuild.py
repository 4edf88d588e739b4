"""`nox -s rebuild`: build a fresh environment beside the current one, prove it matches
the lock, and only then put it in place; write ``rebuild-report.json``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from envlock import EnvlockError, backends, engines, env_dirs
from envlock.backends import Backend
from envlock.checks import Check, all_passed, command_check, render_table, summary_json
from envlock.context import Context
from envlock.fs import fingerprint, write_json
from envlock.lock import read_trusted_lock
from envlock.session_guard import changes_environment
from envlock.settings import Project

__all__ = ["REPORT_NAME", "rebuild_environment", "verify_build"]

REPORT_NAME = "rebuild-report.json"


def verify_build(
    project: Project, ctx: Context, backend: Backend, env: Path, pytest_args: list[str]
) -> tuple[list[Check], list[str]]:
    """The checks of a new build at ``env`` (the noxfile's ``REBUILD_CHECKS`` last), and
    how its packages differ from the lock."""
    comparison = backends.compare_with_lock(backend, project, env)
    checks = [Check("installed = lock", comparison.matches, "; ".join(comparison.problems()))]
    python = backend.python(env)
    commands = [
        ("dependencies consistent", engines.check_argv(ctx.uv, python)),
        (f"import {project.package}", [str(python), "-c", f"import {project.package}"]),
        ("tests pass", [str(python), "-m", "pytest", *pytest_args]),
    ]
    for name, argv in commands:
        ctx.log(f"checking: {name}")
        checks.append(command_check(name, argv, project.root))
    for extra in ctx.extensions.rebuild_checks:
        # Said before it runs, so whatever the check prints comes under its line.
        ctx.log(f"checking: {getattr(extra, '__name__', 'a check of REBUILD_CHECKS')}")
        checks.append(extra(python))
    return checks, comparison.problems()


def _start_report(path: Path, report: dict[str, object]) -> None:
    """Write the "not finished" report before anything is built. If it cannot be written
    (a full disk, a read-only file), the old report goes instead, since it may be an
    older run's success, and nothing is rebuilt."""
    if path.is_dir():  # made by hand: neither written nor removed, and not the user's to lose
        raise EnvlockError(
            f"{path.name} is a folder, where the rebuild writes its report: move it away; "
            "nothing was rebuilt"
        )
    try:
        write_json(path, report)
    except EnvlockError as error:
        text = str(error)  # "cannot write PATH (WHY): ..." or "NAME is read-only, ..."
        reason = (
            text.split(": ", 1)[0] if text.startswith("cannot") else f"{path.name} is read-only"
        )
        try:
            path.unlink(missing_ok=True)
            gone = f"the old {path.name} was removed, so it claims no older success"
        except OSError as unlink_error:
            gone = f"the old {path.name} could not be removed either ({unlink_error.strerror})"
        raise EnvlockError(
            f"{reason}: nothing was rebuilt and {gone}; make room or make {path.name} and its "
            "folder writable, then run this again"
        ) from None


@changes_environment("rebuild")
def rebuild_environment(
    project: Project, ctx: Context, pytest_args: list[str]
) -> dict[str, object]:
    """Build, verify, put in place. Writes and returns the report; raises when a check
    failed, in which case the current environment is left exactly as it was.

    The report is written first as "not finished", so whatever stops this run (a
    failure, Ctrl-C, a kill) leaves a report that says it did not succeed, never an
    older run's success."""
    backend = backends.for_project(project, ctx)
    env = backend.env_dir
    place = env_dirs.place(env)
    env_dirs.recover(place)
    not_one = env_dirs.not_an_environment(place, env.is_symlink())
    if not_one:  # never replaced, even after passing checks: its files are not ours
        raise EnvlockError(not_one)
    target = backend.main_lock
    read_trusted_lock(project, ctx, target, lock_if_missing=False)
    started = time.perf_counter()
    report: dict[str, object] = {
        "env": env.name,
        "python": project.python,
        "lock": target.output.name,
        "lock_sha256": fingerprint(target.output),
        "platform": sys.platform,
        "ok": False,
        "step": "building",
        "error": "the rebuild did not finish (it was interrupted or killed)",
        "checks": [],
    }
    _start_report(project.root / REPORT_NAME, report)
    checks: list[Check] = []
    try:
        with env_dirs.changing(env):
            staging = env_dirs.claim_staging(place)
            backend.build(staging)
            report["step"] = "checking"
            write_json(project.root / REPORT_NAME, report)
            checks, report["differences"] = verify_build(
                project, ctx, backend, staging, pytest_args
            )
            if all_passed(checks):
                report["step"] = "putting in place"
                write_json(project.root / REPORT_NAME, report)  # a kill now is told as such
                backend.put_in_place(staging, env_dirs.wanted_state(project, target.output))
            else:
                env_dirs.recover(place)  # the failed build goes; .venv was never touched
    except EnvlockError as error:
        report.update(summary_json(checks), ok=False, error=str(error))
        report["seconds"] = round(time.perf_counter() - started, 1)
        write_json(project.root / REPORT_NAME, report)
        raise
    report.update(summary_json(checks), seconds=round(time.perf_counter() - started, 1))
    report.pop("error")
    report["step"] = "done" if report["ok"] else "checking"
    if not report["ok"]:
        report["error"] = "a check failed"
    write_json(project.root / REPORT_NAME, report)
    ctx.log("rebuild report:\n" + render_table(checks))
    if not all_passed(checks):
        raise EnvlockError(
            f"the rebuilt environment failed a check (see the table and "
            f"{REPORT_NAME}); {env.name} was left as it was"
        )
    return report
