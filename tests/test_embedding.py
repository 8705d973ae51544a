"""``Embedding`` for categorical features of an MLP, held to Keras 3: an integer ``Input``, the
lookup, its gradient (rows used twice get both), training, saving; and its refusals."""
import numpy as np
import pytest

import lamina

TABULAR = """
ids = K.Input((3,), dtype="int32", name="ids")
numbers = K.Input((2,), name="numbers")
embedded = K.layers.Flatten()(K.layers.Embedding(6, 4, name="codes")(ids))
hidden = K.layers.Dense(5, activation="relu")(K.layers.concatenate([embedded, numbers]))
model = K.Model([ids, numbers], K.layers.Dense(1)(hidden))
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
model.compile(optimizer=K.optimizers.Adam(0.05), loss="mse")
history = model.fit([codes, x], y, epochs=3, batch_size=8, shuffle=False, verbose=0)
result = {"weights": model.get_weights(), "loss": history.history["loss"],
          "predict": model.predict([codes, x], verbose=0), "shape": list(model.layers[1].output.shape),
          "config": {k: v for k, v in model.get_layer("codes").get_config().items() if k in
                     ("input_dim", "output_dim", "mask_zero", "embeddings_initializer")}}
"""


def tabular():
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 6, (24, 3)).astype("int32")
    codes[0] = [2, 2, 2]  # one row used three times in a sample: its gradient is the sum
    return {"codes": codes, "x": rng.standard_normal((24, 2)), "y": rng.standard_normal((24, 1))}


def test_an_embedding_of_categorical_features_trains_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(TABULAR, tabular())
    assert ours["shape"] == [None, 3, 4]


def test_the_lookup_s_gradient_sums_the_positions_that_used_each_row():
    layer = lamina.layers.Embedding(5, 3)
    ids = np.array([[0, 3, 3], [4, 0, 1]])
    with lamina.GradientTape() as tape:
        out = layer(ids)
        loss = lamina.ops.sum(out * np.arange(18.0).reshape(2, 3, 3))
    grad = tape.gradient(loss, layer.embeddings).numpy()
    weights = np.arange(18.0).reshape(2, 3, 3)
    expected = np.zeros((5, 3))
    for (row, col), index in np.ndenumerate(ids):
        expected[index] += weights[row, col]
    np.testing.assert_allclose(grad, expected)


def test_a_model_with_an_embedding_saves_and_loads(tmp_path):
    ids = lamina.Input((2,), dtype="int64")
    model = lamina.Model(ids, lamina.layers.Dense(1)(lamina.layers.Flatten()(lamina.layers.Embedding(7, 2)(ids))))
    data = np.array([[1, 6], [0, 3]])
    model.save(tmp_path / "m.keras")
    loaded = lamina.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))
    assert loaded.inputs[0].dtype == "int64"


def test_the_compiled_step_takes_it():
    ids = lamina.Input((2,), dtype="int32")
    model = lamina.Model(ids, lamina.layers.Dense(1)(lamina.layers.Flatten()(lamina.layers.Embedding(4, 2)(ids))))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.array([[0, 1], [2, 3]] * 8), np.ones((16, 1)), batch_size=4, verbose=0)
    assert model._compiled_step and model._compiled_step.refused is None  # traced once, replayed since


@pytest.mark.parametrize("make,error,match", [
    (lambda: lamina.layers.Embedding(0, 2), ValueError, r"input_dim to be a positive integer, got input_dim=0"),
    (lambda: lamina.layers.Embedding(3, 2.5), ValueError, r"output_dim to be a positive integer, got output_dim=2.5"),
    (lambda: lamina.layers.Embedding(3, 2, mask_zero=True), ValueError, "mask_zero=True needs masking"),
    (lambda: lamina.layers.Embedding(3, 2)(np.array([[0, 3]])), ValueError, r"ids in \[0, 3\), got id 3"),
    (lambda: lamina.layers.Embedding(3, 2)(np.array([[-1, 0]])), ValueError, r"ids in \[0, 3\), got id -1"),
], ids=["input_dim", "output_dim", "mask_zero", "id too large", "negative id"])
def test_bad_arguments_and_ids_are_refused_by_name(make, error, match):
    with pytest.raises(error, match=match):
        make()
