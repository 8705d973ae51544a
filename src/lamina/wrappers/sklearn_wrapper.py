"""The scikit-learn estimators around a lamina model, with Keras 3's arguments and semantics.

``model`` is a callable ``model(X=..., y=..., **model_kwargs)`` returning a compiled model (it
sees the validated features and the encoded targets, so it can size the input and output
layers), or a compiled model. ``fit(X, y, **kwargs)`` passes ``fit_kwargs`` updated by
``kwargs`` to ``model.fit``. A classifier one-hot encodes its labels (``classes_``), so its
model ends in one unit per class (softmax) and trains on ``categorical_crossentropy``; its
``predict`` is the class of the largest output. A regressor trains on ``y`` as a column when it is
one-dimensional and returns its predictions in ``y``'s shape. A transformer's ``transform`` is the
model's prediction.

Where lamina's wrappers do what Keras's documents rather than what Keras's code does:
a model instance is deep-copied before each fit (Keras clones it into an uncompiled model and
then refuses it as uncompiled), so every fit starts from the weights it was given;
``warm_start=True`` continues from the last fit's model (Keras ignores it); ``fit`` leaves
``fit_kwargs`` unchanged (Keras updates the dict in place) and ``sklearn.base.clone`` keeps it
(Keras's clone drops it); ``epoch_`` counts the epochs trained. ``predict`` and ``transform``
pass ``fit_kwargs``' ``verbose`` on, so a silent fit predicts silently.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._optional import require

_FEATURE = "lamina.wrappers"
if TYPE_CHECKING:  # a type checker reads sklearn.base itself; at run time require() names the pip line
    import sklearn.base as sklearn_base

    from ..models.model import Model
else:
    sklearn_base = require("sklearn.base", _FEATURE)
require("sklearn.preprocessing", _FEATURE)
_validation = require("sklearn.utils.validation", _FEATURE)
_multiclass = require("sklearn.utils.multiclass", _FEATURE)


def _check_model(model, owner: str):
    """The built model must be a compiled lamina model with a loss and an optimizer."""
    from ..models.model import Model
    if not isinstance(model, Model):
        raise TypeError(f"{owner}(model=...) must be a compiled lamina model or a callable returning one; the "
                        f"callable returned {type(model).__name__}: {model!r:.80}")
    if not model.compiled or not model.loss or model.optimizer is None:
        raise RuntimeError(f"{owner}: the model '{model.name}' needs to be compiled with a loss and an optimizer "
                           "before fit: call model.compile(optimizer=..., loss=...) in the function that builds it")
    return model


class _TargetColumn:
    """``y`` as a column for training (a 1-D target becomes ``(n, 1)``) and back."""

    def __init__(self, y: np.ndarray):
        self.ndim = y.ndim

    def transform(self, y: np.ndarray) -> np.ndarray:
        """``y`` as at least two dimensions."""
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def inverse_transform(self, y: np.ndarray) -> np.ndarray:
        """A one-column prediction back to 1-D when ``y`` was 1-D."""
        return np.squeeze(y, axis=1) if self.ndim == 1 and y.ndim == 2 and y.shape[1] == 1 else y


class SKLBase(sklearn_base.BaseEstimator):
    """What the three wrappers share: the model's making, ``fit`` and ``predict``.

    Args:
        model: a compiled lamina model, or a callable returning one; called as
            ``model(X=X, y=y, **model_kwargs)`` with the validated features and encoded targets.
        warm_start: continue from the previous fit's model and weights instead of a new model.
        model_kwargs: keyword arguments for ``model`` when it is a callable.
        fit_kwargs: keyword arguments for ``model.fit`` (``epochs``, ``batch_size``, ``verbose``...);
            the keyword arguments given to ``fit`` itself take precedence.

    Attributes: ``model_`` (the fitted model), ``history_`` (the ``History`` of the last fit),
    ``n_features_in_``.
    """

    def __init__(self, model: Model | Callable[..., Model], warm_start: bool = False,
                 model_kwargs: dict[str, Any] | None = None, fit_kwargs: dict[str, Any] | None = None):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True  # the initial weights and the shuffling are random
        return tags

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # its models pickle as their .keras bytes (Model.__reduce__)
        if "history_" in state:  # its numbers, without the model it points to
            history = copy.copy(state["history_"])
            history.model = None
            state["history_"] = history
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if getattr(self, "history_", None) is not None and hasattr(self, "model_"):
            self.history_.model = self.model_

    @property
    def epoch_(self) -> int:
        """The number of epochs this estimator has trained its model for."""
        return getattr(self, "_epochs_trained", 0)

    def _make_model(self, X, y):
        name = type(self).__name__
        from ..models.model import Model
        if isinstance(self.model, Model):
            return _check_model(copy.deepcopy(self.model), name)
        if not callable(self.model):
            raise TypeError(f"{name}(model=...) must be a compiled lamina model or a callable returning one, got "
                            f"{type(self.model).__name__}")
        return _check_model(self.model(X=X, y=y, **(self.model_kwargs or {})), name)

    def _fit_arguments(self, kwargs: dict) -> dict:
        return {**(self.fit_kwargs or {}), **kwargs}

    def _verbosity(self):
        return (self.fit_kwargs or {}).get("verbose", "auto")

    def fit(self, X, y, **kwargs):
        """Validate ``X`` and ``y``, make the model and train it: ``model.fit(X, y, **fit_kwargs,
        **kwargs)``. Returns the estimator."""
        labels = self._encodes_labels()  # a classifier takes one column of labels, as scikit-learn's do
        X, y = _validation.validate_data(self, X, y, multi_output=not labels, y_numeric=not labels)
        y = self._process_target(y, reset=True)
        warm = self.warm_start and hasattr(self, "model_")
        model = self.model_ if warm else self._make_model(X, y)
        self.history_ = model.fit(X, y, **self._fit_arguments(kwargs))
        self._epochs_trained = (self.epoch_ if warm else 0) + len(self.history_.epoch)
        self.model_ = model
        return self

    def _encodes_labels(self) -> bool:
        return False

    def _raw_output(self, X) -> np.ndarray:
        _validation.check_is_fitted(self)
        X = _validation.validate_data(self, X, reset=False)
        return np.asarray(self.model_.predict(X, verbose=self._verbosity()))

    def predict(self, X):
        """The model's predictions, in the targets' form."""
        return self._reverse_process_target(self._raw_output(X))

    def _process_target(self, y, reset=False):
        _multiclass.type_of_target(y, raise_unknown=True)
        if reset:
            self._target_encoder = _TargetColumn(y)
        return self._target_encoder.transform(y)

    def _reverse_process_target(self, y):
        return self._target_encoder.inverse_transform(y)


class SKLearnClassifier(sklearn_base.ClassifierMixin, SKLBase):
    """A lamina model as a scikit-learn classifier (Keras's ``keras.wrappers.SKLearnClassifier``).

    The labels (binary or multiclass, any values) are one-hot encoded for training, so the
    model needs one output unit per class; ``classes_`` holds the labels, ``predict`` returns
    the label of the largest output and ``decision_function`` the raw outputs.

    >>> import numpy as np, lamina
    >>> from lamina.wrappers import SKLearnClassifier
    >>> def mlp(X, y, hidden=8):
    ...     model = lamina.Sequential([lamina.Input((X.shape[1],)), lamina.layers.Dense(hidden, activation="relu"),
    ...                                lamina.layers.Dense(y.shape[1], activation="softmax")])
    ...     model.compile(loss="categorical_crossentropy", optimizer="adam")
    ...     return model
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> labels = np.where(X[:, 0] > 0, "yes", "no")
    >>> clf = SKLearnClassifier(mlp, model_kwargs={"hidden": 4}, fit_kwargs={"epochs": 2, "verbose": 0})
    >>> clf.fit(X, labels).classes_.tolist(), clf.predict(X[:3]).shape
    (['no', 'yes'], (3,))
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True  # a few epochs of a small network
        return tags

    def _encodes_labels(self) -> bool:
        return True

    def decision_function(self, X):
        """The model's raw outputs, one column per class of ``classes_``."""
        return self._raw_output(X)

    def _process_target(self, y, reset=False):
        target_type = _multiclass.type_of_target(y, raise_unknown=True)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__} handles binary and multiclass labels only, got target type "
                             f"'{target_type}'; for continuous targets use SKLearnRegressor")
        if reset:
            column = _TargetColumn(y)
            encoder = require("sklearn.preprocessing", _FEATURE).OneHotEncoder(sparse_output=False)
            encoder.fit(column.transform(y))
            self._target_encoder = (column, encoder)
            self.classes_ = encoder.categories_[0]
            if len(self.classes_) == 1:
                raise ValueError(f"{type(self).__name__} cannot train on one class: y holds only "
                                 f"{self.classes_[0]!r}")
        column, encoder = self._target_encoder
        return encoder.transform(column.transform(y))

    def _reverse_process_target(self, y):
        column, _ = self._target_encoder
        if y.ndim != 2 or y.shape[1] != len(self.classes_):
            raise ValueError(f"{type(self).__name__}: the model gives outputs of shape {y.shape[1:]}, but there are "
                             f"{len(self.classes_)} classes; end the model in Dense({len(self.classes_)}, "
                             "activation='softmax') (y.shape[1] units in the function that builds it)")
        return column.inverse_transform(self.classes_[np.argmax(y, axis=1)].reshape(-1, 1))


