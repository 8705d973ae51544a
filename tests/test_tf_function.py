"""``tf.function`` traced and replayed (``tf/compiled_function.py``): a replayed call gives the
numbers of the same call run eagerly, bit for bit (the same primitives run in the same order), for
the TensorFlow guide's training step and its variations; what a replay could not follow keeps
the function eager and still right."""
import io

import numpy as np
import pytest

import lamina as tf

RNG = np.random.default_rng(0)
X = RNG.random((96, 6), dtype=np.float32)
Y = RNG.integers(0, 3, 96)


def _model(dropout=False, batchnorm=False, build=True):
    layers = [tf.keras.layers.Dense(8, activation="relu")]
    if batchnorm:
        layers.append(tf.keras.layers.BatchNormalization())
    if dropout:
        layers.append(tf.keras.layers.Dropout(0.3))
    layers.append(tf.keras.layers.Dense(3, activation="softmax"))
    model = tf.keras.Sequential(([tf.keras.Input((6,))] if build else []) + layers)
    return model


def _guide_step(model, optimizer, loss_fn, metric, decorate):
    def train_step(x, y):
        with tf.GradientTape() as tape:
            probabilities = model(x, training=True)
            loss = loss_fn(y, probabilities)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        metric.update_state(y, probabilities)
        return loss
    return tf.function(train_step) if decorate else train_step


def _train(decorate, optimizer=lambda: tf.keras.optimizers.SGD(0.1), batch=16, epochs=2, labels="int64",
           **model_kwargs):
    tf.random.set_seed(1)
    model = _model(**model_kwargs)
    metric = tf.keras.metrics.SparseCategoricalAccuracy()
    step = _guide_step(model, optimizer(), tf.keras.losses.SparseCategoricalCrossentropy(), metric, decorate)
    losses, y = [], Y.astype(labels)
    for _ in range(epochs):
        for start in range(0, len(X), batch):
            losses.append(step(X[start:start + batch], y[start:start + batch]).numpy())
    return np.array(losses), [w.numpy() for w in model.weights], float(metric.result()), step


@pytest.mark.parametrize("case, route", [
    ({}, "fused"), ({"batch": 20}, "fused"),  # 20: a last batch of 16 rows, a second signature
    ({"optimizer": lambda: tf.keras.optimizers.Adam(0.01)}, "fused"),
    ({"optimizer": lambda: tf.keras.optimizers.SGD(0.1, momentum=0.9, clipnorm=0.5)}, "fused"),
    ({"build": False}, "fused"), ({"labels": "uint8"}, "fused"),  # Fashion-MNIST's labels: cast to int64 first
    ({"dropout": True}, "ops"),  # a Dropout between the Dense layers: the op-by-op replay
    ({"batchnorm": True}, "eager")])
def test_a_replayed_training_step_gives_the_eager_numbers(case, route):
    """The op-by-op replay runs the eager step's primitives: the same numbers bit for bit. The
    fused plan's step computes the same step its own way: equal up to float32 rounding."""
    eager = _train(False, **case)
    replayed = _train(True, **case)
    compiled = replayed[3].compiled
    replays = [r for r in compiled._replays.values() if hasattr(r, "run")]
    if route == "eager":  # BatchNormalization writes its moving statistics in place
        assert "moving_mean' was changed in place" in compiled.refused and not replays
    else:
        assert compiled.refused is None and replays
        assert all((r.fused is not None) == (route == "fused") for r in replays)
    check = np.testing.assert_array_equal if route != "fused" else \
        (lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6))
    check(eager[0], replayed[0])
    for a, b in zip(eager[1], replayed[1]):
        check(a, b)
    assert eager[2] == replayed[2]


