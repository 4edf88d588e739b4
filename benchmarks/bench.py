"""Benchmark: the baked project's sessions beside what people run instead.

A benchmark, not a test: it measures and reports, and never fails because a machine is
slow. Each comparison runs its variants interleaved (A B A B ...) after one untimed
warm-up round, and reports medians, their ratio to the baseline, and the peak memory of
the whole process tree. Run it with `nox -s bench` (`-- --quick` for the short run).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "results"
PYTHON = "3.12"
# About a hundred pinned packages: the ml preset and JupyterLab.
LARGE_EXTRA = ["jupyterlab"]
RUN_ALL = "import json, subprocess, sys\nfor argv in json.loads(sys.argv[1]):\n    subprocess.run(argv, check=True)\n"


@dataclasses.dataclass
class Variant:
    name: str
    argv: list[str]
    prepare: Callable[[], None] = lambda: None
    env: dict[str, str] | None = None


@dataclasses.dataclass
class Result:
    comparison: str
    workload: str
    variant: str
    seconds: list[float]
    peak_mb: float
    ok: bool
    output: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def in_sequence(*argvs: list[str]) -> list[str]:
    """One command that runs several, as a person would type them one after the other."""
    return [sys.executable, "-c", RUN_ALL, json.dumps(argvs)]


def clean_pip_env() -> dict[str, str]:
    """pip as on a machine without extra configuration: the default index only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def measure(
    argv: list[str], cwd: Path, env: dict[str, str] | None
) -> tuple[float, float, bool, str]:
    """Seconds, peak memory (MB, the whole process tree) and success of one run."""
    log = WORK / "last-run.log"
    with log.open("w") as handle:
        started = time.perf_counter()
        process = psutil.Popen(argv, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT)
        peak = 0
        while process.poll() is None:
            rss = 0
            try:
                for proc in [process, *process.children(recursive=True)]:
                    rss += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
            peak = max(peak, rss)
            time.sleep(0.02)
        seconds = time.perf_counter() - started
    return seconds, peak / 2**20, process.returncode == 0, log.read_text(errors="replace")


def compare(
    comparison: str,
    workload: str,
    cwd: Path,
    variants: list[Variant],
    reps: int,
    warm_up: bool = True,
) -> list[Result]:
    """Run the variants interleaved; the first is the one the others are compared with."""
    results = {v.name: Result(comparison, workload, v.name, [], 0.0, True) for v in variants}
    for round_ in range(reps + (1 if warm_up else 0)):
        for variant in variants:
            variant.prepare()
            seconds, peak, ok, output = measure(variant.argv, cwd, variant.env)
            result = results[variant.name]
            if warm_up and round_ == 0:
                result.ok = ok
                result.output = output
                continue
            result.seconds.append(seconds)
            result.peak_mb = max(result.peak_mb, peak)
            result.ok = result.ok and ok
            result.output = output
        print(
            f"  {comparison} [{workload}] round {round_ + 1}: "
            + ", ".join(f"{r.variant} {r.seconds[-1]:.2f}s" for r in results.values() if r.seconds),
            flush=True,
        )
    return list(results.values())


def remove(*paths: Path) -> Callable[[], None]:
    def action() -> None:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)

    return action


def bake(name: str, **answers: str) -> Path:
    out = WORK / name
    shutil.rmtree(out, ignore_errors=True)
    args = [
        f"{k}={v}"
        for k, v in {"python_version": PYTHON, "python_versions": PYTHON, **answers}.items()
    ]
    subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), str(TEMPLATE), *args],
        check=True,
        capture_output=True,
    )
    return out / "my-project"


def nox(*args: str) -> list[str]:
    return [sys.executable, "-m", "nox", *args]


def uv() -> str:
    return str(Path(sys.executable).with_name("uv"))


def python_path(version: str) -> str:
    sys.dont_write_bytecode = True  # nothing may be written into the template's folders
    sys.path.insert(0, str(TEMPLATE / "{{cookiecutter.project_slug}}" / "tools"))
    from envlock.pythons import require_python

    return str(require_python(version))


def setup_breakdown(output: str, seconds: float) -> dict[str, float]:
    """Seconds of each step `nox -s setup` reports; the rest is nox's start-up, the
    interpreter lookup, the lock check and .env."""
    steps = {m[1]: float(m[2]) for m in re.finditer(r"nox > (.+?): done in ([\d.]+) s", output)}
    steps["nox start-up, interpreter lookup, lock check, .env"] = max(
        0.0, seconds - sum(steps.values())
    )
    return steps


