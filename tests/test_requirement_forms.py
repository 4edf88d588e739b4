"""Unit tests of reading requirements*.in files, of the lock body's forms, of the
translation of engine failures, and of the wheel check (tools/envlock, no bake).

The engine outputs under fixtures/engine_output/ were recorded from real runs of uv and
pip-compile (their paths replaced by neutral ones); the corpus tests run the engines
themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import TEMPLATE
from envlock import (
    EnvlockError,
    engine_inputs,
    engines,
    failures,
    lock_body,
    requirements_in,
    wheels,
)
from envlock.requirements_in import Kind

CORPUS = TEMPLATE / "tests" / "requirements_corpus"
RECORDED = TEMPLATE / "tests" / "fixtures" / "engine_output"
STACKS = sorted(p.name for p in (CORPUS / "stacks").iterdir())


def package(root: Path, rel: str, name: str | None = "mylib", setup_py: bool = False) -> Path:
    """A minimal local package at ``root/rel``."""
    path = root / rel
    path.mkdir(parents=True)
    if name is not None:
        (path / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "1.0"\n')
    if setup_py:
        (path / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    return path


def read(root: Path, text: str, **files: str):
    (root / "requirements.in").write_text(text)
    for name, content in files.items():
        (root / name).write_text(content)
    return requirements_in.read_inputs(root, [root / "requirements.in"])


def refusal(root: Path, text: str, **files: str) -> str:
    with pytest.raises(EnvlockError) as caught:
        read(root, text, **files)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_of_the_corpus_reads_as_packages(stack: str):
    root = CORPUS / "stacks" / stack
    inputs = requirements_in.read_inputs(root, [root / "requirements.in"])
    entries = inputs.entries()
    assert entries and {e.kind for e in entries} == {Kind.PACKAGE}
    assert "python-dotenv" in {e.name for e in entries}


def test_continuations_and_comments_as_pip_reads_them():
    root = CORPUS / "stacks" / "cli"
    inputs = requirements_in.read_inputs(root, [root / "requirements.in"])
    by_name = {e.name: e for e in inputs.entries()}
    assert by_name["click"].line.text == "click>=8.1, <9"
    assert by_name["click"].line.number == 3
    assert by_name["rich"].line.text == "rich>=13"  # the comment after it is gone
    assert by_name["tomli"].marker == 'python_version < "3.11"'


@pytest.mark.parametrize("first", ["six \\", "six\\"], ids=["space", "no-space"])
def test_a_whole_line_comment_ends_a_continuation(tmp_path: Path, first: str):
    """pip puts a space before the comment line it joins, so it is a comment even when
    the continued line has no space before its backslash."""
    (tmp_path / "r.in").write_text(f"{first}\n# a comment\nattrs\n")
    lines = requirements_in.logical_lines(tmp_path / "r.in")
    assert [(line.number, line.text) for line in lines] == [(1, "six"), (3, "attrs")]


def test_includes_and_constraints_are_followed_once(tmp_path: Path):
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.in").write_text(
        "-c ../constraints.txt\nsix\n-r ../requirements.in\n"
    )
    inputs = read(tmp_path, "-r reqs/base.in\nattrs\n", **{"constraints.txt": "six==1.16.0\n"})
    assert [p.relative_to(tmp_path).as_posix() for p in inputs.files] == [
        "requirements.in",
        "reqs/base.in",
        "constraints.txt",
    ]
    kinds = [e.kind for e in inputs.files[tmp_path / "reqs" / "base.in"]]
    assert kinds == [Kind.CONSTRAINTS, Kind.PACKAGE, Kind.INCLUDE]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("mylib @ ./libs/mylib", "local"),
        ("-e ./libs/mylib", "editable"),
        ("served @ https://example.org/served-2.0.tar.gz", "url"),
        (f"gitlib @ git+https://example.org/gitlib.git@{'a1' * 20}", "vcs"),
    ],
)
def test_a_constraints_file_only_limits_versions(tmp_path: Path, line: str, kind: str):
    """uv refuses such a constraint with a parse error of its own: told here instead,
    also in a file that the constraints file includes."""
    package(tmp_path, "libs/mylib")
    files = {"c.txt": "six<2\n-r more.txt\n", "more.txt": f"attrs<30\n{line}\n"}
    assert refusal(tmp_path, "six\n-c c.txt\n", **files) == (
        "more.txt line 2: a constraints file (`-c`) can only limit versions (`name<2`), and "
        f"`{line}` is a {kind} package: move the line to a requirements file (`-r`, or "
        "requirements.in itself)"
    )
    assert read(tmp_path, "six\n-r more.txt\n", **files).entries()[-1].name is not None


@pytest.mark.parametrize(
    ("line", "instead"),
    [
        ("-c requirements.txt", "remove the line (the locks already hold the same versions"),
        ("-r requirements.txt", "include the .in file it is made from instead"),
    ],
)
def test_including_a_lock_is_refused(tmp_path: Path, line: str, instead: str):
    """pip-tools' layered form (`-c requirements.txt` in the dev .in): the lock's digest
    would be an input of the other lock, so locking could never leave both fresh."""
    (tmp_path / "requirements.txt").write_text("six==1.17.0 \\\n    --hash=sha256:aa\n")
    (tmp_path / "requirements-dev.in").write_text(f"-r requirements.in\n{line}\npytest\n")
    (tmp_path / "requirements.in").write_text("six\n")
    with pytest.raises(EnvlockError) as caught:
        requirements_in.read_inputs(
            tmp_path,
            [tmp_path / "requirements-dev.in"],
            [tmp_path / "requirements.txt", tmp_path / "requirements-dev.txt"],
        )
    message = str(caught.value)
    assert message.startswith(
        f"requirements-dev.in line 2: `{line}` names a lock that `nox -s lock` writes from "
        "the .in files, so every lock would leave it out of date: "
    )
    assert instead in message


def test_a_missing_include_names_the_line(tmp_path: Path):
    assert refusal(tmp_path, "six\n-r extra.in\n") == (
        "requirements.in line 2: `-r extra.in`: there is no such file: create it or fix the name"
    )


def test_an_include_outside_the_project_is_refused(tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "shared.in").write_text("six\n")
    assert "is outside the project, so a clone would not have it" in refusal(
        project, "-r ../shared.in\n"
    )


def test_local_packages_in_every_form_pip_and_uv_write(tmp_path: Path):
    package(tmp_path, "libs/mylib", "MyLib")
    package(tmp_path, "libs/other", "other")
    inputs = read(
        tmp_path,
        "./libs/mylib[cli] ; python_version >= '3.10'\n"
        "-e libs/other\n"
        "mylib @ ./libs/mylib\n"
        "-e other @ ./libs/other\n"
        f"mylib @ {(tmp_path / 'libs' / 'mylib').as_uri()}\n",
    )
    got = [(e.kind, e.value, e.name, e.extras, e.marker) for e in inputs.entries()]
    assert got == [
        (Kind.LOCAL, "./libs/mylib", "mylib", ("cli",), "python_version >= '3.10'"),
        (Kind.EDITABLE, "./libs/other", "other", (), None),
        (Kind.LOCAL, "./libs/mylib", "mylib", (), None),
        (Kind.EDITABLE, "./libs/other", "other", (), None),
        (Kind.LOCAL, "./libs/mylib", "mylib", (), None),
    ]
    assert inputs.local_packages() == {"./libs/mylib": "mylib", "./libs/other": "other"}


def test_local_archives_are_named_by_their_file_names(tmp_path: Path):
    (tmp_path / "libs" / "wheels").mkdir(parents=True)
    for name in ("served-2.0.0.tar.gz", "my_lib-0.3.0-py3-none-any.whl"):
        (tmp_path / "libs" / "wheels" / name).write_bytes(b"")
    inputs = read(
        tmp_path,
        "./libs/wheels/served-2.0.0.tar.gz\nlibs/wheels/my_lib-0.3.0-py3-none-any.whl\n",
    )
    assert [(e.kind, e.value, e.name) for e in inputs.entries()] == [
        (Kind.LOCAL, "./libs/wheels/served-2.0.0.tar.gz", "served"),
        (Kind.LOCAL, "./libs/wheels/my_lib-0.3.0-py3-none-any.whl", "my-lib"),
    ]
    assert "`-e ./libs/wheels/served-2.0.0.tar.gz`: only a directory can be editable" in (
        refusal(tmp_path, "-e ./libs/wheels/served-2.0.0.tar.gz\n")
    )


def test_a_local_package_that_git_ignores_is_refused(tmp_path: Path):
    """Real git: dist/ is ignored (as the generated .gitignore has it), so a clone would
    lack the archive; the same file committed is fine."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("dist/\n")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "served-2.0.0.tar.gz").write_bytes(b"")
    assert refusal(tmp_path, "six\n./dist/served-2.0.0.tar.gz\n") == (
        "requirements.in line 2: `./dist/served-2.0.0.tar.gz` is ignored by git (.gitignore), "
        "so a clone would not have it and could not install the lock: move it to a folder "
        "git keeps (e.g. libs/), or stop ignoring it"
    )
    subprocess.run(["git", "add", "-f", "dist/served-2.0.0.tar.gz"], cwd=tmp_path, check=True)
    assert read(tmp_path, "./dist/served-2.0.0.tar.gz\n").entries()[0].name == "served"
    (tmp_path / "dist" / "extra.in").write_text("six\n")
    assert refusal(tmp_path, "attrs\n-r dist/extra.in\n") == (
        "requirements.in line 2: `-r dist/extra.in` is ignored by git (.gitignore), so a "
        "clone would not have it: commit it (stop ignoring it), or move it to a folder git "
        "keeps"
    )


