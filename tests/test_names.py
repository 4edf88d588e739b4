"""names.json against real locks: every distribution a preset's locks hold is listed,
with the modules it really installs.

Each preset is baked and locked for real (`nox -s lock`, uv, every platform and Python).
The module names are read from the RECORD files of what `nox -s setup` installs for the
presets that install here (none, ml, nlp); dl-cuda is locked only (gigabytes of CUDA
wheels), so for its own packages the test checks that they are listed, not their modules.
The CPU build of dl cannot be locked here (PyTorch's index is not reachable); its
packages are the CUDA build's without the CUDA ones, so dl's list is dl-cuda's. nlp's
CPU build comes from conftest's stand-in index (``nlp_project``). Bakes with notebooks
(the default of every preset but none) lock the ``notebooks`` set too; ``docs`` is a
none bake with notebooks and docs.

The tool locks (tools/envlock/tool-locks/*.txt) are read as they are shipped: every
distribution they pin must have its modules in names.json (``tool_imports`` for what no
project lock holds), checked against the same distributions installed in the template's
own test environment. These tests are fast; the bakes above are marked slow.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_TEMPLATE, bake, run_nox

NAMES = json.loads((PROJECT_TEMPLATE / "tools" / "envlock" / "names.json").read_text())
TOOL_LOCKS = sorted((PROJECT_TEMPLATE / "tools" / "envlock" / "tool-locks").glob("*.txt"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)
# Tool-lock distributions the template's own test environment does not install: two are
# for other platforms (markers), two the dev requirements do not pull in.
NOT_INSTALLED_HERE = {"pywin32-ctypes", "xattr", "pip-tools", "wheel"}
INSTALLED_HERE = ("none", "ml", "nlp", "docs")
# Read inside the project's environment: each installed distribution and the top-level
# modules its RECORD lists (packages, modules and extension modules; not the metadata,
# scripts, .pth files or mypyc's internal modules).
TOP_LEVEL = r"""
import importlib.metadata, json, re
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
found = {}
for dist in importlib.metadata.distributions():
    names = set()
    for path in dist.files or []:
        parts = path.parts
        first = parts[0]
        if first.startswith("..") or first.endswith((".dist-info", ".data", ".pth")):
            continue
        if first == "__pycache__" or first.endswith(".egg-link"):
            continue
        if len(parts) == 1:
            stem = first.split(".")[0]
            if first.endswith((".py", ".so", ".pyd")) and NAME.match(stem) and "__mypyc" not in stem:
                names.add(stem)
        elif NAME.match(first):
            names.add(first)
    found[dist.metadata["Name"]] = sorted(names)
print(json.dumps(found))
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def tool_locked() -> set[str]:
    """Every distribution the project's tool locks pin (uv, pip-tools, conda-lock, py-rattler
    and all they need, for every platform)."""
    return {canonical(m) for lock in TOOL_LOCKS for m in PIN.findall(lock.read_text())}


def test_every_tool_lock_distribution_has_its_modules_listed_once():
    """A tool lock that gains a package fails here until names.json lists its modules;
    tool_imports holds only what no project lock holds, and nothing the locks dropped."""
    pinned = tool_locked()
    assert len(TOOL_LOCKS) == 4 and {"uv", "pip", "py-rattler", "certifi"} <= pinned
    imports = {canonical(d) for d in NAMES["imports"]}
    tool_imports = {canonical(d) for d in NAMES["tool_imports"]}
    assert sorted(pinned - imports - tool_imports) == [], "add to names.json tool_imports"
    assert sorted(tool_imports & imports) == [], "listed twice in names.json"
    assert sorted(tool_imports - pinned) == [], "no tool lock pins these any more"


def test_listed_tool_modules_are_what_the_distributions_install():
    """Read from the RECORD of the same distributions in the template's own test
    environment (the dev requirements install most of the tools)."""
    found = json.loads(
        subprocess.run(
            [sys.executable, "-c", TOP_LEVEL], capture_output=True, text=True, check=True
        ).stdout
    )
    installed = {canonical(k): sorted(v) for k, v in found.items()}
    listed = {canonical(k): sorted(v) for k, v in NAMES["tool_imports"].items()}
    assert set(listed) >= NOT_INSTALLED_HERE and not NOT_INSTALLED_HERE & set(installed)
    compared = {name: installed[name] for name in listed if name in installed}
    assert len(compared) == len(listed) - len(NOT_INSTALLED_HERE)
    wrong = {name: modules for name, modules in compared.items() if listed[name] != modules}
    assert wrong == {}, f"names.json tool_imports should read: {json.dumps(wrong)}"


def locked(project: Path) -> set[str]:
    names: set[str] = set()
    for lock in project.glob("requirements*.txt"):
        names |= {canonical(m) for m in PIN.findall(lock.read_text())}
    return names


def optional_sets(project: Path) -> list[str]:
    """The sets of the optional tools the bake's dev inputs name."""
    inputs = (project / "requirements-dev.in").read_text().split()
    return [
        key for key, tool in (("notebooks", "jupyterlab"), ("docs", "mkdocs")) if tool in inputs
    ]


@pytest.fixture(scope="module", params=[*INSTALLED_HERE, "dl-cuda"])
def preset_project(request, tmp_path_factory) -> tuple[str, Path]:
    if request.param == "nlp":
        return "nlp", request.getfixturevalue("nlp_project")
    folder = tmp_path_factory.mktemp(f"names-{request.param}") / "out"
    if request.param == "docs":
        made = bake(folder, preset="none", notebooks="yes", docs="mkdocs")
        run_nox(made, "-s", "lock")
        return "none", made
    made = bake(folder, preset=request.param)
    run_nox(made, "-s", "lock")
    return request.param, made


@pytest.mark.slow
def test_every_locked_distribution_is_listed(preset_project: tuple[str, Path]):
    preset, project = preset_project
    listed = {canonical(d) for d in NAMES["imports"]}
    keys = ("runtime", "dev", preset, *optional_sets(project))
    in_sets = {canonical(d) for key in keys for d in NAMES["sets"][key]}
    distributions = locked(project) - {canonical(project.name)}
    assert distributions, "no lock was read"
    assert sorted(distributions - listed) == [], "add to names.json imports"
    assert sorted(distributions - in_sets) == [], f"add to names.json sets, one of {keys}"
    if preset == "dl-cuda":
        assert NAMES["sets"]["dl"] == NAMES["sets"]["dl-cuda"]


@pytest.mark.slow
@pytest.mark.parametrize("preset_project", INSTALLED_HERE, indirect=True)
def test_listed_modules_are_what_the_distributions_install(preset_project: tuple[str, Path]):
    _, project = preset_project
    run_nox(project, "-s", "setup")
    result = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", TOP_LEVEL],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {canonical(k): v for k, v in json.loads(result.stdout).items()}
    installed.pop(canonical(project.name))
    data = {canonical(k): sorted(v) for k, v in NAMES["imports"].items()}
    wrong = {name: modules for name, modules in installed.items() if data.get(name) != modules}
    assert wrong == {}, f"names.json imports should read: {json.dumps(wrong)}"
