"""The project's Jupyter kernel: registered inside its environment, and JupyterLab from it.

The kernel is registered with ipykernel's own installer under the environment's prefix
(``share/jupyter/kernels/<name>``), so the JupyterLab of that environment offers it and
nothing outside the project changes. A new environment (``nox -s rebuild``) has no
kernel until it is registered again, which is why the sessions call ``register_kernel``
after each one. An environment without ipykernel gets no kernel.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from envlock import EnvlockError
from envlock.env_imports import has_module
from envlock.settings import load_project

__all__ = ["kernel_name", "lab_argv", "register_kernel"]

# Run by the environment's own Python: registers the kernel unless it is registered
# already with this interpreter and name; prints what it did.
REGISTER_SCRIPT = """
import importlib.util, json, os, sys
name, display_name = sys.argv[1:3]
if importlib.util.find_spec("ipykernel") is None:
    print("no-ipykernel")
    raise SystemExit(0)
spec = os.path.join(sys.prefix, "share", "jupyter", "kernels", name, "kernel.json")
try:
    with open(spec, encoding="utf-8") as handle:
        current = json.load(handle)
except (OSError, ValueError):
    current = {}
if current.get("display_name") == display_name and current.get("argv", [""])[0] == sys.executable:
    print("current")
    raise SystemExit(0)
from ipykernel.kernelspec import install
install(kernel_name=name, display_name=display_name, prefix=sys.prefix)
print("registered")
"""


def kernel_name(project_root: Path) -> str:
    """The kernel's folder name: the distribution name, in the characters Jupyter allows."""
    name = load_project(project_root).distribution or project_root.name
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "project"


def register_kernel(project_root: Path, env_python: Path, display_name: str) -> str | None:
    """Register the environment's kernel as ``display_name``; return the line to show, or
    None when there is nothing to say (no environment, no ipykernel, or already done)."""
    if not env_python.exists():
        return None
    name = kernel_name(project_root)
    result = subprocess.run(
        [str(env_python), "-I", "-c", REGISTER_SCRIPT, name, display_name],
        capture_output=True,
        text=True,
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvlockError(
            f"registering the Jupyter kernel failed ({last}): the environment may be "
            "damaged; `nox -s rebuild` makes it again"
        )
    if result.stdout.strip() != "registered":
        return None
    return (
        f"Jupyter kernel {display_name!r} registered in the environment: `nox -s lab` "
        "(or jupyter lab started from the environment) offers it"
    )


def lab_argv(env_dir: Path, python: Path, args: list[str]) -> list[str]:
    """The command that starts JupyterLab from the environment at ``env_dir``."""
    if not python.exists():
        raise EnvlockError(f"no {env_dir.name} yet: run `nox -s setup` first")
    if not has_module(python, "jupyterlab"):
        raise EnvlockError(
            f"JupyterLab is not in {env_dir.name}: add jupyterlab and ipykernel to "
            "requirements-dev.in (a bake with notebooks=yes has them), then `nox -s lock` "
            "and `nox -s setup`"
        )
    return [str(python), "-m", "jupyterlab", *args]