@pytest.mark.parametrize(
    "line", ["served @ ${SERVER}/served-2.0.tar.gz", "${HOME}/libs/mylib", "-r ${REQS}/base.in"]
)
def test_an_environment_variable_is_refused(tmp_path: Path, line: str):
    """pip and uv would put this machine's value into the committed lock."""
    message = refusal(tmp_path, f"six  # ${{NOT_READ}} in a comment\n{line}\n")
    assert message.startswith("requirements.in line 2: `${")
    assert message.endswith(
        "is an environment variable, which the engines replace by this "
        "machine's value, so the committed lock would hold that value (a path of this "
        "machine, or a secret) and other machines would not see their own: write the value "
        "itself"
    )


def test_a_name_that_is_not_the_packages_own_is_refused(tmp_path: Path):
    """Installed, the package has its own name, so the lock's would never match it."""
    package(tmp_path, "libs/mylib", "MyLib")
    assert refusal(tmp_path, "other @ ./libs/mylib\n") == (
        "requirements.in line 1: the package in `./libs/mylib` is named mylib, not other: "
        "write `mylib @ ./libs/mylib`"
    )
    (tmp_path / "served-2.0.tar.gz").write_bytes(b"")
    assert "is named served, not mylib" in refusal(tmp_path, "mylib @ ./served-2.0.tar.gz\n")


def test_one_local_package_editable_in_one_file_and_not_in_another_is_refused(tmp_path: Path):
    """The runtime lock would pin it as a package, the dev lock editable: told at the
    lines (not as a mismatch of the locks)."""
    package(tmp_path, "libs/devtool", "devtool")
    (tmp_path / "requirements-dev.in").write_text("-r requirements.in\n-e ./libs/devtool\n")
    (tmp_path / "requirements.in").write_text("six\n./libs/devtool\n")
    top = [tmp_path / "requirements-dev.in", tmp_path / "requirements.in"]
    with pytest.raises(EnvlockError) as caught:
        requirements_in.read_inputs(tmp_path, top)
    assert str(caught.value) == (
        "requirements-dev.in line 2: `-e ./libs/devtool` installs ./libs/devtool editable, "
        "and requirements.in line 2 installs it without -e: write both lines alike (or keep "
        "only one)"
    )