class SKLearnRegressor(sklearn_base.RegressorMixin, SKLBase):
    """A lamina model as a scikit-learn regressor (Keras's ``keras.wrappers.SKLearnRegressor``);
    a 1-D ``y`` trains as a column and is predicted 1-D.

    >>> import numpy as np, lamina
    >>> from lamina.wrappers import SKLearnRegressor
    >>> def linear(X, y):
    ...     model = lamina.Sequential([lamina.Input((X.shape[1],)), lamina.layers.Dense(y.shape[1])])
    ...     model.compile(loss="mse", optimizer="sgd")
    ...     return model
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> SKLearnRegressor(linear, fit_kwargs={"verbose": 0}).fit(X, X.sum(axis=1)).predict(X).shape
    (20,)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.multi_output = True  # y of shape (n, k) trains a model of k outputs
        return tags

    def predict(self, X):
        """The model's predictions in ``y``'s shape, as float64 as scikit-learn's regressors give."""
        return super().predict(X).astype(np.float64)


class SKLearnTransformer(sklearn_base.TransformerMixin, SKLBase):
    """A lamina model as a scikit-learn transformer (Keras's
    ``keras.wrappers.SKLearnTransformer``): ``fit(X, y)`` trains the model, ``transform(X)``
    is its prediction (an encoder's embedding, say). Its output is the model's float32.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # the output is the model's float32, whatever X was
        tags.target_tags.multi_output = True
        return tags

    def transform(self, X):
        """The model's outputs for ``X``."""
        return self._raw_output(X)
