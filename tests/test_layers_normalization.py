"""BatchNormalization, LayerNormalization, UnitNormalization: values against the formulas, gradients
against finite differences, moving statistics, errors, config, training."""
import numpy as np
import pytest

import lamina
from gradcheck import check_layer
from lamina import layers


def randomize(layer, seed=0):
    """Non-default trainable weights, so their gradients are not trivially symmetric."""
    rng = np.random.default_rng(seed)
    for variable in layer.trainable_weights:
        variable.assign(rng.standard_normal(variable.shape))
    return layer


# --- BatchNormalization --------------------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape, axis", [((6, 4), -1), ((4, 3, 5), -1), ((4, 3, 5), 1)])
def test_batch_normalization_gradients(float64, training, shape, axis):
    x = np.random.default_rng(1).standard_normal(shape) * 2 + 1
    layer = layers.BatchNormalization(axis=axis, momentum=0.9)
    layer(x[:2])
    randomize(layer)
    layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.3))
    layer.moving_variance.assign(np.full(layer.moving_variance.shape, 1.7))
    check_layer(layer, x, training=training)


@pytest.mark.parametrize("center, scale", [(False, True), (True, False), (False, False)])
def test_batch_normalization_without_center_or_scale(float64, center, scale):
    layer = layers.BatchNormalization(center=center, scale=scale)
    layer(np.zeros((1, 3)))
    assert len(layer.trainable_weights) == center + scale
    check_layer(randomize(layer), np.random.default_rng(2).standard_normal((5, 3)), training=True)


def test_batch_normalization_training_values_and_moving_update(float64):
    x = np.random.default_rng(3).standard_normal((8, 3)) * [1.0, 2.0, 3.0] + [0.0, 5.0, -1.0]
    layer = layers.BatchNormalization(momentum=0.9, epsilon=0.01)
    y = layer(x, training=True)
    mean, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 0.01))
    np.testing.assert_allclose(layer.moving_mean.value, 0.1 * mean)
    np.testing.assert_allclose(layer.moving_variance.value, 0.9 + 0.1 * var)
    # inference: the moving statistics, not the batch's
    np.testing.assert_allclose(layer(x), (x - 0.1 * mean) / np.sqrt(0.9 + 0.1 * var + 0.01))


def test_batch_normalization_weights_in_keras_order():
    layer = layers.BatchNormalization()
    layer(np.zeros((2, 4)))
    assert [v.name for v in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [v.name for v in layer.trainable_weights] == ["gamma", "beta"]
    assert [v.name for v in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert layer.count_params() == 16
    np.testing.assert_array_equal(layer.get_weights()[3], np.ones(4))


def test_frozen_batch_normalization_runs_in_inference_mode(float64):
    layer = layers.BatchNormalization()
    x = np.random.default_rng(4).standard_normal((6, 2)) + 3
    layer(x[:1])
    layer.trainable = False
    np.testing.assert_allclose(layer(x, training=True), x / np.sqrt(1.0 + 1e-3))
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(2))
    assert layer.trainable_weights == []
    x_tensor = lamina.ops.convert_to_tensor(x)
    with lamina.GradientTape() as tape:
        tape.watch(x_tensor)
        y = layer(x_tensor, training=True)
    np.testing.assert_allclose(tape.gradient(y, x_tensor).numpy(), np.full(x.shape, 1 / np.sqrt(1.0 + 1e-3)))
    assert tape.watched_variables() == ()  # frozen: its weights are not watched


def test_batch_normalization_bad_arguments():
    with pytest.raises(ValueError,
                       match=r"BatchNormalization 'batch_normalization' expects epsilon >= 0, got epsilon=-1"):
        layers.BatchNormalization(epsilon=-1)
    with pytest.raises(ValueError, match=r"expects momentum in \[0, 1\], got momentum=1.5"):
        layers.BatchNormalization(momentum=1.5)
    with pytest.raises(TypeError, match="expects axis to be an int, got axis='x'"):
        layers.BatchNormalization(axis="x")
    with pytest.raises(ValueError, match="got axis=2, out of range for inputs of rank 2"):
        layers.BatchNormalization(axis=2)(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="got axis=0, out of range"):
        layers.BatchNormalization(axis=0)(np.zeros((3, 4)))


def test_batch_normalization_config_round_trip():
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, gamma_initializer="zeros")
    config = layer.get_config()
    assert {k: config[k] for k in ("axis", "momentum", "epsilon", "center", "scale", "beta_regularizer",
                                    "synchronized")} == {"axis": -1, "momentum": 0.9, "epsilon": 1e-5,
                                                         "center": False, "scale": True, "beta_regularizer": None,
                                                         "synchronized": False}
    assert config["gamma_initializer"]["class_name"] == "Zeros"
    clone = layers.BatchNormalization.from_config(config)
    assert (clone.momentum, clone.epsilon, clone.center) == (0.9, 1e-5, False)
    defaults = layers.BatchNormalization().get_config()
    assert (defaults["momentum"], defaults["epsilon"]) == (0.99, 1e-3)


