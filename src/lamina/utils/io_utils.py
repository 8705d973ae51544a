"""Where lamina's own output goes: stdout while interactive logging is on (the default), the
``logging`` module (logger ``"lamina"``, level INFO) once it is turned off, as Keras 3 sends its
output to ``absl.logging`` then. The progress bar of ``fit``/``evaluate``/``predict`` and
``model.summary()`` print through here.

>>> import lamina
>>> lamina.config.is_interactive_logging_enabled()
True
"""
from __future__ import annotations

import logging
import sys

__all__ = ["disable_interactive_logging", "enable_interactive_logging", "is_interactive_logging_enabled",
           "print_msg"]

_INTERACTIVE = [True]  # a list: one process-wide switch, set without a ``global`` statement
LOGGER = logging.getLogger("lamina")


def enable_interactive_logging() -> None:
    """Print progress bars and summaries to stdout (the default)."""
    _INTERACTIVE[0] = True


def disable_interactive_logging() -> None:
    """Send progress bars and summaries to ``logging.getLogger("lamina")`` at INFO instead of
    stdout: for jobs run on a server, where a redrawn bar only fills a log."""
    _INTERACTIVE[0] = False


def is_interactive_logging_enabled() -> bool:
    """Whether lamina's output goes to stdout (True) or to the ``logging`` module (False)."""
    return _INTERACTIVE[0]


def print_msg(message: object, line_break: bool = True) -> None:
    """Write ``message`` to stdout (with a newline unless ``line_break=False``), or log it at
    INFO when interactive logging is off."""
    text = str(message)
    if not _INTERACTIVE[0]:
        LOGGER.info(text)
        return
    sys.stdout.write(text + "\n" if line_break else text)
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError, OSError):  # a closed or odd stream: the text is written
        pass