def test_a_path_with_a_space_is_refused(tmp_path: Path):
    package(tmp_path, "libs/my lib", "spaced")
    assert refusal(tmp_path, "six\n./libs/my lib\n") == (
        "requirements.in line 2: `./libs/my lib` has a space in its path, which requirement "
        "files and locks cannot hold (it ends the path there): rename the folder or file"
    )
    assert "has a space in its path" in refusal(tmp_path, "-e ./libs/my lib\n")


def test_the_name_of_a_setup_py_package_comes_from_the_line(tmp_path: Path):
    package(tmp_path, "libs/legacy", name=None, setup_py=True)
    assert refusal(tmp_path, "./libs/legacy\n") == (
        "requirements.in line 1: the name of the package in `./libs/legacy` is not written "
        "in its pyproject.toml or setup.cfg: write the line as `NAME @ ./libs/legacy`"
    )
    inputs = read(tmp_path, "legacy @ ./libs/legacy\n")
    assert inputs.entries()[0].name == "legacy"


@pytest.mark.parametrize("line", ["-e .", ".", "-e ./", "-e .[dev]", "./"])
def test_the_project_itself_is_refused(tmp_path: Path, line: str):
    message = refusal(tmp_path, f"six\n{line}\n")
    assert message.startswith("requirements.in line 2: `")
    assert message.endswith(
        "installs this project itself, which `nox -s setup` already does (editable): "
        "remove the line"
    )


def test_local_paths_that_a_clone_would_not_have_are_refused(tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    package(tmp_path, "sibling")
    assert "`../sibling` is outside the project, so a clone elsewhere" in refusal(
        project, "../sibling\n"
    )
    assert refusal(project, "./libs/nothing\n") == (
        "requirements.in line 1: `./libs/nothing` does not exist: create it or fix the path"
    )
    (project / "data").mkdir()
    assert "has no pyproject.toml or setup.py" in refusal(project, "./data\n")


@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ("--extra-index-url https://example.org/simple", "extra-index-urls"),
        ("--index-url=https://example.org/simple", "extra-index-urls"),
        ("-i https://example.org/simple", "extra-index-urls"),
        ("--find-links ./wheels", "extra-index-urls"),
        ("-f https://example.org/wheels/", "extra-index-urls"),
        ("--no-index", "extra-index-urls"),
        ("--trusted-host example.org", "extra-index-urls"),
    ],
)
def test_index_options_are_refused_naming_the_setting(tmp_path: Path, line: str, setting: str):
    message = refusal(tmp_path, f"six\n{line}\n")
    assert message.startswith(f"requirements.in line 2: `{line.split()[0].split('=')[0]}`")
    assert f"`{setting}` under [tool.envlock] in pyproject.toml" in message


def test_installer_options_are_refused(tmp_path: Path):
    assert refusal(tmp_path, "--pre\nsix\n") == (
        "requirements.in line 1: `--pre` is an installer option, which a lock does not "
        "carry (installs would not match the lock): remove the line"
    )
    assert "`--config-settings` on a requirement line" in refusal(
        tmp_path, "six --config-settings=x=y\n"
    )


def test_the_exact_pins_of_the_inputs(tmp_path: Path):
    """What pip-tools' wheel check reads before pip-compile runs: `==` pins only."""
    inputs = read(
        tmp_path,
        "numpy==1.26.4 ; python_version < '3.14'\nsix>=1\nattrs==23.*\nclick==8.1.7\n"
        "click==8.1.7\n-c c.txt\n",
        **{"c.txt": "idna==3.7\n"},
    )
    assert requirements_in.exact_pins(inputs) == (
        'numpy==1.26.4 ; python_version < "3.14"\nclick==8.1.7\nidna==3.7\n'
    )


def test_vcs_and_url_requirements(tmp_path: Path):
    inputs = read(
        tmp_path,
        "gitlib @ git+https://example.org/gitlib.git@v1.0\n"
        "git+https://example.org/other.git@main#egg=Other\n"
        "https://example.org/files/wheely-1.0-py3-none-any.whl\n"
        "tarry @ https://example.org/files/tarry-2.0.tar.gz ; sys_platform == 'linux'\n",
    )
    got = [(e.kind, e.name, e.marker) for e in inputs.entries()]
    assert got == [
        (Kind.VCS, "gitlib", None),
        (Kind.VCS, "other", None),
        (Kind.URL, "wheely", None),
        (Kind.URL, "tarry", 'sys_platform == "linux"'),
    ]
    requirements_in.check_for_engine(inputs, "uv")  # uv locks the commit a ref points to
    with pytest.raises(EnvlockError) as caught:
        requirements_in.check_for_engine(inputs, "pip-tools")
    assert str(caught.value) == (
        "requirements.in line 1: `git+https://example.org/gitlib.git@v1.0` names no commit, "
        "and pip-compile would lock it as written (a branch or tag can move): pin it to the "
        "full commit hash (`URL@<40 hex digits>`, from `git rev-parse`)"
    )
    pinned = read(tmp_path, f"gitlib @ git+https://example.org/gitlib.git@{'a1' * 20}\n")
    requirements_in.check_for_engine(pinned, "pip-tools")


@pytest.mark.parametrize(
    "line", ["gitlib @ git+file:///srv/git/gitlib@v1.0", "git+file:/srv/git/gitlib#egg=gitlib"]
)
def test_a_repository_on_this_machine_is_refused(tmp_path: Path, line: str):
    assert refusal(tmp_path, f"six\n{line}\n").endswith(
        "is a repository on this machine, so the lock would name a path that a clone "
        "elsewhere does not have: name the repository by its https or ssh URL, or put the "
        "package inside the project (e.g. libs/) and name its path"
    )


