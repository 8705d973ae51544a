"""Initializers: Keras's formulas checked by the statistics of large draws, seeds, lookup, configs."""
import math

import numpy as np
import pytest

import lamina
from lamina import initializers

SHAPE = (400, 600)  # fan_in 400, fan_out 600


def _uniform_limit_ok(w, limit):
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert abs(w.std() - limit / math.sqrt(3)) < 0.01 * limit


def _truncated_ok(w, stddev):
    # the truncated draw has the target stddev and no value beyond 2 * stddev / 0.8796
    assert abs(w.std() - stddev) < 0.01 * stddev
    assert np.abs(w).max() <= 2 * stddev / 0.87962566103423978 + 1e-12
    assert abs(w.mean()) < 0.01 * stddev


@pytest.mark.parametrize("cls, limit", [
    (initializers.GlorotUniform, math.sqrt(6 / (400 + 600))),
    (initializers.HeUniform, math.sqrt(6 / 400)),
    (initializers.LecunUniform, math.sqrt(3 / 400)),
])
def test_uniform_presets(cls, limit):
    _uniform_limit_ok(cls(seed=3)(SHAPE, "float64"), limit)


@pytest.mark.parametrize("cls, stddev", [
    (initializers.GlorotNormal, math.sqrt(2 / (400 + 600))),
    (initializers.HeNormal, math.sqrt(2 / 400)),
    (initializers.LecunNormal, math.sqrt(1 / 400)),
])
def test_truncated_normal_presets(cls, stddev):
    _truncated_ok(cls(seed=3)(SHAPE, "float64"), stddev)


def test_variance_scaling_modes_and_distributions():
    vs = initializers.VarianceScaling
    _uniform_limit_ok(vs(3.0, "fan_out", "uniform", seed=1)(SHAPE, "float64"), math.sqrt(3 * 3.0 / 600))
    w = vs(0.5, "fan_avg", "untruncated_normal", seed=1)(SHAPE, "float64")
    assert abs(w.std() - math.sqrt(0.5 / 500)) < 0.01 * math.sqrt(0.5 / 500)
    assert np.abs(w).max() > 3 * math.sqrt(0.5 / 500)  # not truncated
    _truncated_ok(vs(2.0, distribution="normal", seed=1)(SHAPE, "float64"), math.sqrt(2.0 / 400))
    assert vs(distribution="Uniform").distribution == "uniform"


def test_fans_of_conv_shaped_kernels():
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert initializers.compute_fans((5,)) == (5, 5)
    assert initializers.compute_fans(()) == (1, 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"scale": 0.0}, "scale to be a positive float, got scale=0.0"),
    ({"scale": -1}, "scale to be a positive float, got scale=-1"),
    ({"mode": "fan_sum"}, "mode 'fan_in', 'fan_out' or 'fan_avg', got mode='fan_sum'"),
    ({"distribution": "cauchy"}, "distribution 'truncated_normal', 'untruncated_normal' or 'uniform', "
                                 "got distribution='cauchy'"),
    ({"distribution": 3}, "distribution to be a string, got distribution=3"),
])
def test_variance_scaling_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        initializers.VarianceScaling(**kwargs)


def test_random_uniform_normal_and_truncated():
    w = initializers.RandomUniform(-0.5, 1.5, seed=2)(SHAPE, "float64")
    assert w.min() >= -0.5 and w.max() < 1.5 and abs(w.mean() - 0.5) < 0.01
    w = initializers.RandomNormal(mean=1.0, stddev=0.3, seed=2)(SHAPE, "float64")
    assert abs(w.mean() - 1.0) < 0.003 and abs(w.std() - 0.3) < 0.003
    w = initializers.TruncatedNormal(mean=1.0, stddev=0.3, seed=2)(SHAPE, "float64")
    assert np.abs(w - 1.0).max() <= 0.6 and abs(w.mean() - 1.0) < 0.003
    assert abs(w.std() - 0.3 * 0.87962566103423978) < 0.003
    assert initializers.RandomUniform()((3,)).dtype == np.float32  # floatx by default


def test_constants():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((2,)), [1, 1])
    np.testing.assert_array_equal(initializers.Constant(0.25)((2,), "float64"), [0.25, 0.25])
    assert initializers.Constant(2)((1,)).dtype == np.float32


def test_identity():
    np.testing.assert_array_equal(initializers.Identity()((2, 2)), np.eye(2))
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((3, 2)), 3 * np.eye(3, 2))
    with pytest.raises(ValueError, match=r"Identity initializer expects a 2D shape, got shape=\(2, 2, 2\) of rank 3"):
        initializers.Identity()((2, 2, 2))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (2, 3, 4)])
def test_orthogonal_is_orthogonal(shape):
    q = initializers.Orthogonal(gain=2.0, seed=5)(shape, "float64")
    assert q.shape == shape
    flat = q.reshape(-1, shape[-1]) / 2.0
    small = min(flat.shape)
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_orthogonal_follows_keras_qr_with_sign_correction():
    rows, cols = 3, 5  # fewer rows than columns: QR of a (5, 3) draw, transposed
    draw = np.random.default_rng(9).normal(size=(cols, rows))
    q, r = np.linalg.qr(draw)
    expected = (q * np.sign(np.diag(r))).T
    np.testing.assert_allclose(initializers.Orthogonal(seed=9)((rows, cols), "float64"), expected, atol=1e-12)
    # with the sign correction diag(R) > 0, so Q equals the draw's Gram-Schmidt basis
    assert np.all(np.sum(expected.T * draw, axis=0) > 0)


