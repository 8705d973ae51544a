"""MNIST: 70,000 28x28 grayscale images of handwritten digits.

Drop-in for ``keras.datasets.mnist``.
"""
import os

from . import _loader

class_names = [str(i) for i in range(10)]


def load_data(path: str = "mnist.npz") -> tuple:
    """Load MNIST as uint8 arrays, exactly like Keras.

    ``path`` is where the npz lives relative to ``~/.keras/datasets/`` (as in
    Keras); ``$LAMINA_DATA/<path>`` is tried first. Returns
    ``((x_train, y_train), (x_test, y_test))`` with shapes (60000, 28, 28),
    (60000,), (10000, 28, 28), (10000,).

    Example (it may download, so it is not run as a doctest)::

        (x_train, y_train), (x_test, y_test) = load_data()
        x_train.shape, x_train.dtype  # ((60000, 28, 28), dtype('uint8'))
    """
    data = _loader.lamina_data_dir()
    cached = os.path.join(_loader.keras_cache_dir(), path)
    candidates = ([os.path.join(data, path)] if data else ["$LAMINA_DATA (not set)"]) + [cached]
    hints = [f"put Keras's mnist.npz (arrays x_train, y_train, x_test, y_test) at {cached} "
             "or in the folder named by $LAMINA_DATA",
             f"or connect to the internet so it can be downloaded from {_loader.BASE_URL}mnist.npz"]
    return _loader.fetch("MNIST file " + repr(path), candidates, _loader.BASE_URL + "mnist.npz",
                         cached, _loader.read_mnist_npz, hints)
