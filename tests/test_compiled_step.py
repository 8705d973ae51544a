"""fit's compiled step (trainers/compiled_step.py): a model the fused plan does not take trains
by replaying a traced step; every test holds it to the eager step (``run_eagerly=True``), weight
for weight, and checks it refuses what it cannot replay."""
import numpy as np
import pytest

import lamina
from lamina import layers, ops


class Linear(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class LinearMLP(lamina.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.out = Linear(16), Linear(3)

    def call(self, inputs):
        return ops.softmax(self.out(ops.relu(self.hidden(inputs))))


def _data(n=100, features=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, features), dtype=np.float32), rng.integers(0, 3, n)


def _train_both(make, compile_kwargs, fit_kwargs, x, y):
    """The same model trained compiled and eagerly from the same seed: both models, both
    histories (``compile_kwargs`` makes the arguments: each model gets its own optimizer)."""
    results = []
    for eager in (False, True):
        lamina.random.set_seed(7)
        model = make()
        model.compile(run_eagerly=eager, **compile_kwargs())
        history = model.fit(x, y, verbose=0, **fit_kwargs)
        results.append((model, history.history))
    return results


def _replayed(model) -> bool:
    step = model._compiled_step
    return bool(step) and any(replay is not None for replay in step._replays.values())


def _assert_same_training(compiled, eager, rtol=1e-5, atol=1e-6):
    (model_c, history_c), (model_e, history_e) = compiled, eager
    assert list(history_c) == list(history_e)
    for key in history_c:
        np.testing.assert_allclose(history_c[key], history_e[key], rtol=rtol, atol=atol, err_msg=key)
    for wc, we in zip(model_c.weights, model_e.weights):
        np.testing.assert_allclose(wc.numpy(), we.numpy(), rtol=rtol, atol=atol, err_msg=wc.path)


def test_user_layer_model_replays_and_matches_the_eager_step():
    x, y = _data()
    compiled, eager = _train_both(LinearMLP, lambda: dict(optimizer=lamina.optimizers.SGD(0.1),
                                                          loss="sparse_categorical_crossentropy",
                                                          metrics=["accuracy"]),
                                  dict(batch_size=16, epochs=3), x, y)
    assert _replayed(compiled[0]), compiled[0]._compiled_step.refused
    assert not _replayed(eager[0])
    # plain SGD: both kernels' and both biases' updates land inside their gradients' products
    # (sgd_in_product.py, replay_kernels.Affine)
    replays = [r for r in compiled[0]._compiled_step._replays.values() if r is not None]
    assert all(len(r.folded) == 4 for r in replays)
    _assert_same_training(compiled, eager)
    # the last batch (100 = 6 x 16 + 4) has a shape of its own, and its own program
    assert set(compiled[0]._compiled_step._replays) >= {(((16, 8), "float32"), ((16,), "int64"))}
    assert compiled[1]["loss"][-1] < compiled[1]["loss"][0]


def _wide_and_deep():
    input_wide, input_deep = lamina.Input(shape=[5], name="wide"), lamina.Input(shape=[6], name="deep")
    norm_wide, norm_deep = layers.Normalization(), layers.Normalization()
    rng = np.random.default_rng(1)
    norm_wide.adapt(rng.standard_normal((50, 5)).astype("float32") * 2 + 1)
    norm_deep.adapt(rng.standard_normal((50, 6)).astype("float32") * 3 - 1)
    hidden1 = layers.Dense(12, activation="relu")(norm_deep(input_deep))
    hidden2 = layers.Dense(12, activation="relu")(hidden1)
    concat = layers.concatenate([norm_wide(input_wide), hidden2])
    output = layers.Dense(1, name="main")(concat)
    aux = layers.Dense(1, name="aux")(hidden2)
    return lamina.Model(inputs=[input_wide, input_deep], outputs=[output, aux])


def test_wide_and_deep_graph_replays_with_weights_metrics_and_sample_weights():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((90, 8)).astype("float32")
    target = (x @ rng.standard_normal(8)).astype("float32")
    weights = rng.random(90).astype("float32")
    results = []
    for eager in (False, True):
        lamina.random.set_seed(3)
        model = _wide_and_deep()
        model.compile(loss=("mse", "mse"), loss_weights=(0.9, 0.1), optimizer=lamina.optimizers.Adam(1e-2),
                      metrics=[["RootMeanSquaredError"], ["mae"]], run_eagerly=eager)
        history = model.fit((x[:, :5], x[:, 2:]), (target, target), sample_weight=weights, batch_size=16,
                            epochs=3, verbose=0)
        results.append((model, history.history))
    assert _replayed(results[0][0]), results[0][0]._compiled_step.refused
    assert {"loss", "main_loss", "aux_loss", "main_RootMeanSquaredError", "aux_mae"} <= set(results[0][1])
    _assert_same_training(*results)


class Penalized(layers.Layer):
    """A layer that adds a loss of its own and carries a weight regularizer."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="glorot_uniform",
                                 regularizer=lamina.regularizers.L2(0.01))

    def call(self, inputs):
        out = ops.matmul(inputs, self.w)
        self.add_loss(0.1 * ops.mean(ops.square(out)))
        return ops.softmax(out)


def test_add_loss_and_weight_penalties_are_replayed():
    x, y = _data(64)
    compiled, eager = _train_both(lambda: lamina.Sequential([lamina.Input((8,)), Penalized()]),
                                  lambda: dict(optimizer="sgd", loss="sparse_categorical_crossentropy"),
                                  dict(batch_size=16, epochs=2), x, y)
    assert _replayed(compiled[0]), compiled[0]._compiled_step.refused
    _assert_same_training(compiled, eager)


class ReadsAValue(layers.Layer):
    def call(self, inputs):
        if float(ops.mean(inputs)) > 100:  # Python control flow on a value: a replay cannot follow it
            return inputs * 2.0
        return inputs


class DrawsWithNumPy(layers.Layer):
    def call(self, inputs):
        return inputs * np.random.default_rng().random(inputs.shape).astype("float32")


@pytest.mark.parametrize("extra, why", [
    (ReadsAValue, "read a tensor's value"),
    (DrawsWithNumPy, "two batches gave different steps"),
    (lambda: layers.BatchNormalization(), "assigned the Variable"),
])
def test_a_step_the_replay_cannot_follow_stays_eager_and_says_why(extra, why):
    x, y = _data(64)

    def make():
        inputs = lamina.Input((8,))
        hidden = Linear(6)(inputs)
        both = layers.concatenate([extra()(hidden), hidden])  # a graph, not a chain: no fused plan
        return lamina.Model(inputs, layers.Dense(3, activation="softmax")(both))

    compiled, eager = _train_both(make, lambda: dict(optimizer="sgd", loss="sparse_categorical_crossentropy"),
                                  dict(batch_size=16, epochs=2, shuffle=False), x, y)
    step = compiled[0]._compiled_step
    assert not _replayed(compiled[0]) and why in step.refused
    if extra is not DrawsWithNumPy:  # the others are deterministic: the same numbers as eager
        _assert_same_training(compiled, eager)


def test_jit_compile_false_and_an_overridden_train_step_run_eagerly():
    x, y = _data(32)
    model = LinearMLP()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=False)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert model._compiled_step is False

    class Custom(LinearMLP):
        def train_step(self, data):
            return super().train_step(data)

    custom = Custom()
    custom.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    custom.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert custom._compiled_step is False


def test_a_new_fit_traces_again_and_sees_a_frozen_layer():
    x, y = _data(64)
    model = LinearMLP()
    model.compile(optimizer=lamina.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert _replayed(model)
    model.hidden.trainable = False
    frozen = [w.numpy() for w in model.hidden.weights]
    model.compile(optimizer=lamina.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert _replayed(model)
    for before, after in zip(frozen, model.hidden.weights):
        np.testing.assert_array_equal(before, after.numpy())


@pytest.mark.parametrize("noise", [lambda: layers.Dropout(0.3), lambda: layers.GaussianNoise(0.2),
                                   lambda: layers.GaussianDropout(0.2), lambda: layers.AlphaDropout(0.2)])
def test_random_layers_in_a_graph_replay_their_draws(noise):
    """A random layer's draw is an op: the replay draws afresh from the same stream, in the same
    order, so the compiled step gives the eager step's numbers (not a frozen mask)."""
    x, y = _data(96)

    def make():
        inputs = lamina.Input((8,))
        hidden = Linear(10)(inputs)
        both = layers.concatenate([noise()(hidden), hidden])
        return lamina.Model(inputs, layers.Dense(3, activation="softmax")(both))

    compiled, eager = _train_both(make, lambda: dict(optimizer="sgd", loss="sparse_categorical_crossentropy"),
                                  dict(batch_size=16, epochs=3), x, y)
    assert _replayed(compiled[0]), compiled[0]._compiled_step.refused
    _assert_same_training(compiled, eager)


class Unused(layers.Layer):
    """A weight the output never touches: no gradient, so the optimizer warns, as eagerly."""

    def build(self, input_shape):
        self.unused = self.add_weight(shape=(2,), initializer="ones")
        self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="glorot_uniform")

    def call(self, inputs):
        return ops.softmax(ops.matmul(inputs, self.w))