# A locked state of a project: its inputs and locks, file name -> content.
LockedState = dict[str, bytes]


def locked_states(project: Path, extra: str) -> list[LockedState]:
    """The project's locked state, and the state with ``extra`` added and locked; the
    project is left in the first."""
    names = ["requirements.in", *sorted(p.name for p in project.glob("requirements*.txt"))]
    first = {name: (project / name).read_bytes() for name in names}
    with (project / "requirements.in").open("a") as handle:
        handle.write(f"{extra}\n")
    subprocess.run(nox("-s", "lock"), cwd=project, check=True, capture_output=True)
    second = {name: (project / name).read_bytes() for name in names}
    put_state(project, first)
    return [first, second]


def put_state(project: Path, state: LockedState) -> None:
    for name, content in state.items():
        (project / name).write_bytes(content)


def alternating(project: Path, states: list[LockedState]) -> Callable[[], None]:
    """Each call puts the next of ``states`` in place, so every run sees a lock change."""
    turn = iter(range(10**9))

    def action() -> None:
        put_state(project, states[next(turn) % len(states)])

    return action


def workloads(quick: bool) -> list[tuple[str, Path]]:
    made = [("none", bake("none")), ("ml", bake("ml", preset="ml"))]
    if not quick:
        large = bake("large", preset="ml")
        with (large / "requirements.in").open("a") as handle:
            handle.write("".join(f"{name}\n" for name in LARGE_EXTRA))
        made.append(("large", large))
    for _, project in made:
        subprocess.run(nox("-s", "lock"), cwd=project, check=True, capture_output=True)
    return made


def raw_uv_setup(interpreter: str, env: Path, lock: str) -> list[str]:
    """What `nox -s setup` does, typed by hand with uv."""
    return in_sequence(
        [uv(), "venv", "-q", "--python", interpreter, str(env)],
        [uv(), "pip", "sync", "-q", "--require-hashes", "--python", str(env), lock],
    )


def classic_setup(interpreter: str, env: Path, lock: str, *pip_options: str) -> list[str]:
    """The three commands of virtual-environment tutorials (activation is free)."""
    return in_sequence(
        [interpreter, "-m", "venv", str(env)],
        [str(env / "bin" / "pip"), "install", "-q", *pip_options, "-r", lock],
    )


def raw_locks(compile_command: list[str], prefix: str) -> list[str]:
    """Both locks compiled by hand: the dev lock, then the runtime lock constrained by it."""
    return in_sequence(
        [*compile_command, "requirements-dev.in", "-o", str(WORK / f"{prefix}-dev.txt")],
        [*compile_command, "requirements.in", "-c", "requirements-dev.txt",
         "-o", str(WORK / f"{prefix}.txt")],
    )  # fmt: skip


