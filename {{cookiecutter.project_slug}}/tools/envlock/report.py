"""Comparing an environment with its lock, and the rebuild report."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from packaging.utils import canonicalize_name

from envlock.locks import write_atomically


@dataclasses.dataclass(frozen=True)
class Comparison:
    """How the installed distributions differ from the lock (empty fields: identical)."""

    missing: dict[str, str]
    extra: dict[str, str]
    different: dict[str, tuple[str, str]]

    @property
    def matches(self) -> bool:
        return not (self.missing or self.extra or self.different)

    def problems(self) -> list[str]:
        lines = [f"missing: {n}=={v}" for n, v in sorted(self.missing.items())]
        lines += [f"not in the lock: {n}=={v}" for n, v in sorted(self.extra.items())]
        lines += [
            f"{n}: locked {lock}, installed {got}"
            for n, (lock, got) in sorted(self.different.items())
        ]
        return lines


def compare(locked: dict[str, str], installed: dict[str, str], ignore: set[str]) -> Comparison:
    """Compare by canonical name; ``ignore`` holds names that are not locked on purpose
    (the project itself, installed editable)."""
    ignored = {canonicalize_name(n) for n in ignore}
    have = {canonicalize_name(n): v for n, v in installed.items()}
    want = {canonicalize_name(n): v for n, v in locked.items()}
    return Comparison(
        missing={n: v for n, v in want.items() if n not in have},
        extra={n: v for n, v in have.items() if n not in want and n not in ignored},
        different={n: (v, have[n]) for n, v in want.items() if n in have and have[n] != v},
    )


def render_table(rows: list[tuple[str, str, str]]) -> str:
    """A plain three-column table: check, result, detail."""
    headers = ("check", "result", "detail")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(3)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, tuple("-" * w for w in widths), *rows]
    ]
    return "\n".join(lines)


def write_report(path: Path, report: dict) -> None:
    write_atomically(path, json.dumps(report, indent=2, sort_keys=True) + "\n")