def test_a_weight_without_gradient_warns_at_every_step_and_trains_the_rest():
    x, y = _data(48)
    model = lamina.Sequential([lamina.Input((8,)), Unused()])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="Gradients do not exist") as caught:
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert _replayed(model) and len(caught) == 6
    np.testing.assert_array_equal(model.layers[0].unused.numpy(), [1.0, 1.0])


def test_batches_of_ever_new_shapes_stop_being_traced():
    rng = np.random.default_rng(4)
    batches = [(rng.random((n, 8), dtype=np.float32), rng.integers(0, 3, n)) for n in range(2, 22)]
    model = LinearMLP()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(iter(batches), steps_per_epoch=len(batches), epochs=1, verbose=0)
    step = model._compiled_step
    assert len(step._replays) + len(step._first) == 8


@pytest.mark.parametrize("make_optimizer", [
    lambda: lamina.optimizers.Adam(0.01, amsgrad=True),
    lambda: lamina.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: lamina.optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipnorm=0.5),
    lambda: lamina.optimizers.AdamW(0.01, weight_decay=0.1),
    lambda: lamina.optimizers.SGD(0.05, loss_scale_factor=8.0),
    lambda: lamina.optimizers.Nadam(0.01, global_clipnorm=1.0),
])
def test_every_optimizer_option_replays_as_the_eager_step(make_optimizer):
    x, y = _data(80)
    compiled, eager = _train_both(LinearMLP, lambda: dict(optimizer=make_optimizer(),
                                                          loss="sparse_categorical_crossentropy"),
                                  dict(batch_size=16, epochs=2), x, y)
    assert _replayed(compiled[0]), compiled[0]._compiled_step.refused
    _assert_same_training(compiled, eager)
    for a, b in zip(compiled[0].optimizer.variables, eager[0].optimizer.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_dict_inputs_and_validation_data():
    rng = np.random.default_rng(5)
    data = {"a": rng.random((64, 3), dtype=np.float32), "b": rng.random((64, 4), dtype=np.float32)}
    target = rng.random((64, 1), dtype=np.float32)

    def make():
        a, b = lamina.Input((3,), name="a"), lamina.Input((4,), name="b")
        joined = layers.concatenate([Linear(5)(a), b])
        return lamina.Model({"a": a, "b": b}, layers.Dense(1)(joined))

    results = []
    for eager in (False, True):
        lamina.random.set_seed(2)
        model = make()
        model.compile(optimizer="adam", loss="mse", metrics=["mae"], run_eagerly=eager)
        history = model.fit(data, target, batch_size=8, epochs=3, verbose=0, validation_data=(data, target))
        results.append((model, history.history))
    assert _replayed(results[0][0]) and "val_mae" in results[0][1]
    _assert_same_training(*results)
