"""Normalization (adapt, given statistics, invert) and Rescaling: values, gradients, weights, errors,
config, training."""
import numpy as np
import pytest

import lamina
from gradcheck import check_layer
from lamina import layers


def test_adapt_matches_numpy_on_a_large_array_streamed_in_chunks():
    data = np.random.default_rng(0).standard_normal((10_001, 3)) * [1.0, 10.0, 0.1] + [5.0, -3.0, 1e3]
    layer = layers.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.adapt_mean.value, data.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.value, data.var(axis=0), rtol=1e-5)
    assert layer.count.value.shape == () and layer.count.value == 10_001
    y = layer(data[:100].astype("float32"))
    np.testing.assert_allclose(y, (data[:100] - data.mean(axis=0)) / data.std(axis=0), rtol=1e-3, atol=1e-3)


def test_adapt_on_an_iterable_of_batches_and_on_3d_data():
    data = np.random.default_rng(1).standard_normal((60, 4, 2))
    batches = layers.Normalization()
    batches.adapt([(data[:25], None), (data[25:50], None), (data[50:], None)])
    whole = layers.Normalization()
    whole.adapt(data)
    np.testing.assert_allclose(batches.adapt_mean.value, data.mean(axis=(0, 1)), rtol=1e-6)  # float32 weights
    np.testing.assert_allclose(batches.adapt_variance.value, whole.adapt_variance.value, rtol=1e-6)
    scalar = layers.Normalization(axis=None)
    scalar.adapt(data)
    assert scalar.adapt_mean.shape == () and scalar.adapt_mean.value == pytest.approx(data.mean())


def test_normalization_keras_examples():
    adapt_data = np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]])
    layer = layers.Normalization(axis=-1)
    layer.adapt(adapt_data)
    np.testing.assert_allclose(layer(np.array([[0.0, 7.0, 4.0]])), [[-1.0, -1.0, -1.0]])
    inverse = layers.Normalization(axis=-1, invert=True)
    inverse.adapt(adapt_data)
    np.testing.assert_allclose(inverse(np.array([[1.0, 2.0, 3.0]])), [[2.0, 10.0, 8.0]])
    given = layers.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(given(np.array([[1.0], [2.0], [3.0]]))[:, 0], [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    assert given.weights == []


def test_zero_variance_divides_by_epsilon(float64):
    layer = layers.Normalization(mean=[1.0, 0.0], variance=[0.0, 4.0])
    np.testing.assert_allclose(layer(np.array([[1.5, 2.0]])), [[0.5 / 1e-7, 1.0]])


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_gradients(float64, invert):
    x = np.random.default_rng(2).standard_normal((5, 3))
    adapted = layers.Normalization(invert=invert)
    adapted.adapt(x * 3 + 1)
    check_layer(adapted, x)
    check_layer(layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.25, 1.0], invert=invert), x)


def test_normalization_weights_are_non_trainable_and_saved_in_keras_order():
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 3)))
    assert [v.name for v in layer.weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3
    assert layer.count_params() == 7
    fresh = layers.Normalization()
    fresh.build((None, 3))
    fresh.set_weights(layer.get_weights())  # loading the weights counts as adapting
    np.testing.assert_allclose(fresh(np.full((1, 3), 2.0)), [[1e7, 1e7, 1e7]], rtol=1e-5)


def test_unadapted_normalization_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Normalization 'normalization' has no mean and variance yet: "
                                         r"call layer.adapt\(data\) first"):
        layers.Normalization()(np.ones((2, 3)))


def test_normalization_bad_arguments():
    with pytest.raises(ValueError, match="needs both mean and variance, or neither; got mean=1.0, variance=None"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match=r"mean and variance of the same shape, got \(2,\) and \(3,\)"):
        layers.Normalization(mean=[0.0, 1.0], variance=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"expects a non-negative variance, got variance=-1.0"):
        layers.Normalization(mean=0.0, variance=-1.0)
    with pytest.raises(TypeError, match="expects axis to be an int, a tuple of ints or None, got axis='x'"):
        layers.Normalization(axis="x")
    with pytest.raises(ValueError, match=r"got axis=\(3,\), out of range for inputs of rank 2"):
        layers.Normalization(axis=3).adapt(np.ones((4, 2)))
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"but adapt\(\) got data of shape \(4, 3\)"):
        layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"was given mean and variance; adapt\(\) would learn them"):
        layers.Normalization(mean=0.0, variance=1.0).adapt(np.ones((2, 1)))


def test_normalization_config_round_trip():
    config = layers.Normalization(mean=[1.0, 2.0], variance=[3.0, 4.0], invert=True).get_config()
    assert (config["axis"], config["invert"], config["mean"], config["variance"]) == (
        (-1,), True, [1.0, 2.0], [3.0, 4.0])
    clone = layers.Normalization.from_config(config)
    np.testing.assert_allclose(clone(np.zeros((1, 2))), [[1.0, 2.0]])
    plain = layers.Normalization().get_config()
    assert (plain["mean"], plain["variance"]) == (None, None)


# --- Rescaling -------------------------------------------------------------------------------------
def test_rescaling_values_gradient_and_config(float64):
    layer = layers.Rescaling(1 / 127.5, offset=-1)
    np.testing.assert_allclose(layer(np.array([[0.0, 127.5, 255.0]])), [[-1.0, 0.0, 1.0]])
    check_layer(layers.Rescaling(1 / 127.5, offset=-1), np.random.default_rng(3).standard_normal((3, 4)))
    config = layer.get_config()
    assert (config["scale"], config["offset"]) == (1 / 127.5, -1.0)
    per_feature = layers.Rescaling(np.array([2.0, 3.0]), offset=[1.0, 0.0])
    check_layer(per_feature, np.random.default_rng(4).standard_normal((3, 2)))
    clone = layers.Rescaling.from_config(per_feature.get_config())
    np.testing.assert_allclose(clone(np.ones((1, 2))), [[3.0, 3.0]])


def test_rescaling_bad_scale_is_a_type_error():
    with pytest.raises(TypeError,
                       match="Rescaling 'rescaling' expects scale to be a number or an array of numbers, got 'x'"):
        layers.Rescaling("x")


def test_normalization_and_rescaling_in_a_model_train():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((256, 3)) * [100.0, 0.01, 5.0] + [500.0, 0.0, -20.0]).astype("float32")
    y = ((x[:, :1] - 500.0) / 100.0 + (x[:, 2:] + 20.0) / 5.0).astype("float32")
    norm = layers.Normalization(input_shape=(3,))
    model = lamina.Sequential([norm, layers.Rescaling(0.5), layers.Dense(8, activation="tanh"), layers.Dense(1)])
    norm.adapt(x)
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.02), loss="mse")
    losses = model.fit(x, y, epochs=8, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.3 * losses[0]
    np.testing.assert_allclose(norm.adapt_mean.numpy(), x.mean(axis=0), rtol=1e-4)  # untouched by training
