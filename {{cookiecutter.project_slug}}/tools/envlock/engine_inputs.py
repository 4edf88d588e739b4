"""What a lock engine reads, and what becomes of what it writes.

The engine is given copies of the ``.in`` files, rewritten by ``requirements_in`` into
forms both engines read, in a scratch folder that mirrors the project's layout (so
``-r`` still works); its output is made portable by ``lock_body`` before it becomes a
lock. The runtime lock is constrained by the dev lock's packages from the index only:
uv refuses unnamed and editable constraints, pip refuses editable ones, and a local or
direct package is the same in both locks anyway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from envlock import EnvlockError, lock_body, requirements_in
from envlock.requirements_in import Inputs

__all__ = ["EngineInputs", "prepared"]


@dataclasses.dataclass(frozen=True)
class EngineInputs:
    inputs: Inputs
    scratch: Path
    copies: dict[Path, Path]

    def copy_of(self, path: Path) -> Path:
        """The copy the engine reads in place of the project's ``path``."""
        return self.copies[path.resolve()]

    def portable(self, body: str, lock: str) -> str:
        """The engine's output as a lock body: no path of this machine, names known."""
        text = lock_body.portable(
            body,
            self.inputs.root,
            self.scratch,
            self.inputs.local_packages(),
            self.inputs.editable_markers(),
        )
        try:
            pins = lock_body.parse_pins(Path(lock), text)
        except lock_body.UnreadableEntry as error:
            raise EnvlockError(
                f"{lock} as the engine wrote it could not be installed ({error.problem}): "
                "change that requirement in the .in files"
            ) from None
        self.check_named_hashes(pins)
        return text

    def check_named_hashes(self, pins: list[lock_body.Pin]) -> None:
        """A URL's ``#sha256=`` must be the hash of the file the engine locked (it was
        given the URL without it, so the lock's hash is the file's own)."""
        locked = {pin.source: pin.hashes for pin in pins if pin.source}
        for entry in self.inputs.entries():
            named = requirements_in.url_sha256(entry.value) if entry.kind.value == "url" else None
            url = entry.value.split("#", 1)[0]
            hashes = [h.removeprefix("sha256:") for h in locked.get(url, ())]
            if named is None or not hashes or named in hashes:
                continue
            raise EnvlockError(
                f"{entry.line.where(self.inputs.root)}: the file at {url} is not the one "
                f"the line's `#sha256=` names (its sha256 is {hashes[0]}): fix the hash in "
                "that line if the file is the one you want, else the URL"
            )

    def constraints(self, body: str, name: str) -> Path:
        """A constraints file (in the scratch folder) with the index pins of ``body``,
        named after the lock it comes from so that the engine's comments stay readable."""
        path = self.scratch / name
        pins = lock_body.parse_pins(path, body)
        path.write_text(lock_body.index_pins(pins), encoding="utf-8")
        return path

    def where(self, name: str, dependents: Mapping[str, set[str]] | None = None) -> str:
        """Where the inputs ask for the distribution ``name`` (for messages); for a
        dependency, where they ask for the package that needs it (``dependents``, from
        the lock's ``# via`` comments: ``lock_body.dependents``)."""
        entry = self.inputs.find(name)
        if entry is not None:
            return entry.line.where(self.inputs.root)
        seen, todo = {name}, sorted((dependents or {}).get(name, ()))
        while todo:
            parent = todo.pop(0)
            if parent in seen:
                continue
            seen.add(parent)
            entry = self.inputs.find(parent)
            if entry is not None:
                return f"{entry.line.where(self.inputs.root)} ({parent}, which needs {name})"
            todo += sorted((dependents or {}).get(parent, ()))
        return "the .in files (it is a dependency of a package there)"


@contextlib.contextmanager
def prepared(
    root: Path, top: Iterable[Path], engine: str, locks: Iterable[Path] = ()
) -> Iterator[EngineInputs]:
    """Read and check the inputs (raising one line for a refused form; ``locks``: the
    files `lock` writes, which no input may include), then yield the copies the engine
    reads; the copies are removed afterwards."""
    inputs = requirements_in.read_inputs(root, top, locks)
    requirements_in.check_for_engine(inputs, engine)
    with tempfile.TemporaryDirectory(prefix="envlock-inputs-") as scratch:
        folder = Path(scratch).resolve()
        yield EngineInputs(inputs, folder, requirements_in.write_copies(inputs, folder))
