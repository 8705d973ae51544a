"""A variable's ``path`` and ``name`` as Keras 3 gives them: the layers it was created in
(``sequential/dense/kernel`` in a Sequential, ``m/dense/kernel`` in a subclassed model ``m``,
``dense/kernel`` in a Functional model), and the optimizer's slots named from the path."""
import numpy as np

import lamina

PATHS = """
def paths(model):
    return [[v.path, v.name] for v in model.weights]

class Block(K.layers.Layer):  # a layer building a sublayer in its build: block/dense/kernel
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = K.layers.Dense(3)
    def build(self, input_shape):
        self.inner.build(input_shape)
        self.scale = self.add_weight(shape=(3,), initializer="ones", name="scale")
    def call(self, x):
        return self.inner(x) * self.scale

class Net(K.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = K.layers.Dense(4)
        self.block = Block()
    def call(self, x):
        return self.block(self.first(x))

result = {}
result["sequential"] = paths(K.Sequential([K.Input((3,)), K.layers.Dense(2), K.layers.BatchNormalization()]))
late = K.Sequential([K.layers.Dense(2, name="late_dense")], name="late")
late(np.ones((1, 3), floatx))  # built by its first call, no Input
result["sequential_built_by_call"] = paths(late)
x = K.Input((3,))
inner = K.Sequential([K.Input((3,)), K.layers.Dense(2)], name="inner")
result["functional"] = paths(K.Model(x, inner(Block()(K.layers.Dense(2, name="d")(x)))))
net = Net(name="net")
net(np.ones((2, 3), floatx))
result["subclassed"] = paths(net)
bare = K.layers.Dense(2)
bare.build((None, 3))
result["bare"] = paths(bare)
model = K.Sequential([K.Input((3,)), K.layers.Dense(2)], name="seq")
optimizer = K.optimizers.Adam()
optimizer.build(model.trainable_variables)
result["slots"] = sorted(v.name for v in optimizer.variables)
"""


def test_variable_paths_and_names_are_keras_paths(keras_oracle):
    ours, theirs = keras_oracle.compare(PATHS)
    assert ours["sequential"][0] == ["sequential/dense/kernel", "kernel"]
    assert ["net/block_1/dense_4/kernel", "kernel"] in ours["subclassed"]
    assert ["block/dense_2/kernel", "kernel"] in ours["functional"] and ["d/bias", "bias"] in ours["functional"]
    assert "seq_dense_6_kernel_momentum" in ours["slots"]


def test_a_layer_built_twice_in_scopes_keeps_one_scope_per_layer():
    """The scope of a layer is not opened again inside its own call (no dense/dense/kernel)."""
    layer = lamina.layers.Dense(2, name="solo")
    layer(np.ones((1, 3), "float32"))
    assert [w.path for w in layer.weights] == ["solo/kernel", "solo/bias"]
