"""The benchmark's report logic (the measurements themselves run in `nox -s bench`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench


def result(comparison: str, variant: str, seconds: list[float], workload: str = "ml"):
    return bench.Result(comparison, workload, variant, seconds, 10.0, True)


def test_verdicts_say_met_or_missed_and_by_how_much():
    lines = bench.verdicts(
        [
            result("setup (warm cache)", "uv venv + uv pip sync", [1.0, 1.0]),
            result("setup (warm cache)", "nox -s setup", [2.0, 2.0]),
            result("setup (warm cache)", "python -m venv + pip install -r", [60.0, 60.0]),
            result("lock (uv)", "uv pip compile (both locks)", [1.0]),
            result("lock (uv)", "nox -s lock", [1.2]),
        ]
    )
    text = "\n".join(lines)
    assert (
        "`nox -s setup` takes 2.00x `uv venv + uv pip sync` (target <= 1.3x): MISSED, 53.8% over the target"
        in text
    )
    assert "30.0x faster than `python -m venv` + `pip install -r` (target >= 20x): met" in text
    assert "`nox -s lock` takes 1.20x `uv pip compile (both locks)` (target <= 1.3x): met" in text


def test_setup_breakdown_accounts_for_the_whole_run():
    output = (
        "nox > creating .venv.new with Python 3.12: done in 0.1 s\n"
        "nox > installing requirements-dev.txt: done in 0.4 s\n"
        "nox > installing the project (editable): done in 0.1 s\n"
    )
    parts = bench.setup_breakdown(output, 1.0)
    assert parts["installing requirements-dev.txt"] == 0.4
    assert round(sum(parts.values()), 6) == 1.0


def test_commands_typed_by_hand_run_in_order(tmp_path: Path):
    import subprocess

    first, second = tmp_path / "a", tmp_path / "b"
    argv = bench.in_sequence(
        [sys.executable, "-c", f"open({str(first)!r}, 'w').write('1')"],
        [
            sys.executable,
            "-c",
            f"assert open({str(first)!r}).read() == '1'; open({str(second)!r}, 'w')",
        ],
    )
    subprocess.run(argv, check=True)
    assert second.exists()


def test_setup_after_a_lock_change_reports_the_overhead_in_seconds_beside_nox_list():
    lines = bench.verdicts(
        [
            result("setup after a lock change", "uv venv + uv pip sync", [0.5, 0.7, 0.6]),
            result("setup after a lock change", "nox -s setup", [1.0, 1.1, 0.9]),
            result("setup after a lock change", "nox --list", [0.3, 0.3]),
        ]
    )
    assert (
        "- setup after a lock change [ml]: `nox -s setup` takes 1.00 s, +0.40 s over "
        "`uv venv + uv pip sync` (0.60 s); `nox --list` alone takes 0.30 s"
    ) in lines


def test_each_setup_of_the_lock_change_row_sees_another_lock(tmp_path: Path):
    states = [
        {"requirements.in": b"a\n", "requirements.txt": b"a==1\n"},
        {"requirements.in": b"a\nsix\n", "requirements.txt": b"a==1\nsix==1\n"},
    ]
    prepare = bench.alternating(tmp_path, states)
    seen = []
    for _ in range(4):
        prepare()
        seen.append((tmp_path / "requirements.txt").read_bytes())
    assert seen == [b"a==1\n", b"a==1\nsix==1\n", b"a==1\n", b"a==1\nsix==1\n"]
    assert (tmp_path / "requirements.in").read_bytes() == b"a\nsix\n"