def test_batch_normalization_in_a_model_trains_and_predicts_with_moving_stats():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((256, 4)) * 5 + 2).astype("float32")
    y = (x @ rng.standard_normal((4, 1))).astype("float32")
    bn = layers.BatchNormalization(momentum=0.9)
    model = lamina.Sequential([layers.Dense(16, input_shape=(4,)), bn, layers.Activation("relu"), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.02), loss="mse")
    losses = model.fit(x, y, epochs=8, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert not np.allclose(bn.moving_mean.value, 0) and not np.allclose(bn.moving_variance.value, 1)
    # predict normalizes with the moving statistics
    dense1, dense2 = model.layers[0], model.layers[3]
    h = x[:10] @ dense1.kernel.value + dense1.bias.value
    h = (h - bn.moving_mean.value) / np.sqrt(bn.moving_variance.value + bn.epsilon) * bn.gamma.value + bn.beta.value
    expected = np.maximum(h, 0) @ dense2.kernel.value + dense2.bias.value
    np.testing.assert_allclose(model.predict(x[:10], verbose=0), expected, rtol=1e-4, atol=1e-4)


# --- LayerNormalization --------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, shape", [
    ({}, (4, 5)), ({"axis": [1, 2]}, (3, 2, 4)), ({"axis": 1}, (3, 4, 2)), ({"rms_scaling": True}, (4, 5)),
    ({"center": False}, (4, 5)), ({"scale": False}, (4, 5)), ({"center": False, "scale": False}, (4, 5))])
def test_layer_normalization_gradients(float64, kwargs, shape):
    x = np.random.default_rng(5).standard_normal(shape) * 2 + 0.5
    layer = layers.LayerNormalization(**kwargs)
    layer(x[:1])
    check_layer(randomize(layer), x)


def test_layer_normalization_values(float64):
    x = np.random.default_rng(6).standard_normal((3, 4)) * 3 + 1
    layer = layers.LayerNormalization()
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(layer(x), (x - mean) / np.sqrt(var + 1e-3))
    rms = layers.LayerNormalization(rms_scaling=True)
    np.testing.assert_allclose(rms(x), x / np.sqrt(var + 1e-3))
    assert [v.name for v in rms.weights] == ["gamma"]
    assert [v.name for v in layer.weights] == ["gamma", "beta"]
    assert layers.LayerNormalization(axis=[1, 2])(np.ones((2, 3, 4))).shape == (2, 3, 4)


def test_layer_normalization_config_and_errors():
    layer = layers.LayerNormalization()
    config = layer.get_config()
    assert (config["axis"], config["epsilon"], config["rms_scaling"], config["center"]) == (-1, 1e-3, False, True)
    layer(np.zeros((2, 3)))
    assert layer.get_config()["axis"] == [-1]  # Keras keeps it as a list once built
    assert layers.LayerNormalization.from_config(layer.get_config()).axis == [-1]
    with pytest.raises(ValueError, match=r"LayerNormalization '.*' expects epsilon >= 0, got epsilon=-0.1"):
        layers.LayerNormalization(epsilon=-0.1)
    with pytest.raises(TypeError, match=r"expects axis to be an int or a list of ints, got axis=1.5"):
        layers.LayerNormalization(axis=1.5)
    with pytest.raises(ValueError, match=r"got axis=\[1, 3\], out of range for inputs of rank 3"):
        layers.LayerNormalization(axis=[1, 3])(np.zeros((2, 3, 4)))


# --- UnitNormalization ---------------------------------------------------------------------------
def test_unit_normalization_values_and_gradients(float64):
    x = np.random.default_rng(7).standard_normal((4, 5))
    layer = layers.UnitNormalization()
    np.testing.assert_allclose(np.linalg.norm(layer(x), axis=1), 1.0)
    check_layer(layer, x)
    check_layer(layers.UnitNormalization(axis=[1, 2]), np.random.default_rng(8).standard_normal((2, 3, 4)))


def test_unit_normalization_of_zero_is_zero(float64):
    layer = layers.UnitNormalization()
    tiny = np.array([[1e-8, 0.0, -2e-8]])  # below Keras's floor of 1e-12 on the squared norm
    np.testing.assert_allclose(layer(tiny), tiny * 1e6)
    tiny_tensor = lamina.ops.convert_to_tensor(tiny)
    with lamina.GradientTape() as tape:
        tape.watch(tiny_tensor)
        y = layer(tiny_tensor)
    # below the floor the norm is a constant: the gradient is the scale alone
    np.testing.assert_allclose(tape.gradient(y, tiny_tensor).numpy(), np.full((1, 3), 1e6))
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    np.testing.assert_array_equal(layer(x)[0], 0.0)
    check_layer(layer, x)


def test_unit_normalization_config_and_errors():
    assert layers.UnitNormalization(axis=[1, 2]).get_config()["axis"] == [1, 2]
    with pytest.raises(TypeError,
                       match=r"UnitNormalization '.*' expects axis to be an int or a list of ints, got axis='a'"):
        layers.UnitNormalization(axis="a")
    with pytest.raises(ValueError, match="got axis=2, out of range for inputs of rank 2"):
        layers.UnitNormalization(axis=2)(np.zeros((2, 3)))


def test_layer_and_unit_normalization_in_a_model_train():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((256, 6)) * 3).astype("float32")
    y = (x[:, :1] - x[:, 1:2] > 0).astype("float32")
    model = lamina.Sequential([layers.Dense(16, activation="relu", input_shape=(6,)), layers.LayerNormalization(),
                               layers.UnitNormalization(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.02), loss="binary_crossentropy")
    losses = model.fit(x, y, epochs=8, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.7 * losses[0]
