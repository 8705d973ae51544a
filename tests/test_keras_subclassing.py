"""A user's Layer written in ops, trained inside a Sequential and a Functional model, against
Keras 3 itself (issue 10, bug 2: such a layer was the identity in fit and evaluate), and the
variable's single writer (bug 7)."""
import numpy as np
import pytest

import lamina
from lamina import layers

USER_LAYERS = """
class Scale(K.layers.Layer):
    '''Only call: no weights, no training argument.'''
    def call(self, x):
        return K.ops.tanh(x) * 2.0 + K.ops.square(x) * 0.1


class Affine(K.layers.Layer):
    '''A weight of its own, built from the input shape; training changes what it does.'''
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x, training=None):
        y = x * self.w
        return y * 0.5 if training else y
"""

SEQUENTIAL = USER_LAYERS + """
model = K.Sequential([K.Input((4,)), K.layers.Dense(5), Scale(), Affine(), K.layers.Dense(2)])
model.compile(optimizer=K.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
result = {"weights": model.get_weights(), "history": history.history, "predict": model.predict(x, verbose=0),
          "evaluate": model.evaluate(x, y, verbose=0, return_dict=True)}
"""

FUNCTIONAL = USER_LAYERS + """
inputs = K.Input((4,))
hidden = Affine()(Scale()(K.layers.Dense(5)(inputs)))
model = K.Model(inputs, K.layers.Dense(2)(hidden))
model.compile(optimizer=K.optimizers.SGD(0.05, momentum=0.5), loss="mae")
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
logs = [model.train_on_batch(x[r], y[r]) for r in (slice(0, 6), slice(6, 12))]
result = {"weights": model.get_weights(), "logs": logs, "evaluate": model.evaluate(x, y, verbose=0)}
"""


def data():
    rng = np.random.default_rng(11)
    return {"x": rng.standard_normal((12, 4)), "y": rng.standard_normal((12, 2))}


@pytest.mark.parametrize("code", [SEQUENTIAL, FUNCTIONAL], ids=["sequential", "functional"])
def test_a_user_layer_in_ops_trains_as_in_keras(keras_oracle, code):
    keras_oracle.compare(code, data())


def test_np_array_of_a_variable_is_a_copy_and_assign_is_the_one_writer():
    """Bug 7: ``np.array(variable)`` returns a copy; ``value`` cannot be assigned; after fit, an
    ``assign`` is what predict (and the fused plan's packed weights) read."""
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 3))
    model.fit(x, np.ones((4, 2)), epochs=1, verbose=0)
    kernel = model.layers[0].kernel
    copy = np.array(kernel)
    copy[:] = 99.0
    assert not np.any(kernel.numpy() == 99.0)
    with pytest.raises(AttributeError):
        kernel.value = np.zeros((3, 2))
    kernel.assign(np.zeros((3, 2)))
    bias = model.layers[0].bias.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), np.tile(bias, (4, 1)), rtol=1e-6)
    model.fit(x, np.ones((4, 2)), epochs=1, verbose=0)  # the plan trains from the assigned weights
    assert np.abs(kernel.numpy()).max() < 0.5