def test_editable_vcs_and_nameless_urls_are_refused(tmp_path: Path):
    assert "(an editable checkout from a URL) cannot be locked: write `NAME @ URL@COMMIT`" in (
        refusal(tmp_path, "-e git+https://example.org/x.git#egg=x\n")
    )
    assert refusal(tmp_path, "https://example.org/download?id=3\n") == (
        "requirements.in line 1: `https://example.org/download?id=3` gives no package name: "
        "write the line as `NAME @ https://example.org/download?id=3`"
    )


ZEROS = "0" * 64


@pytest.mark.parametrize(
    ("line", "advice"),
    [
        (f"six==1.17.0 --hash=sha256:{ZEROS}", "remove it (the lock records the hash"),
        (
            f"served @ https://example.org/served-2.0.tar.gz --hash=sha256:{ZEROS}",
            "write the hash into the URL as `URL#sha256=<hex digest>`, which is checked",
        ),
        (
            f"https://example.org/served-2.0.tar.gz --hash sha256:{ZEROS}",
            "write the hash into the URL as `URL#sha256=<hex digest>`, which is checked",
        ),
    ],
)
def test_a_hash_the_engines_would_not_check_is_refused(tmp_path: Path, line: str, advice: str):
    """Neither engine compares a --hash of its input with the file it locks: kept, the
    lock would silently hold a file other than the one the line names."""
    message = refusal(tmp_path, f"attrs\n{line}\n")
    assert message.startswith("requirements.in line 2: `--hash` is not checked when locking")
    assert advice in message


def test_a_url_whose_file_is_not_the_named_hash_names_the_line_at_lock_time(tmp_path: Path):
    """Recorded from uv: the line's #sha256= is checked, and the line is what to fix (not
    the lock, which does not exist yet)."""
    url = "http://127.0.0.1:9/served-2.0.0.tar.gz"
    inputs = read(tmp_path, f"attrs\nserved @ {url}#sha256={ZEROS}\n")
    output = (RECORDED / "uv-url-wrong-hash.txt").read_text()
    assert failures.explain("uv pip compile", 1, output, failures.Context(inputs)) == (
        f"requirements.in line 2: the file at {url} is not the one the line's `#sha256=` "
        "names (its sha256 is "
        "03bf6ede445044721dafc74cd88d58dda80dff97d300490ad42b1c95f11dbe6a): fix the hash in "
        "that line if the file is the one you want, else the URL"
    )


def test_a_wheel_urls_named_hash_is_checked_against_the_file_the_engine_hashed(tmp_path: Path):
    """uv does not read a wheel URL's file when the URL names a #sha256= (it writes that
    hash into the lock unchecked): the engine gets the URL without it, hashes the file
    itself (its output below, as uv writes it), and the two are compared."""
    url = "http://127.0.0.1:9/mylib-0.3.0-py3-none-any.whl"
    (tmp_path / "requirements.in").write_text(f"attrs\nmylib @ {url}#sha256={ZEROS}\n")
    real = "ab" * 32
    uv_wrote = f"mylib @ {url} \\\n    --hash=sha256:{real}\n    # via -r requirements.in\n"
    with engine_inputs.prepared(tmp_path, [tmp_path / "requirements.in"], "uv") as copies:
        given = copies.copy_of(tmp_path / "requirements.in").read_text()
        assert given == f"attrs\nmylib @ {url}\n"
        with pytest.raises(EnvlockError) as refused:
            copies.portable(uv_wrote, "requirements.txt")
        assert copies.portable(uv_wrote.replace(real, ZEROS), "requirements.txt")
    assert str(refused.value) == (
        f"requirements.in line 2: the file at {url} is not the one the line's `#sha256=` "
        f"names (its sha256 is {real}): fix the hash in that line if the file is the one "
        "you want, else the URL"
    )


def test_an_invalid_requirement_names_its_line(tmp_path: Path):
    message = refusal(tmp_path, "six\nclick>=8.1,<\n")
    assert message.startswith("requirements.in line 2: `click>=8.1,<` is not a valid requirement (")
    assert message.endswith("): fix the line")


def test_the_engines_get_copies_with_includes_and_paths_rewritten(tmp_path: Path):
    package(tmp_path, "libs/mylib")
    package(tmp_path, "libs/other", "other")
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.in").write_text("click>=8.1,\\\n  <9\n")
    inputs = read(tmp_path, "-r reqs/base.in\nmylib @ ./libs/mylib\n-e libs/other\n")
    scratch = tmp_path / "scratch"
    names = requirements_in.write_copies(inputs, scratch)
    top = names[tmp_path.resolve() / "requirements.in"].read_text()
    base = (scratch / "reqs" / "base.in").as_posix()
    assert top == f"-r {base}\n./libs/mylib\n-e ./libs/other\n"
    assert (scratch / "reqs" / "base.in").read_text() == "click>=8.1, <9\n"


# --- the lock body ----------------------------------------------------------------------

UV_OUTPUT = """\
-e ./libs/other
    # via -r {scratch}/requirements-dev.in
./libs/mylib
    # via -r {scratch}/requirements.in
six==1.17.0 \\
    --hash=sha256:aaaa
    # via mylib
"""

PIP_COMPILE_OUTPUT = """\
# WARNING: pip install will require the following package to be hashed.
# Consider using a hashable URL like https://github.com/jazzband/pip-tools/archive/SOMECOMMIT.zip
-e {root_uri}/libs/other
    # via -r {scratch}/requirements-dev.in
# WARNING: pip install will require the following package to be hashed.
# Consider using a hashable URL like https://github.com/jazzband/pip-tools/archive/SOMECOMMIT.zip
mylib @ {root_uri}/libs/mylib ; python_version >= "3.10"
    # via -r {scratch}/requirements.in
six==1.17.0 \\
    --hash=sha256:aaaa
    # via mylib
"""


