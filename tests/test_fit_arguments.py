"""Bad arguments to fit / evaluate / predict get a clear error naming the argument (issue 13, points
8 and 14), never a bare Python or NumPy error, a huge allocation or a silently wrong weighting; a
single Callback is accepted as Keras accepts it."""
import numpy as np
import pytest

import lamina
from lamina import layers


def classifier(classes=3):
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(classes, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def data(n=12, classes=3):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype("float32"), np.arange(n) % classes


# --- 8. class_weight ---------------------------------------------------------------------------------
@pytest.mark.parametrize("class_weight, error, message", [
    ({-1: 2.0, 0: 1.0, 1: 1.0, 2: 1.0}, ValueError, r"class_weight has class -1; classes are 0 to 2"),
    ({0: 1.0, 1: 1.0, 2: 1.0, 10 ** 10: 1.0}, ValueError, r"class_weight has class 10000000000; classes are 0 to 2"),
    ({0: 1.0, 1.5: 1.0, 2: 1.0}, TypeError, r"class_weight keys must be integer class indices, got 1\.5"),
    ({0: 1.0, True: 1.0, 2: 1.0}, TypeError, r"class_weight keys must be integer class indices, got True"),
    ({0: 1.0, 1: "heavy", 2: 1.0}, TypeError, r"class_weight values must be numbers, got 'heavy' for class 1"),
    ({0: 1.0, 1: float("nan"), 2: 1.0}, ValueError, r"class_weight values must be finite .* got nan for class 1"),
    ([1.0, 2.0, 3.0], TypeError, r"class_weight must be a dict"),
])
def test_class_weight_is_checked(class_weight, error, message):
    x, y = data()
    with pytest.raises(error, match=message):
        classifier().fit(x, y, class_weight=class_weight, verbose=0)


def test_class_weight_keys_follow_the_output_for_one_hot_and_binary_labels():
    x, y = data()
    model = classifier()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="class_weight has class 3; classes are 0 to 2"):
        model.fit(x, np.eye(3)[y], class_weight={0: 1, 1: 1, 2: 1, 3: 1}, verbose=0)
    binary = lamina.Sequential([lamina.Input((4,)), layers.Dense(1, activation="sigmoid")])
    binary.compile(optimizer="sgd", loss="binary_crossentropy")
    with pytest.raises(ValueError, match="class_weight has class 2; classes are 0 to 1"):
        binary.fit(x, y % 2, class_weight={0: 1, 1: 1, 2: 1}, verbose=0)


def test_class_weight_weighs_each_sample_by_its_class():
    x, y = data()
    weights = {0: 0.5, 1: 2.0, 2: 1.0}
    weighted, plain = classifier(), classifier()
    plain.set_weights(weighted.get_weights())
    weighted.fit(x, y, class_weight=weights, batch_size=12, shuffle=False, verbose=0)
    plain.fit(x, y, sample_weight=np.array([weights[c] for c in y]), batch_size=12, shuffle=False, verbose=0)
    for a, b in zip(weighted.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


# --- 14. the other arguments --------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, message", [
    ({"validation_split": "0.1"}, TypeError, r"validation_split must be a number in \[0, 1\), got '0\.1'"),
    ({"validation_split": True}, TypeError, r"validation_split must be a number in \[0, 1\), got True"),
    ({"initial_epoch": "1"}, TypeError, r"initial_epoch must be a non-negative int, got '1'"),
    ({"initial_epoch": -3}, ValueError, r"initial_epoch must be a non-negative int, got -3"),
    ({"initial_epoch": 1.0}, TypeError, r"initial_epoch must be a non-negative int, got 1\.0"),
    ({"validation_freq": 0}, ValueError, r"validation_freq must be a positive int, got 0"),
    ({"validation_freq": "2"}, TypeError, r"validation_freq must be a positive int, got '2'"),
    ({"verbose": "x"}, ValueError, r"verbose must be 'auto', 0, 1 or 2, got 'x'"),
    ({"verbose": 3}, ValueError, r"verbose must be 'auto', 0, 1 or 2, got 3"),
    ({"verbose": None}, ValueError, r"verbose must be 'auto', 0, 1 or 2, got None"),
])
def test_fit_arguments_are_checked(kwargs, error, message):
    x, y = data()
    with pytest.raises(error, match=message):
        classifier().fit(x, y, **{"verbose": 0, **kwargs})


@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_evaluate_and_predict_check_verbose(method):
    x, y = data()
    args = (x,) if method == "predict" else (x, y)
    with pytest.raises(ValueError, match=r"verbose must be 'auto', 0, 1 or 2, got 'x'"):
        getattr(classifier(), method)(*args, verbose="x")


@pytest.mark.parametrize("sample_weight, error, message", [
    (np.ones((12, 2)), ValueError,
     r"sample_weight must hold one weight per sample, shape \(12,\), got shape \(12, 2\)"),
    (np.ones(11), ValueError, r"sample_weight must hold one weight per sample, shape \(12,\), got shape \(11,\)"),
    (np.array(["1"] * 12), TypeError, r"sample_weight must hold numbers, got an array of dtype <U1"),
    (np.array([1.0] * 11 + [np.inf]), ValueError, r"sample_weight must be finite"),
])
def test_sample_weight_is_checked(sample_weight, error, message):
    x, y = data()
    with pytest.raises(error, match=message):
        classifier().fit(x, y, sample_weight=sample_weight, verbose=0)
    with pytest.raises(error, match=message):
        classifier().evaluate(x, y, sample_weight=sample_weight, verbose=0)


def test_a_column_of_sample_weights_is_one_per_sample():
    x, y = data()
    a, b = classifier(), classifier()
    b.set_weights(a.get_weights())
    weights = np.linspace(0.5, 2.0, 12)
    a.fit(x, y, sample_weight=weights, shuffle=False, verbose=0)
    b.fit(x, y, sample_weight=weights[:, None], shuffle=False, verbose=0)
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_the_defaults_and_their_equivalents_work():
    x, y = data()
    model = classifier()
    history = model.fit(x, y, epochs=3, validation_split=0.25, validation_freq=2, initial_epoch=np.int64(1),
                        verbose=np.int64(0))
    assert history.epoch == [1, 2] and len(history.history["val_loss"]) == 1
    assert model.fit(x, y, validation_split=0, verbose=0).history.keys() == {"loss"}


def test_a_single_callback_is_accepted_as_keras_accepts_it():
    x, y = data()
    seen = []
    callback = lamina.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    classifier().fit(x, y, epochs=2, verbose=0, callbacks=callback)
    assert seen == [0, 1]
    model = classifier()
    model.evaluate(x, y, verbose=0, callbacks=callback)
    model.predict(x, verbose=0, callbacks=callback)
    with pytest.raises(TypeError, match=r"callbacks must be Callback objects .* got 'early'"):
        model.fit(x, y, verbose=0, callbacks=["early"])
