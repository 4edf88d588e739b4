#!/usr/bin/env python3
"""STAND-IN for micromamba, mamba or conda in the template's tests (no solver can be
installed on the test machines). It records every call and imitates just enough:

- ``--version`` prints a version;
- ``create ... --prefix P`` (what ``conda-lock install`` runs) makes a plain venv at P,
  whose Python sees the test environment's packages through a .pth file, and a
  ``conda-meta`` folder, so the sessions can install the project and run its tests;
- ``list --json --prefix P`` prints the recorded ``conda list --json`` of STANDIN_LIST;
- anything else (a solve) fails, as a solver without channels would.

STANDIN_NAME: the solver it stands in for; STANDIN_LOG: file to append each call to (JSON lines); STANDIN_FAIL_ON: a subcommand
that fails; STANDIN_FAIL_AFTER: how many calls of it succeed first.
"""

import json
import os
import subprocess
import sys
from pathlib import Path


def count_calls(log: Path, command: str) -> int:
    if not log.exists():
        return 0
    return sum(
        1 for line in log.read_text().splitlines() if json.loads(line)["argv"][:1] == [command]
    )


def main(argv: list[str]) -> int:
    log = Path(os.environ["STANDIN_LOG"])
    command = argv[0] if argv else ""
    previous = count_calls(log, command)
    with log.open("a") as handle:
        handle.write(json.dumps({"tool": os.environ["STANDIN_NAME"], "argv": argv}) + "\n")
    if command == "--version":
        print("2.3.0")
        return 0
    if command == os.environ.get("STANDIN_FAIL_ON") and previous >= int(
        os.environ.get("STANDIN_FAIL_AFTER", "0")
    ):
        print(f"stand-in solver: {command} failed as told", file=sys.stderr)
        return 1
    prefix = Path(argv[argv.index("--prefix") + 1]) if "--prefix" in argv else None
    if command == "create" and prefix is not None:
        subprocess.run(
            [os.environ["STANDIN_PYTHON"], "-m", "venv", "--without-pip", str(prefix)], check=True
        )
        (prefix / "conda-meta").mkdir()
        site = next((prefix / "lib").glob("python3.*/site-packages"))
        (site / "standin-test-env.pth").write_text(os.environ["STANDIN_SITE"] + "\n")
        return 0
    if command == "list" and "--json" in argv:
        print(Path(os.environ["STANDIN_LIST"]).read_text())
        return 0
    print(f"stand-in solver: cannot do {' '.join(argv)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
