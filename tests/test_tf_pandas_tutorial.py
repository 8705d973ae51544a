"""What TensorFlow's "Load a pandas DataFrame" tutorial leans on, held to Keras 3: a model fed a
dict of a DataFrame's columns (1-D arrays) by input name, a subclassed model whose ``call`` takes
that dict (built with the dict of shapes, not one keyword per column), and a Functional model
whose graph starts with TensorFlow ops (``tf.cast``, ``tf.concat``) on its symbolic inputs."""
import numpy as np
import pytest

import lamina
import lamina as tf  # the tutorial's import, changed

pd = pytest.importorskip("pandas")

NAMES = ["age", "chol", "oldpeak", "thalach"]

# a Functional model of one (None, 1) input per column, given the columns as 1-D arrays by name
BY_NAME = """
inputs = {name: K.Input(shape=(1,), name=name) for name in names}
x = K.ops.concatenate([K.ops.cast(inputs[name], "float32") for name in sorted(inputs)], axis=-1)
x = K.layers.Dense(6, activation="relu")(x)
model = K.Model(inputs, K.layers.Dense(1)(x))
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
model.compile(optimizer=K.optimizers.Adam(0.05), loss=K.losses.BinaryCrossentropy(from_logits=True))
columns = {name: columns_2d[:, i] for i, name in enumerate(names)}
history = model.fit(columns, target, epochs=3, batch_size=8, shuffle=False, verbose=0)
result = {"loss": history.history["loss"], "predict": model.predict({k: v[:5] for k, v in columns.items()}, verbose=0),
          "weights": model.get_weights()}
"""


def frame(rows=32):
    rng = np.random.default_rng(7)
    table = pd.DataFrame({"age": rng.integers(29, 77, rows), "chol": rng.integers(120, 560, rows) / 100,
                          "oldpeak": rng.random(rows) * 6, "thalach": rng.integers(70, 200, rows) / 100})
    return table, (rng.random(rows) > 0.5).astype("float32")


def test_columns_by_name_feed_inputs_of_shape_1_as_in_keras(keras_oracle):
    table, target = frame()
    ours, _ = keras_oracle.compare(BY_NAME, {"names": NAMES, "columns_2d": table[NAMES].to_numpy("float32"),
                                             "target": target})
    assert ours["predict"].shape == (5, 1)


def test_tf_ops_on_symbolic_inputs_are_nodes_of_the_model():
    """``tf.cast``/``tf.concat``/``tf.stack`` on KerasTensors build the same graph as ``ops``'s."""
    inputs = {name: lamina.Input(shape=(1,), name=name) for name in NAMES}
    joined = tf.concat([tf.cast(inputs[name], tf.float32) for name in sorted(inputs)], axis=-1)
    stacked = tf.stack([inputs[name][:, 0] for name in sorted(inputs)], axis=-1)
    assert isinstance(joined, lamina.KerasTensor) and joined.shape == (None, 4) and stacked.shape == (None, 4)
    model = lamina.Model(inputs, [joined, stacked])
    table, _ = frame(5)
    out_joined, out_stacked = model.predict(dict(table), verbose=0)
    np.testing.assert_allclose(out_joined, table[NAMES].to_numpy("float32"))
    np.testing.assert_array_equal(out_joined, out_stacked)


class DictModel(lamina.Model):
    """The tutorial's ``MyModel``: its call stacks a dict of columns, its normalizer adapts on them."""

    def __init__(self):
        super().__init__()
        self.normalizer = lamina.layers.Normalization(axis=-1)
        self.seq = lamina.Sequential([self.normalizer, lamina.layers.Dense(4, activation="relu"),
                                      lamina.layers.Dense(1)])
        self.built_with = None

    def build(self, input_shape):
        self.built_with = input_shape
        super().build(input_shape)

    def _stack(self, columns):
        return tf.stack([tf.cast(columns[key], tf.float32) for key in sorted(columns)], axis=-1)

    def adapt(self, columns):
        self.normalizer.adapt(self._stack(columns))

    def call(self, columns):
        return self.seq(self._stack(columns))


def test_a_subclassed_model_called_on_a_dict_is_built_with_its_shapes():
    table, target = frame()
    model = DictModel()
    model.adapt(dict(table))
    model.compile(optimizer="adam", loss=lamina.losses.BinaryCrossentropy(from_logits=True))
    history = model.fit(dict(table), target, epochs=2, batch_size=8, verbose=0)
    assert model.built_with == {name: (8,) for name in NAMES}  # the dict's shapes, as Keras gives them
    assert np.isfinite(history.history["loss"]).all()
    dataset = tf.data.Dataset.from_tensor_slices((dict(table), target)).batch(8)
    model.fit(dataset, epochs=1, verbose=0)
    np.testing.assert_allclose(model.predict(dict(table.iloc[:3]), verbose=0),
                               model(dict(table.iloc[:3])), rtol=1e-6)
