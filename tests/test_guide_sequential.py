"""Keras 3's guide "The Sequential model", run under lamina and held to Keras 3 on JAX: ``add`` and
``pop``, ``layers``, a model built lazily by its first call (weights before and after, the batch
size of that call kept in its shapes as Keras keeps it), ``summary`` before and after building,
an ``Input`` or an ``input_shape`` to start with, and feature extraction through
``keras.Model(inputs=model.inputs, outputs=...)`` and ``get_layer(name=...)``."""
import numpy as np
import pytest

import lamina as keras
from lamina import layers

ADD_AND_POP = """
model = K.Sequential()
model.add(K.layers.Dense(2, activation="relu"))
model.add(K.layers.Dense(3, activation="relu"))
model.add(K.layers.Dense(4))
names = [layer.name for layer in model.layers]
popped = model.pop()
named = K.Sequential(name="my_sequential")
named.add(K.layers.Dense(2, activation="relu", name="layer1"))
named.add(K.layers.Dense(3, activation="relu", name="layer2"))
named.add(K.layers.Dense(4, name="layer3"))
result = {"names": names, "popped": popped.name, "after_pop": [layer.name for layer in model.layers],
          "named": [named.name] + [layer.name for layer in named.layers], "built": [model.built, named.built]}
"""

LAZY_BUILD = """
def summary_of(model):
    text = []
    model.summary(print_fn=lambda line, *args, **kwargs: text.append(line))
    return "\\n".join(text)

layer = K.layers.Dense(3)
before = len(layer.weights)
layer(K.ops.ones((1, 4)))
model = K.Sequential([K.layers.Dense(2, activation="relu", kernel_initializer=K.initializers.Constant(draw((4, 2), 0))),
                      K.layers.Dense(3, activation="relu", kernel_initializer=K.initializers.Constant(draw((2, 3), 1))),
                      K.layers.Dense(4, kernel_initializer=K.initializers.Constant(draw((3, 4), 2)))])
unbuilt = {"weights": len(model.weights), "built": model.built, "summary": summary_of(model)}
y = model(K.ops.ones((1, 4)))
result = {"layer": [before, [list(w.shape) for w in layer.weights], [w.path for w in layer.weights]],
          "unbuilt": unbuilt, "weights": len(model.weights), "summary": summary_of(model),
          "input_shape": list(model.input_shape), "output_shape": list(model.output_shape),
          "layer_outputs": [list(layer.output.shape) for layer in model.layers],
          "y": numpy(y), "other_batch": numpy(model(x))}
"""

STARTED_WITH_AN_INPUT = """
model = K.Sequential()
model.add(K.Input(shape=(4,)))
model.add(K.layers.Dense(2, activation="relu"))
grown = K.Sequential()
grown.add(K.Input(shape=(250,)))
grown.add(K.layers.Dense(32, activation="relu"))
grown.add(K.layers.Dense(32, activation="relu"))
counts = [grown.count_params()]
grown.add(K.layers.Dropout(0.5))
grown.add(K.layers.Dense(10))
counts.append(grown.count_params())
result = {"layers": [layer.name for layer in model.layers], "weights": len(model.weights),
          "built": model.built, "input_shape": list(model.input_shape), "counts": counts,
          "output_shape": list(grown.output_shape), "inputs": [list(t.shape) for t in grown.inputs]}
"""

FEATURE_EXTRACTION = """
initial_model = K.Sequential([
    K.Input(shape=(6,)),
    K.layers.Dense(5, activation="relu", kernel_initializer=K.initializers.Constant(draw((6, 5), 0))),
    K.layers.Dense(4, activation="relu", name="my_intermediate_layer",
                   kernel_initializer=K.initializers.Constant(draw((5, 4), 1))),
    K.layers.Dense(3, activation="relu", kernel_initializer=K.initializers.Constant(draw((4, 3), 2))),
])
every_layer = K.Model(inputs=initial_model.inputs, outputs=[layer.output for layer in initial_model.layers])
one_layer = K.Model(inputs=initial_model.inputs,
                    outputs=initial_model.get_layer(name="my_intermediate_layer").output)
features = every_layer(x)
result = {"every_layer": [numpy(f) for f in features], "one_layer": numpy(one_layer(x)),
          "shared": [w.path for w in one_layer.weights],
          "matches_end": bool(np.allclose(numpy(features[-1]), numpy(initial_model(x))))}
"""

FREEZE_ALL_BUT_THE_LAST = """
model = K.Sequential([K.Input(shape=(6,))] + [
    K.layers.Dense(units, activation=activation, kernel_initializer=K.initializers.Constant(draw(shape, i)))
    for i, (units, activation, shape) in enumerate([(5, "relu", (6, 5)), (4, "relu", (5, 4)), (2, None, (4, 2))])])
for layer in model.layers[:-1]:
    layer.trainable = False
model.compile(optimizer="adam", loss="mse")
history = model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0).history
built = K.Sequential([K.layers.Dense(3)])
built.build((2, 6))  # an explicit build keeps the batch size too
popped = model.pop()
result = {"history": history, "weights": [numpy(w) for w in model.weights + popped.weights],
          "trainable": [len(model.trainable_weights), len(popped.trainable_weights)],
          "built": [list(built.input_shape), list(built.output_shape)], "after_pop": list(model.output_shape)}
"""


def _x(rows, cols):
    return np.random.default_rng(2).normal(size=(rows, cols)).astype("float32")


def test_add_pop_and_layers_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(ADD_AND_POP)
    assert ours["popped"] == "dense_2" and ours["built"] == [False, False]


def test_a_model_built_by_its_first_call_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(LAZY_BUILD, {"x": _x(5, 4)})
    assert ours["unbuilt"]["weights"] == 0 and ours["weights"] == 6
    assert ours["input_shape"] == [1, 4] and "(1, 2)" in ours["summary"]  # the call's batch size
    assert ours["other_batch"].shape == (5, 4)  # ... which does not bind later calls


def test_a_model_started_with_an_input_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(STARTED_WITH_AN_INPUT)
    assert ours["counts"] == [9088, 9418] and ours["built"]


def test_feature_extraction_from_a_sequential_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(FEATURE_EXTRACTION, {"x": _x(3, 6)})
    assert ours["matches_end"] and len(ours["shared"]) == 4


def test_freezing_all_but_the_last_layer_then_fit_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(FREEZE_ALL_BUT_THE_LAST, {"x": _x(6, 6), "y": _x(6, 2)})
    assert ours["trainable"] == [0, 2] and ours["built"] == [[2, 6], [2, 3]]


def test_an_input_shape_argument_builds_it_at_once():
    # (Keras warns here that an Input is preferred; lamina builds the same model without a word)
    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu", input_shape=(4,)))
    assert model.built and model.input_shape == (None, 4) and len(model.weights) == 2


def test_pop_of_an_empty_model_names_it():
    with pytest.raises(ValueError, match="Sequential 'empty' has no layers to pop"):
        keras.Sequential(name="empty").pop()


def test_fit_on_a_lazy_model_leaves_the_batch_free():
    # Keras records the first batch's size here (batch_size=3 gives (3, 4)); lamina, which builds
    # from the whole array before batching, leaves it None rather than record the array's length
    model = keras.Sequential([layers.Dense(2)])
    model.compile("sgd", "mse")
    model.fit(_x(8, 4), _x(8, 2), batch_size=3, verbose=0)
    assert model.input_shape == (None, 4)
