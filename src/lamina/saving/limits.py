"""Bounds that keep a hostile model file from exhausting memory or time.

Building a layer allocates its weights, so a config declaring ``Dense(10**9)`` could ask for
gigabytes before a single byte of weights is read. Every load runs inside one ``Budget``: the
whole model may build at most as many numbers as its weights file really stores (``load_model``:
``SLACK_ELEMENTS`` more for rounding), or ``MAX_CONFIG_ELEMENTS`` for a config without weights
(``from_config``, ``model_from_json``). ``Layer.add_weight`` claims each weight from the budget
before it allocates it (``claim``), so a layer asking for more than is left is refused before any
memory is taken, whatever its class. A load also makes at most ``MAX_LAYERS`` layers, nested at most
``MAX_NESTING`` deep.

>>> check_shape([None, 28, 28], "input_shape")
(None, 28, 28)
"""
from __future__ import annotations

import contextlib
import contextvars
import math
from typing import Iterator

import numpy as np

MAX_CONFIG_ELEMENTS = 1 << 26  # 64 Mi numbers (256 MiB of float32) for a whole config without weights
SLACK_ELEMENTS = 0  # numbers a model may build beyond what its weights file stores
MAX_LAYERS = 10_000  # layers one load may make (those of nested models included, models and inputs not)
MAX_NESTING = 64  # serialized objects inside one another (a model in a model in a model...)
MAX_DIMENSION = 1 << 31
MAX_RANK = 32
MAX_ARCHIVE_BYTES = 4 << 30  # everything a .keras file inflates to
MAX_CONFIG_BYTES = 8 << 20  # config.json: a 10,000-layer MLP's config takes about 6 MB
MAX_RATIO = 100  # inflated / stored for a zip entry (Keras's bound; Keras itself stores entries 1:1)
MAX_HDF5_RATIO = 1000  # declared / stored for an HDF5 array (Keras's bound; deflate peaks near 1032)
RATIO_FLOOR_BYTES = 64 << 10  # entries and arrays smaller than this may inflate any amount


class Budget:
    """What one load may still build: ``elements`` numbers and ``MAX_LAYERS`` layers."""

    def __init__(self, elements: int, source: str):
        self.remaining = int(elements)
        self.source = source
        self.layers = 0
        self.depth = 0

    def count_layer(self) -> None:
        self.layers += 1
        if self.layers > MAX_LAYERS:
            raise ValueError(f"the model has more than {MAX_LAYERS:,} layers; refusing to build them")

    @contextlib.contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise ValueError(f"serialized objects are nested more than {MAX_NESTING} deep")
            yield
        finally:
            self.depth -= 1


# The load in progress in this thread (a context variable: another thread's builds are not
# charged to it, and its own are not charged to another's).
_current: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("lamina_load_budget", default=None)


@contextlib.contextmanager
def loading(elements: int | None = None, source: str = "") -> Iterator[Budget]:
    """The budget of the load in progress. With ``elements`` a new load starts (``load_model``:
    what the weights file stores); without, the current one goes on, or one for a config without
    weights starts."""
    current = _current.get()
    if elements is None and current is not None:
        yield current
        return
    if elements is None:
        budget = Budget(MAX_CONFIG_ELEMENTS, f"configs without weights may build ({MAX_CONFIG_ELEMENTS:,})")
    else:
        budget = Budget(elements + SLACK_ELEMENTS, source)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


FLOAT_DTYPES = ("float16", "float32", "float64")


def layer_dtype(dtype, owner: str) -> str:
    """The dtype a layer computes in: ``float16``, ``float32`` or ``float64`` (a name, a NumPy
    dtype, or a Keras float dtype policy of those names), ``floatx()`` for None. Anything else
    (integers, bools: weights truncated; complex, object, dates; mixed precision) is refused."""
    from .. import backend

    if isinstance(dtype, dict):  # a DTypePolicy config handed to from_config as it is
        dtype = (dtype.get("config") or {}).get("name") if isinstance(dtype.get("config"), dict) else None
    name = getattr(dtype, "name", dtype)
    if name is None:
        return backend.floatx()
    try:
        standardized = np.dtype(name).name
    except TypeError:
        standardized = None
    if standardized not in FLOAT_DTYPES:
        hint = " (mixed precision is not supported)" if str(name).startswith("mixed_") else ""
        raise ValueError(f"{owner} got dtype={name!r}; lamina computes in float16, float32 or float64 (or "
                         f"Keras's float dtype policies of those names){hint}")
    return standardized


def check_shape(shape, what: str) -> tuple:
    """A shape from a file as a tuple of positive ints / None, else a ValueError naming ``what``."""
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_RANK:
        raise ValueError(f"{what} must be a list of at most {MAX_RANK} dimensions, got {shape!r:.100}")
    for d in shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= MAX_DIMENSION):
            raise ValueError(f"{what} must hold positive ints up to {MAX_DIMENSION} or null, got {shape!r:.100}")
    return tuple(shape)


def claim(layer, shape) -> None:
    """Called by ``Layer.add_weight`` before it allocates a weight of ``shape``: within a load,
    a weight beyond what the budget has left is refused, and what is allocated is spent."""
    budget = _current.get()
    if budget is None:
        return
    elements = math.prod(int(d) for d in shape)
    if elements > budget.remaining:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' would hold a weight of shape {tuple(shape)} "
                         f"({elements:,} numbers), more than the {max(budget.remaining, 0):,} left of what "
                         f"{budget.source}; refusing to build it")
    budget.remaining -= elements
