"""What TensorFlow's "Basic regression" tutorial leans on, held to Keras 3: a DataFrame of float and
bool columns (``pd.get_dummies``) as ``np.array(df)``, an object array; ``Normalization.mean``;
a model of input shape ``(None, 1)`` given one column as a 1-D array (Keras adds the axis)."""
import numpy as np
import pytest

import lamina

pd = pytest.importorskip("pandas")

NORMALIZE_OBJECTS = """
normalizer = K.layers.Normalization(axis=-1)
normalizer.adapt(table)
result = {"mean": numpy(normalizer.mean), "variance": numpy(normalizer.variance),
          "normalized": numpy(normalizer(table[:3]))}
"""

ONE_COLUMN = """
column = K.layers.Normalization(axis=None)
column.adapt(x[:, 0])
model = K.Sequential([K.Input((1,)), column, K.layers.Dense(1)])
model.set_weights([w if i < 3 else draw(w.shape, i) for i, w in enumerate(model.get_weights())])
model.compile(optimizer=K.optimizers.Adam(0.1), loss="mean_absolute_error")
history = model.fit(x[:, 0], y, epochs=3, batch_size=8, shuffle=False, verbose=0)
inputs = K.Input((3,))
wide = K.Model(inputs, K.layers.Dense(2)(inputs))
wide.set_weights([draw(w.shape, 10 + i) for i, w in enumerate(wide.get_weights())])
result = {"predict_1d": model.predict(x[:5, 0], verbose=0), "loss": history.history["loss"],
          "squeezed": wide.predict(x[:4, :, None], verbose=0)}
"""


def table():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"weight": rng.normal(3000, 500, 40), "power": rng.normal(100, 30, 40),
                          "origin": rng.integers(0, 3, 40)})
    frame = pd.get_dummies(frame, columns=["origin"], prefix="", prefix_sep="")  # bool columns
    return frame, np.array(frame)


def test_an_object_array_of_floats_and_bools_normalizes_as_in_keras(keras_oracle):
    _, array = table()
    assert array.dtype == object
    ours, _ = keras_oracle.compare(NORMALIZE_OBJECTS, {"table": array})
    assert ours["mean"].shape == (1, 5)


def test_a_column_as_a_1d_array_fits_and_predicts_as_in_keras(keras_oracle):
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((24, 3)), rng.standard_normal((24, 1))
    ours, _ = keras_oracle.compare(ONE_COLUMN, {"x": x, "y": y})
    assert ours["predict_1d"].shape == (5, 1) and ours["squeezed"].shape == (4, 2)


def test_a_data_frame_with_bool_columns_trains_as_its_float_array():
    frame, _ = table()
    y = np.arange(40, dtype="float32")[:, None] / 40
    weights = []
    for x in (frame, frame.to_numpy(dtype="float32")):
        lamina.random.set_seed(3)
        model = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(4, activation="relu"),
                                   lamina.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for ours, floats in zip(*weights):
        np.testing.assert_array_equal(ours, floats)


@pytest.mark.parametrize("odd", ["1.5", None], ids=["text", "None"])
def test_an_object_array_holding_anything_but_numbers_is_refused_by_name(odd):
    data = np.array([[1.0, True], [2.0, odd]], dtype=object)
    layer = lamina.layers.Normalization()
    with pytest.raises(TypeError, match=rf"got an array of dtype object holding {odd!r} \({type(odd).__name__}\)"):
        layer.adapt(data)
    with pytest.raises(TypeError, match="convert the columns to numbers first"):
        lamina.layers.Dense(1)(data)


def test_mean_is_none_until_adapted_and_given_statistics_show_in_the_broadcast_shape():
    layer = lamina.layers.Normalization()
    assert layer.mean is None and layer.variance is None
    given = lamina.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    given.build((None, 2))
    np.testing.assert_array_equal(given.mean.numpy(), [[1.0, 2.0]])
    np.testing.assert_array_equal(given.variance.numpy(), [[4.0, 9.0]])
