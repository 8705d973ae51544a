"""The scikit-learn wrappers: scikit-learn's own estimator checks, pipelines, cross-validation
and grid search, and their numbers against the model trained by hand."""
import numpy as np
import pytest

import lamina

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from lamina.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer


def mlp(X, y, loss, out_activation="softmax", hidden=(10,), learning_rate=0.01, seed=None):
    """Keras's test model (a Functional one), sized from X and the encoded y; a seed makes its
    fit reproducible."""
    if seed is not None:
        lamina.utils.set_random_seed(seed)
    inputs = lamina.Input((X.shape[1],))
    h = inputs
    for units in hidden:
        h = lamina.layers.Dense(units, activation="relu")(h)
    model = lamina.Model(inputs, lamina.layers.Dense(y.shape[1] if y.ndim > 1 else 1, activation=out_activation)(h))
    model.compile(loss=loss, optimizer=lamina.optimizers.Adam(learning_rate))
    return model


# The checks expected to fail, and why: Keras's list less the ones lamina passes (its model
# builder seeds itself, so two fits are identical; the wrapper adds no randomness of its own).
EXPECTED_FAILED_CHECKS = {
    "SeededClassifier": {
        # for two classes decision_function is the model's two outputs, shape (n, 2), as Keras's
        # is; scikit-learn expects one signed score per sample, shape (n,)
        "check_classifiers_classes": "decision_function of two classes has shape (n, 2), not (n,)",
        "check_classifiers_train": "decision_function of two classes has shape (n, 2), not (n,)",
        # float32 products: reordering the rows changes BLAS's blocking, so an output may move in
        # its last bit (6e-8 here); the check allows a relative 1e-7
        "check_methods_sample_order_invariance": "float32 outputs differ in the last bit when rows move",
    },
    "SeededRegressor": {},
    "SeededTransformer": {},
}

QUIET = {"verbose": 0}


