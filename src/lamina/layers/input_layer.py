"""``InputLayer`` and ``Input``: declare the shape of each sample."""
from __future__ import annotations

from .layer import Layer, as_shape


class InputLayer(Layer):
    """Declares the per-sample input shape of a model (``shape=`` or the older ``input_shape=``).

    >>> import lamina
    >>> lamina.layers.InputLayer(shape=(28, 28)).shape
    (28, 28)
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 input_shape=None, sparse=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        given = [s for s in (shape, batch_shape, input_shape) if s is not None]
        if len(given) != 1:
            raise ValueError(f"InputLayer '{self.name}' expects exactly one of shape=, batch_shape= "
                             f"or input_shape=, got {len(given)}")
        if batch_shape is not None:
            batch_shape = as_shape(batch_shape, "batch_shape", f"InputLayer '{self.name}'")
            batch_size, shape = batch_shape[0], batch_shape[1:]
        else:
            shape = as_shape(shape if shape is not None else input_shape, "shape", f"InputLayer '{self.name}'")
        self.shape = shape
        self.batch_size = batch_size
        self.built = True
        self.input_spec_shape = self.shape
        self.output_shape = (batch_size, *shape)

    def get_config(self):
        return {"batch_shape": [self.batch_size, *self.shape], "dtype": self.dtype, "sparse": False,
                "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None) -> InputLayer:
    """The input of a model, as ``keras.Input``: ``Sequential([Input((28, 28)), ...])``."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape)
