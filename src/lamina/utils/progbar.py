"""A progress bar that prints what Keras 3's ``keras.utils.Progbar`` prints.

The line format, the timing estimates and the averaging of values follow
Keras 3.  Where the output goes differs in one deliberate way: Keras decides
that the display is "dynamic" (redrawn in place with ``\\r`` and coloured with
ANSI codes) on every POSIX system, even when the output is a pipe or a file.
lamina redraws in place and colours only when the stream is a terminal (or a
notebook / PyCharm console, as Keras); any other stream (a log file, a pipe) gets
no ANSI codes and one plain line of the bar at least every ``LOG_INTERVAL``
seconds, so ``tail -f`` moves during a long epoch, then the finished bar.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable

import numpy as np

from .._types import Writable
from . import io_utils

__all__ = ["Progbar"]

_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_WHITE = "\x1b[37m"
_RESET = "\x1b[0m"
_BAR_CHAR = "\u2501"  # '━'
LOG_INTERVAL = 10.0  # seconds between two lines of a bar written to a file or a pipe


def _stream_is_dynamic(stream):
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError, OSError):
        pass
    # A notebook's output stream redraws too; judged by the stream itself, not by whether
    # ipykernel happens to be imported somewhere in the process (as Keras does).
    if type(stream).__module__.startswith("ipykernel"):
        return True
    return "PYCHARM_HOSTED" in os.environ and stream is sys.__stdout__


def _format_value(avg, signed=True):
    # Keras compares abs(avg) at verbose=1 but avg itself at verbose=2.
    if (abs(avg) if signed else avg) > 1e-3:
        return f" {avg:.4f}"
    return f" {avg:.4e}"


class Progbar:
    """Displays a progress bar.

    Args:
        target: Total number of steps expected, None if unknown.
        width: Progress bar width on screen.
        verbose: Verbosity mode, 0 (silent), 1 (verbose), 2 (semi-verbose).
        interval: Minimum visual progress update interval (in seconds).
        stateful_metrics: Iterable of names of metrics that are displayed
            as given. All others are averaged over the steps by the bar
            (when the bar is finalized, the given value is shown as-is).
        stateless_metrics: The reverse selection (newer Keras): only these
            are averaged. Give at most one of the two.
        unit_name: Display name for step counts (usually "step" or "sample").
        file: Stream to write to; ``None`` means ``sys.stdout`` looked up at
            each write.
        time_fn: Clock returning seconds (for tests).
        dynamic_display: Force (True) or forbid (False) the in-place redrawn
            display with ANSI codes; ``None`` decides from the stream.
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        stateless_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
        *,
        file: Writable | None = None,
        time_fn: Callable[[], float] = time.time,
        dynamic_display: bool | None = None,
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` and `stateless_metrics` "
                "may be provided."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics: set[str] | None = None
            self.stateless_metrics: set[str] | None = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        self.file = file
        self._time = time_fn
        self._dynamic_display = dynamic_display

        self._seen_so_far = 0
        self._values: dict[str, list] = {}  # name -> [weighted sum, steps] (or [value, 1] as given)
        self._values_order: list[str] = []
        self._start = time_fn()
        self._last_update = 0
        self._last_line = self._start  # off a terminal: when the last line was written
        self._time_at_epoch_start = self._start
        self._time_after_first_step = None
        self._prev_total_width = 0

    # ------------------------------------------------------------------ API
    def update(self, current, values=None, finalize=None):
        """Updates the progress bar.

        Args:
            current: Index of current step.
            values: List of tuples ``(name, value_for_last_step)``.
            finalize: Whether this is the last update for the progress bar.
                If ``None``, defaults to ``current >= self.target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target

        if values:
            self._record_values(current, values, finalize)
        self._seen_so_far = current

        verbose = self.verbose
        if verbose == 1:
            now = self._time()
            if current == 1:
                # Harmless before the estimate: step 1 never uses it.
                self._time_after_first_step = now
            if not finalize and now - self._last_update < self.interval:
                return
            dynamic = self._dynamic_display
            if dynamic is None:
                # a log gets whole lines, never a redraw
                dynamic = self._dynamic_display = _stream_is_dynamic(
                    self._stream()
                ) and not self._logging()
            if not dynamic and not finalize:
                # Off a terminal: a whole line now and then, never a redraw.
                if now - self._last_line < LOG_INTERVAL:
                    return
                self._last_line = now
            time_per_unit = self._estimate_step_duration(current, now)
            self._write_verbose1(current, now, time_per_unit, finalize, dynamic)
            self._last_update = now
        elif verbose == 2:
            if not finalize:
                if current == 1:
                    self._time_after_first_step = self._time()
                return
            now = self._time()
            time_per_unit = self._estimate_step_duration(current, now)
            if self.target is not None and self.target > 0:
                self._write_verbose2(current, now, time_per_unit)
            self._last_update = now

    def due(self):
        """Whether ``update`` would redraw now: a cheap test that lets a caller skip
        building the values on the steps that would not be shown."""
        if self.verbose != 1:
            return False
        now = self._time()
        if self._dynamic_display is False:
            return now - self._last_line >= LOG_INTERVAL
        return now - self._last_update >= self.interval

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    # ------------------------------------------------------------ internals
    def _stream(self):
        return self.file if self.file is not None else sys.stdout

    def _logging(self):
        return self.file is None and not io_utils.is_interactive_logging_enabled()

    def _write(self, message):
        if self._logging():
            io_utils.print_msg(message.strip("\r\n"))  # one log record per line of the bar
            return
        stream = self._stream()
        stream.write(message)
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass

    def _record_values(self, current, values, finalize):
        stored = self._values
        order = self._values_order
        stateful = self.stateful_metrics
        for k, v in values:
            if k not in stored:
                order.append(k)
            if stateful is not None:
                stateless = k not in stateful
            else:
                stateless = k in self.stateless_metrics
            if stateless and not finalize:
                base = max(current - self._seen_so_far, 1)
                entry = stored.get(k)
                if entry is None:
                    stored[k] = [v * base, base]
                else:
                    entry[0] += v * base
                    entry[1] += base
            else:
                # Shown as given; a finalizing call replaces the average.
                stored[k] = [v, 1]

    def _average(self, k):
        total, count = self._values[k]
        if not isinstance(total, float):
            total = np.mean(total)
        return total / max(1, count)

    def _write_verbose1(self, current, now, time_per_unit, finalize, dynamic):
        target = self.target
        has_target = target is not None and target > 0
        if has_target:
            numdigits = int(math.log10(target)) + 1
            count = "%*d/%d" % (numdigits, current, target)
            prog_width = int(self.width * (float(current) / target))
            done = _BAR_CHAR * prog_width if prog_width > 0 else ""
            todo = _BAR_CHAR * (self.width - prog_width)
            if dynamic:
                bar = f"{_BOLD}{count}{_RESET} "
                if done:
                    bar += f"{_GREEN}{done}{_RESET}"
                bar += f"{_WHITE}{todo}{_RESET}"
            else:
                bar = f"{count} {done}{todo}"
            plain_bar_len = len(count) + 1 + len(done) + len(todo)
        else:
            bar = "%7d/Unknown" % current
            plain_bar_len = len(bar)

        if has_target and not finalize:
            eta = time_per_unit * (target - current)
            if eta > 3600:
                clock = "%d:%02d:%02d" % (
                    eta // 3600,
                    (eta % 3600) // 60,
                    eta % 60,
                )
            elif eta > 60:
                clock = "%d:%02d" % (eta // 60, eta % 60)
            else:
                clock = "%ds" % eta
        else:
            clock = f"{now - self._start:.0f}s"
        clock_part = f" {_BOLD}{clock}{_RESET}" if dynamic else f" {clock}"

        info = self._format_time(time_per_unit, self.unit_name)
        for k in self._values_order:
            info += f" - {k}:" + _format_value(self._average(k))

        total_width = plain_bar_len + 1 + len(clock) + len(info)
        message = bar + clock_part + info
        if dynamic:
            message = "\b" * self._prev_total_width + "\r" + message
            if self._prev_total_width > total_width:
                message += " " * (self._prev_total_width - total_width)
        if finalize or not dynamic:
            message += "\n"
        self._write(message)
        self._prev_total_width = total_width

    def _write_verbose2(self, current, now, time_per_unit):
        numdigits = int(math.log10(self.target)) + 1
        info = "%*d/%d" % (numdigits, current, self.target)
        info += f" - {now - self._start:.0f}s"
        info += " -" + self._format_time(time_per_unit, self.unit_name)
        for k in self._values_order:
            info += f" - {k}:" + _format_value(self._average(k), signed=False)
        self._write(info + "\n")

    @staticmethod
    def _format_time(time_per_unit, unit_name):
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{unit_name}"
        if time_per_unit >= 1e-3:
            return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
        return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current, now):
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
