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
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import PROJECT_TEMPLATE, bake, run_nox

NAMES = json.loads((PROJECT_TEMPLATE / "tools" / "envlock" / "names.json").read_text())
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)
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
