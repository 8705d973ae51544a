"""``tf.Module`` as TensorFlow's "Basic training loops" and "Introduction to modules" guides use it:
the variables and submodules found in its attributes (TensorFlow's order: attributes by name,
a module's own before its submodules', each once), its name, and the guide's training loops."""
import numpy as np
import pytest

import lamina as tf


def same(found, expected) -> bool:
    """The same objects in the same order (a Variable's == compares values, elementwise)."""
    return isinstance(found, tuple) and [id(v) for v in found] == [id(v) for v in expected]


class Dense(tf.Module):
    def __init__(self, in_features, out_features, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(np.ones((in_features, out_features), "float32"), name="w")
        self.b = tf.Variable(np.zeros(out_features, "float32"), name="b")

    def __call__(self, x):
        return tf.nn.relu(tf.matmul(x, self.w) + self.b)


class SequentialModule(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = Dense(3, 3)
        self.dense_2 = Dense(3, 2)
        self.frozen = {"z": tf.Variable(1.0, trainable=False), "a": [tf.Variable(2.0)]}
        self.alias = self.dense_1.w  # the same variable twice: counted once

    def __call__(self, x):
        return self.dense_2(self.dense_1(x))


def test_variables_are_found_in_tensorflows_order_each_once():
    module = SequentialModule()
    names = [v.name for v in module.variables]
    # own attributes by name (alias = dense_1.w, frozen by key: "a" then "z"), then dense_1's, dense_2's
    assert names == ["w", "variable", "variable", "b", "b", "w"]
    assert module.variables[0] is module.dense_1.w and module.variables[2] is module.frozen["z"]
    assert len(module.trainable_variables) == 5 and same(module.non_trainable_variables, [module.frozen["z"]])
    assert same(module.submodules, [module.dense_1, module.dense_2])
    np.testing.assert_array_equal(np.asarray(module(tf.constant([[1.0, 2.0, 3.0]]))), [[18.0, 18.0]])


def test_a_keras_layer_inside_a_module_is_a_submodule_with_its_weights():
    class Head(tf.Module):
        def __init__(self):
            super().__init__()
            self.dense = tf.keras.layers.Dense(4)
            self.dense.build((None, 3))
            self.scale = tf.Variable(2.0)

    head = Head()
    assert same(head.variables, [head.scale, head.dense.kernel, head.dense.bias])  # its own, then the layer's
    assert same(head.submodules, [head.dense])


def test_names_default_to_the_class_in_snake_case_and_must_be_identifiers():
    assert SequentialModule().name == "sequential_module" and Dense(1, 1, name="first").name == "first"
    assert SequentialModule().name_scope.name == "sequential_module/"
    with pytest.raises(ValueError, match="'not valid' is not a valid module name"):
        Dense(1, 1, name="not valid")

    class Scoped(tf.Module):
        @tf.Module.with_name_scope
        def __call__(self, x):
            return x * 2

    assert Scoped()(3) == 6


def test_the_basic_training_loops_guide_fits_its_line():
    rng = np.random.default_rng(0)
    x = tf.cast(tf.linspace(-2, 2, 201), tf.float32)
    y = x * 3.0 + 2.0 + tf.constant(rng.normal(size=201).astype("float32"))

    class MyModel(tf.Module):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def __call__(self, x):
            return self.w * x + self.b

    def loss(target_y, predicted_y):
        return tf.reduce_mean(tf.square(target_y - predicted_y))

    model = MyModel()
    assert same(model.variables, [model.b, model.w])
    for _ in range(40):
        with tf.GradientTape() as tape:
            current_loss = loss(y, model(x))
        dw, db = tape.gradient(current_loss, [model.w, model.b])
        model.w.assign_sub(0.1 * dw)
        model.b.assign_sub(0.1 * db)
    # the least-squares line through the same points: what the loop converges to
    slope, intercept = np.polyfit(np.asarray(x), np.asarray(y), 1)
    np.testing.assert_allclose([float(model.w.numpy()), float(model.b.numpy())], [slope, intercept], atol=2e-3)

    class MyModelKeras(tf.keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def call(self, x):
            return self.w * x + self.b

    keras_model = MyModelKeras()
    keras_model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.1), loss=tf.keras.losses.mean_squared_error)
    keras_model.fit(x, y, epochs=40, batch_size=1000, verbose=0)
    assert len(keras_model.trainable_variables) == 2
    np.testing.assert_allclose([float(keras_model.w.numpy()), float(keras_model.b.numpy())], [slope, intercept],
                               atol=2e-3)
