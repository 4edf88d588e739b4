"""The built-in conda backend: ``.conda`` solved, locked and installed by py-rattler, with
no conda executable at all (``conda-solver = "rattler"``).

py-rattler and conda-lock live in their own environment, ``.nox/rattler``, installed the
first time it is needed from the pinned, hash-checked ``tool-locks/py-rattler.txt``; what
runs there is ``envlock.conda_rattler``, one JSON request per call. The lock is
conda-lock's own format, written by conda-lock's own writer, so conda-lock (and conda,
mamba or micromamba through it) can read and install it too. Packages are downloaded
into ``.nox/rattler-cache`` and copied from there into the prefix (each cached file
checked against its package's hash first).

How a prefix is put in place (it cannot be moved) is ``conda_prefix``'s, shared with
the conda-lock backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from envlock import EnvlockError, lockfiles
from envlock.backends import Packages
from envlock.backends.conda_prefix import CondaPrefixBackend
from envlock.checks import Check
from envlock.context import tool_python
from envlock.lock_set import Compiled, scratch_path
from envlock.lockfiles import LockTarget
from envlock.pythons import EnvFacts
from envlock.runner import cannot_start
from envlock.settings import Project

__all__ = ["RattlerBackend", "rattler_lock_target", "upgrade_request"]

TOOLS_DIR = Path(__file__).resolve().parents[2]  # the folder that holds envlock/


def rattler_lock_target(project: Project) -> LockTarget:
    """conda-lock.yml, from environment.yml and the virtual packages it is solved for."""
    virtual = project.conda_virtual_packages
    return LockTarget(
        project.environment,
        project.conda_lock,
        project.python,
        universal=True,
        engine="rattler",
        inputs=(project.environment,),
        conda=True,
        settings=json.dumps(virtual, sort_keys=True) if virtual else "",
    )


def upgrade_request(engine_args: list[str]) -> tuple[bool, list[str]]:
    """``nox -s lock -- ...`` for rattler: whether to solve afresh (``--upgrade``), and
    the packages to solve afresh while keeping every other pin (``--upgrade-package``)."""
    fresh, names, items = False, [], iter(engine_args)
    for item in items:
        if item in ("--upgrade", "-U"):
            fresh = True
        elif item in ("--upgrade-package", "-P"):
            names.append(next(items, ""))
        elif item.startswith("--upgrade-package="):
            names.append(item.split("=", 1)[1])
        else:
            raise EnvlockError(
                f"`nox -s lock -- {item}`: with the rattler solver the lock takes only "
                "--upgrade and --upgrade-package NAME"
            )
    if "" in names:
        raise EnvlockError("--upgrade-package needs a package name: --upgrade-package NAME")
    return fresh, names


NO_ANSWER = (
    "the rattler tool gave no package tables: delete .nox/rattler, which the next session "
    "installs afresh from its tool lock"
)


def changed_detail(changed: list[object], env: Path) -> str:
    """The doctor detail for files of the prefix that differ from their packages."""
    if not changed:
        return "every file matches the sha256 its package recorded"
    shown = ", ".join(str(path) for path in changed[:3])
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    return (
        f"{len(changed)} file(s) in {env.name} differ from their packages ({shown}{more}): "
        "`nox -s rebuild` installs them again"
    )


class RattlerBackend(CondaPrefixBackend):
    """A conda prefix at ``.conda`` made by py-rattler (see the module's docstring)."""

    # --- the rattler tool environment ---------------------------------------------------

    def tool_python(self) -> Path:
        """The Python of .nox/rattler (py-rattler and conda-lock), synced to the tool lock."""
        return tool_python(self.project, self.ctx, "rattler", Path(sys.executable), "py-rattler")

    def call(self, command: str, **request: object) -> object:
        """One request to ``envlock.conda_rattler``; its one-line failure is raised as is."""
        request.setdefault("mirrors", {k: list(v) for k, v in self.project.conda_mirrors.items()})
        request.setdefault("cache_dir", str(self.project.root / ".nox" / "rattler-cache"))
        argv = [str(self.tool_python()), "-m", "envlock.conda_rattler", command]
        try:
            result = subprocess.run(
                argv,
                input=json.dumps(request),
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(TOOLS_DIR)},
                check=False,
            )
        except OSError as error:
            raise cannot_start(argv, error) from None
        lines = result.stderr.strip().splitlines()
        if result.returncode == 1 and lines:
            raise EnvlockError(lines[-1])
        if result.returncode != 0:
            raise EnvlockError(
                f"the rattler tool stopped with exit code {result.returncode} "
                f"({lines[-1] if lines else 'no output'}): delete .nox/rattler, which the next "
                "session installs afresh from its tool lock"
            )
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise EnvlockError(
                f"the rattler tool printed something that is not JSON: {result.stdout[:200]!r}"
            ) from None

    # --- Backend ---------------------------------------------------------------------------

    @property
    def main_lock(self) -> LockTarget:
        return rattler_lock_target(self.project)

    def check_can_lock(self) -> None:
        if not self.project.environment.exists():
            raise EnvlockError(f"{self.project.environment.name} is missing: create it")

    def compile_own_locks(self, engine_args: list[str]) -> list[Compiled]:
        """Solve into a scratch file that starts as the old lock's body (its pins are
        kept unless asked); `nox -s lock` puts it in place with the rest of the set."""
        fresh, names = upgrade_request(engine_args)
        target = self.main_lock
        inputs = lockfiles.inputs_digest(self.project, target)  # before the solve reads them
        scratch = scratch_path(target)
        try:
            if not fresh and target.output.exists():
                scratch.write_text(lockfiles.read_body(target.output), encoding="utf-8")
            self.ctx.timed(
                f"locking {target.output.name} with rattler",
                lambda: self.call(
                    "lock",
                    environment=str(self.project.environment),
                    output=str(scratch),
                    lock_name=target.output.name,
                    upgrade_packages=names,
                    virtual_packages={
                        k: dict(v) for k, v in self.project.conda_virtual_packages.items()
                    },
                ),
            )
            body = scratch.read_text(encoding="utf-8")
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
        return [Compiled(target, body.replace(scratch.name, target.output.name), inputs, scratch)]

    def create(self, env: Path) -> None:
        lock = self.project.conda_lock
        name = self.env_dir.name  # the name the user knows, also when it is a link
        self.ctx.timed(
            f"creating {name} from {lock.name} with rattler",
            lambda: self.call(
                "install",
                lockfile=str(lock),
                prefix=str(env),
                activation_scripts=True,
                name=name,
            ),
        )

    def packages(self, env: Path) -> Packages:
        found = self.call("packages", lockfile=str(self.project.conda_lock), prefix=str(env))
        if not isinstance(found, dict):
            raise EnvlockError(NO_ANSWER)
        locked, installed = found.get("locked"), found.get("installed")
        if not isinstance(locked, dict) or not isinstance(installed, dict):
            raise EnvlockError(NO_ANSWER)
        return Packages(
            {str(k): str(v) for k, v in locked.items()},
            {str(k): str(v) for k, v in installed.items()},
        )

    def isolation_checks(self, env: Path, facts: EnvFacts) -> list[Check]:
        # A conda prefix has no base interpreter whose site-packages could leak; what it
        # has is files that can be changed in place, which no package list shows.
        changed = self.call("changed", prefix=str(env))
        if not isinstance(changed, list):
            raise EnvlockError("the rattler tool gave no list of changed files")
        return [Check("prefix files as installed", not changed, changed_detail(changed, env))]

    def activation_lines(self) -> list[str]:
        name = self.env_dir.name
        conda = f"  conda activate ./{name}  (micromamba: micromamba activate ./{name})"
        if sys.platform == "win32":
            scripts = f"{name}\\etc\\envlock"
            both = f". .\\{scripts}\\activate.ps1 (PowerShell) or {scripts}\\activate.bat (cmd)"
            return [conda, f"  without conda: {both}"]
        scripts = f"{name}/etc/envlock"
        both = f"source {scripts}/activate.sh (bash, zsh) or source {scripts}/activate.fish"
        return [
            conda,
            f"  without conda: {both}",
            f'  or only put it first on PATH: export PATH="$PWD/{name}/bin:$PATH"',
        ]
