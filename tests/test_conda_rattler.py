"""tools/envlock/conda_rattler.py for real: locks, installs and reads conda prefixes with
py-rattler against a real conda channel served on 127.0.0.1 (tests/conda_channel.py),
run as the sessions run it: ``python -m envlock.conda_rattler`` in an environment made
from the project's own tool lock.

The channel's python package is the one stand-in (a venv around this machine's Python,
see tests/conda_channel.py); everything else is real: the wheels' code, rattler's
solver, downloads with hash checks, linking, entry points, conda-meta, and conda-lock's
own writer and parser.

Every call runs with HTTP(S)_PROXY pointing at a closed port of 127.0.0.1 and only
127.0.0.1 exempt, so a request that did not go to the loopback server (conda-forge
itself, say) fails instead of leaving this machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import conda_channel
import pytest
from conda_lock.lockfile import parse_conda_lock_file
from conftest import PROJECT_TEMPLATE
from envlock import EnvlockError, backends, lockfiles
from envlock.backends.rattler import rattler_lock_target, upgrade_request
from envlock.settings import load_project

TOOLS = PROJECT_TEMPLATE / "tools"
CANONICAL = "https://conda.anaconda.org/conda-forge/"
ENVIRONMENT = """\
name: demo
channels:
  - conda-forge
  - nodefaults
dependencies:
  - python={python}
  - pip
  - python-dotenv{dotenv}
  - pytest
platforms:
  - linux-64
  - {second}
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def offline_env(**changes: str) -> dict[str, str]:
    """Only the loopback server can be reached; the tool's cache stays in the test."""
    proxy = f"http://127.0.0.1:{closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = proxy
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = str(TOOLS)
    env.update(changes)
    return env


