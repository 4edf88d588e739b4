"""Distribution and import names, read from ``names.json`` (one data file, also read by
the template's pre-generation hook).

``names.json`` keys: ``imports`` (PyPI distribution -> the top-level modules it
provides), ``tool_imports`` (the same for what only the tool locks hold; not probed here:
the tools live in their own environments), ``conda`` (conda-forge name -> the PyPI
distribution it stands for) and ``sets`` (the distributions of each preset and of the
tools).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

__all__ = ["import_probes", "pypi_names"]

NAMES_FILE = Path(__file__).with_name("names.json")


@functools.cache
def _load(path: Path = NAMES_FILE) -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def import_probes(path: Path = NAMES_FILE) -> dict[str, frozenset[str]]:
    """Module -> the (canonical) PyPI distributions that provide it: the modules the
    isolation check tries, and who may provide each."""
    probes: dict[str, set[str]] = {}
    for distribution, modules in _load(path)["imports"].items():
        assert isinstance(modules, list)
        for module in modules:
            probes.setdefault(str(module), set()).add(canonicalize_name(distribution))
    return {module: frozenset(names) for module, names in probes.items()}


def pypi_names(distributions: Iterable[str], path: Path = NAMES_FILE) -> set[str]:
    """Canonical PyPI names of ``distributions``, conda-forge names translated
    (``pytorch`` -> ``torch``); names of neither kind pass unchanged."""
    conda = {canonicalize_name(k): str(v) for k, v in _load(path)["conda"].items()}
    return {canonicalize_name(conda.get(canonicalize_name(n), n)) for n in distributions}
