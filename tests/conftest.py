"""Shared test set-up: a clean name counter and seed for every test, float64 on request."""
import os

# scikit-learn's estimator checks test array-API input only when SciPy was imported with its
# array API on (tests/test_sklearn_wrappers.py); it must be set before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

import lamina


@pytest.fixture(autouse=True)
def _fresh_session():
    lamina.backend.clear_session()
    lamina.random.set_seed(1234)
    yield
    lamina.backend.set_floatx("float32")
    lamina.backend.clear_session()


@pytest.fixture
def float64():
    """Compute in float64 (for finite-difference checks)."""
    lamina.backend.set_floatx("float64")
    yield
    lamina.backend.set_floatx("float32")


@pytest.fixture(scope="session")
def fashion():
    """The real Fashion-MNIST (Debian package); tests using it are marked slow."""
    try:
        return lamina.datasets.fashion_mnist.load_data()
    except OSError as error:
        pytest.skip(f"Fashion-MNIST not available: {error}")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def keras_oracle():
    """Keras 3 on JAX in one helper process for the whole session (tests/keras_oracle.py)."""
    from keras_oracle import KerasOracle, keras_available
    missing = keras_available()
    if missing:
        pytest.skip(f"the Keras oracle needs {missing}: pip install 'keras>=3.8' jax (the test extra)")
    oracle = KerasOracle()
    yield oracle
    oracle.close()
