"""Dropout, GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization: the noise's
statistics, inference as the identity, gradients (with the noise held fixed), errors, config."""
import math

import numpy as np
import pytest

import lamina
from gradcheck import check_layer, numeric_grad
from lamina import layers


def reseeded(layer, seed=7):
    """The layer with every call drawing the same noise, so finite differences see one function."""
    call = layer.call

    def fixed(*args, **kwargs):
        layer._generator = np.random.default_rng(seed)
        return call(*args, **kwargs)

    layer.call = fixed
    return layer


# --- Dropout ---------------------------------------------------------------------------------
def test_dropout_drops_rate_and_preserves_the_mean():
    layer = layers.Dropout(0.3, seed=0)
    y = layer(np.ones((2000, 500), dtype="float32"), training=True)
    assert abs(np.mean(y == 0) - 0.3) < 0.005
    assert abs(y.mean() - 1.0) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)


def test_dropout_is_the_identity_at_inference_and_rate_zero():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    np.testing.assert_array_equal(layers.Dropout(0.5)(x), x)
    np.testing.assert_array_equal(layers.Dropout(0.0)(x, training=True), x)


def test_dropout_is_deterministic_given_a_seed():
    x = np.ones((8, 10))
    a, b = layers.Dropout(0.5, seed=3), layers.Dropout(0.5, seed=3)
    first = a(x, training=True)
    np.testing.assert_array_equal(first, b(x, training=True))
    assert not np.array_equal(first, a(x, training=True))  # a fresh mask each call


@pytest.mark.parametrize("cls,args", [(layers.Dropout, (0.5,)), (layers.GaussianNoise, (0.5,)),
                                      (layers.GaussianDropout, (0.5,)), (layers.AlphaDropout, (0.5,))])
def test_a_symbolic_call_draws_nothing_from_the_streams(cls, args):
    """As in Keras, building a model on symbolic inputs leaves the seeded and global streams alone."""
    x = np.ones((8, 10), "float32")
    fresh, used = cls(*args, seed=3), cls(*args, seed=3)
    lamina.random.set_seed(5)
    expected_global = lamina.backend.global_rng().random()
    lamina.random.set_seed(5)
    used(lamina.Input((10,)), training=True)
    cls(*args)(lamina.Input((10,)), training=True)  # unseeded: the global stream
    assert lamina.backend.global_rng().random() == expected_global
    np.testing.assert_array_equal(used(x, training=True), fresh(x, training=True))


def test_dropout_backward_uses_the_forward_mask():
    layer = layers.Dropout(0.4, seed=1)
    x = lamina.ops.convert_to_tensor(np.random.default_rng(2).standard_normal((6, 7)) + 3.0)  # never zero
    dy = np.random.default_rng(3).standard_normal(x.shape)
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    dx = tape.gradient(y, x, output_gradients=dy)
    np.testing.assert_allclose(dx.numpy(), dy * (y.numpy() != 0) / 0.6, rtol=1e-6)
    assert layer.trainable_weights == []


@pytest.mark.parametrize("training", [True, False])
def test_dropout_gradient(float64, training):
    x = np.random.default_rng(4).standard_normal((5, 6))
    check_layer(reseeded(layers.Dropout(0.5, seed=0)), x, training=training)


def test_dropout_noise_shape_shares_the_mask():
    y = layers.Dropout(0.5, noise_shape=(None, 1), seed=0)(np.ones((50, 4)), training=True)
    assert np.all(y == y[:, :1])  # one draw per row
    assert 0 < np.mean(y[:, 0] == 0) < 1


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_rate_out_of_range(rate):
    with pytest.raises(ValueError, match=rf"Dropout 'dropout' expects rate in \[0.0, 1.0\), got rate={rate}"):
        layers.Dropout(rate)


def test_dropout_bad_arguments():
    with pytest.raises(TypeError, match="expects rate to be a float, got '0.5'"):
        layers.Dropout("0.5")
    with pytest.raises(ValueError, match=r"noise_shape to hold positive ints or None, got noise_shape=\(None, 0\)"):
        layers.Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match=r"noise_shape=\(None, 1\), which does not match the rank"):
        layers.Dropout(0.5, noise_shape=(None, 1))(np.ones((2, 3, 4)), training=True)


def test_dropout_config_round_trip():
    layer = layers.Dropout(0.25, noise_shape=(None, 1), seed=5)
    config = layer.get_config()
    assert {k: config[k] for k in ("rate", "noise_shape", "seed")} == {"rate": 0.25, "noise_shape": (None, 1),
                                                                       "seed": 5}
    clone = layers.Dropout.from_config(config)
    assert (clone.rate, clone.noise_shape, clone.seed) == (0.25, (None, 1), 5)


# --- GaussianNoise and GaussianDropout ---------------------------------------------------------
def test_gaussian_noise_statistics_and_inference():
    x = np.zeros((1000, 100), dtype="float32")
    layer = layers.GaussianNoise(0.3, seed=0)
    y = layer(x, training=True)
    assert abs(y.mean()) < 0.01 and abs(y.std() - 0.3) < 0.01
    np.testing.assert_array_equal(layer(x), x)


def test_gaussian_noise_gradient(float64):
    check_layer(reseeded(layers.GaussianNoise(0.5)), np.random.default_rng(0).standard_normal((4, 3)), training=True)


