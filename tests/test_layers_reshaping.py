"""Reshape: shapes, -1 inference, gradients, errors, config, training."""
import numpy as np
import pytest

import lamina
from gradcheck import check_layer
from lamina import layers


def test_reshape_shapes_and_minus_one():
    x = np.arange(24, dtype="float32").reshape(2, 12)
    np.testing.assert_array_equal(layers.Reshape((3, 4))(x), x.reshape(2, 3, 4))
    assert layers.Reshape((-1, 2))(x).shape == (2, 6, 2)
    assert layers.Reshape((2, -1)).compute_output_shape((None, 3, 4)) == (None, 2, 6)
    assert layers.Reshape((-1, 2)).compute_output_shape((None, None)) == (None, None, 2)
    assert layers.Reshape(12).compute_output_shape((None, 3, 4)) == (None, 12)


def test_reshape_gradient(float64):
    check_layer(layers.Reshape((2, -1)), np.random.default_rng(0).standard_normal((3, 2, 3)))


@pytest.mark.parametrize("target, match", [
    ((-1, -1), r"at most one -1, got target_shape=\(-1, -1\)"),
    ((3, 0), r"target_shape=\(3, 0\)"),
])
def test_reshape_bad_target_is_a_value_error(target, match):
    with pytest.raises(ValueError, match=match):
        layers.Reshape(target)


def test_reshape_non_int_target_is_a_type_error():
    with pytest.raises(TypeError,
                       match=r"Reshape '.*' expects target_shape to be a tuple of ints, got target_shape='ab'"):
        layers.Reshape("ab")


def test_reshape_size_mismatch_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Reshape 'reshape' cannot reshape inputs of shape \(None, 10\) "
                                         r"\(10 values per sample\) to target_shape=\(3, 4\)"):
        layers.Reshape((3, 4))(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"cannot reshape inputs of shape \(None, 10\).*target_shape=\(-1, 3\)"):
        lamina.Sequential([layers.Reshape((-1, 3), input_shape=(10,))])


def test_reshape_config_round_trip():
    layer = layers.Reshape((4, -1), name="r")
    config = layer.get_config()
    assert config["target_shape"] == (4, -1)
    assert layers.Reshape.from_config(config).target_shape == (4, -1)


def test_sequential_with_reshape_trains():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 6)).astype("float32")
    y = (x @ rng.standard_normal((6, 1))).astype("float32")
    model = lamina.Sequential([layers.Reshape((2, 3), input_shape=(6,)), layers.Dense(4),
                               layers.Flatten(), layers.Dense(1)])
    assert model.output_shape == (None, 1)
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.02), loss="mse")
    losses = model.fit(x, y, epochs=6, batch_size=20, verbose=0).history["loss"]
    assert losses[-1] < 0.7 * losses[0]
