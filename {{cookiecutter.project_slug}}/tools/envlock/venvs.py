"""Virtual environments: where their files are, what they hold, and swapping a new one in."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

STATE_FILE = "envlock-state.json"

# Prints the PEP 508 marker values and the installed distributions of the interpreter
# that runs it, so a lock's markers can be evaluated for that environment.
INSPECT_SCRIPT = """
import importlib.metadata, importlib.util, json, os, platform, sys
def version(info):
    text = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text
markers = {
    "implementation_name": sys.implementation.name,
    "implementation_version": version(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
installed = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}
own = os.path.realpath(sys.prefix)
global_site = sys.prefix != sys.base_prefix and any(
    os.path.basename(p) in ("site-packages", "dist-packages")
    and not os.path.realpath(p).startswith(own)
    for p in sys.path
)
importable = {name: importlib.util.find_spec(name) is not None for name in PROBES}
print(json.dumps({"markers": markers, "installed": installed, "global_site": global_site,
                  "importable": importable}))
"""


def env_executable(env: Path, name: str, platform: str = sys.platform) -> Path:
    """A program installed in the venv at ``env``: ``Scripts\\<name>.exe`` on Windows."""
    if platform == "win32":
        return env / "Scripts" / f"{name}.exe"
    return env / "bin" / name


def env_python(env: Path, platform: str = sys.platform) -> Path:
    return env_executable(env, "python", platform)


def activation_commands(env_name: str, platform: str = sys.platform) -> dict[str, str]:
    """How to activate the environment, per shell."""
    if platform == "win32":
        return {
            "cmd": f"{env_name}\\Scripts\\activate.bat",
            "PowerShell": f"{env_name}\\Scripts\\Activate.ps1",
        }
    return {
        "bash/zsh": f"source {env_name}/bin/activate",
        "fish": f"source {env_name}/bin/activate.fish",
    }


# Modules people expect to find (or not) in a data project, and the distributions
# (PyPI or conda-forge names) that provide them: the isolation check imports them.
PROBES = {
    "numpy": {"numpy"},
    "pandas": {"pandas"},
    "sklearn": {"scikit-learn"},
    "matplotlib": {"matplotlib", "matplotlib-base"},
    "torch": {"torch", "pytorch"},
    "torchvision": {"torchvision"},
    "transformers": {"transformers"},
    "tokenizers": {"tokenizers"},
    "dotenv": {"python-dotenv"},
    "requests": {"requests"},
}


def inspect_env(python: Path) -> dict:
    """Marker values, installed distributions, whether the global site-packages is
    visible, and which of PROBES can be imported, in the environment of ``python``."""
    script = f"PROBES = {sorted(PROBES)!r}\n{INSPECT_SCRIPT}"
    result = subprocess.run(
        [str(python), "-I", "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def fingerprint(*paths: Path) -> str:
    """Digest of files whose change means the environment must be synced again."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_state(env: Path) -> dict:
    try:
        return json.loads((env / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_state(env: Path, state: dict) -> None:
    (env / STATE_FILE).write_text(
        json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def is_current(env: Path, state: dict, python: Path) -> bool:
    """True when the environment exists and was last synced to exactly ``state``."""
    return python.exists() and read_state(env) == state


def staging_dir(env: Path) -> Path:
    """Where a new environment is built before it replaces ``env``."""
    return env.with_name(env.name + ".new")


def retired_dir(env: Path) -> Path:
    """Where the last good environment waits while its replacement is put in place."""
    return env.with_name(env.name + ".old")


def recover(env: Path) -> None:
    """Undo what an interrupted build or swap left, keeping the last good environment.

    An environment counts as complete once its state file is written, which is the
    last step of every build.
    """
    retired = retired_dir(env)
    if retired.exists():
        if env.exists() and (env / STATE_FILE).exists():
            shutil.rmtree(retired)
        else:
            if env.exists():
                shutil.rmtree(env)
            retired.rename(env)
    staging = staging_dir(env)
    if staging.exists():
        shutil.rmtree(staging)


def swap_in(new: Path, env: Path) -> None:
    """Put the complete environment ``new`` in the place of ``env``, then drop the old one."""
    retired = retired_dir(env)
    if env.exists():
        env.rename(retired)
    new.rename(env)
    if retired.exists():
        shutil.rmtree(retired)


def replace_in_place(env: Path, build: Callable[[Path], None], state: dict) -> None:
    """Build a new environment at ``env``'s own path (for environments that cannot be
    moved, such as conda prefixes). The old one waits beside it and comes back if the
    build fails or is interrupted."""
    retired = retired_dir(env)
    if env.exists():
        env.rename(retired)
    try:
        build(env)
        write_state(env, state)
    except BaseException:
        if env.exists():
            shutil.rmtree(env)
        if retired.exists():
            retired.rename(env)
        raise
    if retired.exists():
        shutil.rmtree(retired)