def run(quick: bool) -> list[Result]:
    reps = 2 if quick else 5
    results: list[Result] = []
    interpreter = python_path(PYTHON)
    lock = "requirements-dev.txt"
    uv_compile = [uv(), "pip", "compile", "-q", "--universal", "--generate-hashes",
                  "--python-version", PYTHON]  # fmt: skip
    for workload, project in workloads(quick):
        venv, raw, classic = project / ".venv", project / ".venv-raw", project / "venv"
        results += compare("setup (warm cache)", workload, project, [
            Variant("uv venv + uv pip sync", raw_uv_setup(interpreter, raw, lock), remove(raw)),
            Variant("nox -s setup", nox("-s", "setup"), remove(venv)),
            Variant("python -m venv + pip install -r", classic_setup(interpreter, classic, lock),
                    remove(classic), clean_pip_env()),
        ], reps if workload != "large" else 2)  # fmt: skip
        results += compare("setup, nothing changed", workload, project, [
            Variant("nox --list", nox("--list")),
            Variant("nox -s setup", nox("-s", "setup")),
        ], reps)  # fmt: skip
        states = locked_states(project, "six")
        results += compare("setup after a lock change", workload, project, [
            Variant("uv venv + uv pip sync", raw_uv_setup(interpreter, raw, lock), remove(raw)),
            Variant("nox -s setup", nox("-s", "setup"), alternating(project, states[::-1])),
            Variant("nox --list", nox("--list")),
        ], reps)  # fmt: skip
        put_state(project, states[0])
        results += compare("lock (uv)", workload, project, [
            Variant("uv pip compile (both locks)", raw_locks(uv_compile, "uv")),
            Variant("nox -s lock", nox("-s", "lock")),
        ], reps)  # fmt: skip
        pytest = [str(venv / "bin" / "python"), "-m", "pytest", "-q"]
        results += compare("rebuild (warm cache)", workload, project, [
            Variant("nox -s setup (fresh) + pytest", in_sequence(nox("-s", "setup"), pytest),
                    remove(venv)),
            Variant("nox -s rebuild", nox("-s", "rebuild")),
        ], reps)  # fmt: skip
        if workload == "none" or not quick:
            preset = "none" if workload == "none" else "ml"
            pip_tools = bake(f"{workload}-pip-tools", lock_engine="pip-tools", preset=preset)
            subprocess.run(nox("-s", "lock"), cwd=pip_tools, check=True, capture_output=True)
            tool = str(pip_tools / ".nox" / f"pip-tools-{PYTHON}" / "bin" / "python")
            pip_compile = [tool, "-m", "piptools", "compile", "-q", "--generate-hashes",
                           "--no-emit-index-url", "--no-emit-find-links"]  # fmt: skip
            results += compare("lock (pip-tools)", workload, pip_tools, [
                Variant("pip-compile (both locks)", raw_locks(pip_compile, "pip-tools"),
                        env=clean_pip_env()),
                Variant("nox -s lock", nox("-s", "lock")),
            ], 1 if workload != "none" else reps)  # fmt: skip
        if workload == "none":
            cache = WORK / "empty-cache"
            cold = {**os.environ, "UV_CACHE_DIR": str(cache)}
            results += compare("setup (cold cache, network-dependent)", workload, project, [
                Variant("uv venv + uv pip sync", raw_uv_setup(interpreter, raw, lock),
                        remove(raw, cache), cold),
                Variant("nox -s setup", nox("-s", "setup"), remove(venv, cache), cold),
                Variant("python -m venv + pip install -r",
                        classic_setup(interpreter, classic, lock, "--no-cache-dir"),
                        remove(classic), clean_pip_env()),
            ], 1, warm_up=False)  # fmt: skip
    bakes = WORK / "bakes"
    bake_argv = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(bakes),
                 str(TEMPLATE)]  # fmt: skip
    results += compare("bake", "none", WORK, [
        Variant("cookiecutter --no-input (this template)", bake_argv, remove(bakes)),
    ], reps)  # fmt: skip
    return results


# --- the report ------------------------------------------------------------------------

TARGETS = {  # comparison: (variant, baseline variant, the most it may take, in baselines)
    "setup (warm cache)": ("nox -s setup", "uv venv + uv pip sync", 1.3),
    "setup, nothing changed": ("nox -s setup", "nox --list", 1.5),
    "lock (uv)": ("nox -s lock", "uv pip compile (both locks)", 1.3),
    "lock (pip-tools)": ("nox -s lock", "pip-compile (both locks)", 1.3),
    "rebuild (warm cache)": ("nox -s rebuild", "nox -s setup (fresh) + pytest", 2.0),
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.system()} {platform.release()}, {psutil.cpu_count()} cores ({cpu}), "
        f"{memory:.0f} GiB, Python {platform.python_version()}"
    )


