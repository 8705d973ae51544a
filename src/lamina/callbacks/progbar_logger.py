"""``ProgbarLogger``: the ``Epoch 1/30`` line and the progress bar that ``fit`` prints."""
from __future__ import annotations

from ..utils.io_utils import print_msg
from ..utils.progbar import Progbar
from .callback import Callback


class ProgbarLogger(Callback):
    """Prints Keras's progress output for ``verbose`` 1 (a live bar) or 2 (a line per epoch)."""

    def __init__(self):
        super().__init__()
        self.progbar = None
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.seen = 0  # steps done in this epoch: where the bar ends when fit stops early

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")
        self.progbar = Progbar(self.target, verbose=self.verbose, unit_name="step")
        self.seen = 0

    def update(self, step: int, logs_fn) -> None:
        """Called each step with a function that builds the logs: only called when drawing."""
        self.seen = step
        progbar = self.progbar
        if progbar is not None and (step == 1 or progbar.due()):
            progbar.update(step, list(logs_fn().items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        """Finish the bar at the step reached: the target, or fewer when Ctrl-C (or a callback)
        stopped the epoch early (Keras would show the target)."""
        if self.progbar is not None:
            reached = self.seen if self.seen and (self.target is None or self.seen < self.target) else self.target
            self.progbar.update(reached, list((logs or {}).items()), finalize=True)
