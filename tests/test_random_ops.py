"""``lamina.random`` (Keras's ``keras.random``, also ``tf.random``): repeatable under ``set_seed``,
Keras's seed rules (an int repeats, a ``SeedGenerator`` moves on), and each distribution's moments
against its closed form."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import lamina
from lamina import random

N = 40_000


def test_every_keras_random_name_exists():
    out = subprocess.run([sys.executable, "-c", "import keras; print(' '.join(n for n in dir(keras.random) "
                          "if not n.startswith('_')))"], capture_output=True, text=True, check=True,
                         env={**os.environ, "KERAS_BACKEND": "jax"}, timeout=300, cwd="/")
    missing = set(out.stdout.split()) - set(random.__all__)
    assert not missing, f"keras.random names missing from lamina.random: {sorted(missing)}"
    assert lamina.random is lamina.keras.random and random.set_seed is lamina.backend.set_seed


DRAWS = {
    "normal": lambda seed: random.normal((3, 4), seed=seed),
    "uniform": lambda seed: random.uniform((3, 4), seed=seed),
    "truncated_normal": lambda seed: random.truncated_normal((3, 4), seed=seed),
    "randint": lambda seed: random.randint((3, 4), 0, 100, seed=seed),
    "dropout": lambda seed: random.dropout(np.ones((3, 4), "float32"), 0.5, seed=seed),
    "shuffle": lambda seed: random.shuffle(np.arange(12), seed=seed),
    "categorical": lambda seed: random.categorical(np.zeros((3, 5)), 4, seed=seed),
    "gamma": lambda seed: random.gamma((3, 4), 2.0, seed=seed),
    "binomial": lambda seed: random.binomial((3, 4), 10, 0.5, seed=seed),
    "beta": lambda seed: random.beta((3, 4), 2.0, 3.0, seed=seed),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_seed_rules(name):
    """None: the global stream, repeatable after set_seed; an int: the same values at every call
    (Keras's stateless rule); a SeedGenerator: new values each call, repeatable from its seed."""
    draw = DRAWS[name]
    random.set_seed(5)
    first, second = draw(None).numpy(), draw(None).numpy()
    random.set_seed(5)
    np.testing.assert_array_equal(draw(None).numpy(), first)
    np.testing.assert_array_equal(draw(None).numpy(), second)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(draw(17).numpy(), draw(17).numpy())
    assert not np.array_equal(draw(17).numpy(), draw(18).numpy())
    gen_a, gen_b = random.SeedGenerator(3), random.SeedGenerator(3)
    a1, a2 = draw(gen_a).numpy(), draw(gen_a).numpy()
    assert not np.array_equal(a1, a2)
    np.testing.assert_array_equal(draw(gen_b).numpy(), a1)
    np.testing.assert_array_equal(draw(gen_b).numpy(), a2)


def test_seed_generator_state_and_config():
    gen = random.SeedGenerator(42, name="noise")
    assert gen.state.name == "seed_generator_state" and not gen.state.trainable
    assert gen.state.dtype == "uint32" and gen.state.numpy().tolist() == [42, 0]
    assert gen.next().numpy().tolist() == [42, 0] and gen.state.numpy().tolist() == [42, 1]
    gen.next(ordered=False)
    assert gen.state.numpy().tolist() == [(43 * 5387) % 933199, (2 * 5387) % 933199]
    clone = random.SeedGenerator.from_config(gen.get_config())
    assert clone.get_config() == {"seed": 42, "name": "noise"} and clone.state.numpy().tolist() == [42, 0]
    random.set_seed(9)
    unseeded = random.SeedGenerator().state.numpy()[0]
    random.set_seed(9)
    assert random.SeedGenerator().state.numpy()[0] == unseeded  # an unseeded generator is repeatable too
    with pytest.raises(ValueError, match="seed to be an int"):
        random.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="seed must be"):
        random.normal((2,), seed="abc")


def test_normal_uniform_truncated_normal_moments():
    x = random.normal((N,), mean=2.0, stddev=3.0, seed=1).numpy()
    assert x.dtype == np.float32 and abs(x.mean() - 2.0) < 0.05 and abs(x.std() - 3.0) < 0.05
    u = random.uniform((N,), minval=-1.0, maxval=3.0, seed=2).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.03 and abs(u.var() - 16 / 12) < 0.03
    assert 0 <= float(random.uniform((), seed=3)) < 1  # maxval None: 1, as tf.random.uniform
    t = random.truncated_normal((N,), stddev=2.0, seed=4, dtype="float64").numpy()
    assert t.dtype == np.float64 and np.abs(t).max() <= 4.0
    # a unit normal cut at +-2 has variance 1 - 4 phi(2) / (2 Phi(2) - 1) = 0.77374
    assert abs(t.std() / 2.0 - np.sqrt(0.77374)) < 0.01 and abs(t.mean()) < 0.03
    with pytest.raises(ValueError, match="float dtype"):
        random.normal((2,), dtype="int32")


