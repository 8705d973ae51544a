"""Two of ``keras.utils``'s names lamina defines here: ``clear_session`` (Keras's signature over
``lamina.backend.clear_session``) and ``get_source_inputs`` (the ``Input`` tensors a symbolic
tensor is computed from). The rest of its names are lamina's own from ``lamina.saving``,
``lamina.backend`` and ``lamina.ops``, re-exported by ``lamina.utils``.

>>> import lamina
>>> x = lamina.Input((3,))
>>> y = lamina.layers.Dense(2)(lamina.layers.Dense(4)(x))
>>> get_source_inputs(y)[0] is x
True
"""
from __future__ import annotations

from typing import Any

import gc

from .. import backend


def clear_session(free_memory: bool = True) -> None:
    """Reset the layer-name counters and the seeded random state (``lamina.backend.clear_session``);
    ``free_memory`` also runs the garbage collector, which is what freeing memory amounts to on
    NumPy (Keras's also clears its backend's caches)."""
    backend.clear_session()
    if free_memory:
        gc.collect()


def get_source_inputs(tensor) -> Any:
    """The input tensors (those ``Input(...)`` made) that ``tensor`` is computed from, each once,
    in the order the graph reaches them. A tensor no layer made comes back in a list of itself,
    and anything that is not a symbolic tensor comes back as it is, as in Keras."""
    if not hasattr(tensor, "_keras_history"):
        return tensor
    sources: list = []
    pending, seen = [tensor], set()  # seen: a node reached twice (a diamond) is walked once
    while pending:  # depth first, each node's inputs in call order: the order Keras's recursion gives
        current = pending.pop()
        history = getattr(current, "_keras_history", None)
        node = None if history is None or not history[0]._inbound_nodes else history[0]._inbound_nodes[history[1]]
        if node is not None and not node.is_input:
            if id(node) not in seen:
                seen.add(id(node))
                pending.extend(reversed(node.input_tensors))
            continue
        for found in [current] if node is None else node.outputs:
            if not any(found is s for s in sources):
                sources.append(found)
    return sources
