"""What the monitoring callbacks share (``EarlyStopping``, ``ModelCheckpoint``,
``ReduceLROnPlateau``), where Keras keeps it: which way a quantity improves, and the
once-per-fit warning for a quantity missing from the logs."""
from __future__ import annotations

import warnings

# Metric names that improve upwards. Keras 3 reads a metric's direction from the metric object;
# lamina's metrics carry none, so the name decides: these go up, everything else goes down.
_UPWARD = ("acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "r2_score", "iou")


def check_mode(mode: str, who: str) -> str:
    """Keras warns about an unknown mode and falls back to ``"auto"``."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def improves_upward(monitor: str, mode: str, model=None) -> bool:
    """True when larger values of ``monitor`` are better (``mode="max"``, or ``"auto"`` and
    the name is an accuracy-like metric); ``loss`` and ``val_loss`` go down."""
    if mode != "auto":
        return mode == "max"
    name = monitor.removeprefix("val_")
    if name == "loss":
        return False
    for metric in getattr(model, "metrics", None) or ():
        direction = getattr(metric, "_direction", None)
        if getattr(metric, "name", None) == name and direction in ("up", "down"):
            return direction == "up"
    return any(word in name for word in _UPWARD)


class MonitorWarning:
    """Warns once per fit that ``monitor`` is not in the logs, listing the keys that are."""

    def __init__(self, message: str):
        self.message = message
        self.warned = False

    def value(self, logs, monitor: str):
        logs = logs or {}
        current = logs.get(monitor)
        if current is None and not self.warned:
            self.warned = True
            warnings.warn(self.message.format(monitor=monitor) +
                          f" Available metrics are: {','.join(logs)}", stacklevel=4)
        return current