def test_integer_draws():
    r = random.randint((N,), 3, 7, seed=5).numpy()
    assert r.dtype == np.int32 and set(np.unique(r)) == {3, 4, 5, 6}
    assert np.abs(np.bincount(r - 3) / N - 0.25).max() < 0.01
    u = random.uniform((1000,), minval=0, maxval=4, dtype="int64", seed=6).numpy()  # TensorFlow's integer uniform
    assert u.dtype == np.int64 and set(np.unique(u)) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="needs maxval"):
        random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="minval < maxval"):
        random.randint((2,), 5, 5)


def test_categorical_draws_softmax_frequencies():
    with np.errstate(divide="ignore"):
        logits = np.log(np.array([[0.1, 0.6, 0.3, 0.0], [0.25, 0.25, 0.25, 0.25]]))
    draws = random.categorical(logits, N, seed=7).numpy()
    assert draws.shape == (2, N) and draws.dtype == np.int32
    np.testing.assert_allclose(np.bincount(draws[0], minlength=4) / N, [0.1, 0.6, 0.3, 0.0], atol=0.01)
    np.testing.assert_allclose(np.bincount(draws[1], minlength=4) / N, [0.25] * 4, atol=0.01)
    assert not (draws[0] == 3).any()  # a -inf logit is never drawn


def test_gamma_binomial_beta_moments():
    g = random.gamma((N,), alpha=3.0, seed=8).numpy()
    assert abs(g.mean() - 3.0) < 0.05 and abs(g.var() - 3.0) < 0.15
    b = random.binomial((N,), counts=10, probabilities=0.3, seed=9).numpy()
    assert b.dtype == np.float32 and abs(b.mean() - 3.0) < 0.05 and abs(b.var() - 2.1) < 0.1
    beta = random.beta((N,), alpha=2.0, beta=5.0, seed=10).numpy()
    assert abs(beta.mean() - 2 / 7) < 0.005 and abs(beta.var() - 10 / (49 * 8)) < 0.002


def test_dropout_and_shuffle():
    y = random.dropout(np.full((N,), 2.0, "float32"), 0.3, seed=11).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01 and np.allclose(y[kept], 2.0 / 0.7)
    assert random.dropout(np.ones(3, "float64"), 0.5, seed=1).dtype == "float64"
    x = np.arange(20).reshape(4, 5)
    rows, cols = random.shuffle(x, seed=12).numpy(), random.shuffle(x, axis=1, seed=12).numpy()
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x)) and not np.array_equal(rows, x)
    assert sorted(map(tuple, cols.T)) == sorted(map(tuple, x.T))
    with pytest.raises(ValueError, match="rate"):
        random.dropout(np.ones(2), 1.0)


def test_shuffle_and_dropout_carry_gradients():
    x = lamina.Variable(np.arange(4.0), name="x")
    weights = np.array([1.0, 10.0, 100.0, 1000.0])
    with lamina.GradientTape(persistent=True) as tape:
        shuffled = random.shuffle(x, seed=3)
        shuffle_loss = lamina.ops.sum(shuffled * weights)
        dropped = lamina.ops.sum(random.dropout(x, 0.5, seed=4))
    order = np.argsort(shuffled.numpy())  # where each of x's entries went
    np.testing.assert_allclose(tape.gradient(shuffle_loss, x).numpy(), weights[order])
    kept = random.dropout(np.ones(4), 0.5, seed=4).numpy() != 0
    np.testing.assert_allclose(tape.gradient(dropped, x).numpy(), kept * 2.0)


class _Noisy(lamina.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = random.SeedGenerator(1337)
        self.dense = lamina.layers.Dense(3, kernel_initializer="ones")

    def call(self, x, training=False):
        x = self.dense(x)
        return random.dropout(x, 0.5, seed=self.seed_generator) if training else x


def test_a_layer_tracks_its_seed_generator_state_as_keras():
    """The state is in ``variables`` and ``non_trainable_variables``, not in ``weights``; each
    training call moves it on, so two calls drop different units, repeatably from the seed."""
    layer = _Noisy()
    x = np.ones((4, 2), "float32")
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.array_equal(first != 0, second != 0)
    assert [v.name for v in layer.weights] == ["kernel", "bias"]
    assert [v.name for v in layer.variables] == ["kernel", "bias", "seed_generator_state"]
    assert [v.name for v in layer.non_trainable_variables] == ["seed_generator_state"]
    assert layer.seed_generator.state.numpy().tolist() == [1337, 2]
    model = lamina.Sequential([lamina.Input((2,)), layer])
    state = layer.seed_generator.state
    assert any(v is state for v in model.variables) and not any(v is state for v in model.weights)
    again = _Noisy()
    np.testing.assert_array_equal(again(x, training=True).numpy(), first)
    del layer.seed_generator
    assert [v.name for v in layer.variables] == ["kernel", "bias"]
