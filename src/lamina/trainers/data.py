"""Checking and batching the arrays given to ``fit`` / ``evaluate`` / ``predict``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import math

import numpy as np

from ..layers.layer import to_array
from . import structures

if TYPE_CHECKING:
    from ..models.model import Model


def positive_int(value, argument: str) -> int:
    """``value`` as an int, or a ValueError naming ``argument`` (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{argument} must be a positive int, got {value!r}")
    return int(value)


def check_batch_size(batch_size, argument="batch_size") -> int:
    """Keras's default of 32 for None, else a positive int."""
    return 32 if batch_size is None else positive_int(batch_size, argument)


def features(x, what="x") -> Any:
    """The user's features as an array (or a structure of arrays, for a model of several
    inputs), without copying float data of any precision."""
    if x is None:
        raise ValueError(f"{what} is required, got None")
    if structures.is_structure(x) and not _is_nested_numbers(x):
        out = structures.map_leaves(lambda leaf: _feature_array(leaf, what), x)
        _same_length(out, what)
        return out
    return _feature_array(x, what)


def _is_nested_numbers(x) -> bool:
    """A list of numbers or of lists (of numbers) is one array's data, not several inputs."""
    return isinstance(x, list) and bool(x) and not isinstance(x[0], (np.ndarray, tuple, dict)) \
        and not hasattr(x[0], "shape")


def _feature_array(x, what: str) -> np.ndarray:
    if x is None:
        raise ValueError(f"{what} holds None where an array was expected")
    array = to_array(x, what) if not (isinstance(x, np.ndarray) and x.dtype.kind in "biuf") else x
    if array.ndim == 0:
        raise ValueError(f"{what} must have a batch dimension, got a scalar")
    if len(array) == 0:
        raise ValueError(f"{what} is empty: expected at least one sample, got shape {array.shape}")
    return array


def _same_length(value, what: str) -> None:
    lengths = {len(leaf) for leaf in structures.leaves(value) if leaf is not None}
    if len(lengths) > 1:
        raise ValueError(f"the arrays of {what} must have the same number of samples, got {sorted(lengths)}")


def targets(y, n: int, what="y", x_what="x"):
    """The targets as an array (or a structure of arrays, one per output) of ``n`` rows."""
    if y is None:
        raise ValueError(f"{what} is required to compute the loss, got None")
    if structures.is_structure(y) and not _is_nested_numbers(y):
        return structures.map_leaves(lambda leaf: None if leaf is None else targets(leaf, n, what, x_what), y)
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    array = np.asarray(getattr(y, "_value", y))
    if array.dtype.kind in "USO":
        raise TypeError(f"Expected numeric data for {what}, got an array of dtype {array.dtype} (labels as text or "
                        "Python objects?): encode class names as integer ids first, for example "
                        "`class_names, labels = np.unique(labels, return_inverse=True)`, then use "
                        "loss='sparse_categorical_crossentropy'")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Expected numeric data for {what}, got an array of dtype {array.dtype}")
    if array.ndim == 0 or len(array) != n:
        raise ValueError(f"{x_what} and {what} must have the same number of samples, got {x_what} with {n} and "
                         f"{what} with {array.shape[0] if array.ndim else 'a scalar'}")
    return array


_CATEGORICAL_LOSSES = ("categorical_crossentropy", "categorical_focal_crossentropy")


def check_target_shape(y, output_shape: tuple, sparse: bool, loss_name: str) -> None:
    """Targets that cannot pair with the model's output get a clear error here, not a NumPy
    broadcasting error (or silently wrong numbers) in the middle of training."""
    if output_shape[-1] == 1 and (sparse or loss_name in _CATEGORICAL_LOSSES):
        # Keras warns and trains to a loss of 0 (a softmax over one unit is always 1): refuse it
        raise ValueError(f"{loss_name} expects the model's output to have one unit per class (at least 2), "
                         f"got an output of shape {(None, *output_shape[1:])}. For two classes use "
                         "loss='binary_crossentropy' with labels 0/1 and a Dense(1, activation='sigmoid') "
                         "output; for more, a Dense(n_classes, activation='softmax') output")
    if sparse:
        if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
            hint = " (one-hot labels need categorical_crossentropy)" if y.shape[1:] == tuple(output_shape[1:]) else ""
            raise ValueError(f"{loss_name} expects integer class labels of shape (n,) or (n, 1), got y of shape "
                             f"{y.shape}{hint}")
        return
    expected = tuple(output_shape[1:])
    if y.shape[1:] == expected or (y.ndim == len(output_shape) - 1 and expected[-1:] == (1,)
                                   and y.shape[1:] == expected[:-1]):
        return
    hint = " (integer class labels need sparse_categorical_crossentropy)" if y.ndim == 1 and expected[-1] != 1 else ""
    raise ValueError(f"{loss_name} compares y with the model's output of shape {(None, *expected)}, got y of "
                     f"shape {y.shape}{hint}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def verbosity(verbose) -> int:
    """Keras's ``verbose``: ``"auto"`` (1), 0 (silent), 1 (progress bar) or 2 (one line an epoch)."""
    if isinstance(verbose, str) and verbose == "auto":
        return 1
    if _is_int(verbose) and verbose in (0, 1, 2):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")


def check_fit_arguments(validation_split, initial_epoch, validation_freq) -> None:
    """The types and ranges ``fit`` needs, checked before anything runs."""
    if not _is_number(validation_split):
        raise TypeError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
    for value, name, lowest in ((initial_epoch, "initial_epoch", 0), (validation_freq, "validation_freq", 1)):
        what = "a non-negative int" if lowest == 0 else "a positive int"
        if not _is_int(value):
            raise TypeError(f"{name} must be {what}, got {value!r}")
        if value < lowest:
            raise ValueError(f"{name} must be {what}, got {value!r}")


def callback_list(callbacks) -> list:
    """``callbacks`` as a list: None is none, and a single Callback is one, as Keras takes them."""
    from ..callbacks.callback import Callback

    if callbacks is None:
        return []
    listed = [callbacks] if isinstance(callbacks, Callback) else list(callbacks)
    for callback in listed:
        if not isinstance(callback, Callback):
            raise TypeError("callbacks must be Callback objects (lamina.callbacks.Callback subclasses such as "
                            f"EarlyStopping), got {callback!r}")
    return listed


def sample_weights(sample_weight, n: int):
    """One finite weight per sample, shape ``(n,)`` (a column ``(n, 1)`` is flattened), or None;
    a structure of them (one per output) for a model of several outputs."""
    if sample_weight is None:
        return None
    if structures.is_structure(sample_weight) and not _is_nested_numbers(sample_weight):
        return structures.map_leaves(lambda leaf: sample_weights(leaf, n), sample_weight)
    weights = np.asarray(getattr(sample_weight, "_value", sample_weight))
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got an array of dtype {weights.dtype}")
    if weights.shape not in ((n,), (n, 1)):
        raise ValueError(f"sample_weight must hold one weight per sample, shape ({n},), got shape {weights.shape}")
    weights = weights.reshape(n).astype(np.float64, copy=False)
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight must be finite: it holds NaN or infinite weights")
    return weights


def split_validation(x, y, sample_weight, validation_split) -> tuple[tuple, tuple]:
    """Keras's split: the LAST ``validation_split`` of the rows, taken before shuffling."""
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    n = structures.n_samples(x)
    split_at = int(math.floor(n * (1 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"validation_split={validation_split} leaves no rows for "
                         f"{'training' if split_at == 0 else 'validation'} out of {n} samples")
    head, tail = slice(0, split_at), slice(split_at, n)
    train = tuple(None if v is None else structures.take(v, head) for v in (x, y, sample_weight))
    val = tuple(None if v is None else structures.take(v, tail) for v in (x, y, sample_weight))
    return train, val


def unpack_validation_data(validation_data) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from ``validation_data`` (a 2- or 3-tuple), else a ValueError."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight), "
                         f"got {type(validation_data).__name__}")
    x, y, *rest = validation_data
    return x, y, rest[0] if rest else None


def class_sample_weights(class_weight, y, sample_weight, output_units: int | None = None):
    """Per-sample weights from ``class_weight`` (``{class index: weight}``), times any
    ``sample_weight``. The classes are ``0 .. output_units - 1`` (0 and 1 for one output unit),
    or the width of one-hot labels; labels are rounded to classes, as Keras does."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
    if structures.is_structure(y):
        raise ValueError("class_weight is for models of one output; with several outputs pass sample_weight, "
                         "one array per output")
    labels = np.asarray(y)
    n_classes = labels.shape[-1] if labels.ndim > 1 and labels.shape[-1] > 1 else max(output_units or 2, 2)
    lookup = np.ones(n_classes)
    for key, weight in class_weight.items():
        if not _is_int(key):
            raise TypeError(f"class_weight keys must be integer class indices, got {key!r}")
        if not 0 <= key < n_classes:
            raise ValueError(f"class_weight has class {key}; classes are 0 to {n_classes - 1}")
        if not _is_number(weight):
            raise TypeError(f"class_weight values must be numbers, got {weight!r} for class {key}")
        if not np.isfinite(weight):
            raise ValueError(f"class_weight values must be finite numbers, got {weight!r} for class {key}")
        lookup[key] = weight
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(axis=-1)
    labels = np.round(labels.reshape(len(labels), -1)[:, 0]).astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for class(es) {missing}; it has {sorted(class_weight)}")
    weights = lookup[labels]
    return weights if sample_weight is None else weights * sample_weight


class StopOnInterrupt:
    """Ctrl-C during ``fit`` stops after the current batch, keeping the History so far; a
    second Ctrl-C interrupts at once. The epoch cut short is not validated; its training logs
    are recorded as those of any epoch a callback stops. ``at`` is then ``(epoch, batch)``,
    both counted from 1."""

    def __init__(self, model: Model, initial_epoch: int = 0):
        self.model = model
        self.previous = None
        self.hit = False
        self.last = (initial_epoch + 1, 0)  # the epoch reached and the batches done in it
        self.at: tuple[int, int] | None = None

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        import signal

        signal.signal(signal.SIGINT, self.previous)
        print("\nInterrupted: stopping after this batch (Ctrl-C again to abort now)")
        self.hit = True
        self.model.stop_training = True

    def stopped(self, epoch: int, batches: int) -> bool:
        """Called after an epoch's batches: True when Ctrl-C cut the epoch short."""
        self.last = (epoch + 1, batches)
        if self.hit and self.at is None:
            self.at = self.last
        return self.hit

    def __exit__(self, *exc):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        if self.hit and self.at is None:  # during validation or a callback: the epoch was complete
            self.at = self.last
        return False


def batch_slices(n: int, batch_size: int):
    """The slices of ``n`` rows in batches of ``batch_size`` (the last one shorter)."""
    return [slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