class Tool:
    """``python -m envlock.conda_rattler`` in the tool environment, JSON in and out."""

    def __init__(self, python: Path, work: Path, mirror: str | None):
        self.python, self.work = python, work
        self.mirrors = {"conda-forge": [mirror]} if mirror else {}
        self.cache = work / "rattler-cache"

    def run(self, command: str, **request: object) -> subprocess.CompletedProcess:
        request.setdefault("mirrors", self.mirrors)
        request.setdefault("cache_dir", str(self.cache))
        return subprocess.run(
            [str(self.python), "-m", "envlock.conda_rattler", command],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=offline_env(),
            check=False,
        )

    def ok(self, command: str, **request: object) -> object:
        result = self.run(command, **request)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def error(self, command: str, **request: object) -> str:
        """The one line a failure prints (and that it is one line, with no traceback)."""
        result = self.run(command, **request)
        assert result.returncode == 1, (result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.stderr
        return lines[0]

    def lock(self, environment: Path, lockfile: Path, **request: object) -> object:
        return self.ok("lock", environment=str(environment), output=str(lockfile), **request)


def write_environment(folder: Path, dotenv: str = "") -> Path:
    path = folder / "environment.yml"
    path.write_text(
        ENVIRONMENT.format(
            python=conda_channel.python_version(),
            dotenv=dotenv,
            second=conda_channel.SECOND_PLATFORM,
        )
    )
    return path


def new_work(folder: Path) -> Path:
    folder.mkdir()
    write_environment(folder)
    return folder


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return new_work(tmp_path / "project")


@pytest.fixture
def tool(rattler_python: Path, work: Path, channel) -> Tool:
    """The tool, for a test with its own channel (one it may change or stop)."""
    return Tool(rattler_python, work, channel.url)


class Shared:
    """One channel, one lock and one prefix made from it, for the tests that only read
    them (each lock and install costs seconds)."""

    def __init__(self, channel, tool: Tool, lockfile: Path, prefix: Path, answer: object):
        self.channel, self.tool, self.lockfile, self.prefix = channel, tool, lockfile, prefix
        self.lock_answer = answer
        self.work = tool.work


@pytest.fixture(scope="module")
def shared(rattler_python: Path, conda_packages, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("shared")
    with conda_channel.serve_channel(conda_packages, folder / "channel") as channel:
        work = new_work(folder / "project")
        tool = Tool(rattler_python, work, channel.url)
        lockfile = work / "conda-lock.yml"
        answer = tool.lock(work / "environment.yml", lockfile)
        prefix = work / ".conda"
        tool.ok("install", lockfile=str(lockfile), prefix=str(prefix))
        yield Shared(channel, tool, lockfile, prefix, answer)


def packages_of(lockfile: Path, platform: str) -> dict[str, str]:
    """What conda-lock's own parser reads from the lock: ``{name: url}``."""
    lock = parse_conda_lock_file(lockfile)
    return {p.name: p.url for p in lock.package if p.platform == platform}


# --- lock ---------------------------------------------------------------------------------


def test_lock_for_two_platforms_is_read_by_conda_lock(shared: Shared):
    lockfile, channel = shared.lockfile, shared.channel
    assert shared.lock_answer["platforms"] == ["linux-64", conda_channel.SECOND_PLATFORM]

    lock = parse_conda_lock_file(lockfile)
    assert sorted(lock.metadata.platforms) == sorted(conda_channel.PLATFORMS)
    assert [c.url for c in lock.metadata.channels] == ["conda-forge"]
    assert lock.metadata.sources == ["environment.yml"]
    wanted = {"python", "pip", "python-dotenv", "pytest", "pluggy", "iniconfig", "packaging"}
    for platform in conda_channel.PLATFORMS:
        urls = packages_of(lockfile, platform)
        assert wanted <= set(urls), urls
        # the python of each platform is that platform's own build
        assert f"/conda-forge/{platform}/python-" in urls["python"]
    for package in lock.package:
        # canonical URLs only: the mirror that served them leaves no trace
        assert package.url.startswith(CANONICAL), package.url
        assert package.categories == {"main"}
        subdir, filename = package.url.split("/")[-2:]
        served = (channel.root / subdir / filename).read_bytes()
        assert package.hash.sha256 == hashlib.sha256(served).hexdigest()
        assert package.hash.md5 == hashlib.md5(served).hexdigest()
    text = lockfile.read_text()
    assert "127.0.0.1" not in text and str(channel.root) not in text
    assert "conda-lock install -n YOURENV conda-lock.yml" in text  # its own name, not a scratch
    # only the mirror was asked (anything else would have hit the dead proxy), for both
    # platforms' repodata
    assert any(r.startswith(f"/{conda_channel.SECOND_PLATFORM}/repodata") for r in channel.requests)
    assert any(r.startswith("/linux-64/repodata") for r in channel.requests)


def test_conda_lock_renders_and_would_install_the_lock(shared: Shared, tmp_path: Path):
    """conda-lock's own command line turns the lock into the explicit file that
    `conda-lock install` hands to conda: every locked URL with its hash."""
    conda_lock = Path(sys.executable).parent / "conda-lock"
    shutil.copy(shared.lockfile, tmp_path / "conda-lock.yml")
    subprocess.run(
        [str(conda_lock), "render", "--kind", "explicit", "-p", "linux-64", "conda-lock.yml"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    explicit = (tmp_path / "conda-linux-64.lock").read_text()
    for url in packages_of(shared.lockfile, "linux-64").values():
        assert url in explicit


def test_lock_content_hash_is_conda_locks_own(shared: Shared):
    """conda-lock would find the lock fresh: same content hash it computes itself."""
    from conda_lock.content_hash import compute_content_hashes
    from conda_lock.lookup import DEFAULT_MAPPING_URL
    from conda_lock.src_parser import make_lock_spec
    from conda_lock.virtual_package import default_virtual_package_repodata

    environment = shared.work / "environment.yml"
    spec = make_lock_spec(src_files=[environment], mapping_url=DEFAULT_MAPPING_URL)
    expected = compute_content_hashes(spec, default_virtual_package_repodata())
    assert parse_conda_lock_file(shared.lockfile).metadata.content_hash == expected


def test_relock_is_byte_identical_and_keeps_pins_until_asked(
    rattler_python: Path, work: Path, conda_packages, tmp_path: Path
):
    with conda_channel.serve_channel(conda_packages, tmp_path / "staged", older_only=True) as ch:
        tool = Tool(rattler_python, work, ch.url)
        lockfile = work / "conda-lock.yml"
        tool.lock(work / "environment.yml", lockfile)
        first = lockfile.read_bytes()
        older = "python-dotenv-" + conda_channel.OLDER_DOTENV
        assert older in packages_of(lockfile, "linux-64")["python-dotenv"]

        ch.publish(ch.key("python-dotenv"))  # a newer python-dotenv appears on the channel
        tool.lock(work / "environment.yml", lockfile)
        assert lockfile.read_bytes() == first  # the pin is kept, byte for byte

        before = {p: packages_of(lockfile, p) for p in conda_channel.PLATFORMS}
        tool.lock(work / "environment.yml", lockfile, upgrade_packages=["python-dotenv"])
        for platform in conda_channel.PLATFORMS:
            after = packages_of(lockfile, platform)
            assert older not in after["python-dotenv"]
            rest = {k: v for k, v in after.items() if k != "python-dotenv"}
            assert rest == {k: v for k, v in before[platform].items() if k != "python-dotenv"}

        fresh = work / "fresh.yml"  # no old lock: solved afresh, the newest
        tool.lock(work / "environment.yml", fresh)
        for platform in conda_channel.PLATFORMS:
            assert packages_of(fresh, platform) == packages_of(lockfile, platform)


def test_virtual_packages_are_conda_locks_defaults_and_can_be_overridden(
    tool: Tool, work: Path, channel
):
    """A package that needs a newer glibc than conda-lock assumes (2.28) is unsatisfiable
    until [tool.envlock] says the machines have it; one that needs CUDA is solvable (conda-
    lock assumes CUDA 11.4 on linux-64) until the setting takes CUDA away."""
    python = channel.packages[channel.key("python", subdir="linux-64")]
    index = {
        "name": "needs-glibc",
        "version": "1.0",
        "build": "0",
        "build_number": 0,
        "depends": ["__glibc >=2.34"],
        "subdir": "linux-64",
        "timestamp": conda_channel.TIMESTAMP,
    }
    folder = python.file.parents[1]
    built = conda_channel.write_package(folder, index, {"share/needs-glibc": b"x"})
    cuda = {**index, "name": "needs-cuda", "depends": ["__cuda"]}
    built_cuda = conda_channel.write_package(folder, cuda, {"share/needs-cuda": b"x"})
    for package in (built, built_cuda):
        channel.packages[package.key] = package
    channel.publish(built.key, built_cuda.key)
    environment = work / "environment.yml"
    environment.write_text(
        environment.read_text()
        .replace("  - pytest\n", "  - pytest\n  - needs-glibc\n  - needs-cuda\n")
        .replace(f"  - {conda_channel.SECOND_PLATFORM}\n", "")
    )
    line = tool.error("lock", environment=str(environment), output=str(work / "conda-lock.yml"))
    assert "cannot be solved for linux-64" in line and "__glibc" in line
    newer_glibc = {"linux-64": {"__glibc": "2.35"}}
    tool.lock(environment, work / "conda-lock.yml", virtual_packages=newer_glibc)
    assert "needs-glibc" in packages_of(work / "conda-lock.yml", "linux-64")
    # an empty version takes a virtual package away: no CUDA on the machines
    line = tool.error(
        "lock",
        environment=str(environment),
        output=str(work / "no-cuda.yml"),
        virtual_packages={"linux-64": {"__glibc": "2.35", "__cuda": ""}},
    )
    assert "needs-cuda" in line or "__cuda" in line, line


def refused_lock(shared: Shared, tmp_path: Path, change) -> str:
    """The one line a lock of a changed copy of environment.yml fails with."""
    environment = tmp_path / "environment.yml"
    environment.write_text(change((shared.work / "environment.yml").read_text()))
    line = shared.tool.error("lock", environment=str(environment), output=str(tmp_path / "l.yml"))
    assert not (tmp_path / "l.yml").exists()
    return line


def test_unsatisfiable_spec_is_one_line(shared: Shared, tmp_path: Path):
    line = refused_lock(shared, tmp_path, lambda t: t.replace("python-dotenv", "python-dotenv>=99"))
    assert line.startswith("environment.yml cannot be solved for linux-64: ")
    assert "python-dotenv >=99" in line and "change the versions in environment.yml" in line


def test_pip_section_is_refused_saying_where_pip_packages_go(shared: Shared, tmp_path: Path):
    line = refused_lock(
        shared, tmp_path, lambda t: t.replace("  - pytest\n", "  - pytest\n  - pip:\n    - six\n")
    )
    assert "has a pip: section (six)" in line
    assert "under dependencies as conda packages" in line and 'conda-solver = "micromamba"' in line


def test_local_channel_is_refused(shared: Shared, tmp_path: Path):
    root = shared.channel.root
    line = refused_lock(shared, tmp_path, lambda t: t.replace("  - conda-forge\n", f"  - {root}\n"))
    assert "is a local path" in line and "conda-mirrors" in line


def test_without_the_mirror_conda_forge_itself_is_not_reached(shared: Shared, tmp_path: Path):
    """No mirror: the request goes to conda-forge, which (here) cannot be reached."""
    line = shared.tool.error(
        "lock",
        environment=str(shared.work / "environment.yml"),
        output=str(tmp_path / "l.yml"),
        mirrors={},
        cache_dir=str(tmp_path / "cache"),
    )
    assert "the conda channel https://conda.anaconda.org/conda-forge could not be reached" in line
    assert "behind a company mirror, list it under conda-mirrors" in line


def test_server_down_is_one_line_naming_the_channel_and_the_mirror(tool: Tool, work: Path, channel):
    lockfile = work / "conda-lock.yml"
    tool.lock(work / "environment.yml", lockfile)
    tool.ok("install", lockfile=str(lockfile), prefix=str(work / "first"))
    channel.stop()
    expected = (
        f"the conda channel https://conda.anaconda.org/conda-forge could not be reached "
        f"through its mirror {channel.url}"
    )
    line = tool.error(
        "lock",
        environment=str(work / "environment.yml"),
        output=str(work / "x.yml"),
        cache_dir=str(work / "fresh-cache"),
    )
    assert line.startswith(expected) and "conda-mirrors" in line
    assert "again" not in line  # says what to check, not "run the command that failed"
    assert not (work / "x.yml").exists()
    # offline, the package cache still installs what it holds, every file as locked
    tool.ok("install", lockfile=str(lockfile), prefix=str(work / "again"))
    assert tool.ok("installed", prefix=str(work / "again")) == tool.ok(
        "locked", lockfile=str(lockfile)
    )
    # with nothing cached, the install needs the channel
    line = tool.error(
        "install",
        lockfile=str(lockfile),
        prefix=str(work / ".conda"),
        cache_dir=str(work / "fresh-cache"),
    )
    assert line.startswith(expected)


def test_channel_going_down_in_the_middle_of_the_downloads_is_one_line(
    tool: Tool, work: Path, channel
):
    lockfile = work / "conda-lock.yml"
    tool.lock(work / "environment.yml", lockfile)
    channel.fail_at_package = True
    line = tool.error("install", lockfile=str(lockfile), prefix=str(work / ".conda"))
    assert channel.failing.is_set()
    assert "could not be reached through its mirror" in line, line


# --- install, installed, locked -------------------------------------------------------------


def test_install_makes_a_prefix_that_works_and_matches_the_lock(shared: Shared):
    python = shared.prefix / "bin" / "python"
    imported = subprocess.run(
        [str(python), "-c", "import dotenv, pytest, sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(imported.stdout.strip()) == shared.prefix
    # entry points written by the installer, pointing at the prefix's python
    version = subprocess.run(
        [str(shared.prefix / "bin" / "pytest"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "pytest" in version.stdout + version.stderr
    both = shared.tool.ok("packages", lockfile=str(shared.lockfile), prefix=str(shared.prefix))
    assert both["installed"] == both["locked"]
    assert both["locked"]["python"].endswith(conda_channel.STANDIN_BUILD)
    assert both["locked"] == shared.tool.ok(
        "locked", lockfile=str(shared.lockfile), platform="linux-64"
    )
    assert both["installed"] == shared.tool.ok("installed", prefix=str(shared.prefix))


def test_activation_script_puts_the_prefix_first_on_path(shared: Shared, tmp_path: Path):
    script = shared.tool.ok("activation", prefix=str(shared.prefix), shell="bash")["script"]
    (tmp_path / "activate.sh").write_text(script)
    bash = shutil.which("bash")
    assert bash is not None
    found = subprocess.run(
        [bash, "-c", f'source "{tmp_path / "activate.sh"}"; command -v python; echo $CONDA_PREFIX'],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert found.stdout.split() == [str(shared.prefix / "bin" / "python"), str(shared.prefix)]


def test_a_platform_missing_from_the_lock_is_one_line(shared: Shared, tmp_path: Path):
    lockfile = str(shared.lockfile)
    line = shared.tool.error("install", lockfile=lockfile, prefix=str(tmp_path), platform="win-64")
    assert line == (
        "conda-lock.yml has no packages for win-64 (it lists linux-64, "
        f"{conda_channel.SECOND_PLATFORM}): add the platform to environment.yml and run "
        "`nox -s lock`"
    )
    assert shared.tool.error("locked", lockfile=lockfile, platform="win-64") == line


def test_a_lock_edited_to_another_hash_is_refused_before_anything_is_installed(
    shared: Shared, tmp_path: Path
):
    lock = parse_conda_lock_file(shared.lockfile)
    dotenv = next(p for p in lock.package if p.name == "python-dotenv")
    edited = tmp_path / "conda-lock.yml"
    edited.write_text(shared.lockfile.read_text().replace(dotenv.hash.sha256, "f" * 64))
    line = shared.tool.error("install", lockfile=str(edited), prefix=str(tmp_path / ".conda"))
    assert line.startswith(dotenv.url.rsplit("/", 1)[-1] + " is not the file conda-lock.yml locked")
    assert "nothing was installed" in line
    assert not (tmp_path / ".conda").exists()


def test_a_file_changed_on_the_channel_is_refused_by_its_hash(tool: Tool, work: Path, channel):
    """The mirror serves other bytes under the locked name, and its repodata was not
    changed with them: rattler's own check of the download stops it."""
    tool.lock(work / "environment.yml", work / "conda-lock.yml")
    key = channel.key("python-dotenv")
    channel.replace_file(key, (channel.root / channel.key("pip")).read_bytes())
    line = tool.error("install", lockfile=str(work / "conda-lock.yml"), prefix=str(work / "p"))
    assert line.startswith(key.split("/")[-1] + " is not the file conda-lock.yml locked"), line


def test_an_edit_in_the_prefix_is_seen_and_never_reaches_the_package_cache(
    shared: Shared, tmp_path: Path
):
    """A file of the prefix changed in place (``>>``, an editor that writes into the file):
    `changed` names it, and the next install from the same cache has the package's own
    file, also when the cache itself was changed (as a hard-linked install of an older
    version of this module let happen)."""
    cache = tmp_path / "cache"
    prefix = tmp_path / ".conda"
    shared.tool.ok(
        "install", lockfile=str(shared.lockfile), prefix=str(prefix), cache_dir=str(cache)
    )
    assert shared.tool.ok("changed", prefix=str(prefix)) == []
    edited = next(prefix.glob("lib/python*/site-packages/dotenv/version.py"))
    original = edited.read_bytes()
    assert edited.stat().st_nlink == 1  # its own copy, not a hard link into the cache
    with edited.open("ab") as file:
        file.write(b'print("TAMPERED-IN-PLACE")\n')
    assert shared.tool.ok("changed", prefix=str(prefix)) == [edited.relative_to(prefix).as_posix()]

    again = tmp_path / "again"
    shared.tool.ok(
        "install", lockfile=str(shared.lockfile), prefix=str(again), cache_dir=str(cache)
    )
    assert (again / edited.relative_to(prefix)).read_bytes() == original

    cached = next(cache.glob("pkgs/python-dotenv-*/site-packages/dotenv/version.py"))
    with cached.open("ab") as file:
        file.write(b'print("TAMPERED-IN-CACHE")\n')
    third = tmp_path / "third"
    shared.tool.ok(
        "install", lockfile=str(shared.lockfile), prefix=str(third), cache_dir=str(cache)
    )
    assert (third / edited.relative_to(prefix)).read_bytes() == original
    assert shared.tool.ok("changed", prefix=str(third)) == []


def test_a_package_pip_replaced_shows_with_the_version_python_sees(shared: Shared, tmp_path: Path):
    """``pip install`` of the older python-dotenv over the locked one: pip removes the conda
    package's files (all of them: its RECORD lists them, INSTALLER too, as conda-forge's
    do), and `installed` reports pip's version, which is what Python imports."""
    prefix = tmp_path / ".conda"
    shared.tool.ok("install", lockfile=str(shared.lockfile), prefix=str(prefix))
    dotenv = shared.channel.packages[shared.channel.key("python-dotenv")]
    wheels = dotenv.file.parents[2] / "wheels"  # where conda_packages downloaded the wheels
    older = next(wheels.glob(f"python_dotenv-{conda_channel.OLDER_DOTENV}-*.whl"))
    python = prefix / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(older)],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""},
    )
    site = next(prefix.glob("lib/python*/site-packages"))
    assert [p.name for p in site.glob("python_dotenv-*.dist-info")] == [
        f"python_dotenv-{conda_channel.OLDER_DOTENV}.dist-info"
    ]
    seen = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('python-dotenv'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen.stdout.strip() == conda_channel.OLDER_DOTENV
    installed = shared.tool.ok("installed", prefix=str(prefix))
    assert installed["python-dotenv"] == f"{conda_channel.OLDER_DOTENV} (pip)"
    locked = shared.tool.ok("locked", lockfile=str(shared.lockfile))
    assert locked["python-dotenv"] != installed["python-dotenv"]
    assert shared.tool.ok("changed", prefix=str(prefix))  # conda's files are gone too


def test_installed_sees_what_was_added_or_removed_by_hand(shared: Shared, tmp_path: Path):
    prefix = tmp_path / ".conda"
    shared.tool.ok("install", lockfile=str(shared.lockfile), prefix=str(prefix))
    sys.path.insert(0, str(Path(__file__).parent / "standin"))
    from torch_index import build_wheel

    wheel = build_wheel(tmp_path, "handmade", "1.0")
    subprocess.run(  # the prefix's own pip, from the channel's pip package
        [str(prefix / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index", str(wheel)],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""},
    )
    locked = shared.tool.ok("locked", lockfile=str(shared.lockfile))
    version, build = locked["iniconfig"].split()
    (prefix / "conda-meta" / f"iniconfig-{version}-{build}.json").unlink()
    installed = shared.tool.ok("installed", prefix=str(prefix))
    assert installed["handmade"] == "1.0"
    # no conda record owns iniconfig's files now: it shows as a bare Python distribution
    assert installed["iniconfig"] == version


def test_rattler_module_is_mypy_strict_clean(tmp_path: Path):
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "--strict",
            "-m",
            "envlock.conda_rattler",
        ],
        cwd=TOOLS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


# --- the settings of the rattler backend -----------------------------------------------------


def conda_settings(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.envlock]\npackage = "demo"\npython = "3.12"\n'
        f'env-manager = "conda"\nconda-solver = "rattler"\n{extra}\n'
    )
    (tmp_path / "environment.yml").write_text("dependencies: [python=3.12]\n")
    return tmp_path


def test_mirrors_and_virtual_packages_are_read_from_pyproject(tmp_path: Path):
    project = load_project(
        conda_settings(
            tmp_path,
            'conda-mirrors = { "https://conda.anaconda.org/conda-forge" = ["https://m.example/cf"] }\n'
            'conda-virtual-packages = { linux-64 = { __cuda = "12.4" } }',
        )
    )
    assert project.conda_mirrors == {
        "https://conda.anaconda.org/conda-forge": ("https://m.example/cf",)
    }
    assert project.conda_virtual_packages == {"linux-64": {"__cuda": "12.4"}}
    assert type(backends.for_project(project, None)).__name__ == "RattlerBackend"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('conda-mirrors = { conda-forge = "https://m.example/cf" }', "conda-mirrors must map"),
        ("conda-mirrors = { conda-forge = [] }", "conda-mirrors must map"),
        (
            'conda-mirrors = { conda-forge = ["127.0.0.1:18713"] }',
            (
                "conda-mirrors: the mirror '127.0.0.1:18713' of conda-forge is not an http:// "
                "or https:// URL, and only those work"
            ),
        ),
        (
            'conda-mirrors = { conda-forge = ["file:///srv/channel"] }',
            "conda-mirrors: the mirror 'file:///srv/channel' of conda-forge is not an http://",
        ),
        ('conda-mirrors = { conda-forge = ["mirror.example/cf"] }', "'mirror.example/cf'"),
        ('conda-virtual-packages = { linux-64 = { cuda = "12" } }', "conda-virtual-packages must"),
    ],
)
def test_bad_conda_settings_are_one_line(tmp_path: Path, extra: str, message: str):
    with pytest.raises(EnvlockError, match=message) as caught:
        load_project(conda_settings(tmp_path, extra))
    assert "\n" not in str(caught.value)


def test_virtual_packages_are_part_of_the_lock_inputs(tmp_path: Path):
    """Saying the machines have another CUDA makes the lock stale, as a changed
    environment.yml does."""
    plain = load_project(conda_settings(tmp_path, ""))
    digest = lockfiles.inputs_digest(plain, rattler_lock_target(plain))
    cuda = load_project(
        conda_settings(tmp_path, 'conda-virtual-packages = { linux-64 = { __cuda = "12.4" } }')
    )
    assert lockfiles.inputs_digest(cuda, rattler_lock_target(cuda)) != digest
    assert rattler_lock_target(cuda).engine == "rattler"


def test_lock_options_are_translated_for_rattler():
    assert upgrade_request([]) == (False, [])
    assert upgrade_request(["--upgrade"]) == (True, [])
    assert upgrade_request(["-P", "numpy", "--upgrade-package=pandas"]) == (
        False,
        ["numpy", "pandas"],
    )
    with pytest.raises(EnvlockError, match="takes only --upgrade and --upgrade-package"):
        upgrade_request(["--pre"])
    with pytest.raises(EnvlockError, match="needs a package name"):
        upgrade_request(["--upgrade-package"])
