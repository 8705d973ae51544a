"""``CategoryEncoding`` against Keras 3: each mode on 1-D and 2-D ids, count weights, the layer in
a trained model of categorical and numeric inputs, and its refusals."""
import numpy as np
import pytest

import lamina

MODES = """
result = {}
for mode in ("one_hot", "multi_hot", "count"):
    layer = K.layers.CategoryEncoding(num_tokens=5, output_mode=mode)
    result[mode] = {"rows": numpy(layer(ids)), "column": numpy(layer(ids[:, :1])), "flat": numpy(layer(ids[:, 0])),
                    "shape": list(layer.compute_output_shape((None, 3)))}
result["weighted"] = numpy(K.layers.CategoryEncoding(num_tokens=5, output_mode="count")(ids, count_weights=weights))
result["config"] = K.layers.CategoryEncoding(num_tokens=5, output_mode="binary").get_config()["output_mode"]
"""

IN_A_MODEL = """
codes = K.Input((1,), name="codes")
numbers = K.Input((2,), name="numbers")
encoded = K.layers.CategoryEncoding(num_tokens=5, output_mode="one_hot")(codes)
hidden = K.layers.Dense(4, activation="relu")(K.layers.concatenate([encoded, numbers]))
model = K.Model([codes, numbers], K.layers.Dense(1)(hidden))
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
model.compile(optimizer=K.optimizers.SGD(0.05), loss="mse")
history = model.fit([ids[:, :1].astype("float32"), x], y, epochs=2, batch_size=4, shuffle=False, verbose=0)
result = {"loss": history.history["loss"], "weights": model.get_weights(), "shape": list(encoded.shape)}
"""


def data():
    rng = np.random.default_rng(9)
    return {"ids": rng.integers(0, 5, (8, 3)), "weights": rng.random((8, 3)), "x": rng.standard_normal((8, 2)),
            "y": rng.standard_normal((8, 1))}


def test_every_mode_encodes_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(MODES, data())
    assert ours["one_hot"]["rows"].shape == (8, 3, 5) and ours["multi_hot"]["flat"].shape == (5,)


def test_the_layer_in_a_model_trains_as_in_keras(keras_oracle):
    keras_oracle.compare(IN_A_MODEL, data())


@pytest.mark.parametrize("make,match", [
    (lambda: lamina.layers.CategoryEncoding(None), "num_tokens to be an integer >= 1, got num_tokens=None"),
    (lambda: lamina.layers.CategoryEncoding(3, output_mode="int"), "output_mode to be one of"),
    (lambda: lamina.layers.CategoryEncoding(3, sparse=True), "sparse=True is not supported"),
    (lambda: lamina.layers.CategoryEncoding(3)(np.array([[0, 3]])), r"ids in \[0, 3\), got id 3"),
    (lambda: lamina.layers.CategoryEncoding(3)(np.array([[0.5]])), "expects integer category ids"),
    (lambda: lamina.layers.CategoryEncoding(3, "one_hot")(np.array([[0]]), count_weights=np.ones((1, 1))),
     "count_weights is only used with output_mode='count'"),
], ids=["num_tokens None", "mode", "sparse", "id out of range", "fractional id", "count_weights"])
def test_bad_arguments_and_ids_are_refused_by_name(make, match):
    with pytest.raises(ValueError, match=match):
        make()