@pytest.mark.parametrize("engine_output", [UV_OUTPUT, PIP_COMPILE_OUTPUT], ids=["uv", "pip"])
def test_engine_output_becomes_portable(tmp_path: Path, engine_output: str):
    root, scratch = tmp_path / "project", tmp_path / "scratch"
    root.mkdir()
    body = engine_output.format(scratch=scratch.as_posix(), root_uri=root.as_uri())
    names = {"./libs/mylib": "mylib", "./libs/other": "other"}
    text = lock_body.portable(body, root, scratch, names)
    assert str(tmp_path) not in text and "WARNING" not in text and "github" not in text
    assert "-e other @ ./libs/other\n    # via -r requirements-dev.in\n" in text
    assert "mylib @ ./libs/mylib" in text
    assert "    # via -r requirements.in\n" in text
    pins = lock_body.parse_pins(Path("requirements-dev.txt"), text)
    assert [(p.name, p.locked_as) for p in pins] == [
        ("other", "-e ./libs/other"),
        ("mylib", "./libs/mylib"),
        ("six", "1.17.0"),
    ]
    assert not lock_body.all_hash_checked(pins)
    assert lock_body.index_pins(pins) == "six==1.17.0\n"


def test_an_editable_packages_marker_stays_in_the_lock(tmp_path: Path):
    """uv writes ``-e ./libs/mylib`` for ``-e ./libs/mylib ; python_version >= "3.11"``
    (it drops an editable's marker), which would install it on 3.10 too."""
    (tmp_path / "libs" / "mylib").mkdir(parents=True)
    (tmp_path / "libs" / "mylib" / "pyproject.toml").write_text('[project]\nname = "mylib"\n')
    (tmp_path / "requirements.in").write_text('-e ./libs/mylib ; python_version >= "3.11"\n')
    uv_wrote = "-e ./libs/mylib\n    # via -r requirements.in\n"
    with engine_inputs.prepared(tmp_path, [tmp_path / "requirements.in"], "uv") as copies:
        text = copies.portable(uv_wrote, "requirements.txt")
    assert text.startswith('-e mylib @ ./libs/mylib ; python_version >= "3.11"\n')
    (pin,) = lock_body.parse_pins(Path("requirements.txt"), text)
    assert pin.marker is not None and not pin.marker.evaluate({"python_version": "3.10"})


def test_a_path_of_this_machine_never_reaches_a_lock(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    body = f"six==1.0 \\\n    --hash=sha256:aa\n    # via -r {root}/other.in\n"
    with pytest.raises(EnvlockError, match="the lock would carry a path of this machine"):
        lock_body.portable(body, root, tmp_path / "scratch", {})


COMMIT = "c374197c3eabaa691b0c1e6f7e1be1a124360888"


def test_every_form_that_lock_writes_is_read_back():
    body = (
        "mylib @ https://example.org/mylib-0.3.0-py3-none-any.whl \\\n"
        "    --hash=sha256:38e8\n"
        f"gitlib @ git+https://example.org/gitlib.git@{COMMIT}\n"
        "colorama==0.4.6 ; sys_platform == 'win32' \\\n    --hash=sha256:bbbb\n"
        "-e other @ ./libs/other\n"
    )
    pins = lock_body.parse_pins(Path("requirements.txt"), body)
    assert [p.locked_as for p in pins] == [
        "https://example.org/mylib-0.3.0-py3-none-any.whl",
        f"git+https://example.org/gitlib.git@{COMMIT}",
        "0.4.6",
        "-e ./libs/other",
    ]
    assert [p.hash_checked for p in pins] == [True, False, True, False]


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("gitlib @ git+https://example.org/gitlib.git@main", "gitlib is not pinned to a commit"),
        ("mylib @ https://example.org/mylib-1.0.tar.gz", "mylib has no --hash"),
        ("-e mylib @ https://example.org/mylib-1.0.tar.gz", "mylib is editable but not a local"),
        ("--index-url https://example.org/simple", "has an option line (--index-url)"),
        ("six>=1 \\\n    --hash=sha256:aa", "six is not pinned with =="),
        ("six==1.0", "six has no --hash"),
    ],
)
def test_a_lock_line_that_lock_does_not_write_is_refused(line: str, complaint: str):
    with pytest.raises(EnvlockError) as caught:
        lock_body.parse_pins(Path("requirements.txt"), line + "\n")
    assert complaint in str(caught.value)
    assert str(caught.value).endswith("run `nox -s lock`")


def test_what_is_installed_compares_with_what_is_locked(tmp_path: Path):
    root = tmp_path.resolve()
    cases = [
        (None, "1.2.3"),
        (json.dumps({"url": (root / "libs/mylib").as_uri(), "dir_info": {}}), "./libs/mylib"),
        (
            json.dumps({"url": (root / "libs/mylib").as_uri(), "dir_info": {"editable": True}}),
            "-e ./libs/mylib",
        ),
        (
            json.dumps(
                {"url": "file:///srv/gitlib", "vcs_info": {"vcs": "git", "commit_id": COMMIT}}
            ),
            f"git+file:///srv/gitlib@{COMMIT}",
        ),
        (
            json.dumps({"url": "https://example.org/m-1.0.whl", "archive_info": {}}),
            "https://example.org/m-1.0.whl",
        ),
    ]
    for direct_url, expected in cases:
        assert lock_body.installed_as("1.2.3", direct_url, root) == expected
    # pip-compile spells a local repository's URL git+file:/srv/..., uv git+file:///srv/...
    (pin,) = lock_body.parse_pins(Path("r.txt"), f"gitlib @ git+file:/srv/gitlib@{COMMIT}\n")
    assert pin.locked_as == f"git+file:///srv/gitlib@{COMMIT}"


# --- failures ---------------------------------------------------------------------------


@pytest.fixture
def context(tmp_path: Path) -> failures.Context:
    inputs = read(
        tmp_path,
        "six==99.0\nnumpy==2.3.0\ndefinitely-not-a-package-xyz\n"
        "mylib @ http://127.0.0.1:9/mylib-0.3.0-py3-none-any.whl\n"
        "gitlib @ git+https://127.0.0.1:9/org/gitlib.git@v1\n",
    )
    return failures.Context(inputs, ("3.10", "3.11", "3.12", "3.13"))


