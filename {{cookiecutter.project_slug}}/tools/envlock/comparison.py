"""Comparing the distributions an environment holds with the ones its lock says."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from packaging.utils import canonicalize_name

__all__ = ["Comparison", "compare"]


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
        lines = [f"missing: {spelled(n, v)}" for n, v in sorted(self.missing.items())]
        lines += [f"not in the lock: {spelled(n, v)}" for n, v in sorted(self.extra.items())]
        lines += [
            f"{n}: locked {lock}, installed {got}"
            for n, (lock, got) in sorted(self.different.items())
        ]
        return lines


def spelled(name: str, locked_as: str) -> str:
    """``name==1.0``, or for a package from a path, URL or VCS (``Pin.locked_as``) the
    form its lock line has: ``name @ ./libs/x``, ``-e name @ ./libs/x``."""
    if locked_as.startswith("-e "):
        return f"-e {name} @ {locked_as[3:]}"
    if "/" in locked_as or ":" in locked_as:
        return f"{name} @ {locked_as}"
    return f"{name}=={locked_as}"


def compare(
    locked: Mapping[str, str], installed: Mapping[str, str], ignore: Iterable[str]
) -> Comparison:
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