class _Seeded:
    """The wrappers are tagged non-deterministic (random initial weights, shuffling), which makes
    scikit-learn skip the checks that compare two fits. The model builder here seeds itself, so
    two fits are identical: these subclasses say so, and every check runs."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class SeededClassifier(_Seeded, SKLearnClassifier):
    """SKLearnClassifier on a seeded model builder."""


class SeededRegressor(_Seeded, SKLearnRegressor):
    """SKLearnRegressor on a seeded model builder."""


class SeededTransformer(_Seeded, SKLearnTransformer):
    """SKLearnTransformer on a seeded model builder."""


@parametrize_with_checks(
    [SeededClassifier(model=mlp, model_kwargs={"loss": "categorical_crossentropy", "hidden": (20, 20, 20),
                                               "seed": 0}, fit_kwargs={"epochs": 5, **QUIET}),
     SeededRegressor(model=mlp, model_kwargs={"loss": "mse", "out_activation": None, "seed": 0},
                     fit_kwargs=QUIET),
     SeededTransformer(model=mlp, model_kwargs={"loss": "mse", "out_activation": None, "seed": 0},
                       fit_kwargs=QUIET)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS[type(estimator).__name__])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), np.array(["setosa", "versicolor", "virginica"])[y]


def test_classifier_predicts_the_label_of_the_model_largest_output():
    X, labels = iris()
    clf = SKLearnClassifier(mlp, model_kwargs={"loss": "categorical_crossentropy", "seed": 1},
                            fit_kwargs={"epochs": 30, **QUIET}).fit(X, labels)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    probabilities = clf.model_.predict(X, verbose=0)
    np.testing.assert_allclose(clf.decision_function(X), probabilities)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[probabilities.argmax(axis=1)])
    assert clf.score(X, labels) == pytest.approx(np.mean(clf.predict(X) == labels))
    assert clf.score(X, labels) > 0.8
    assert clf.model_.layers[-1].units == 3 and clf.epoch_ == 30 and len(clf.history_.history["loss"]) == 30


def test_the_wrapper_trains_what_the_model_trained_by_hand_trains():
    """Same seed, same data, same fit arguments: the wrapper's weights equal a hand-run fit's."""
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    reg = SKLearnRegressor(mlp, model_kwargs={"loss": "mse", "out_activation": None, "seed": 3},
                           fit_kwargs={"epochs": 3, "batch_size": 64, **QUIET}).fit(X, y)
    by_hand = mlp(X, y.reshape(-1, 1), "mse", out_activation=None, seed=3)  # seeded as the wrapper's
    history = by_hand.fit(X, y.reshape(-1, 1), epochs=3, batch_size=64, verbose=0)
    np.testing.assert_allclose(reg.history_.history["loss"], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(reg.predict(X), by_hand.predict(X, verbose=0)[:, 0], rtol=1e-5)
    assert reg.predict(X).shape == (len(X),)


def test_fit_keyword_arguments_override_fit_kwargs_and_leave_them_unchanged():
    X, labels = iris()
    fit_kwargs = {"epochs": 4, **QUIET}
    clf = SKLearnClassifier(mlp, model_kwargs={"loss": "categorical_crossentropy"}, fit_kwargs=fit_kwargs)
    clf.fit(X, labels, epochs=2)
    assert clf.history_.epoch == [0, 1] and fit_kwargs == {"epochs": 4, "verbose": 0}
    assert clone(clf).get_params()["fit_kwargs"] == fit_kwargs  # kept by clone (Keras's clone drops it)


def test_warm_start_continues_and_a_cold_fit_starts_again():
    X, labels = iris()
    warm = SKLearnClassifier(mlp, warm_start=True, model_kwargs={"loss": "categorical_crossentropy"},
                             fit_kwargs={"epochs": 2, **QUIET})
    warm.fit(X, labels)
    first = warm.model_
    weights = [w.copy() for w in first.get_weights()]
    warm.fit(X, labels)
    assert warm.model_ is first and warm.epoch_ == 4
    assert any(not np.allclose(a, b) for a, b in zip(weights, first.get_weights()))
    cold = warm.set_params(warm_start=False).fit(X, labels)
    assert cold.model_ is not first and cold.epoch_ == 2


def test_a_compiled_model_instance_is_copied_so_every_fit_starts_from_its_weights():
    X, labels = iris()
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    start = [w.copy() for w in model.get_weights()]
    clf = SKLearnClassifier(model, fit_kwargs={"epochs": 2, "shuffle": False, **QUIET})
    first = clf.fit(X, labels).model_.get_weights()
    second = clf.fit(X, labels).model_.get_weights()
    for a, b, s, m in zip(first, second, start, model.get_weights()):
        np.testing.assert_allclose(a, b)  # no shuffling, same start: the same weights
        np.testing.assert_array_equal(s, m)  # the given model is untouched
    assert clf.model_ is not model


def test_in_a_pipeline_with_cross_val_score():
    X, labels = iris()
    pipeline = make_pipeline(StandardScaler(), SKLearnClassifier(
        mlp, model_kwargs={"loss": "categorical_crossentropy", "learning_rate": 0.05, "seed": 0},
        fit_kwargs={"epochs": 20, **QUIET}))
    scores = cross_val_score(pipeline, X, labels, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and scores.min() > 0.7


def test_grid_search_chooses_among_model_kwargs():
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    search = GridSearchCV(
        SKLearnRegressor(mlp, model_kwargs={"loss": "mse", "out_activation": None}, fit_kwargs=QUIET),
        {"model_kwargs": [{"loss": "mse", "out_activation": None, "hidden": (4,), "seed": 0},
                          {"loss": "mse", "out_activation": None, "hidden": (16,), "seed": 0}],
         "fit_kwargs": [{"epochs": 1, **QUIET}, {"epochs": 30, **QUIET}]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["fit_kwargs"]["epochs"] == 30  # 30 epochs of Adam beat one, on R^2
    assert search.best_estimator_.epoch_ == 30
    assert search.cv_results_["mean_test_score"].shape == (4,)


def test_transformer_in_a_pipeline_gives_the_model_outputs():
    X, y = load_diabetes(return_X_y=True)
    transformer = SKLearnTransformer(mlp, model_kwargs={"loss": "mse", "out_activation": None, "seed": 0},
                                     fit_kwargs={"epochs": 2, **QUIET})
    pipeline = make_pipeline(StandardScaler(), transformer).fit(X, y)
    scaled = StandardScaler().fit(X).transform(X)
    np.testing.assert_allclose(pipeline.transform(X), transformer.model_.predict(scaled, verbose=0), rtol=1e-6)


def test_refusals_name_what_is_wrong():
    X, labels = iris()

    def uncompiled(X, y):
        return lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3)])
    with pytest.raises(RuntimeError, match="needs to be compiled with a loss and an optimizer"):
        SKLearnClassifier(uncompiled).fit(X, labels)
    with pytest.raises(TypeError, match="callable returned str"):
        SKLearnClassifier(lambda X, y: "not a model").fit(X, labels)
    with pytest.raises(ValueError, match="one class"):
        SKLearnClassifier(mlp, model_kwargs={"loss": "categorical_crossentropy"}).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="binary and multiclass labels only.*SKLearnRegressor"):
        SKLearnClassifier(mlp, model_kwargs={"loss": "categorical_crossentropy"}).fit(X, X[:, 0] * 0.37)

    def one_unit(X, y):  # one output for two classes: fit says what the loss compares
        return mlp(X, y[:, :1], "binary_crossentropy", out_activation="sigmoid")
    clf = SKLearnClassifier(one_unit, fit_kwargs=QUIET)
    with pytest.raises(ValueError, match=r"compares y with the model's output of shape \(None, 1\)"):
        clf.fit(X, labels == "setosa")
    clf = SKLearnClassifier(mlp, model_kwargs={"loss": "categorical_crossentropy"}, fit_kwargs=QUIET)
    clf.fit(X, labels).model_ = one_unit(X, np.zeros((len(X), 1)))  # a model of another output than its classes
    with pytest.raises(ValueError, match=r"outputs of shape \(1,\), but there are 3 classes.*Dense\(3"):
        clf.predict(X)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        SKLearnRegressor(mlp).predict(X)


def test_tf_keras_wrappers_is_the_same_package():
    from lamina.keras.wrappers import SKLearnRegressor as from_keras

    import lamina as tf
    assert tf.keras.wrappers.SKLearnClassifier is SKLearnClassifier and from_keras is SKLearnRegressor


def test_a_fitted_wrapper_pickles_with_its_model_and_history():
    import pickle
    X, y = load_diabetes(return_X_y=True)
    reg = SKLearnRegressor(mlp, model_kwargs={"loss": "mse", "out_activation": None},
                           fit_kwargs={"epochs": 2, **QUIET}).fit(X, y)
    copy = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(copy.predict(X), reg.predict(X), rtol=1e-6)
    assert copy.history_.history == reg.history_.history and copy.history_.model is copy.model_
    assert copy.epoch_ == 2 and copy.model_ is not reg.model_
    copy.set_params(warm_start=True).fit(X, y)  # the unpickled model trains on, compiled
    assert copy.epoch_ == 4


def test_without_scikit_learn_the_error_gives_the_install_line():
    """In a fresh interpreter where scikit-learn cannot be imported."""
    import os
    import subprocess
    import sys
    code = ("import sys; sys.modules['sklearn'] = None; import lamina\n"
            "try:\n    lamina.wrappers.SKLearnClassifier\nexcept ImportError as error:\n    print(error)")
    env = {**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(os.path.dirname(__file__)), "src")}
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "lamina.wrappers needs sklearn, which is not installed: pip install 'lamina[sklearn]' (or pip " \
           "install scikit-learn)" in result.stdout