def test_near_misses_of_the_fused_step_replay_op_by_op_and_labels_out_of_range_too():
    tf.random.set_seed(2)
    model = _model()
    optimizer, loss_fn = tf.keras.optimizers.SGD(0.1), tf.keras.losses.SparseCategoricalCrossentropy()

    zero = tf.zeros((3,))

    def variant(clip=False, also_probabilities=False, zero_last=False):
        def step(x, y):
            with tf.GradientTape() as tape:
                probabilities = model(x, training=True)
                loss = loss_fn(y, probabilities)
            grads = tape.gradient(loss, model.trainable_weights)
            if clip:
                grads = [tf.clip_by_norm(g, 1.0) for g in grads]
            if zero_last:  # the output bias gets a gradient of zeros: it must not move
                grads = grads[:-1] + [zero]
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return (loss, probabilities) if also_probabilities else loss
        return tf.function(step)

    for kwargs in ({"clip": True}, {"also_probabilities": True}, {"zero_last": True}):
        step = variant(**kwargs)
        bias = model.layers[-1].bias.numpy()
        for _ in range(3):
            step(X[:16], Y[:16])
        assert [r.fused for r in step.compiled._replays.values()] == [None]
        assert np.array_equal(bias, model.layers[-1].bias.numpy()) == ("zero_last" in kwargs)
    step = variant()
    for _ in range(3):
        step(X[:16], Y[:16])
    assert next(iter(step.compiled._replays.values())).fused is not None
    bad = Y[:16].copy()
    bad[0] = 7  # no such class: a loss of 0 for that row, as the eager step gives
    before = [w.numpy() for w in model.weights]
    got = float(step(X[:16], bad))
    expected_model = _model()
    for w, value in zip(expected_model.weights, before):
        w.assign(value)
    expected = float(loss_fn(bad, expected_model(X[:16], training=True)))
    assert got == pytest.approx(expected, rel=1e-6)


def _replay_count(step) -> int:
    return sum(hasattr(r, "run") for r in step.compiled._replays.values())


def test_calls_are_replayed_after_two_equal_traces_and_python_runs_only_while_tracing():
    calls = []
    v = tf.Variable(1.0)

    @tf.function
    def scaled(x):
        calls.append(1)  # a Python side effect: only while tracing, as in TensorFlow
        return x * v

    for i in range(5):
        assert float(scaled(np.float32([i]))[0]) == i
    assert len(calls) == 2 and _replay_count(scaled) == 1
    v.assign(3.0)  # a Variable is read at each call, not frozen
    assert float(scaled(np.float32([2.0]))[0]) == 6.0
    scaled(np.ones(3, np.float32))  # another shape: another signature
    assert len(calls) == 3


def test_assign_metric_result_and_print_are_made_again_at_each_replayed_call():
    counter = tf.Variable(0.0)
    mean = tf.keras.metrics.Mean()
    out = io.StringIO()

    @tf.function
    def step(x):
        counter.assign_add(tf.reduce_sum(x))
        mean.update_state(x)
        tf.print("seen", counter, output_stream=out)
        return mean.result(), counter * 1.0  # the counter as assigned in this very call

    results = [step(np.float32([i, i])) for i in range(1, 6)]
    assert _replay_count(step) == 1
    assert float(counter.numpy()) == 30.0
    np.testing.assert_allclose([float(r[0]) for r in results], [1.0, 1.5, 2.0, 2.5, 3.0])
    np.testing.assert_allclose([float(r[1]) for r in results], [2, 6, 12, 20, 30])
    assert out.getvalue().split() == ["seen", "2", "seen", "6", "seen", "12", "seen", "20", "seen", "30"]


def test_unconnected_gradients_and_a_python_scalar_argument():
    a, b = tf.Variable([1.0, 2.0]), tf.Variable([5.0])

    @tf.function
    def grads(x, power):
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(a ** power * x)
        return tape.gradient(y, [a, b]), tape_zero(x)

    def tape_zero(x):
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(a * x)
        return tape.gradient(y, [a, b], unconnected_gradients="zero")

    for i in range(4):
        for power in (2, 3):
            (ga, gb), (za, zb) = grads(np.float32([1.0, float(i)]), power)
            np.testing.assert_allclose(ga.numpy(), power * a.numpy() ** (power - 1) * [1.0, i])
            assert gb is None
            np.testing.assert_array_equal(zb.numpy(), [0.0])
            np.testing.assert_array_equal(za.numpy(), [1.0, i])
    assert _replay_count(grads) == 2  # one program per value of the Python argument


