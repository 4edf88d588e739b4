"""The generated GitHub workflows against zizmor, offline: no finding, every action pinned."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import bake

ZIZMOR = str(Path(sys.executable).parent / "zizmor")
# owner/name@<full commit hash> # vX.Y.Z: the form dependabot keeps current.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


@pytest.fixture(scope="module", params=["venv", "conda"])
def workflows(request, tmp_path_factory) -> Path:
    made = bake(tmp_path_factory.mktemp(request.param) / "out", env_manager=request.param)
    return made / ".github"


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing(workflows: Path, persona: str):
    result = subprocess.run(
        [ZIZMOR, "--offline", "--persona", persona, "--format", "plain", str(workflows)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout


def test_zizmor_still_catches_an_unpinned_action(workflows: Path, tmp_path: Path):
    """The audit above is not vacuous: the same workflow with one tag reference fails."""
    copy = tmp_path / ".github" / "workflows"
    copy.mkdir(parents=True)
    text = (workflows / "workflows" / "ci.yml").read_text()
    (copy / "ci.yml").write_text(
        re.sub(r"actions/checkout@[0-9a-f]{40} # v[\d.]+", "actions/checkout@v6", text, count=1)
    )
    result = subprocess.run(
        [ZIZMOR, "--offline", str(tmp_path / ".github")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout


def test_every_action_is_pinned_to_a_commit_with_its_version(workflows: Path):
    text = (workflows / "workflows" / "ci.yml").read_text()
    uses = [line.split("uses:", 1)[1].strip() for line in text.splitlines() if "uses:" in line]
    assert uses
    for reference in uses:
        assert PINNED.match(reference), reference
    jobs = yaml.safe_load(text)["jobs"]
    assert any(
        step.get("uses", "").startswith("zizmorcore/zizmor-action@")
        for step in jobs["zizmor"]["steps"]
    )
