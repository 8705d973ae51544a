"""Fashion-MNIST: 70,000 28x28 grayscale images of clothing in 10 classes.

Drop-in for ``keras.datasets.fashion_mnist``.
"""
import os

from . import _loader

class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


def _candidates(fname):
    data = _loader.lamina_data_dir()
    found = ([os.path.join(data, fname), os.path.join(data, "fashion-mnist", fname)]
             if data else ["$LAMINA_DATA (not set)"])
    return found + [os.path.join(_loader.keras_cache_dir(), "fashion-mnist", fname),
                    os.path.join(_loader.DEBIAN_FASHION_DIR, fname)]


def _load(fname):
    ndim = 1 if "labels" in fname else 3
    cache = os.path.join(_loader.keras_cache_dir(), "fashion-mnist")
    hints = ["Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist "
             f"(installs to {_loader.DEBIAN_FASHION_DIR}/)",
             f"or put the four files {', '.join(FILES)} in {cache}/ "
             "or in the folder named by $LAMINA_DATA",
             f"or connect to the internet so they can be downloaded from {_loader.BASE_URL}"]
    return _loader.fetch(f"Fashion-MNIST file {fname!r}", _candidates(fname),
                         _loader.BASE_URL + fname, os.path.join(cache, fname),
                         lambda p: _loader.read_idx_gz(p, ndim, key=fname), hints)


def load_data() -> tuple:
    """Load Fashion-MNIST as uint8 arrays, exactly like Keras.

    Returns ``((x_train, y_train), (x_test, y_test))`` with shapes
    (60000, 28, 28), (60000,), (10000, 28, 28), (10000,). Looks in
    ``$LAMINA_DATA``, ``~/.keras/datasets/fashion-mnist/``,
    ``/usr/share/datasets/fashion-mnist/``, then downloads.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()
        >>> class_names[y_train[0]]
        'Ankle boot'
    """
    y_train, x_train, y_test, x_test = (_load(f) for f in FILES)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if len(x) != len(y):
            raise ValueError(f"Fashion-MNIST {split}: {len(x)} images but {len(y)} labels")
    return (x_train, y_train), (x_test, y_test)