@pytest.mark.parametrize("body, why", [
    (lambda x, v: x * v if float(tf.reduce_sum(x)) > 0 else -x, "read a tensor's value"),
    (lambda x, v: x * v + np.random.default_rng().random(), "different programs"),
    (lambda x, v: (x * v, np.random.default_rng().random((1,))), "different programs"),  # in the result only
])
def test_what_a_replay_cannot_follow_stays_eager_and_right(body, why):
    v = tf.Variable(2.0)
    fn = tf.function(lambda x: body(x, v))
    for sign in (1, 1, 1, -1, -1, 1):
        x = np.float32([sign * 1.0])
        got = fn(x)
        if why == "read a tensor's value":
            np.testing.assert_array_equal(got.numpy(), x * 2.0 if sign > 0 else -x)
    assert why in fn.compiled.refused and _replay_count(fn) == 0


def test_second_order_and_an_outer_tape_run_eagerly():
    w = tf.Variable(3.0)

    @tf.function
    def curvature(x):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                y = w * w * w * x
            dy = inner.gradient(y, w)
        return outer.gradient(dy, w)

    for _ in range(3):
        assert float(curvature(tf.constant(1.0))) == pytest.approx(18.0)
    assert "second order" in curvature.compiled.refused

    square = tf.function(lambda x: w * x * x)
    for _ in range(3):
        square(tf.constant(2.0))
    with tf.GradientTape() as tape:  # the outer tape must see the function's ops
        y = square(tf.constant(2.0))
    assert float(tape.gradient(y, w)) == 4.0


