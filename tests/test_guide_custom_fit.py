"""Keras 3's guides "Customizing what happens in fit() with TensorFlow" and "Writing a training loop
from scratch in TensorFlow", their Dense-layer examples run as the guides show them (with
``import lamina as keras`` / ``import lamina as tf``), with numbers asserted."""
import numpy as np
import pytest

import lamina as keras
import lamina as tf
from lamina import layers

_RNG = np.random.default_rng(3)
_X = _RNG.random((256, 32)).astype("float32")
_Y = (_X @ _RNG.normal(size=(32, 1)) / 4).astype("float32")


class CustomModel(keras.Model):
    """The guide's first example: a train_step over the compiled loss and metrics."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _graph(cls):
    inputs = keras.Input(shape=(32,))
    outputs = layers.Dense(1)(inputs)
    return cls(inputs, outputs)


def test_a_custom_train_step_trains_like_the_built_in_one():
    keras.utils.set_random_seed(0)
    custom = _graph(CustomModel)
    keras.utils.set_random_seed(0)
    builtin = _graph(keras.Model)
    for model in (custom, builtin):
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    mine = custom.fit(_X, _Y, epochs=3, shuffle=False, verbose=0).history
    theirs = builtin.fit(_X, _Y, epochs=3, shuffle=False, verbose=0).history
    assert set(mine) == {"loss", "mae"}
    np.testing.assert_allclose(mine["mae"], theirs["mae"], rtol=1e-5)
    np.testing.assert_allclose(mine["loss"], theirs["loss"], rtol=1e-5)
    for a, b in zip(custom.get_weights(), builtin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_going_lower_level_with_own_metrics_and_no_compiled_loss():
    class LowLevel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.loss_fn(y, y_pred)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(gradients, self.trainable_variables)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    model = _graph(LowLevel)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    history = model.fit(_X, _Y, epochs=5, verbose=0).history
    assert history["loss"][-1] < 0.75 * history["loss"][0]
    # the metrics are reset each epoch: the last epoch's mae is that epoch's, not a running mean
    assert history["mae"][-1] < history["mae"][0]


def test_sample_weights_reach_a_custom_train_step():
    class Weighted(keras.Model):
        def train_step(self, data):
            x, y, sample_weight = data if len(data) == 3 else (*data, None)
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(gradients, self.trainable_variables)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    weights = np.zeros(256, "float32")
    weights[:128] = 1.0
    keras.utils.set_random_seed(1)
    model = _graph(Weighted)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    before = model.get_weights()
    model.fit(_X, _Y, sample_weight=weights, batch_size=256, epochs=1, shuffle=False, verbose=0)
    # one step on the whole batch: the gradient of the weighted mean over the first half only
    pred = _X @ before[0] + before[1]
    grad_kernel = 2 * _X[:128].T @ (pred[:128] - _Y[:128]) / 256
    np.testing.assert_allclose(model.get_weights()[0], before[0] - 0.05 * grad_kernel, rtol=1e-4, atol=1e-6)


def test_a_custom_test_step_is_what_evaluate_runs():
    class Evaluated(keras.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    model = _graph(Evaluated)
    model.compile(loss="mse", metrics=["mae"])
    result = model.evaluate(_X, _Y, verbose=0, return_dict=True)
    pred = model.predict(_X, verbose=0)
    assert result["mae"] == pytest.approx(float(np.mean(np.abs(pred - _Y))), rel=1e-5)
    assert result["loss"] == pytest.approx(float(np.mean((pred - _Y) ** 2)), rel=1e-4)


def test_two_optimizers_in_one_train_step():
    class TwoHeads(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first, self.second = layers.Dense(1, name="first"), layers.Dense(1, name="second")

        def call(self, x):
            return self.first(x) + self.second(x)

        def compile(self, first_optimizer, second_optimizer, loss_fn):
            super().compile()
            self.first_optimizer, self.second_optimizer, self.loss_fn = first_optimizer, second_optimizer, loss_fn

        def train_step(self, data):
            x, y = data
            with tf.GradientTape(persistent=True) as tape:
                loss = self.loss_fn(y, self(x))
            for optimizer, layer in ((self.first_optimizer, self.first), (self.second_optimizer, self.second)):
                optimizer.apply(tape.gradient(loss, layer.trainable_weights), layer.trainable_weights)
            return {"loss": loss}

    model = TwoHeads()
    model.compile(keras.optimizers.SGD(0.05), keras.optimizers.Adam(0.01), keras.losses.MeanSquaredError())
    history = model.fit(_X, _Y, epochs=4, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert int(model.first_optimizer.iterations) == int(model.second_optimizer.iterations) == 4 * 8


def test_a_training_loop_from_scratch_with_add_loss():
    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-4 * tf.reduce_sum(inputs))  # the guide's 1e-2 is for its batches of 64 digits
            return inputs

    inputs = keras.Input(shape=(32,), name="digits")
    x1 = layers.Dense(64, activation="relu")(inputs)
    x2 = ActivityRegularizationLayer()(x1)
    x2 = layers.Dense(64, activation="relu")(x2)
    outputs = layers.Dense(10, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    optimizer = keras.optimizers.SGD(learning_rate=0.1)  # the guide's 1e-3 is for 60,000 digits
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    labels = (_X[:, :10].argmax(axis=1)).astype("int64")

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        train_acc_metric.update_state(y, logits)
        return loss_value

    epoch_accuracy = []
    for _ in range(30):
        for start in range(0, 256, 32):
            loss_value = train_step(_X[start:start + 32], labels[start:start + 32])
            assert len(model.losses) == 1  # reset at each top-level call
        epoch_accuracy.append(float(train_acc_metric.result()))
        train_acc_metric.reset_state()
    assert epoch_accuracy[-1] > epoch_accuracy[0] + 0.2
    assert np.isfinite(float(loss_value))
