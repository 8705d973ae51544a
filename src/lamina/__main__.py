"""``python -m lamina``: the ``lamina`` command (see :mod:`lamina.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
