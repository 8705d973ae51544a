"""``Layer.add_weight``'s arguments in Keras 3's order, from either Keras 3's or tf.keras 2's.

Keras 3's order is ``(shape, initializer, dtype, trainable, autocast, regularizer, constraint,
..., name)``; tf.keras 2's was ``(name, shape, dtype, initializer, regularizer, trainable,
constraint, ...)``. A tf.keras 2 program (TensorFlow's custom-layer tutorial) writes
``add_weight("kernel", shape=[...])`` or ``add_weight("kernel", [5, 10])``: a name where Keras 3
expects the shape, which says which order the call used.
"""
from __future__ import annotations


def keras_3_order(layer: str, shape, initializer, trainable, autocast, regularizer, name, keywords: dict):
    """``(shape, initializer, trainable, regularizer, name)`` as Keras 3 means them, from what
    ``add_weight``'s Keras 3 parameters received (``shape`` by position only; a ``shape=`` keyword
    arrives in ``keywords``, the only keyword allowed there). ``layer`` names the layer in errors."""
    given_shape = keywords.pop("shape", None)
    if keywords:
        raise TypeError(f"Layer '{layer}': add_weight() got unexpected keyword arguments {sorted(keywords)}")
    if isinstance(shape, str):
        if given_shape is not None:  # add_weight("kernel", shape=..., initializer=...): all but the name by keyword
            return given_shape, initializer, trainable, regularizer, shape
        # all by position: Keras 3's initializer, trainable, autocast and regularizer slots hold tf.keras 2's
        # shape, initializer, regularizer and trainable (the last two never booleans, trainable always one)
        return (initializer, None if isinstance(trainable, bool) else trainable,
                regularizer if isinstance(regularizer, bool) else True,
                None if isinstance(autocast, bool) else autocast, shape)
    if given_shape is not None:
        if shape is not None:
            raise TypeError(f"Layer '{layer}': add_weight() got two shapes, {shape!r} and shape={given_shape!r}")
        shape = given_shape
    return shape, initializer, trainable, regularizer, name