def test_gaussian_dropout_statistics_and_gradient(float64):
    layer = layers.GaussianDropout(0.2, seed=0)
    y = layer(np.ones((1000, 100)), training=True)
    assert abs(y.mean() - 1.0) < 0.01 and abs(y.std() - math.sqrt(0.2 / 0.8)) < 0.01
    np.testing.assert_array_equal(layer(np.ones((2, 100))), np.ones((2, 100)))
    check_layer(reseeded(layers.GaussianDropout(0.4)), np.random.default_rng(1).standard_normal((4, 3)), training=True)


def test_gaussian_layers_bad_arguments():
    with pytest.raises(ValueError, match=r"GaussianNoise 'gaussian_noise' expects stddev >= 0.0, got stddev=-0.1"):
        layers.GaussianNoise(-0.1)
    with pytest.raises(ValueError, match=r"GaussianDropout '.*' expects rate in \[0.0, 1.0\), got rate=1"):
        layers.GaussianDropout(1)


def test_gaussian_layers_config():
    assert layers.GaussianNoise(0.1, seed=2).get_config()["stddev"] == 0.1
    clone = layers.GaussianDropout.from_config(layers.GaussianDropout(0.3, seed=2).get_config())
    assert (clone.rate, clone.seed) == (0.3, 2)


# --- AlphaDropout ----------------------------------------------------------------------------
ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def test_alpha_dropout_affine_correction():
    rate = 0.2
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    b = -a * ALPHA_P * rate
    x = np.random.default_rng(0).standard_normal((2000, 200))
    y = layers.AlphaDropout(rate, seed=0)(x, training=True).numpy()
    kept = ~np.isclose(y, a * ALPHA_P + b)
    np.testing.assert_allclose(y[kept], a * x[kept] + b, rtol=1e-5, atol=1e-6)  # float32 output
    np.testing.assert_allclose(y[~kept], a * ALPHA_P + b, rtol=1e-6)
    assert abs(np.mean(~kept) - rate) < 0.005
    # the point of the correction: a unit normal input keeps mean 0 and variance 1
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1.0) < 0.01
    x3 = x[:3].astype("float32")
    np.testing.assert_array_equal(layers.AlphaDropout(rate)(x3), x3)


def test_alpha_dropout_gradient_and_errors(float64):
    check_layer(reseeded(layers.AlphaDropout(0.3)), np.random.default_rng(2).standard_normal((5, 4)), training=True)
    with pytest.raises(ValueError, match=r"AlphaDropout 'alpha_dropout.*' expects rate in \[0.0, 1.0\), got rate=1.2"):
        layers.AlphaDropout(1.2)
    config = layers.AlphaDropout(0.1, noise_shape=(None, 1), seed=3).get_config()
    assert (config["rate"], config["noise_shape"], config["seed"]) == (0.1, (None, 1), 3)


# --- ActivityRegularization ------------------------------------------------------------------
def test_activity_penalty_is_divided_by_the_batch_size():
    """Keras 3.14+ (keras PR #22021): the penalty over the batch size, as tf.keras 2."""
    y = np.array([[1.0, -2.0], [0.5, 0.0]])
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    np.testing.assert_array_equal(layer(y), y)
    expected = (0.1 * 3.5 + 0.01 * (1 + 4 + 0.25)) / 2
    assert [float(v) for v in layer.losses] == pytest.approx([expected])


def test_activity_regularization_gradient_includes_the_penalty(float64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    r = rng.standard_normal(x.shape)
    layer = layers.ActivityRegularization(l1=0.3, l2=0.2)

    def loss():
        y = layer(x)
        return float(np.sum(np.asarray(y) * r)) + float(sum(layer.losses))

    x_tensor = lamina.ops.convert_to_tensor(x)
    with lamina.GradientTape() as tape:
        tape.watch(x_tensor)
        y = layer(x_tensor)
        value = lamina.ops.sum(y * r) + sum(layer.losses)
    np.testing.assert_allclose(tape.gradient(value, x_tensor).numpy(), numeric_grad(loss, x), atol=1e-6)
    check_layer(layers.ActivityRegularization(), x)  # no penalty: the identity


def test_activity_regularization_errors_and_config():
    with pytest.raises(ValueError, match=r"ActivityRegularization '.*' expects l1 >= 0.0, got l1=-1"):
        layers.ActivityRegularization(l1=-1)
    with pytest.raises(TypeError, match="expects l2 to be a float, got None"):
        layers.ActivityRegularization(l2=None)
    config = layers.ActivityRegularization(l1=0.01, l2=0.02).get_config()
    assert (config["l1"], config["l2"]) == (0.01, 0.02)


# --- in a model --------------------------------------------------------------------------------
def test_sequential_with_noise_layers_trains_and_predicts_deterministically():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4)).astype("float32")
    y = (x @ rng.standard_normal((4, 1))).astype("float32")
    model = lamina.Sequential([
        layers.Dense(32, activation="relu", input_shape=(4,)), layers.Dropout(0.1, seed=1),
        layers.GaussianNoise(0.01, seed=2), layers.GaussianDropout(0.05, seed=3),
        layers.AlphaDropout(0.02, seed=4), layers.ActivityRegularization(l2=1e-4), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.01), loss="mse")
    losses = model.fit(x, y, epochs=8, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    np.testing.assert_array_equal(model.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0))