def explain(recorded: str, context: failures.Context) -> str:
    name = "uv pip compile" if recorded.startswith("uv") else "pip-compile"
    return failures.explain(name, 1, (RECORDED / f"{recorded}.txt").read_text(), context)


@pytest.mark.parametrize("engine", ["uv", "pip-compile"])
def test_a_missing_package_and_a_missing_version_in_one_line(engine: str, context):
    assert explain(f"{engine}-no-such-package", context) == (
        "requirements.in line 3: definitely-not-a-package-xyz was not found on the package "
        "index: check the name"
    )
    assert explain(f"{engine}-no-such-version", context) == (
        "requirements.in line 1: no version of six matches ==99.0 on the package index: "
        "change the version"
    )


def narrow(text: str, width: int = 40) -> str:
    """``text`` as uv prints it in a narrow terminal (it wraps to ``COLUMNS``): each line
    cut at ``width``, the rest indented under it."""
    wrapped = []
    for line in text.splitlines():
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        # uv cuts at spaces only: a name with dashes stays whole (as a real run shows)
        cut = textwrap.wrap(
            line, width, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False
        )
        wrapped += cut or [""]
    return "\n".join(wrapped)


@pytest.mark.parametrize(
    "recorded", ["uv-no-such-package", "uv-no-such-version", "uv-requires-python"]
)
def test_uvs_wrapped_messages_are_told_as_unwrapped(recorded: str, context):
    text = (RECORDED / f"{recorded}.txt").read_text()
    assert narrow(text) != text  # the sentences really are cut
    assert failures.explain("uv pip compile", 1, narrow(text), context) == explain(
        recorded, context
    )
    assert "(its output is above)" not in explain(recorded, context)


@pytest.mark.parametrize("engine", ["uv", "pip-compile"])
def test_the_engines_requires_python_is_told_as_python_matrix(engine: str, context):
    """uv hints at `requires-python`; pip-compile says "no matching distribution" after
    listing the versions it ignored for the Python it runs on: both mean python-matrix."""
    assert explain(f"{engine}-requires-python", context) == (
        "numpy==2.3.0 supports only Python >=3.11, but python-matrix in pyproject.toml "
        "([tool.envlock]) starts at 3.10: remove the Pythons it does not support from "
        "python-matrix, or in requirements.in line 2 allow a version of numpy that supports "
        '3.10 or add a marker (`; python_version >= "X.Y"`)'
    )


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (
            "uv-url-unreachable",
            (
                "`uv pip compile` could not reach 127.0.0.1:9 for "
                "http://127.0.0.1:9/mylib-0.3.0-py3-none-any.whl, named in requirements.in line 4"
            ),
        ),
        (
            "uv-git-unreachable",
            (
                "`uv pip compile` could not reach 127.0.0.1:9 for "
                "https://127.0.0.1:9/org/gitlib.git/, named in requirements.in line 5"
            ),
        ),
        ("uv-index-unreachable", "`uv pip compile` could not reach 127.0.0.1:9 for "),
        ("pip-compile-url-unreachable", "`pip-compile` could not reach 127.0.0.1:9, named in"),
        ("pip-compile-git-unreachable", "`pip-compile` could not reach 127.0.0.1:9 for https"),
    ],
)
def test_a_network_failure_names_the_host(recorded: str, expected: str, context):
    message = explain(recorded, context)
    assert message.startswith(expected), message
    assert message.endswith(": check the network connection and that address")
    assert "package index could not be reached" not in message


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (
            "uv-git-no-tag",
            (
                "requirements.in line 2: the git repository http://127.0.0.1:18714/vlib.git has "
                "no branch or tag `v9.9`: fix the name after `@` in that line (or push it there)"
            ),
        ),
        (
            "uv-git-no-commit",
            (
                "requirements.in line 3: the git repository http://127.0.0.1:18714/vlib.git has "
                f"no commit {'0123456789' * 4}: fix the commit after `@` in that line (or push "
                "it there)"
            ),
        ),
        (
            "uv-git-no-repository",
            (
                "requirements.in line 4: there is no git repository at "
                "http://127.0.0.1:18714/nope.git (the host answered): fix the URL in that line"
            ),
        ),
    ],
)
def test_a_git_host_that_answered_without_the_ref_is_not_a_network_failure(
    tmp_path: Path, recorded: str, expected: str
):
    """Recorded from uv against a repository served on 127.0.0.1: git's "failed to fetch"
    there is the host saying no, which "check the network connection" would not fix."""
    server = "git+http://127.0.0.1:18714"
    inputs = read(
        tmp_path,
        f"six\nvlib @ {server}/vlib.git@v9.9\nvlib @ {server}/vlib.git@{'0123456789' * 4}\n"
        f"vlib @ {server}/nope.git@v1.0\n",
    )
    assert explain(recorded, failures.Context(inputs)) == expected


@pytest.mark.parametrize(
    ("recorded", "name", "lacks"),
    [
        ("uv-offline-not-cached", "uv pip sync", "cloudpickle"),
        ("uv-compile-offline-not-cached", "uv pip compile", "python-dotenv"),
    ],
)
def test_offline_with_a_cache_that_lacks_a_package_says_so(recorded, name, lacks, context):
    """uv's own words call it unsatisfiable: the line must not send the user to the .in
    files, since nothing there is wrong."""
    output = (RECORDED / f"{recorded}.txt").read_text()
    assert failures.explain(name, 1, output, context) == (
        f"`{name}` ran offline (UV_OFFLINE is set) and {lacks} is not in uv's cache: unset "
        "UV_OFFLINE for one session while the network is reachable, which fills the cache"
    )