def test_freezing_a_layer_after_tracing_traces_again():
    model = _model()
    optimizer, loss_fn = tf.keras.optimizers.SGD(0.1), tf.keras.losses.SparseCategoricalCrossentropy()
    step = _guide_step(model, optimizer, loss_fn, tf.keras.metrics.SparseCategoricalAccuracy(), decorate=True)
    for _ in range(3):
        step(X[:16], Y[:16])
    model.layers[0].trainable = False
    frozen = [w.numpy() for w in model.layers[0].weights]
    for _ in range(3):
        step(X[:16], Y[:16])
    for before, after in zip(frozen, model.layers[0].weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_a_method_and_run_functions_eagerly():
    class Scaler:
        def __init__(self, factor):
            self.v = tf.Variable(factor)

        @tf.function
        def __call__(self, x):
            return x * self.v

    twice, thrice = Scaler(2.0), Scaler(3.0)
    for _ in range(3):
        assert float(twice(tf.constant(1.0))) == 2.0 and float(thrice(tf.constant(1.0))) == 3.0
    calls = []
    tf.config.run_functions_eagerly(True)
    try:
        assert tf.config.functions_run_eagerly()
        counted = tf.function(lambda x: calls.append(1) or x)
        for _ in range(4):
            counted(tf.constant(1.0))
    finally:
        tf.config.run_functions_eagerly(False)
    assert len(calls) == 4 and not tf.config.functions_run_eagerly()


def _custom_fit_model(decorate):
    """The customizing-fit guide's model: ``train_step`` overridden (here as a tf.function)."""
    class CustomModel(tf.keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(gradients, self.trainable_variables)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    if decorate:
        CustomModel.train_step = tf.function(CustomModel.train_step)
    tf.random.set_seed(3)
    inputs = tf.keras.Input((6,))
    outputs = tf.keras.layers.Dense(3, activation="softmax")(tf.keras.layers.Dense(8, activation="relu")(inputs))
    model = CustomModel(inputs, outputs)
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_the_custom_fit_guides_train_step_as_a_tf_function_replays_with_fits_numbers():
    histories = []
    for decorate in (False, True):
        model = _custom_fit_model(decorate)
        history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        histories.append((history.history, [w.numpy() for w in model.weights]))
    assert _replay_count(type(model).train_step) >= 1
    assert histories[0][0].keys() == histories[1][0].keys()
    for key in histories[0][0]:
        np.testing.assert_allclose(histories[0][0][key], histories[1][0][key], rtol=1e-6)
    for a, b in zip(histories[0][1], histories[1][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", [lambda: tf.keras.optimizers.SGD(0.1),
                                       lambda: tf.keras.optimizers.SGD(0.1, momentum=0.9)])
def test_fit_and_a_fused_tf_function_take_turns_on_one_model(optimizer):
    """Each fused plan lays the weights (and the momentum) out in arrays of its own; the other
    one must move them back before its next step, or it would train stale copies."""
    def scenario(functions_eagerly):
        tf.random.set_seed(4)
        model = _model()
        model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy")
        model.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        step = _guide_step(model, model.optimizer, tf.keras.losses.SparseCategoricalCrossentropy(),
                           tf.keras.metrics.SparseCategoricalAccuracy(), decorate=True)
        tf.config.run_functions_eagerly(functions_eagerly)
        try:
            for start in range(0, len(X), 16):
                step(X[start:start + 16], Y[start:start + 16])
        finally:
            tf.config.run_functions_eagerly(False)
        model.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        for start in range(0, 48, 16):
            step(X[start:start + 16], Y[start:start + 16])
        return [w.numpy() for w in model.weights], step
    (replayed, step), (eager, _) = scenario(False), scenario(True)
    assert next(iter(step.compiled._replays.values())).fused is not None
    for a, b in zip(replayed, eager):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_fit_inside_a_tf_function_keeps_it_eager():
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")

    @tf.function
    def one_epoch(x, y):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        return model(x)

    before = model.layers[0].kernel.numpy()
    for _ in range(3):
        one_epoch(X, Y)
    assert "Model.fit was called inside" in one_epoch.compiled.refused
    moved = model.layers[0].kernel.numpy()
    one_epoch(X, Y)  # eager: it trains again
    assert not np.array_equal(before, moved) and not np.array_equal(moved, model.layers[0].kernel.numpy())


@pytest.mark.slow
def test_the_guides_decorated_loop_learns_fashion_mnist_in_one_epoch(fashion):
    (x_train, y_train), (x_test, y_test) = fashion
    tf.random.set_seed(42)
    model = tf.keras.Sequential([tf.keras.Input((784,)), tf.keras.layers.Dense(300, activation="relu"),
                                 tf.keras.layers.Dense(100, activation="relu"),
                                 tf.keras.layers.Dense(10, activation="softmax")])
    metric = tf.keras.metrics.SparseCategoricalAccuracy()
    step = _guide_step(model, tf.keras.optimizers.SGD(0.05), tf.keras.losses.SparseCategoricalCrossentropy(),
                       metric, decorate=True)
    x = (x_train.reshape(-1, 784) / 255.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    for start in range(0, len(x), 32):
        rows = order[start:start + 32]
        step(x[rows], y_train[rows])  # uint8 labels, as the dataset gives them
    assert [r.fused is not None for r in step.compiled._replays.values()] == [True]  # 60,000 rows: batches of 32
    probabilities = model.predict((x_test.reshape(-1, 784) / 255.0).astype("float32"), verbose=0)
    assert float(metric.result()) > 0.75 and np.mean(probabilities.argmax(axis=1) == y_test) > 0.80


def test_a_namedtuple_argument_runs_as_written():
    import collections
    Pair = collections.namedtuple("Pair", "a b")
    v = tf.Variable(2.0)
    add = tf.function(lambda pair: pair.a * v + pair.b)
    for i in range(3):
        assert float(add(Pair(tf.constant(float(i)), tf.constant(1.0)))) == 2.0 * i + 1.0