def verdicts(results: list[Result]) -> list[str]:
    """One line per target: the ratio measured, and whether it is met."""
    by_key = {(r.comparison, r.workload, r.variant): r for r in results}
    lines = []
    for workload in sorted({r.workload for r in results}):
        for comparison, (ours_name, base_name, limit) in TARGETS.items():
            ours = by_key.get((comparison, workload, ours_name))
            base = by_key.get((comparison, workload, base_name))
            if not (ours and base and ours.seconds and base.seconds):
                continue
            ratio = ours.median / base.median
            met = "met" if ratio <= limit else f"MISSED, {ratio / limit - 1:.1%} over the target"
            lines.append(
                f"- {comparison} [{workload}]: `{ours_name}` takes {ratio:.2f}x "
                f"`{base_name}` (target <= {limit}x): {met}"
            )
    for workload in sorted({r.workload for r in results}):
        setup = by_key.get(("setup (warm cache)", workload, "nox -s setup"))
        classic = by_key.get(("setup (warm cache)", workload, "python -m venv + pip install -r"))
        if setup and classic and setup.seconds and classic.seconds:
            speedup = classic.median / setup.median
            met = "met" if speedup >= 20 else f"MISSED: {speedup:.1f}x"
            lines.append(
                f"- setup (warm cache) [{workload}]: {speedup:.1f}x faster than "
                f"`python -m venv` + `pip install -r` (target >= 20x): {met}"
            )
        changed = [
            by_key.get(("setup after a lock change", workload, name))
            for name in ("nox -s setup", "uv venv + uv pip sync", "nox --list")
        ]
        if all(r and r.seconds for r in changed):
            ours, raw, listing = (r.median for r in changed if r)
            lines.append(
                f"- setup after a lock change [{workload}]: `nox -s setup` takes "
                f"{ours:.2f} s, {ours - raw:+.2f} s over `uv venv + uv pip sync` "
                f"({raw:.2f} s); `nox --list` alone takes {listing:.2f} s"
            )
        uv_lock = by_key.get(("lock (uv)", workload, "nox -s lock"))
        pt_lock = by_key.get(("lock (pip-tools)", workload, "nox -s lock"))
        if uv_lock and pt_lock and uv_lock.seconds and pt_lock.seconds:
            lines.append(
                f"- lock [{workload}]: the pip-tools engine takes "
                f"{pt_lock.median / uv_lock.median:.0f}x as long as the uv engine"
            )
    lines.append(
        "- bake: `ccds --no-input` (cookiecutter-data-science) fetches its template "
        "from GitHub when it runs, so it could not be measured on this machine"
    )
    return sorted(lines)


def write_report(results: list[Result], quick: bool) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.date.today().isoformat()
    report = RESULTS / f"{stamp}.md"
    baselines = {}
    for r in results:
        baselines.setdefault((r.comparison, r.workload), r)
    rows = [
        "| comparison | workload | command | median s | ratio | peak MB | runs |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        base = baselines[(r.comparison, r.workload)]
        ratio = r.median / base.median if r.seconds and base.seconds else float("nan")
        flag = "" if r.ok else " (FAILED)"
        rows.append(
            f"| {r.comparison} | {r.workload} | `{r.variant}`{flag} | {r.median:.2f} | "
            f"{ratio:.2f}x | {r.peak_mb:.0f} | {len(r.seconds)} |"
        )
    breakdown = [
        r for r in results if r.comparison == "setup (warm cache)" and r.variant == "nox -s setup"
    ]
    lines = [
        f"# Benchmark of {stamp}{' (quick)' if quick else ''}",
        "",
        f"Machine: {machine()}.",
        "",
        (
            "Ratios are to the first command of each comparison, from one run with the "
            "commands interleaved; seconds are medians and depend on the machine. Cold-cache "
            "figures depend on the network."
        ),
        "",
        *rows,
        "",
        "## Targets",
        "",
        *verdicts(results),
        "",
        "## Where the time of `nox -s setup` goes (last run)",
        "",
    ]
    for r in breakdown:
        parts = ", ".join(
            f"{k} {v:.2f} s" for k, v in setup_breakdown(r.output, r.seconds[-1]).items()
        )
        lines.append(f"- {r.workload}: {parts}")
    lines += ["", f"![chart]({stamp}.png)", ""]
    report.write_text("\n".join(lines))
    chart(results, RESULTS / f"{stamp}.png")
    (RESULTS / f"{stamp}.json").write_text(
        json.dumps([dataclasses.asdict(r) | {"output": ""} for r in results], indent=1)
    )
    return report


OURS = {"nox -s setup", "nox -s lock", "nox -s rebuild", "cookiecutter --no-input (this template)"}


def chart(results: list[Result], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.comparison} [{r.workload}]\n{r.variant}" for r in results if r.seconds]
    values = [r.median for r in results if r.seconds]
    figure, axes = plt.subplots(figsize=(10, 0.32 * len(values) + 1.5))
    measured = [r for r in results if r.seconds]
    colours = ["#4c72b0" if r.variant in OURS else "#bbbbbb" for r in measured]
    axes.barh(range(len(values)), values, color=colours)
    axes.set_yticks(range(len(values)), labels, fontsize=6)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlabel("median seconds (log scale); blue: this template's sessions")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, small workloads")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = run(args.quick)
    report = write_report(results, args.quick)
    print(report.read_text())
    print(f"benchmark took {time.perf_counter() - started:.0f} s; report: {report}")


if __name__ == "__main__":
    main()
