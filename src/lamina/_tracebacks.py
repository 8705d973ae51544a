"""Tracebacks without lamina's own frames, as Keras 3 filters its own out of an error raised
through ``fit``, ``evaluate``, ``predict`` or a layer call: what is left is the user's code,
where the fix is. ``keras.config.disable_traceback_filtering()`` keeps every frame.
"""
from __future__ import annotations

import functools
import os
import traceback
import types

from .backend import run_config

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def without_lamina_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` rebuilt from its frames outside lamina; the outermost frame when all are lamina's."""
    frames = list(traceback.walk_tb(tb))
    kept = None
    for frame, line in reversed(frames):
        if not frame.f_code.co_filename.startswith(PACKAGE_DIR):
            kept = types.TracebackType(kept, frame, frame.f_lasti, line)
    if kept is None and frames:
        frame, line = frames[-1]
        kept = types.TracebackType(None, frame, frame.f_lasti, line)
    return kept


def filter_traceback(function):
    """``function``, raising its errors with ``without_lamina_frames`` of their traceback while
    filtering is on; the error itself (its type, message and cause) is unchanged."""
    @functools.wraps(function)
    def filtered(*args, **kwargs):
        if not run_config.is_traceback_filtering_enabled():
            return function(*args, **kwargs)
        try:
            return function(*args, **kwargs)
        except Exception as error:
            raise error.with_traceback(without_lamina_frames(error.__traceback__))  # noqa: B904 (the same error)
    return filtered
