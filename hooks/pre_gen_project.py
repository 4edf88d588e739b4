"""Before cookiecutter writes the files: note what the project folder already holds.

The folder may exist already (``cookiecutter -f``, ``-f -s``, ``cruft create -f``). The
post-generation hook must then touch only what this bake wrote: it compares each file
the template writes with the note made here (a file that was there and is unchanged was
skipped, ``-s``), and puts back, byte for byte, a file of an option not chosen that
cookiecutter overwrote. The answers, and the links the bake would write through, were
checked before (see local_extensions.py); the links again here, in case this hook runs
where the extension could not see the folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Rendered by the template's extension: the template's hooks folder (existing_folder.py,
# shared with the post-generation hook), the private file for the note, and the plan.
STATE = json.loads(r"""{{ cookiecutter | pre_gen_state | tojson }}""")
sys.dont_write_bytecode = True  # no __pycache__ in the template's hooks folder
sys.path.insert(0, STATE["hooks"])
import existing_folder


def main(state: dict) -> int:
    project = Path.cwd()
    problem = existing_folder.links_refusal(project, state["plan"]["files"])
    if problem:
        print(f"ERROR: {problem}", file=sys.stderr)
        return 1
    existing_folder.write_note(
        Path(state["note"]),
        existing_folder.take_note(project, state["plan"], skip=state.get("skip", False)),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(STATE))
