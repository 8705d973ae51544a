"""Keras's guide "Save, serialize, and export models", the parts beyond a plain model, run under
lamina and Keras 3: a layer whose ``build`` takes more than a shape (built by the user, saved in
a Sequential, rebuilt by its own ``build_from_config``), a ``build`` called directly, an
activation registered by name, and a Dense subclass with a Variable of its own that fit trains
around and the saved file keeps."""
import numpy as np

CUSTOM_BUILD = """
import os, tempfile

class LayerWithCustomBuild(K.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units
    def call(self, inputs):
        return K.ops.matmul(inputs, self.w) + self.b
    def get_config(self):
        return dict(units=self.units, **super().get_config())
    def build(self, input_shape, layer_init):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init, trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer=layer_init, trainable=True)
        self.layer_init = layer_init
    def get_build_config(self):
        return {"layer_init": self.layer_init, "input_shape": (None, 4)}
    def build_from_config(self, config):
        self.build(config["input_shape"], config["layer_init"])

layer = LayerWithCustomBuild(units=3)
layer.build((None, 4), "ones")
built_by_hand = layer.built
path = os.path.join(tempfile.mkdtemp(), "custom_build.keras")
with K.utils.custom_object_scope({"LayerWithCustomBuild": LayerWithCustomBuild}):
    model = K.Sequential([layer])
    model.save(path)
    restored = K.models.load_model(path)
result = {"built_by_hand": built_by_hand, "restored_built": restored.layers[0].built,
          "weights": [numpy(w) for w in restored.layers[0].weights],
          "predicted": numpy(restored.predict(x, verbose=0))}
"""

DIRECT_BUILD = """
class Scaled(K.layers.Dense):
    def build(self, input_shape):
        super().build(input_shape)
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
    def call(self, inputs):
        return super().call(inputs) * self.scale

dense = K.layers.Dense(2, name="dense_2")
dense.build((None, 5))
scaled = Scaled(2, name="scaled")
scaled.build([None, 5])
activation = K.layers.Activation("relu")  # no build of its own: the base's marks it too
activation.build((None, 3))
configs = [dense.get_build_config(), scaled.get_build_config(), activation.get_build_config()]
result = {"built": [dense.built, scaled.built, activation.built],
          "build_configs": [{key: list(shape) for key, shape in config.items()} for config in configs],
          "paths": [w.path for w in dense.weights + scaled.weights]}
"""

REGISTERED_ACTIVATION = """
import os, tempfile

@K.saving.register_keras_serializable(package="my_package", name="custom_fn")
def custom_fn(x):
    return x ** 2

inputs = K.Input((4,))
model = K.Model(inputs, K.layers.Activation(custom_fn)(K.layers.Dense(2, kernel_initializer="ones")(inputs)))
path = os.path.join(tempfile.mkdtemp(), "activation.keras")
model.save(path)
restored = K.models.load_model(path)
result = {"predicted": numpy(restored.predict(x, verbose=0)),
          "by_name": numpy(K.activations.get(K.activations.serialize(custom_fn))(K.ops.convert_to_tensor(x)))}
try:
    K.activations.get("my_package>custom_fn")  # a registered name alone is not an activation's identifier
    result["bare_name"] = "taken"
except ValueError:
    result["bare_name"] = "refused"
"""

OWN_VARIABLE = """
import os, tempfile, warnings

class LayerWithCustomVariable(K.layers.Dense):
    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.my_variable = K.Variable(start, name="my_variable", dtype="float32")
    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["variables"] = self.my_variable.numpy()
    def load_own_variables(self, store):
        self.my_variable.assign(store["variables"])
        super().load_own_variables(store)

model = K.Sequential([LayerWithCustomVariable(2)])
model.build((None, 4))
model.layers[0].kernel.assign(kernel)
model.layers[0].bias.assign(bias)
model.compile(optimizer=K.optimizers.RMSprop(0.01), loss="mse")
with warnings.catch_warnings():  # Keras on TensorFlow (and lamina) warn that my_variable has no gradient
    warnings.simplefilter("ignore")
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
path = os.path.join(tempfile.mkdtemp(), "custom_vars_model.keras")
model.save(path)
restored = K.models.load_model(path, custom_objects={"LayerWithCustomVariable": LayerWithCustomVariable})
result = {"loss": history.history["loss"], "weights": [numpy(w) for w in model.layers[0].weights],
          "names": [w.name for w in model.layers[0].weights],
          "restored": numpy(restored.layers[0].my_variable), "predicted": numpy(restored.predict(x, verbose=0))}
"""


def _x(rows=6, columns=4):
    return np.random.default_rng(3).standard_normal((rows, columns)).astype("float32")


def test_a_layer_whose_build_takes_an_initializer_saves_and_loads_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(CUSTOM_BUILD, {"x": _x()})
    assert ours["built_by_hand"] and ours["restored_built"]
    np.testing.assert_allclose(ours["predicted"], _x() @ np.ones((4, 3)) + 1, rtol=1e-6)


def test_build_called_directly_marks_the_layer_built_records_its_shape_and_names_its_weights(keras_oracle):
    ours, _ = keras_oracle.compare(DIRECT_BUILD)
    assert ours["paths"] == ["dense_2/kernel", "dense_2/bias", "scaled/kernel", "scaled/bias", "scaled/scale"]


def test_an_activation_registered_by_name_loads_and_is_found_by_that_name(keras_oracle):
    ours, _ = keras_oracle.compare(REGISTERED_ACTIVATION, {"x": _x()})
    assert ours["bare_name"] == "refused"
    np.testing.assert_allclose(ours["by_name"], _x() ** 2, rtol=1e-6)


def test_a_dense_subclass_with_its_own_variable_trains_and_keeps_that_variable_as_keras(keras_oracle):
    rng = np.random.default_rng(4)
    inputs = {"x": _x(8), "y": rng.standard_normal((8, 2)).astype("float32"),
              "start": rng.standard_normal(2).astype("float32"),
              "kernel": rng.standard_normal((4, 2)).astype("float32"), "bias": np.array([0.5, -0.5], "float32")}
    ours, _ = keras_oracle.compare(OWN_VARIABLE, inputs, rtol=1e-5)
    own = ours["names"].index("my_variable")
    np.testing.assert_array_equal(ours["restored"], ours["weights"][own])
    np.testing.assert_array_equal(ours["restored"], inputs["start"])  # no gradient reaches it
    assert ours["loss"][1] < ours["loss"][0]
