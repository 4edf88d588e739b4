"""envlock: the library behind this project's noxfile (locks, environments, checks).

It came with the project template and is updated with it (`cruft update`): do not edit
these files, or every template update becomes a merge. Customise in ``noxfile.py``
instead: its ``REBUILD_CHECKS``, ``DOCTOR_CHECKS`` and ``INSTALLER_ARGS`` are passed in
here. Everything here is plain typed Python (the standard library, ``packaging``, and
``tomli`` on Python < 3.11).

Where each session's logic lives: ``lock`` (nox -s lock), ``setup``, ``rebuild``,
``doctor``, ``hooks``, ``dev_install`` (the venvs of tests and lint), ``matrix``. What
differs between a venv and a conda prefix is in ``backends``.
"""

__all__ = ["EnvlockError", "__version__"]

__version__ = "2.0.0"


class EnvlockError(Exception):
    """A problem the user can fix; the message says what went wrong and what to do."""
