"""Check rows: what doctor, rebuild and the rebuild report show ("ok" or "FAILED")."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from envlock.runner import command_passes

__all__ = ["Check", "all_passed", "command_check", "render_table", "summary_json"]


@dataclasses.dataclass(frozen=True)
class Check:
    """One row: a check's name, whether it passed, and what to do when it did not."""

    name: str
    ok: bool
    detail: str = ""

    @property
    def result(self) -> str:
        return "ok" if self.ok else "FAILED"

    def to_json(self) -> dict[str, str]:
        return {"check": self.name, "result": self.result, "detail": self.detail}


def all_passed(checks: Sequence[Check]) -> bool:
    return all(check.ok for check in checks)


def summary_json(checks: Sequence[Check]) -> dict[str, object]:
    """``{"ok": ..., "checks": [...]}``: doctor's ``--json`` and the report's checks."""
    return {"ok": all_passed(checks), "checks": [check.to_json() for check in checks]}


def command_check(name: str, argv: list[str], cwd: Path | None = None) -> Check:
    """A check that passes when the command does (its output is shown as it runs)."""
    return Check(name, command_passes(argv, cwd))


def render_table(checks: Sequence[Check]) -> str:
    """A plain three-column table: check, result, detail."""
    headers = ("check", "result", "detail")
    rows = [headers, *((c.name, c.result, c.detail) for c in checks)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, tuple("-" * w for w in widths), *rows[1:]]
    ]
    return "\n".join(lines)
