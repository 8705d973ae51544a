"""Bounds that keep a hostile model file from exhausting memory or time.

Building a layer allocates its weights, so a config declaring ``Dense(10**9)`` could ask for
gigabytes before a single byte of weights is read. Before any build that loading triggers, the
layer's weights are estimated from its input and output shapes (an MLP layer's weights never
exceed ``max(inputs, outputs, last input dim * last output dim)`` numbers per sample) and
refused beyond the budget. ``load_model`` sets the budget to what the weights file really
holds; other loading (``from_config``, ``model_from_json``) allows ``MAX_BUILD_ELEMENTS``.

>>> check_shape([None, 28, 28], "input_shape")
(None, 28, 28)
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator

MAX_BUILD_ELEMENTS = 1 << 28  # 256 Mi numbers (1 GiB of float32) per layer
MAX_DIMENSION = 1 << 31
MAX_RANK = 32
MAX_ARCHIVE_BYTES = 4 << 30  # everything a .keras file inflates to
MAX_CONFIG_BYTES = 64 << 20
MAX_RATIO = 1000  # inflated / stored, beyond which a large entry is a zip bomb
RATIO_FLOOR_BYTES = 100 << 20
_budget = [MAX_BUILD_ELEMENTS]


@contextlib.contextmanager
def build_budget(elements: int) -> Iterator[None]:
    """Within the block, a layer built while loading may hold at most ``elements`` numbers."""
    _budget.append(int(elements))
    try:
        yield
    finally:
        _budget.pop()


def check_shape(shape, what: str) -> tuple:
    """A shape from a file as a tuple of positive ints / None, else a ValueError naming ``what``."""
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_RANK:
        raise ValueError(f"{what} must be a list of at most {MAX_RANK} dimensions, got {shape!r:.100}")
    for d in shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= MAX_DIMENSION):
            raise ValueError(f"{what} must hold positive ints up to {MAX_DIMENSION} or null, got {shape!r:.100}")
    return tuple(shape)


def _size(shape) -> int:
    return math.prod(1 if d is None else d for d in shape)


def check_layer_size(layer, input_shape: tuple) -> tuple:
    """Refuse to build ``layer`` for ``input_shape`` when its weights could exceed the budget;
    return its output shape."""
    output_shape = tuple(layer.compute_output_shape(tuple(input_shape)))
    last_in = input_shape[-1] if input_shape and input_shape[-1] is not None else 1
    last_out = output_shape[-1] if output_shape and output_shape[-1] is not None else 1
    estimate = max(_size(input_shape[1:]), _size(output_shape[1:]), last_in * last_out)
    if estimate > _budget[-1]:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' would hold about {estimate:,} weights for inputs "
                         f"of shape {input_shape}, more than the {_budget[-1]:,} allowed while loading "
                         "(the weights file holds fewer); refusing to build it")
    return output_shape


def check_chain(layers, input_shape: tuple) -> None:
    """``check_layer_size`` along a stack of layers."""
    shape = tuple(input_shape)
    for layer in layers:
        if getattr(layer, "layers", None) is not None and hasattr(layer, "add"):
            check_chain(layer.layers, shape)
            shape = tuple(layer.compute_output_shape(shape))
        else:
            shape = check_layer_size(layer, shape)
