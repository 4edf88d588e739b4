"""Helpers behind the project's noxfile: settings, locks, interpreters and environments.

Everything here is plain Python (standard library and ``packaging``) so that it can be
read, linted and unit-tested on its own; the noxfile only wires it to nox sessions.
"""


class EnvlockError(Exception):
    """A problem the user can fix; the message says what went wrong and what to do."""
