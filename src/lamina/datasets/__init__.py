"""Small built-in datasets with the ``keras.datasets`` interface.

Each submodule has ``load_data()`` returning ``((x_train, y_train), (x_test, y_test))``
as uint8 NumPy arrays, and a ``class_names`` list.

Example:
    >>> from lamina.datasets import fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    >>> x_train.shape
    (60000, 28, 28)
"""
from . import fashion_mnist, mnist

__all__ = ["fashion_mnist", "mnist"]
