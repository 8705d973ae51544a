"""Every activation, regularizer, constraint, layer and learning-rate schedule against Keras 3
itself (tests/keras_oracle.py): forward values (training and inference), and the gradients as
the weights a few SGD steps leave (every weight's gradient, and through the layer below, the
input's), 1e-5 relative in float32."""
import numpy as np
import pytest

import lamina
from lamina import activations

# Keras 3.15's sparsemax is wrong on ties (test_activations.py holds lamina's to the closed form)
KERAS_BUGS = {"sparsemax"}
ACTIVATIONS = sorted(name for name in activations._REGISTRY if name and name not in KERAS_BUGS)

VALUES = """
x = np.linspace(-3.0, 3.0, 24).reshape(4, 6).astype(floatx)
result = numpy(K.activations.get(NAME)(x))
"""

TRAIN = """
model = K.Sequential([K.Input((4,)), {layers}, K.layers.Dense(3)])
model.compile(optimizer=K.optimizers.SGD(LR), loss="mse")
# a variance (BatchNormalization's moving_variance) must be positive
model.set_weights([np.abs(draw(w.shape, i)) + 0.5 if "variance" in w.name else draw(w.shape, i)
                   for i, w in enumerate(model.weights)])
logs = [model.train_on_batch(x[r], y[r], return_dict=True) for r in (slice(0, 6), slice(6, 12), slice(0, 12))]
result = {{"weights": model.get_weights(), "logs": logs, "predict": model.predict(x, verbose=0),
          "evaluate": model.evaluate(x, y, verbose=0)}}
"""


def data(learning_rate=0.1):
    rng = np.random.default_rng(7)
    return {"x": rng.standard_normal((12, 4)) * 1.5, "y": rng.standard_normal((12, 3)), "LR": learning_rate}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_values_match_keras(keras_oracle, name):
    keras_oracle.compare(VALUES, {"NAME": name})


# glu halves the last axis while Keras's shapes say it keeps it, so no Sequential can follow it
# in Keras; its values are held above, its gradient by test_activations.py and the tape's tests
@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "glu"])
def test_activation_gradients_match_keras(keras_oracle, name):
    code = TRAIN.format(layers=f"K.layers.Dense(6, activation={name!r})")
    keras_oracle.compare(code, data(0.02))  # a small rate: exponential must not overflow in 3 steps


REGULARIZERS = {
    "l1": "K.regularizers.L1(0.05)", "l2": "K.regularizers.L2(0.1)", "l1_l2": "K.regularizers.L1L2(0.02, 0.03)",
    "orthogonal": "K.regularizers.OrthogonalRegularizer(factor=0.1, mode='columns')",
    "orthogonal_rows": "K.regularizers.OrthogonalRegularizer(factor=0.2, mode='rows')",
}


# every regularizer on every weight it applies to (OrthogonalRegularizer needs a 2-D weight: no bias)
REGULARIZED = [(name, where) for name in sorted(REGULARIZERS)
               for where in ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
               if not (where == "bias_regularizer" and name.startswith("orthogonal"))]


@pytest.mark.parametrize("name, where", REGULARIZED)
def test_regularizers_match_keras(keras_oracle, name, where):
    """Keras 3.14+ divides an activity penalty by the batch size (keras PR #22021), as lamina."""
    code = TRAIN.format(layers=f"K.layers.Dense(6, activation='tanh', {where}={REGULARIZERS[name]})")
    keras_oracle.compare(code, data())


CONSTRAINTS = {
    "max_norm": "K.constraints.MaxNorm(0.8)", "max_norm_axis": "K.constraints.MaxNorm(1.0, axis=1)",
    "min_max_norm": "K.constraints.MinMaxNorm(0.5, 0.9, rate=0.7)", "non_neg": "K.constraints.NonNeg()",
    "unit_norm": "K.constraints.UnitNorm()",
}


# MaxNorm(axis=1) needs a 2-D weight: not on a bias
CONSTRAINED = [(name, where) for name in sorted(CONSTRAINTS) for where in ("kernel_constraint", "bias_constraint")
               if not (where == "bias_constraint" and name == "max_norm_axis")]