@pytest.mark.parametrize(
    ("recorded", "what"),
    [
        (
            "uv-value-missing",
            "a value is required for `--upgrade-package <UPGRADE_PACKAGE>` but none was supplied",
        ),
        ("uv-unexpected-argument", "unexpected argument `--bogus` found"),
    ],
)
def test_an_argument_uv_refuses_is_named_with_what_lock_takes(recorded, what, context):
    assert explain(recorded, context) == (
        f"`uv pip compile` refused its arguments ({what}): what follows `--` goes to it; "
        "for example `nox -s lock -- --upgrade` or `nox -s lock -- --upgrade-package NAME`"
    )


@pytest.mark.parametrize(
    ("recorded", "command", "said"),
    [
        (
            "uv-local-build-fails",
            "uv pip compile",
            "configuration error: `project.dependencies[0]` must be pep508",
        ),
        (
            "uv-sync-local-backend-missing",
            "uv pip sync",
            (
                "Because nonexistent-backend-xyz was not found in the package registry and you "
                "require nonexistent-backend-xyz, we can conclude that your requirements are "
                "unsatisfiable."
            ),
        ),
    ],
)
def test_a_local_package_that_does_not_build_names_its_pyproject(
    tmp_path: Path, recorded: str, command: str, said: str
):
    """Recorded from uv (the project's path replaced by {root}): the fix is in the
    package's own files, not a name on the index (its build backend's name was told as
    a missing package of the .in files)."""
    package(tmp_path, "libs/broken", "broken")
    inputs = read(tmp_path, "six\n./libs/broken\n")
    root = tmp_path.resolve().as_posix()
    output = (RECORDED / f"{recorded}.txt").read_text().replace("{root}", root)
    assert failures.explain(command, 1, output, failures.Context(inputs)) == (
        f"`{command}` could not build the package broken of this project at ./libs/broken "
        f"({said}): fix ./libs/broken/pyproject.toml (or its setup.py)"
    )


def test_a_local_archive_replaced_after_the_lock_is_told_with_both_fixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Recorded from `uv pip sync` in `nox -s rebuild` (the project's path replaced by
    {root}) after the committed wheel was rebuilt under the same name: the index and the
    lock are not what changed, the file is."""
    root = tmp_path.resolve()
    monkeypatch.chdir(root)  # the sessions run in the project root
    output = (RECORDED / "uv-sync-local-archive-changed.txt").read_text()
    wheel = "libs/wheels/vlib-1.0.0-py2.py3-none-any.whl"
    assert failures.explain("uv pip sync", 1, output.replace("{root}", root.as_posix())) == (
        f"`uv pip sync` refused ./{wheel}: it is not the file the lock was made with (it "
        "changed after `nox -s lock`), so nothing was installed from it: if the new file "
        f"is the one you want, run `nox -s lock` and commit the locks; else restore it "
        f"(`git checkout -- {wheel}`)"
    )


def test_a_conflict_quotes_the_cause(context):
    assert explain("uv-conflict", context) == (
        "the requirements cannot all be met (you require numpy<2.3 and numpy>=2.3, which are "
        "incompatible): change the conflicting requirements in the .in files"
    )


# --- the wheel check --------------------------------------------------------------------


def test_a_gap_is_told_with_both_fixes():
    gaps = [wheels.Gap("numpy", "1.26.4", "3.13", p) for p in wheels.PLATFORMS]
    where = {"numpy": "requirements.in line 4"}.__getitem__
    matrix = ("3.10", "3.11", "3.12", "3.13")
    assert wheels.describe(gaps, matrix, where, "requirements-dev.txt") == (
        "requirements-dev.txt: numpy==1.26.4 has no wheel for Python 3.13, so installing it "
        "there would mean building it from source: in requirements.in line 4 allow a version "
        'that has wheels there, or limit it with a marker (`; python_version < "3.13"`), or '
        "remove 3.13 from python-matrix in pyproject.toml ([tool.envlock])"
    )
    windows = [wheels.Gap("uvloop", "0.21.0", p, "windows") for p in matrix]
    assert wheels.describe(windows, matrix, where.__self__.get, "r.txt").endswith(
        'limit it with a marker (`; sys_platform != "win32"`)'
    )


NUMBA_LOCK = """\
llvmlite==0.42.0 \\
    --hash=sha256:aaaa
    # via numba
numba==0.59.1 \\
    --hash=sha256:bbbb
    # via
    #   -r requirements.in
    #   mylib
numpy==1.26.4 \\
    --hash=sha256:cccc
    # via
    #   -c requirements-dev.txt
    #   numba
"""


def test_a_gap_in_a_dependency_names_the_line_of_the_package_that_needs_it(tmp_path: Path):
    """llvmlite is in no .in file: the fix is at numba's line (found through the lock's
    ``# via`` comments, as both engines write them)."""

    (tmp_path / "requirements.in").write_text("six\nnumba==0.59.1\n")
    deps = lock_body.dependents(NUMBA_LOCK)
    assert deps == {"llvmlite": {"numba"}, "numba": {"mylib"}, "numpy": {"numba"}}
    with engine_inputs.prepared(tmp_path, [tmp_path / "requirements.in"], "uv") as copies:
        assert copies.where("llvmlite", deps) == (
            "requirements.in line 2 (numba, which needs llvmlite)"
        )
        assert copies.where("numba", deps) == "requirements.in line 2"
        assert copies.where("six", deps) == "requirements.in line 1"
        assert copies.where("attrs", deps).startswith("the .in files")
    gaps = [wheels.Gap("llvmlite", "0.42.0", "3.13", p) for p in wheels.PLATFORMS]
    line = wheels.describe(gaps, ("3.12", "3.13"), lambda n: copies.where(n, deps), "r.txt")
    assert "in requirements.in line 2 (numba, which needs llvmlite) allow a version" in line


def uv_binary() -> str:
    """The uv of this test environment (installed from the template's lock)."""
    return str(Path(sys.executable).with_name("uv"))


