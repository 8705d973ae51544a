"""The fused fast step gives the same weights as the general (layer-by-layer) step."""
import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.backend.blas import _gemm_numpy, gemm


def build(hidden=("relu", "tanh"), output="softmax", loss="sparse_categorical_crossentropy", optimizer="sgd",
          n_out=3, use_bias=True):
    lamina.backend.clear_session()
    lamina.random.set_seed(11)
    model = lamina.Sequential([layers.Flatten(input_shape=(2, 3))]
                              + [layers.Dense(7, activation=a, use_bias=use_bias) for a in hidden]
                              + [layers.Dense(n_out, activation=output)])
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"] if "crossentropy" in loss else ["mse"])
    return model


def train_both(make, x, y, epochs=3, batch_size=8):
    fast = make()  # each make() reseeds, so both runs shuffle alike
    assert fast._fast_plan() is not None
    h_fast = fast.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, validation_data=(x, y))
    general = make()
    general._plan_checked = True  # no plan: every step takes the general path
    h_general = general.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, validation_data=(x, y))
    return fast, general, h_fast, h_general


def assert_same(fast, general, h_fast, h_general):
    for a, b in zip(fast.get_weights(), general.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    for key in h_general.history:
        np.testing.assert_allclose(h_fast.history[key], h_general.history[key], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(fast.predict(np.ones((3, 2, 3)), verbose=0),
                               general.predict(np.ones((3, 2, 3)), verbose=0), rtol=2e-5, atol=1e-6)


X = np.random.default_rng(0).standard_normal((37, 2, 3))  # 37 rows: the last batch is partial
Y = (X[:, 0, 0] > 0).astype(int) + (X[:, 1, 2] > 0)


@pytest.mark.parametrize("optimizer", [
    "sgd", lambda: lamina.optimizers.SGD(0.05, momentum=0.9),
    lambda: lamina.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam", "rmsprop", lambda: lamina.optimizers.SGD(0.1, clipnorm=0.5), "nadam", "adamax", "adagrad", "adadelta",
    "lion", "ftrl", lambda: lamina.optimizers.RMSprop(centered=True, momentum=0.5),
    lambda: lamina.optimizers.Adam(amsgrad=True), lambda: lamina.optimizers.AdamW()])
def test_optimizers_match_general_step(optimizer):
    def make():
        return build(optimizer=optimizer() if callable(optimizer) else optimizer)
    assert_same(*train_both(make, X, Y))


@pytest.mark.parametrize("hidden,output,loss,target", [
    (("relu",), "softmax", "categorical_crossentropy", np.eye(3)[Y]),
    (("sigmoid",), "sigmoid", "binary_crossentropy", (Y > 0).astype(float)[:, None]),
    (("tanh", "linear"), "linear", "mse", np.c_[X[:, 0, 0], X[:, 1, 1]]),
])
def test_outputs_and_losses_match_general_step(hidden, output, loss, target):
    n_out = target.shape[1]
    assert_same(*train_both(lambda: build(hidden, output, loss, n_out=n_out), X, target))


def test_without_bias_and_with_frozen_layer_match_general_step():
    assert_same(*train_both(lambda: build(use_bias=False), X, Y))

    def frozen():
        model = build()
        model.layers[1].trainable = False
        return model
    fast, general, *histories = train_both(frozen, X, Y)
    assert_same(fast, general, *histories)
    # the frozen layer kept its initial weights
    np.testing.assert_array_equal(fast.layers[1].kernel.value, build().layers[1].kernel.value)


def test_float64_inputs_are_not_copied_whole_and_uint8_works():
    import tracemalloc
    model = build()
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((200_000, 2, 3))  # 9.6 MB; a float32 copy of it would be 4.8 MB
    y = (x64[:, 0, 0] > 0).astype(int)
    model.fit(x64[:100], y[:100], epochs=1, batch_size=1000, verbose=0)  # builds the plan and its buffers
    tracemalloc.start()
    try:
        model.fit(x64, y, epochs=1, batch_size=1000, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the epoch's permutation (1.6 MB) and one batch at a time, never the whole x converted
    assert peak < 0.35 * x64.nbytes, f"fit allocated {peak} bytes for a {x64.nbytes}-byte float64 x"
    x8 = (np.abs(X) * 40).astype(np.uint8)
    history = model.fit(x8, Y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    np.testing.assert_allclose(model.predict(x8, verbose=0), model.predict(x8.astype(np.float32), verbose=0))


def test_kernel_and_bias_become_views_of_one_packed_array():
    model = build()
    plan = model._fast_plan()
    dense = model.layers[1]
    assert np.shares_memory(dense.kernel._value, plan.packed[0]) and np.shares_memory(dense.bias._value, plan.packed[0])
    assert all(np.shares_memory(packed, plan.flat) for packed in plan.packed)
    dense.set_weights([np.ones((6, 7)), np.full(7, 2.0)])
    np.testing.assert_array_equal(plan.packed[0][:6], 1)
    np.testing.assert_array_equal(plan.packed[0][6], 2)


def test_plan_is_not_used_for_layers_it_does_not_cover():
    model = lamina.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert model._fast_plan() is not None
    model.compile(optimizer="sgd", loss="mse")  # softmax + mse: no fused gradient
    assert model._fast_plan() is None


@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_matches_numpy_including_strided_output(trans_a, trans_b, dtype):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 4) if not trans_a else (4, 5)).astype(dtype)
    b = rng.standard_normal((4, 6) if not trans_b else (6, 4)).astype(dtype)
    wide = rng.standard_normal((5, 7)).astype(dtype)
    last_column = wide[:, 6].copy()
    out = wide[:, :6]  # a column slice: rows contiguous, row stride 7
    expected = 0.5 * (a.T if trans_a else a) @ (b.T if trans_b else b) + 2.0 * out
    gemm(a, b, out, trans_a, trans_b, alpha=0.5, beta=2.0)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    np.testing.assert_array_equal(wide[:, 6], last_column)  # the column beside the slice is untouched
    c = np.empty((5, 6), dtype)
    _gemm_numpy(a, b, c, trans_a, trans_b, 1.0, 0.0)
    np.testing.assert_allclose(c, (a.T if trans_a else a) @ (b.T if trans_b else b), rtol=1e-5)


def test_numpy_fallback_gives_same_training(monkeypatch):
    import lamina.backend.blas as ops
    fast = build()
    fast.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    monkeypatch.setattr(ops, "_CBLAS", None)
    fallback = build()
    fallback.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(fast.get_weights(), fallback.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", [None, 5])
def test_dropout_between_dense_layers_matches_general_step(seed):
    def make():
        lamina.backend.clear_session()
        lamina.random.set_seed(11)
        model = lamina.Sequential([layers.Flatten(input_shape=(2, 3)), layers.Dense(9, activation="relu"),
                                   layers.Dropout(0.3, seed=seed), layers.Dense(7, activation="linear"),
                                   layers.Dropout(0.5), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model
    fast, general, h_fast, h_general = train_both(make, X, Y)
    assert fast._fast_plan().dropouts.keys() == {0, 1}
    assert_same(fast, general, h_fast, h_general)


def test_dropout_the_plan_does_not_cover_takes_the_general_path():
    for stack in ([layers.Dense(5, activation="tanh"), layers.Dropout(0.2), layers.Dense(3, activation="softmax")],
                  [layers.Dense(5), layers.Dropout(0.2, noise_shape=(None, 1)), layers.Dense(3, activation="softmax")],
                  [layers.Dense(3, activation="softmax"), layers.Dropout(0.2)]):
        model = lamina.Sequential([layers.Input((4,)), *stack])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        assert model._fast_plan() is None


def test_elementwise_optimizers_update_all_weights_in_one_packed_pass():
    model = build(optimizer="adam")
    model.fit(X, Y, epochs=1, verbose=0)
    plan = model._fast_plan()
    assert plan.mode[1] == "whole"
    slot = model.optimizer.slot(model.layers[1].kernel, "momentum")
    assert np.shares_memory(slot._value, model.optimizer.slot(plan.flat_variable, "momentum")._value)
    assert np.abs(slot.value).sum() > 0  # the per-variable slots (what is saved) hold the state


def test_pack_refuses_variables_that_are_not_laid_out_in_the_buffer():
    a = lamina.Variable(np.zeros(3, "float32"), name="a")
    b = lamina.Variable(np.zeros(2, "float32"), name="b")
    with pytest.raises(ValueError, match=r"pack: variable 'a' is not at offset 0 of the buffer"):
        lamina.optimizers.Adam().pack([a, b], np.zeros(5, "float32"))


def test_momentum_with_a_frozen_layer_matches_general_step():
    def make():
        model = build(optimizer=lamina.optimizers.SGD(0.05, momentum=0.9))
        model.layers[2].trainable = False
        return model
    fast, general, *histories = train_both(make, X, Y)
    assert fast._fast_plan().kind_of_update == "apply"
    assert_same(fast, general, *histories)


# --- subclassed models: their traced call (as Keras compiles train_step) -------------------------------
class _Mlp(lamina.Model):
    def __init__(self, dropout_training="pass"):
        super().__init__()
        self.hidden = layers.Dense(7, activation="relu")
        self.drop = layers.Dropout(0.25, seed=3)
        self.out = layers.Dense(3, activation="softmax")
        self.dropout_training = dropout_training

    def call(self, x, training=None):
        h = self.hidden(layers.Flatten()(x) if x.ndim > 2 else x)
        h = self.drop(h, training=training if self.dropout_training == "pass" else self.dropout_training)
        return self.out(h)


def _subclassed(run_eagerly=False, **kwargs):
    lamina.backend.clear_session()
    lamina.random.set_seed(11)
    model = _Mlp(**kwargs)
    model.compile(optimizer=lamina.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], run_eagerly=run_eagerly)
    return model


def test_a_subclassed_chain_trains_through_the_plan_with_the_general_steps_numbers():
    x = X.reshape(len(X), -1)
    fast = _subclassed()
    h_fast = fast.fit(x, Y, epochs=3, batch_size=8, verbose=0)
    assert fast._plan is not None
    eager = _subclassed(run_eagerly=True)  # Keras's run_eagerly: call runs as written, no trace
    h_eager = eager.fit(x, Y, epochs=3, batch_size=8, verbose=0)
    assert eager._plan is None
    for a, b in zip(fast.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(h_fast.history["loss"], h_eager.history["loss"], rtol=2e-5)


def test_a_dropout_switched_off_by_hand_keeps_the_general_path():
    model = _subclassed(dropout_training=False)  # the traced training call has Dropout(training=False)
    model.fit(X.reshape(len(X), -1), Y, epochs=1, verbose=0)
    assert model._plan is None


class _WithOp(lamina.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.dense(x * 2.0)  # an op between layers: not a chain of layers


class _WithBranch(lamina.Model):
    def __init__(self):
        super().__init__()
        self.a, self.b = layers.Dense(3, activation="softmax"), layers.Dense(3, activation="softmax")
        self.a.build((None, 6)), self.b.build((None, 6))  # both built: the optimizer knows both

    def call(self, x):
        return self.a(x) if float(lamina.ops.mean(x)) > 0 else self.b(x)  # a branch on the data's values


class _WithLoss(lamina.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(3, activation="softmax")

    def call(self, x):
        y = self.dense(x)
        self.add_loss(0.01 * lamina.ops.sum(y))
        return y


@pytest.mark.filterwarnings("ignore:Gradients do not exist")  # _WithBranch: the branch not taken
@pytest.mark.parametrize("cls", [_WithOp, _WithBranch, _WithLoss])
def test_calls_the_trace_cannot_follow_take_the_general_path(cls):
    model = cls()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(X.reshape(len(X), -1), Y, epochs=2, verbose=0)
    assert model._plan is None and np.isfinite(history.history["loss"]).all()
    assert all(not layer._losses or cls is _WithLoss for layer in model._flatten_layers())