def test_orthogonal_needs_rank_two():
    with pytest.raises(ValueError, match=r"rank 2 or more, got shape=\(4,\)"):
        initializers.Orthogonal()((4,))


ALL = [initializers.GlorotUniform, initializers.GlorotNormal, initializers.HeUniform, initializers.HeNormal,
       initializers.LecunUniform, initializers.LecunNormal, initializers.RandomUniform, initializers.RandomNormal,
       initializers.TruncatedNormal, initializers.VarianceScaling, initializers.Orthogonal]


@pytest.mark.parametrize("cls", ALL)
def test_seeded_draws_repeat_and_seeds_differ(cls):
    a = cls(seed=7)((20, 30))
    np.testing.assert_array_equal(a, cls(seed=7)((20, 30)))
    np.testing.assert_array_equal(a, cls(seed=7)((20, 30)))
    init = cls(seed=7)
    np.testing.assert_array_equal(init((20, 30)), init((20, 30)))  # as Keras: same values every call
    assert not np.array_equal(a, cls(seed=8)((20, 30)))


@pytest.mark.parametrize("cls", ALL)
def test_unseeded_draws_follow_the_global_seed(cls):
    lamina.random.set_seed(11)
    first = [cls()((10, 10)), cls()((10, 10))]
    assert not np.array_equal(*first)
    lamina.random.set_seed(11)
    np.testing.assert_array_equal(cls()((10, 10)), first[0])


def test_bad_seed_is_rejected():
    with pytest.raises(TypeError, match="seed must be an int or None, got 'a'"):
        initializers.GlorotUniform(seed="a")


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", "GlorotUniform"), ("he_normal", "HeNormal"), ("lecun_uniform", "LecunUniform"),
    ("orthogonal", "Orthogonal"), ("identity", "Identity"), ("constant", "Constant"), ("zeros", "Zeros"),
    ("ones", "Ones"), ("random_normal", "RandomNormal"), ("truncated_normal", "TruncatedNormal"),
    ("variance_scaling", "VarianceScaling"), ("uniform", "RandomUniform"), ("normal", "RandomNormal"),
    ("zero", "Zeros"), ("one", "Ones"), ("OrthogonalInitializer", "Orthogonal"), ("HeUniform", "HeUniform"),
])
def test_get_by_name(name, cls):
    assert type(initializers.get(name)).__name__ == cls


def test_function_style_aliases():
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.orthogonal is initializers.Orthogonal
    assert initializers.identity is initializers.Identity
    assert initializers.constant is initializers.Constant
    assert initializers.random_uniform is initializers.RandomUniform
    np.testing.assert_array_equal(initializers.constant(3.0)((2,)), [3, 3])


def test_get_by_class_instance_and_dict():
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)
    init = initializers.Orthogonal(gain=0.5)
    assert initializers.get(init) is init
    got = initializers.get({"class_name": "VarianceScaling",
                            "config": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 4}})
    assert (got.scale, got.mode, got.distribution, got.seed) == (2.0, "fan_out", "uniform", 4)


@pytest.mark.parametrize("init", [
    initializers.GlorotUniform(seed=1), initializers.HeNormal(), initializers.RandomUniform(-1.0, 2.0, seed=3),
    initializers.RandomNormal(0.5, 0.1), initializers.TruncatedNormal(stddev=0.2, seed=2),
    initializers.VarianceScaling(0.3, "fan_avg", "untruncated_normal", seed=5), initializers.Constant(1.5),
    initializers.Identity(gain=2.0), initializers.Orthogonal(gain=1.5, seed=6), initializers.Zeros(),
])
def test_config_round_trip(init):
    config = initializers.serialize(init)
    assert config["module"] == "keras.initializers" and config["class_name"] == type(init).__name__
    clone = initializers.get(config)
    assert type(clone) is type(init) and clone.get_config() == init.get_config()
    if getattr(init, "seed", None) is not None:
        np.testing.assert_array_equal(clone((6, 4)), init((6, 4)))


def test_keras_config_keys():
    assert initializers.Orthogonal(gain=2.0, seed=1).get_config() == {"seed": 1, "gain": 2.0}
    assert initializers.Identity().get_config() == {"gain": 1.0}
    assert initializers.GlorotUniform(seed=3).get_config() == {"seed": 3}
    assert initializers.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'. Valid names: .*glorot_uniform.*orthogonal"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match="Unknown initializer class 'Glorot'. Valid classes: .*Orthogonal"):
        initializers.get({"class_name": "Glorot", "config": {}})
    with pytest.raises(TypeError, match="initializer must be a name, a dict or an Initializer, got 5"):
        initializers.get(5)


def test_dense_with_orthogonal_kernel():
    layer = lamina.layers.Dense(3, kernel_initializer="orthogonal")
    layer.build((None, 5))
    k = layer.kernel.value.astype("float64")
    np.testing.assert_allclose(k.T @ k, np.eye(3), atol=1e-5)
    assert layer.get_config()["kernel_initializer"]["class_name"] == "Orthogonal"


def test_none_initializers_take_add_weight_s_defaults_as_keras(keras_oracle):
    ours, _ = keras_oracle.compare("""
K.utils.set_random_seed(3)
dense = K.layers.Dense(3, kernel_initializer=None, bias_initializer=None)
dense.build((None, 4000))
config = dense.get_config()
result = {"configs": [config["kernel_initializer"], config["bias_initializer"]], "none": K.initializers.get(None),
          "bias_spread": float(numpy(dense.bias).std() > 0), "kernel_limit": float(abs(numpy(dense.kernel)).max())}
""", rtol=0.05)
    assert ours["kernel_limit"] <= (6 / 4003) ** 0.5  # glorot_uniform's limit
