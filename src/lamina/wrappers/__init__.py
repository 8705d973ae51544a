"""scikit-learn wrappers: ``SKLearnClassifier``, ``SKLearnRegressor``, ``SKLearnTransformer``
(Keras 3's ``keras.wrappers``). They subclass scikit-learn's own base classes, so the classes are
made when first asked for (``lamina.wrappers.SKLearnClassifier``): importing lamina, or this
package, does not import scikit-learn."""
from __future__ import annotations

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def __getattr__(name: str):
    if name in __all__:
        from . import sklearn_wrapper
        return getattr(sklearn_wrapper, name)
    raise AttributeError(f"module 'lamina.wrappers' has no attribute '{name}'; it has {__all__}")


def __dir__() -> list[str]:
    return sorted(__all__)
