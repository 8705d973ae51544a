"""The two ways a ``lamina`` command ends badly on purpose (anything else is a bug in lamina
and ends with its traceback)."""
from __future__ import annotations

USAGE = 2  # bad input on the command line: argparse's status
FAILURE = 1  # the command was fine but could not be carried out
INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


class UsageError(Exception):
    """Bad input: an argument, or a file named on the command line. Exit status 2."""


class Failure(Exception):
    """A well-formed command that could not be done (data not found, disk full...). Exit status 1."""