@pytest.mark.parametrize("name, where", CONSTRAINED)
def test_constraints_match_keras(keras_oracle, name, where):
    code = TRAIN.format(layers=f"K.layers.Dense(6, activation='tanh', {where}={CONSTRAINTS[name]})")
    keras_oracle.compare(code, data())


LAYERS = {
    "Dense": "K.layers.Dense(6, activation='relu', use_bias=False)",
    "Flatten": "K.layers.Reshape((2, 2)), K.layers.Flatten()",
    "Activation": "K.layers.Dense(6), K.layers.Activation('softplus')",
    "Identity": "K.layers.Dense(6), K.layers.Identity()",
    "ActivityRegularization": "K.layers.Dense(6), K.layers.ActivityRegularization(l1=0.01, l2=0.02)",
    "BatchNormalization": "K.layers.Dense(6), K.layers.BatchNormalization(momentum=0.8, epsilon=0.01)",
    "BatchNormalization_no_center": "K.layers.Dense(6), K.layers.BatchNormalization(center=False, scale=False)",
    "LayerNormalization": "K.layers.Dense(6), K.layers.LayerNormalization(epsilon=0.01)",
    "LayerNormalization_rms": "K.layers.Dense(6), K.layers.LayerNormalization(rms_scaling=True)",
    "UnitNormalization": "K.layers.Dense(6), K.layers.UnitNormalization()",
    "Normalization": "K.layers.Normalization(mean=[0.5, -1, 0, 2], variance=[1, 4, 0.25, 9]), K.layers.Dense(6)",
    "Normalization_invert": "K.layers.Normalization(mean=0.5, variance=4.0, invert=True), K.layers.Dense(6)",
    "Rescaling": "K.layers.Rescaling(0.5, offset=-0.2), K.layers.Dense(6)",
    "Reshape": "K.layers.Dense(6), K.layers.Reshape((2, 3)), K.layers.Reshape((-1,))",
    "ReLU": "K.layers.Dense(6), K.layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2)",
    "LeakyReLU": "K.layers.Dense(6), K.layers.LeakyReLU(negative_slope=0.2)",
    "PReLU": "K.layers.Dense(6), K.layers.PReLU(alpha_initializer=K.initializers.Constant(0.25))",
    "ELU": "K.layers.Dense(6), K.layers.ELU(alpha=0.7)",
    "Softmax": "K.layers.Dense(6), K.layers.Softmax()",
    # random layers: inference is the identity on both sides; see the training test below
    "Dropout": "K.layers.Dense(6), K.layers.Dropout(0.0)",
    "GaussianNoise": "K.layers.Dense(6), K.layers.GaussianNoise(0.0)",
    "GaussianDropout": "K.layers.Dense(6), K.layers.GaussianDropout(0.0)",
    "AlphaDropout": "K.layers.Dense(6), K.layers.AlphaDropout(0.0)",
    "Lambda": "K.layers.Dense(6), K.layers.Lambda(lambda v: K.ops.tanh(v) * 1.5 - 0.25 * v)",
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_training_and_inference_match_keras(keras_oracle, name):
    keras_oracle.compare(TRAIN.format(layers=LAYERS[name]), data())


FORWARD = """
layer = {layer}
x = np.linspace(-2.0, 3.0, 48).reshape(8, 6).astype(floatx)
inference = numpy(layer(x, training=False))
training = numpy(layer(x, training=True))
result = {{"inference": inference, "weights": [numpy(w) for w in layer.weights]}}
if DETERMINISTIC:
    result["training"] = training
else:  # a difference on purpose: lamina's random stream is not JAX's, so compare the statistics
    kept = training != 0
    result["kept_scaled"] = bool(np.allclose(training[kept], (x * SCALE)[kept], rtol=1e-5))
"""


@pytest.mark.parametrize("layer, deterministic, scale", [
    ("K.layers.BatchNormalization(momentum=0.8)", True, 1.0),  # not 0.5: m and 1 - m must differ
    ("K.layers.LayerNormalization(center=False)", True, 1.0),
    ("K.layers.Dropout(0.25)", False, 1 / 0.75),
    ("K.layers.ActivityRegularization(l2=0.1)", True, 1.0),
])
def test_layer_called_with_training_matches_keras(keras_oracle, layer, deterministic, scale):
    code = FORWARD.format(layer=layer)
    ours, _ = keras_oracle.compare(code, {"DETERMINISTIC": deterministic, "SCALE": scale})
    assert deterministic or ours["kept_scaled"]


SCHEDULES = {
    "ExponentialDecay": "K.optimizers.schedules.ExponentialDecay(0.1, 70, 0.8)",
    "ExponentialDecay_staircase": "K.optimizers.schedules.ExponentialDecay(0.1, 70, 0.8, staircase=True)",
    "InverseTimeDecay": "K.optimizers.schedules.InverseTimeDecay(0.1, 50, 0.5)",
    "InverseTimeDecay_staircase": "K.optimizers.schedules.InverseTimeDecay(0.1, 50, 0.5, staircase=True)",
    "PiecewiseConstantDecay": "K.optimizers.schedules.PiecewiseConstantDecay([100, 400, 700], [0.1, 0.05, 0.01, 1e-3])",
    "PolynomialDecay": "K.optimizers.schedules.PolynomialDecay(0.1, 600, 0.001, power=1.5)",
    "PolynomialDecay_cycle": "K.optimizers.schedules.PolynomialDecay(0.1, 300, 0.001, power=0.5, cycle=True)",
    "CosineDecay": "K.optimizers.schedules.CosineDecay(0.1, 800, alpha=0.05)",
    "CosineDecay_warmup": "K.optimizers.schedules.CosineDecay(0.0, 700, warmup_target=0.1, warmup_steps=200)",
    "CosineDecayRestarts": "K.optimizers.schedules.CosineDecayRestarts(0.1, 150, t_mul=1.5, m_mul=0.8, alpha=0.01)",
}

SCHEDULE_VALUES = """
schedule = {schedule}
steps = np.arange(1000)
if K.__name__ == "keras":  # one vectorized call: 1000 eager calls take minutes on a busy machine
    import jax
    values = numpy(jax.vmap(schedule)(steps))
else:  # lamina's schedules take the array itself, as the TF tutorials plot them
    values = numpy(schedule(steps))
result = np.asarray(values, np.float64)
"""


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_values_over_1000_steps_match_keras(keras_oracle, name):
    keras_oracle.compare(SCHEDULE_VALUES.format(schedule=SCHEDULES[name]))


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_of_an_array_is_its_value_at_each_step(name):
    """The optimizers call a schedule with one step (a Python float back, fast); a user plotting
    it calls it with an array: a float32 Tensor of the same values, step by step."""
    schedule = eval(SCHEDULES[name].replace("K.", "lamina."))
    steps = np.arange(0, 1000, 7)
    one_by_one = [schedule(int(step)) for step in steps]
    assert all(type(value) is float for value in one_by_one)
    at_once = schedule(steps)
    assert isinstance(at_once, lamina.ops.Tensor) and at_once.dtype == "float32" and at_once.shape == steps.shape
    np.testing.assert_allclose(np.asarray(at_once), one_by_one, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(schedule(np.float64(steps[3]))), one_by_one[3], rtol=1e-12)
    with pytest.raises(TypeError, match="step number"):
        schedule("ten")


# the merging layers on two branches of a Functional model (Dot of 6-vectors: one number)
MERGING = {
    "Add": "K.layers.Add()", "Subtract": "K.layers.Subtract()", "Multiply": "K.layers.Multiply()",
    "Average": "K.layers.Average()", "Maximum": "K.layers.Maximum()", "Minimum": "K.layers.Minimum()",
    "Concatenate": "K.layers.Concatenate()", "Concatenate_axis1": "K.layers.Concatenate(axis=1)",
    "Dot": "K.layers.Dot(axes=1)", "Dot_normalize": "K.layers.Dot(axes=-1, normalize=True)",
}

MERGE_TRAIN = """
a, b = K.Input((4,)), K.Input((4,))
left = K.layers.Dense(6, activation="tanh")(a)
right = K.layers.Dense(6)(b)
merged = {layer}([left, right])
model = K.Model([a, b], K.layers.Dense(3)(merged))
model.compile(optimizer=K.optimizers.SGD(LR), loss="mse")
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.weights)])
x2 = (x[:, ::-1] * 0.7 + 0.3).astype(floatx)
logs = [model.train_on_batch([x[r], x2[r]], y[r], return_dict=True)
        for r in (slice(0, 6), slice(6, 12), slice(0, 12))]
result = {{"weights": model.get_weights(), "logs": logs, "predict": model.predict([x, x2], verbose=0),
          "evaluate": model.evaluate([x, x2], y, verbose=0), "shape": list(merged.shape[1:])}}
"""


@pytest.mark.parametrize("name", sorted(MERGING))
def test_merging_layer_training_and_inference_match_keras(keras_oracle, name):
    """Forward (predict, evaluate) and every weight's gradient through both branches (the
    weights three SGD steps leave) against Keras."""
    ours, _ = keras_oracle.compare(MERGE_TRAIN.format(layer=MERGING[name]), data())
    assert ours["shape"] == {"Concatenate": [12], "Dot": [1]}.get(name.split("_")[0], [6])


def test_every_activation_layer_regularizer_constraint_and_schedule_has_an_oracle_test():
    assert set(ACTIVATIONS) | KERAS_BUGS == {name for name in activations._REGISTRY if name}
    layer_names = {name for name in lamina.layers.__all__ if isinstance(getattr(lamina.layers, name), type)}
    tested = {expression.split("(")[0].removeprefix("K.layers.")
              for expressions in LAYERS.values() for expression in expressions.split(", K.layers.")}
    tested = {name.removeprefix("K.layers.") for name in tested}
    excluded = {"Layer": "the base class (test_subclassing.py)", "InputLayer": "every model above starts with one",
                "Input": "a function, used by every model above",
                "Embedding": "tests/test_embedding.py trains one against Keras",
                "CategoryEncoding": "tests/test_category_encoding.py holds every mode to Keras",
                "InputSpec": "not a layer; tests/test_input_spec.py holds its checks to Keras"}
    tested |= {name.split("_")[0] for name in MERGING}
    assert layer_names - tested - set(excluded) == set(), "a layer without a Keras oracle test"
    regularizers = {c.__name__ for c in lamina.regularizers._CLASSES} - {"Regularizer"}
    assert regularizers == {e.split("(")[0].removeprefix("K.regularizers.") for e in REGULARIZERS.values()}
    constraints = {c.__name__ for c in lamina.constraints._CLASSES} - {"Constraint"}
    assert constraints == {e.split("(")[0].removeprefix("K.constraints.") for e in CONSTRAINTS.values()}
    schedules = set(lamina.optimizers.schedules.__all__) - {"LearningRateSchedule", "serialize", "deserialize"}
    assert schedules == {name.split("_")[0] for name in SCHEDULES}


DENSE_3D = """
model = K.Sequential([K.Input((5, 4)), K.layers.Dense(6, activation="relu"), K.layers.Dense(3, activation="softmax")])
model.compile(optimizer=K.optimizers.Adam(0.05), loss="categorical_crossentropy", metrics=["accuracy"])
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
x3 = x.reshape(3, 4, 4)[:, :, None, :].repeat(5, axis=2).reshape(3, 4, 5, 4)[0]
y3 = np.eye(3)[(np.abs(x3).sum(-1) * 3).astype(int) % 3]
history = model.fit(x3, y3, epochs=3, batch_size=2, shuffle=False, verbose=0)
result = {"weights": model.get_weights(), "history": history.history, "predict": model.predict(x3, verbose=0),
          "evaluate": model.evaluate(x3, y3, verbose=0)}
"""


def test_dense_applies_to_the_last_axis_of_3d_inputs_like_keras(keras_oracle):
    """Bug 10 of issue 10: Dense on (batch, 5, 4) inputs (Flatten forgotten) is Dense on the last
    axis in fit, evaluate and predict, on every path."""
    keras_oracle.compare(DENSE_3D, data())