def test_the_wheel_check_finds_a_release_without_wheels_for_a_new_python(tmp_path: Path):
    """Real uv against the real index: numpy 1.26.4 has wheels up to 3.12; docopt has
    never had one (built from source everywhere alike, so no gap)."""
    pins = tmp_path / "pins.txt"
    pins.write_text("numpy==1.26.4\ndocopt==0.6.2\n")
    env = engines.uv_env(os.environ)  # as the lock session runs it

    def run(argv: list[str]) -> tuple[int, str]:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        return done.returncode, done.stdout + done.stderr

    def argv_for(python: str, platform: str, built: set[str]) -> list[str]:
        return wheels.check_argv(uv_binary(), pins, python, platform, built, [])

    gaps = wheels.find_gaps(run, argv_for, ["3.12", "3.13"], ["linux"])
    assert gaps == [wheels.Gap("numpy", "1.26.4", "3.13", "linux")]


def test_a_release_with_wheels_only_for_pythons_outside_the_matrix_is_a_gap(tmp_path: Path):
    """Real uv against the real index: numpy 1.21.0 has wheels for 3.7-3.9 only, so on
    3.12 and 3.13 it has none in any cell, as docopt (sdist only) has none; uv says the
    same of both, but only docopt is built from source alike everywhere."""
    pins = tmp_path / "pins.txt"
    pins.write_text("numpy==1.21.0\ndocopt==0.6.2\n")
    env = engines.uv_env(os.environ)  # as the lock session runs it

    def run(argv: list[str]) -> tuple[int, str]:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        return done.returncode, done.stdout + done.stderr

    def argv_for(python: str, platform: str, built: set[str]) -> list[str]:
        return wheels.check_argv(uv_binary(), pins, python, platform, built, [])

    matrix = ["3.12", "3.13"]
    elsewhere = wheels.wheels_elsewhere(run, uv_binary(), tmp_path, [], matrix)
    gaps = wheels.find_gaps(run, argv_for, matrix, ["linux"], elsewhere)
    assert gaps == [wheels.Gap("numpy", "1.21.0", p, "linux") for p in matrix]
    where = {"numpy": "requirements.in line 2"}.__getitem__
    assert wheels.describe(gaps, matrix, where, "r.txt", ["linux"]) == (
        "r.txt: numpy==1.21.0 has no wheel for any Python of python-matrix (3.12, 3.13), "
        "only for other Pythons, so installing it would mean building it from source: in "
        "requirements.in line 2 allow a version that has wheels for them (a newer one)"
    )


def test_a_wheel_check_failure_of_another_kind_says_it_all_in_one_line(tmp_path: Path):
    """Real uv against the real index, on a pin it cannot resolve for a reason of its own
    (six==99.0 does not exist): uv's output is captured, so the line must name the
    package, the Python and platform, uv's reason and the fixes."""
    env = engines.uv_env(os.environ)  # as the lock session runs it

    def run(argv: list[str]) -> tuple[int, str]:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        return done.returncode, done.stdout + done.stderr

    with pytest.raises(EnvlockError) as caught:
        wheels.check_lock(
            uv_binary(),
            Path("requirements-dev.txt"),
            "six==99.0\n",
            ("3.12",),
            ("linux",),
            [],
            run,
            {"six": "requirements.in line 2"}.__getitem__,
        )
    assert str(caught.value) == (
        "requirements-dev.txt: six==99.0 does not resolve from wheels for Python 3.12 on "
        "linux (uv: Because there is no version of six==99.0 and you require six==99.0, we "
        "can conclude that your requirements are unsatisfiable.): in requirements.in line 2 "
        "allow a version that has wheels there, or limit it with a marker (`; "
        'python_version < "3.12"` or `; sys_platform != "linux"`), or remove 3.12 from '
        "python-matrix in pyproject.toml ([tool.envlock])"
    )
    assert "output above" not in str(caught.value)
    # the pins straight from the .in files (pip-tools' check): told at the line
    inputs = read(tmp_path, "attrs\nsix==99.0\n")
    with pytest.raises(EnvlockError) as caught:
        wheels.check_lock(
            uv_binary(),
            Path("requirements-dev.txt"),
            "six==99.0\n",
            ("3.12", "3.13"),
            ("linux",),
            [],
            run,
            str,
            failures.Context(inputs),
        )
    assert str(caught.value) == (
        "requirements.in line 2: no version of six matches ==99.0 on the package index: "
        "change the version"
    )


def test_a_wheel_check_that_loses_the_network_names_the_host():
    """A recorded uv failure (the index unreachable, as in fixtures/engine_output)."""
    output = (RECORDED / "uv-index-unreachable.txt").read_text()
    failed = wheels.CellFailed("3.13", "windows", 2, output)
    message = wheels.unexplained(failed, "six==1.17.0\n", str, "requirements-dev.txt")
    assert message.startswith(
        "requirements-dev.txt: checking for wheels for Python 3.13 on windows: "
        "`uv pip compile` could not reach 127.0.0.1:9"
    )
    assert "\n" not in message


# --- messages of the sessions -----------------------------------------------------------


def test_pip_compile_is_named_as_its_users_know_it():
    from envlock.runner import command_name

    argv = ["/p/.nox/pip-tools-3.12/bin/python", "-m", "piptools", "compile", "r.in"]
    assert command_name(argv) == "pip-compile"
    assert command_name(["/usr/bin/uv", "pip", "sync", "--require-hashes"]) == "uv pip sync"


def test_an_entry_the_sessions_could_not_install_is_refused_at_lock_time(tmp_path: Path):
    """Right after the engine wrote it, the fix is in the .in file, not another lock."""

    (tmp_path / "requirements.in").write_text("six\n")
    top = [tmp_path / "requirements.in"]
    with (
        engine_inputs.prepared(tmp_path, top, "uv") as copies,
        pytest.raises(EnvlockError) as caught,
    ):
        copies.portable("six>=1.0 \\\n    --hash=sha256:aa\n", "requirements.txt")
    assert str(caught.value) == (
        "requirements.txt as the engine wrote it could not be installed (six is not pinned "
        "with ==): change that requirement in the .in files"
    )
