"""Unit tests of the modules behind the matrix lookup, `nox -s pythons`, coverage, the
kernel name and the locks-to-commit line (tools/envlock), on real folders, real git and
the real pyenv where there is one."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from envlock import EnvlockError, coverage_report, kernel, lock_commit, pyenv_matrix
from envlock.pyenv_matrix import MatrixPython


def fake_pyenv(root: Path, *names: str) -> dict[str, str]:
    for name in names:
        (root / "versions" / name / "bin").mkdir(parents=True)
    return {"PYENV_ROOT": str(root), "PATH": ""}


def test_installed_versions_are_the_newest_release_of_each_minor(tmp_path: Path):
    environ = fake_pyenv(tmp_path, "3.12.1", "3.12.10", "3.11.7", "3.13.0t", "3.14-dev", "tools")
    assert pyenv_matrix.installed_versions(environ) == {"3.12": "3.12.10", "3.11": "3.11.7"}
    assert pyenv_matrix.installed_versions({"PYENV_ROOT": str(tmp_path / "none")}) == {}


def test_nox_environment_names_the_matrix_first_and_keeps_what_was_there(tmp_path: Path):
    environ = fake_pyenv(tmp_path, "3.11.7", "3.12.1", "3.13.0")
    environ["PYENV_VERSION"] = "3.11.7:system"
    assert pyenv_matrix.nox_environment(["3.11", "3.12", "3.14"], environ) == {
        "PYENV_VERSION": "3.11.7:3.12.1:system"
    }
    assert pyenv_matrix.nox_environment(["3.14"], environ) == {}  # nothing to name
    del environ["PYENV_VERSION"]
    assert pyenv_matrix.nox_environment(["3.13"], environ) == {"PYENV_VERSION": "3.13.0"}


def test_missing_line_names_every_missing_python_with_the_command():
    found = MatrixPython("3.12", "3.12.1", Path("/x/python3.12"))
    one = [found, MatrixPython("3.14", None, None)]
    assert pyenv_matrix.missing_line(one) == (
        "Python 3.14 is in the matrix but not installed, so those tests are skipped: "
        "`pyenv install 3.14` (or `nox -s pythons -- --install`)"
    )
    two = [MatrixPython("3.9", None, None), *one]
    assert "Pythons 3.9, 3.14 are in the matrix" in pyenv_matrix.missing_line(two)
    assert "`pyenv install 3.9 3.14`" in pyenv_matrix.missing_line(two)
    assert pyenv_matrix.missing_line([found]) is None
    rows = [(c.name, c.result, c.detail) for c in pyenv_matrix.status_checks(one)]
    assert rows == [
        ("Python 3.12", "ok", "pyenv 3.12.1"),
        ("Python 3.14", "missing", "`pyenv install 3.14`"),
    ]


def test_the_missing_notice_is_given_once_per_process():
    matrix = ("3.99",)  # no machine has it
    first = pyenv_matrix.missing_notice(matrix)
    assert first is not None and "`pyenv install 3.99`" in first
    assert pyenv_matrix.missing_notice(matrix) is None


def test_downloads_get_stall_limits_and_the_users_options_win():
    env = pyenv_matrix.download_environment({"PYTHON_BUILD_CURL_OPTS": "--speed-time 99"})
    curl = env["PYTHON_BUILD_CURL_OPTS"].split()
    assert curl[:2] == ["--connect-timeout", str(pyenv_matrix.STALL_SECONDS)]
    assert curl[-2:] == ["--speed-time", "99"]  # curl takes the last one
    # One try each (wget and aria2c retry by themselves), so a stall costs STALL_SECONDS.
    assert env["PYTHON_BUILD_WGET_OPTS"].split() == ["--timeout=20", "--tries=1"]
    assert env["PYTHON_BUILD_ARIA2_OPTS"].split() == [
        "--connect-timeout=20",
        "--timeout=20",
        "--max-tries=1",
    ]


def test_install_failures_are_explained_in_one_line():
    offline = pyenv_matrix.explain_install_failure(
        "3.14", 1, "curl: (6) Could not resolve host: www.python.org\n"
    )
    assert offline.startswith("pyenv could not download Python 3.14: the network is not")
    build = pyenv_matrix.explain_install_failure("3.14", 1, "configure: error: no zlib\n")
    assert build.startswith("`pyenv install 3.14` failed with exit code 1: see its output")
    assert "\n" not in offline + build


def test_install_without_pyenv_says_what_to_do(tmp_path: Path):
    missing = [MatrixPython("3.14", None, None)]
    with pytest.raises(EnvlockError, match=r"^pyenv was not found: install it"):
        pyenv_matrix.install_missing(missing, {"PATH": str(tmp_path), "PYENV_ROOT": str(tmp_path)})
    done = pyenv_matrix.install_missing([MatrixPython("3.12", "3.12.1", Path("/x"))], {})
    assert done == ["every Python of the matrix is installed: nothing to do"]


@pytest.mark.skipif(shutil.which("pyenv") is None, reason="pyenv is not installed here")
def test_a_version_pyenv_does_not_know_fails_before_any_download():
    with pytest.raises(EnvlockError, match=r"^pyenv does not know Python 3\.99 yet: update"):
        pyenv_matrix.install_missing([MatrixPython("3.99", None, None)], os.environ)


def test_coverage_data_files_are_per_python_and_platform(tmp_path: Path):
    assert coverage_report.data_file("3.12", "win32") == ".coverage.3.12-win32"
    assert coverage_report.run_environment("3.10", "linux") == {
        "COVERAGE_FILE": ".coverage.3.10-linux"
    }
    with pytest.raises(EnvlockError, match="no coverage data yet: `nox -s tests` writes it"):
        coverage_report.data_files(tmp_path)
    (tmp_path / ".coverage.3.12-linux").touch()
    assert coverage_report.data_files(tmp_path) == [tmp_path / ".coverage.3.12-linux"]


def test_kernel_name_is_the_distribution_in_jupyters_characters(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "Data_Lab 2"\n[tool.envlock]\npackage = "x"\npython = "3.12"\n'
    )
    assert kernel.kernel_name(tmp_path) == "data_lab-2"
    assert kernel.register_kernel(tmp_path, tmp_path / "absent" / "python", "x") is None


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def rows(root: Path) -> list[tuple[str, str, str]]:
    return [(c.name, c.result, c.detail) for c in lock_commit.doctor_checks(root)]


def test_locks_to_commit_follow_git(tmp_path: Path):
    assert lock_commit.uncommitted(tmp_path) is None  # not a repository: nothing to say
    assert rows(tmp_path) == []
    git(tmp_path, "init", "-q")
    assert rows(tmp_path) == [("locks committed", "ok", "")]
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-dev-py3.11.txt"):
        (tmp_path / name).write_text("x==1\n")
    (tmp_path / "notes.txt").write_text("not a lock\n")
    expected = ["requirements-dev-py3.11.txt", "requirements-dev.txt", "requirements.txt"]
    assert lock_commit.uncommitted(tmp_path) == expected
    line = lock_commit.commit_line(tmp_path)
    assert line.startswith(", ".join(expected) + " are new or changed and not committed")
    assert f"`git add {' '.join(expected)}`" in line
    git(tmp_path, "add", "requirements.txt")  # staged is not committed
    assert "requirements.txt" in lock_commit.uncommitted(tmp_path)
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x")
    assert lock_commit.commit_line(tmp_path) is None
    (tmp_path / "requirements.txt").write_text("x==2\n")
    assert lock_commit.commit_line(tmp_path).startswith("requirements.txt is new or changed")
    ((check, result, detail),) = rows(tmp_path)
    assert (check, result) == ("locks committed", "warning") and "commit it" in detail
    assert all(c.ok for c in lock_commit.doctor_checks(tmp_path))  # a warning never fails


def test_locks_to_commit_name_the_changed_inputs_they_were_compiled_from(tmp_path: Path):
    """Committing only the locks leaves them out of date in every clone: their header
    digests the .in files, so a changed .in file goes into the same `git add`."""
    git(tmp_path, "init", "-q")
    for name, text in (("requirements.in", "x\n"), ("requirements-dev.in", "-r requirements.in\n")):
        (tmp_path / name).write_text(text)
    (tmp_path / "requirements.txt").write_text("x==1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x")
    assert lock_commit.commit_line(tmp_path) is None
    (tmp_path / "requirements.in").write_text("x\ny\n")  # an input changed, no lock yet
    assert lock_commit.commit_line(tmp_path) is None
    (tmp_path / "requirements.txt").write_text("x==1\ny==2\n")  # then `nox -s lock`
    line = lock_commit.commit_line(tmp_path)
    assert "`git add requirements.in requirements.txt`" in line, line
    assert "commit it and requirements.in, which it is compiled from (" in line, line
    ((_, result, detail),) = rows(tmp_path)
    assert result == "warning" and detail == line


def test_locks_to_commit_name_pyproject_when_its_lock_settings_changed(tmp_path: Path):
    """`nox -s matrix` then `nox -s lock`: the matrix is an input of the locks, so
    pyproject.toml joins the `git add`; another change in it (a description) does not."""
    git(tmp_path, "init", "-q")
    pyproject = tmp_path / "pyproject.toml"
    settings = '[project]\ndescription = "a"\n[tool.envlock]\npython-matrix = ["3.11", "3.12"]\n'
    pyproject.write_text(settings)
    (tmp_path / "requirements.txt").write_text("x==1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x")
    (tmp_path / "requirements.txt").write_text("x==2\n")
    pyproject.write_text(settings.replace('"a"', '"b"'))
    assert "`git add requirements.txt`" in lock_commit.commit_line(tmp_path)
    pyproject.write_text(settings.replace('"3.11", ', ""))
    line = lock_commit.commit_line(tmp_path)
    assert "`git add pyproject.toml requirements.txt`" in line, line


def test_locks_to_commit_in_a_folder_of_a_larger_repository(tmp_path: Path):
    """git status names paths from the repository's top, not from the project."""
    git(tmp_path, "init", "-q")
    project = tmp_path / "services" / "model"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text("x==1\n")
    (tmp_path / "requirements.txt").write_text("the top's own, not the project's\n")
    assert lock_commit.uncommitted(project) == ["requirements.txt"]
    git(tmp_path, "add", "services")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x")
    assert lock_commit.uncommitted(project) == []  # the top's untracked lock is not its
