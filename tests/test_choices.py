"""The license, notebooks and docs choices: real bakes of each value, checked by the tools
of the ecosystem (ruff, mypy, validate-pyproject, repo-review, a real wheel build)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from conftest import TEMPLATE, bake, load_toml
from packaging.licenses import canonicalize_license_expression

BIN = Path(sys.executable).parent
LICENSES = ["MIT", "BSD-3-Clause", "Apache-2.0", "GPL-3.0-or-later", "none"]
# The texts as their stewards publish them (gnu.org's COPYING, apache.org's LICENSE-2.0.txt).
PUBLISHED_MD5 = {
    "GPL-3.0-or-later": "1ebbd3e34237af26da5dc08a4e440464",
    "Apache-2.0": "3b83ef96387f14655fc854ddc3c6bd57",
}
FIRST_LINES = {
    "MIT": "MIT License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "Apache-2.0": "Apache License",
    "GPL-3.0-or-later": "GNU GENERAL PUBLIC LICENSE",
}
JUPYTER = {"jupyterlab", "ipykernel", "nbstripout"}
VARIANTS = [
    *({"license": value} for value in LICENSES),
    {"notebooks": "yes"},  # auto is no for the none preset: test_bake checks every preset
    {"notebooks": "no", "preset": "ml"},
    {"docs": "mkdocs"},
]


def variant_id(answers: dict[str, str]) -> str:
    return "-".join(f"{k}={v}" for k, v in answers.items())


def tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / name), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module", params=VARIANTS, ids=[variant_id(v) for v in VARIANTS])
def variant(request, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    answers = request.param
    made = bake(tmp_path_factory.mktemp(variant_id(answers)) / "out", **answers)
    return made, answers


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory) -> Path:
    """One cache for every bake: their modules are the same, so mypy checks them once."""
    return tmp_path_factory.mktemp("mypy-cache")


def dev_inputs(project: Path) -> set[str]:
    lines = (project / "requirements-dev.in").read_text().splitlines()
    return {line for line in lines if line and not line.startswith(("#", "-r"))}


def test_lint_validate_pyproject_and_repo_review_pass(variant, mypy_cache: Path):
    project, _ = variant
    mypy = ("mypy", "--cache-dir", str(mypy_cache))
    for args in (("ruff", "check", "."), ("ruff", "format", "--check", "."), mypy):
        result = tool(*args, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr
    result = tool("validate-pyproject", "pyproject.toml", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    review = tool("repo-review", ".", "--format", "json", cwd=project)
    report = json.loads(review.stdout)
    failed = [name for name, check in report["checks"].items() if check["result"] is False]
    assert failed == [] and review.returncode == 0, failed


def test_license_file_spdx_and_license_check(variant):
    project, answers = variant
    chosen = answers.get("license", "MIT")
    pyproject = load_toml(project / "pyproject.toml")
    ignored = pyproject["tool"]["repo-review"]["ignore"]
    if chosen == "none":
        assert not (project / "LICENSE").exists()
        assert "license" not in pyproject["project"]
        assert "license-files" not in pyproject["project"]
        assert "PY003" in ignored
        readme = (project / "README.md").read_text()
        assert "## License\n\nNone yet" in readme and "`LICENSE`" in readme
        return
    text = (project / "LICENSE").read_text(encoding="utf-8")
    assert text.strip().splitlines()[0].strip() == FIRST_LINES[chosen]
    if chosen in PUBLISHED_MD5:
        assert hashlib.md5(text.encode()).hexdigest() == PUBLISHED_MD5[chosen]
    else:
        assert "Your Name" in text.splitlines()[2]  # the copyright line names the author
    assert pyproject["project"]["license"] == canonicalize_license_expression(chosen)
    assert pyproject["project"]["license-files"] == ["LICENSE"]
    assert "PY003" not in ignored
    assert (
        "LICENSE"
        in subprocess.run(
            ["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True
        ).stdout.split()
    )


@pytest.mark.slow
@pytest.mark.parametrize("chosen", ["GPL-3.0-or-later", "none"])
def test_the_wheel_carries_the_license(tmp_path: Path, chosen: str):
    """uv_build (the pinned range of build-system) writes PEP 639 metadata."""
    project = bake(tmp_path / "out", license=chosen)
    subprocess.run(
        [sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--out-dir", "dist"],
        cwd=project,
        check=True,
        capture_output=True,
    )
    (wheel,) = (project / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(
            archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        )
    if chosen == "none":
        assert metadata.get("License-Expression") is None
        assert not any("/licenses/" in name for name in names)
    else:
        assert metadata["Metadata-Version"] in ("2.4", "2.5")
        assert metadata["License-Expression"] == chosen
        assert metadata["License-File"] == "LICENSE"
        assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_notebooks_choice_reaches_the_dev_inputs_and_the_hooks(variant):
    project, answers = variant
    wanted = answers.get("notebooks", "auto")
    preset = answers.get("preset", "none")
    on = wanted == "yes" or (wanted == "auto" and preset != "none")
    assert (dev_inputs(project) >= JUPYTER) == on
    assert not (JUPYTER & dev_inputs(project)) or on
    hooks = (project / ".pre-commit-config.yaml").read_text()
    assert ("id: nbstripout" in hooks) == on
    readme = (project / "README.md").read_text()
    assert ("nox -s lab" in readme) == on


def test_docs_choice_adds_mkdocs_and_turns_the_docs_check_on(variant):
    project, answers = variant
    on = answers.get("docs", "none") == "mkdocs"
    assert (project / "mkdocs.yml").is_file() == on
    assert (project / "docs" / "index.md").is_file() == on
    assert ("mkdocs" in dev_inputs(project)) == on
    ignored = load_toml(project / "pyproject.toml")["tool"]["repo-review"]["ignore"]
    assert ("PY004" in ignored) == (not on)
    readme = (project / "README.md").read_text()
    assert ("nox -s docs" in readme) == on
    for name in ("PY003", "PY004"):  # what stays ignored is explained in the template README
        if name in ignored:
            assert f"`{name}`" in (TEMPLATE / "README.md").read_text()


def readme_sessions(readme: str, heading: str) -> set[str]:
    """The sessions a README's table lists (rows starting with `nox -s NAME`)."""
    section = readme.split(heading, 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `nox -s ([a-z]+)", section, flags=re.MULTILINE))


def test_both_readmes_list_every_session_of_the_noxfile(tmp_path: Path):
    project = bake(tmp_path / "out", notebooks="yes", docs="mkdocs")
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "--list"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )  # every session, * (run by default) or - (only when named); tests once per Python
    sessions = set(re.findall(r"^[*-] ([a-z]+)(?:-[0-9.]+)? -> ", listed.stdout, re.MULTILINE))
    assert {"setup", "tests", "coverage", "lab"} <= sessions
    # The noxfile's docstring (the head of `nox --list`) names each session's module.
    named = {
        session.strip(): module
        for sessions_named, module in re.findall(
            r"((?:[a-z]+, )*[a-z]+): envlock/(\S+\.py)", listed.stdout
        )
        for session in sessions_named.split(",")
    }
    assert set(named) == sessions
    assert all((project / "tools" / "envlock" / module).is_file() for module in named.values())
    template_readme = (TEMPLATE / "README.md").read_text()
    assert readme_sessions(template_readme, "## The sessions of a baked project") == sessions
    assert readme_sessions((project / "README.md").read_text(), "## Sessions") == sessions
    without = bake(tmp_path / "plain", notebooks="no", docs="none")
    plain = readme_sessions((without / "README.md").read_text(), "## Sessions")
    assert plain == sessions - {"lab", "docs"}  # those say in one line what is missing
