"""Pieces of Keras's guide "Training & evaluation with the built-in methods" run under lamina and
Keras 3: a metric of one's own (it gets the targets as given: shape (batch, 1) here, which a
sparse loss flattens for itself), a custom loss class, and an endpoint layer that adds its loss
on a model fitted on a dict without targets."""
import numpy as np

METRIC_AND_LOSS = """
class CategoricalTruePositives(K.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        shapes.append(list(y_true.shape))  # (Keras/JAX runs this once, tracing the step)
        y_pred = K.ops.reshape(K.ops.argmax(y_pred, axis=1), (-1, 1))
        values = K.ops.cast(K.ops.cast(y_true, "int32") == K.ops.cast(y_pred, "int32"), "float32")
        self.true_positives.assign_add(K.ops.sum(values))

    def result(self):  # (the guide returns the variable itself, which Keras 3.15 on JAX refuses)
        return self.true_positives.value

    def reset_state(self):
        self.true_positives.assign(0.0)


class CustomMSE(K.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = K.ops.mean(K.ops.square(y_true - y_pred), axis=-1)
        return mse + K.ops.mean(K.ops.square(0.5 - y_pred), axis=-1) * self.regularization_factor


def build(extra=False):
    inputs = K.Input((6,))
    hidden = K.layers.Dense(5, activation="relu")(inputs)
    if extra:  # a layer the fused plan does not take: the general step
        hidden = K.layers.LayerNormalization()(hidden)
    model = K.Model(inputs, K.layers.Dense(3, activation="softmax")(hidden))
    model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
    return model

result = {}
for extra in (False, True):
    shapes = []
    model, metric = build(extra), CategoricalTruePositives()
    model.compile(optimizer=K.optimizers.RMSprop(1e-2), loss="sparse_categorical_crossentropy", metrics=[metric])
    history = model.fit(x, labels, batch_size=4, epochs=2, shuffle=False, verbose=0)
    result[f"general_{extra}"] = {"history": history.history, "shapes": shapes[:1]}
model = build()
model.compile(optimizer=K.optimizers.Adam(1e-2), loss=CustomMSE())
result["custom_loss"] = model.fit(x, K.ops.convert_to_numpy(K.ops.one_hot(labels[:, 0], 3)), batch_size=4,
                                  epochs=2, shuffle=False, verbose=0).history
"""

ENDPOINT = """
class LogisticEndpoint(K.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = K.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        self.add_loss(self.loss_fn(targets, logits, sample_weights))
        return K.ops.softmax(logits)

inputs, targets = K.Input((6,), name="inputs"), K.Input((3,), name="targets")
logits = K.layers.Dense(3)(inputs)
model = K.Model([inputs, targets], LogisticEndpoint(name="predictions")(targets, logits))
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
model.compile(optimizer=K.optimizers.Adam(0.05))
history = model.fit({"inputs": x, "targets": soft}, batch_size=4, epochs=3, shuffle=False, verbose=0)
result = {"loss": history.history["loss"], "weights": model.get_weights()}
"""


def data():
    rng = np.random.default_rng(12)
    return {"x": rng.standard_normal((12, 6)), "labels": rng.integers(0, 3, (12, 1)), "soft": rng.random((12, 3))}


def test_a_metric_and_a_loss_of_one_s_own_train_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(METRIC_AND_LOSS, data())
    assert ours["general_False"]["shapes"] == [[4, 1]] == ours["general_True"]["shapes"]


def test_an_endpoint_layer_s_loss_on_a_dict_without_targets_trains_as_in_keras(keras_oracle):
    keras_oracle.compare(ENDPOINT, data())
