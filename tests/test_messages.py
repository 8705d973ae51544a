"""Messages that say what to do: the nearest name, how to encode string labels, which loss fits."""
import numpy as np
import pytest

import lamina
from lamina import _resolve

GETTERS = [
    (lamina.activations.get, "rellu", "activation", "relu"),
    (lamina.metrics.get, "acuracy", "metric", "accuracy"),
    (lamina.losses.get, "hubber", "loss", "huber"),
    (lamina.losses.get, "sparse_categorical_crossentropi", "loss", "sparse_categorical_crossentropy"),
    (lamina.optimizers.get, "Adamm", "optimizer", "adam"),
    (lamina.initializers.get, "he_normall", "initializer", "he_normal"),
    (lamina.regularizers.get, "l22", "regularizer", "l2"),
    (lamina.constraints.get, "maxnorm", "constraint", "max_norm"),
]


@pytest.mark.parametrize("get, name, kind, nearest", GETTERS, ids=[g[2] for g in GETTERS])
def test_every_get_suggests_the_nearest_name(get, name, kind, nearest):
    with pytest.raises(ValueError) as caught:
        get(name)
    message = str(caught.value)
    assert message.startswith(f"Unknown {kind} {name!r}. Valid names: ")
    assert message.endswith(f"Did you mean {nearest!r}?")
    assert f"{nearest}," in message or f"{nearest}." in message  # and it is listed


def test_class_names_in_configs_get_a_suggestion_too():
    with pytest.raises(ValueError, match=r"Unknown loss class 'MeanSquaredErorr'\. Valid classes: .*"
                                         r"Did you mean 'MeanSquaredError'\?$"):
        lamina.losses.get({"class_name": "MeanSquaredErorr", "config": {}})


def test_no_suggestion_when_nothing_is_close():
    with pytest.raises(ValueError) as caught:
        lamina.activations.get("zzzz")
    assert "Did you mean" not in str(caught.value)


def test_closest_is_case_insensitive_and_keeps_ties():
    assert _resolve.closest("ADAM", ["adam", "sgd"]) == ["adam"]
    assert _resolve.closest("cat", ["hat", "bat", "dog"]) == ["bat", "hat"]
    assert _resolve.closest("qqq", ["adam", "sgd"]) == []


def model_with_one_sigmoid_unit(loss):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1, activation="sigmoid")])
    model.compile(loss=loss, optimizer="sgd", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "categorical_focal_crossentropy",
                                  "sparse_categorical_crossentropy", lamina.losses.CategoricalCrossentropy()])
@pytest.mark.parametrize("label_shape", [(64,), (64, 1)])
def test_a_categorical_loss_on_one_unit_suggests_binary_crossentropy(loss, label_shape):
    """Keras 3.15 warns ("Consider using 'binary_crossentropy'") and trains to a loss of 0; lamina
    refuses before the first step (issue 10, bug 9: it used to crash inside Dense's backward)."""
    x = np.random.default_rng(0).random((64, 4))
    y = (x[:, 0] > 0.5).astype(int).reshape(label_shape)
    model = model_with_one_sigmoid_unit(loss)
    before = [w.copy() for w in model.get_weights()]
    for call in (lambda: model.fit(x, y, epochs=1, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                 lambda: model.train_on_batch(x, y)):
        with pytest.raises(ValueError, match=r"crossentropy expects the model's output to have one unit per class "
                                             r"\(at least 2\), got an output of shape \(None, 1\)\. For two "
                                             r"classes use loss='binary_crossentropy'"):
            call()
    assert all((a == b).all() for a, b in zip(before, model.get_weights()))  # nothing trained


def test_binary_crossentropy_on_one_unit_still_trains():
    x = np.random.default_rng(0).random((64, 4))
    y = (x[:, 0] > 0.5).astype(int)
    history = model_with_one_sigmoid_unit("binary_crossentropy").fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("labels", [np.array(["cat", "dog"] * 4), np.array(["cat", "dog"] * 4, dtype=object),
                                    ["cat", "dog"] * 4])
def test_string_labels_get_a_hint_on_encoding_them(labels):
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    with pytest.raises(TypeError, match=r"Expected numeric data for y, got an array of dtype .* encode class names "
                                        r"as integer ids first, for example `class_names, labels = np\.unique\(labels, "
                                        r"return_inverse=True\)`"):
        model.fit(np.zeros((8, 3)), labels, verbose=0)
    with pytest.raises(TypeError, match=r"Expected numeric data for validation y, got an array of dtype"):
        model.fit(np.zeros((8, 3)), np.zeros(8, int), validation_data=(np.zeros((8, 3)), labels), verbose=0)


def test_the_encoding_the_hint_gives_works():
    labels = np.array(["cat", "dog", "cat", "bird"] * 4)
    class_names, y = np.unique(labels, return_inverse=True)
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(len(class_names), activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    model.fit(np.ones((16, 3)), y, verbose=0)
    assert list(class_names) == ["bird", "cat", "dog"] and y.tolist()[:4] == [1, 2, 1, 0]
