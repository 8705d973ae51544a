"""Dice, Tversky, Circle and CategoricalGeneralizedCrossEntropy beyond the loss table of
test_keras_losses.py, against Keras 3: the function forms with their arguments, Circle's default
gamma and its masking, the configs, the names ``losses.get`` and ``compile`` know, and the
arguments refused."""
import numpy as np
import pytest
from keras_oracle import run_lamina
from test_keras_losses import KINDS, inputs

import lamina

FUNCTIONS = {
    "dice_axes": ("K.losses.dice(yt, yp, axis=(1,))", "multilabel"),
    "dice_everything": ("K.losses.dice(yt, yp)", "multilabel"),
    "tversky_weights": ("K.losses.tversky(yt, yp, alpha=0.3, beta=0.9, axis=-1)", "multilabel"),
    "circle_default": ("K.losses.circle(yt, yp)", "embeddings"),
    # references of their own: the first eight samples against the last four
    "circle_references": ("K.losses.circle(yt[:8], yp[:8], ref_labels=yt[8:], ref_embeddings=yp[8:], "
                          "remove_diagonal=False, gamma=10.0, margin=0.3)", "embeddings"),
    "generalized_crossentropy": ("K.losses.categorical_generalized_cross_entropy(yt, yp, q=0.3)", "sparse"),
    "generalized_crossentropy_outside_labels": (
        "K.losses.categorical_generalized_cross_entropy(np.where(yt == 3, 4, yt), yp, q=0.6)", "sparse"),
}


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_forms_match_keras(keras_oracle, name, floatx):
    expression, kind = FUNCTIONS[name]
    code = f"{KINDS[kind]}\nresult = numpy({expression})"
    ours, _ = keras_oracle.compare(code, inputs(12), floatx, **({"rtol": 3e-7} if floatx == "float64" else {}))
    assert np.asarray(ours).dtype.name == floatx


CIRCLE = """
{kind}
loss = K.losses.Circle({arguments})
result = {{"mean": numpy(loss(yt, yp)), "weighted": numpy(loss(yt, yp, sample_weight=sample_weight)),
          "per_sample": numpy(K.losses.Circle({arguments}reduction=None)(yt, yp)),
          "mean_with_sample_weight": numpy(K.losses.Circle({arguments}reduction="mean_with_sample_weight")(
              yt, yp, sample_weight=sample_weight))}}
"""


@pytest.mark.parametrize("arguments", ["", "gamma=30.0, margin=0.1, ", "remove_diagonal=False, "])
def test_circle_leaves_samples_without_a_pair_out_of_the_mean_as_keras(keras_oracle, arguments):
    # inputs(8)'s labels leave label 1 to one sample
    ours, _ = keras_oracle.compare(CIRCLE.format(kind=KINDS["embeddings"], arguments=arguments), inputs(8))
    unpaired = ours["per_sample"] == 0
    if "remove_diagonal" not in arguments:  # (with its own pair every sample has a positive)
        assert unpaired.any(), "the inputs should leave a label alone in the batch"
    np.testing.assert_allclose(ours["mean"], ours["per_sample"][~unpaired].mean(), rtol=1e-6)


def test_circle_gradients_have_no_nan_for_samples_without_a_pair():
    labels = np.array([0, 0, 1, 2])  # labels 1 and 2 have no positive pair
    embeddings = lamina.Variable(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    with lamina.GradientTape() as tape:
        loss = lamina.losses.Circle()(labels, lamina.ops.normalize(embeddings, axis=-1))
    gradient = tape.gradient(loss, embeddings).numpy()
    assert np.isfinite(gradient).all() and np.abs(gradient).min() > 0  # all are someone's negatives


CONFIGS = """
import json
made = [K.losses.Dice(axis=(1, 2), reduction="sum", name="d"), K.losses.Tversky(alpha=0.2, beta=0.8, axis=-1),
        K.losses.Circle(gamma=40.0, margin=0.2, remove_diagonal=False, dtype="float64"),
        K.losses.CategoricalGeneralizedCrossEntropy(q=0.25, reduction=None)]
configs = [json.loads(json.dumps(loss.get_config())) for loss in made]
result = {"configs": configs,
          "rebuilt": [json.loads(json.dumps(type(loss).from_config(c).get_config())) for loss, c in zip(made, configs)],
          "serialized": [json.loads(json.dumps(K.losses.serialize(loss))) for loss in made[:3]],
          "names": [loss.name for loss in made]}
"""


def test_configs_round_trip_as_keras_writes_them(keras_oracle):
    keras_oracle.compare(CONFIGS)


def test_a_generalized_crossentropy_config_loads_back():
    """Keras 3.15's deserialize gives the class name back as a string for this loss (its lookup
    table leaves it out); lamina builds the loss."""
    loss = lamina.losses.CategoricalGeneralizedCrossEntropy(q=0.3)
    rebuilt = lamina.losses.deserialize(lamina.losses.serialize(loss))
    assert type(rebuilt) is type(loss) and rebuilt.q == 0.3


LOOKUP = """
known = {}
for name in NAMES:
    try:
        K.losses.get(name)
        known[name] = True
    except ValueError:
        known[name] = False
result = known
"""
LOOKUP_NAMES = ["dice", "tversky", "circle", "Dice", "Tversky", "Circle", "categorical_generalized_cross_entropy",
                "CategoricalGeneralizedCrossEntropy"]


def test_losses_get_knows_the_names_keras_knows(keras_oracle):
    ours, theirs = keras_oracle.compare(LOOKUP, {"NAMES": LOOKUP_NAMES})
    assert ours == {name: "eneralized" not in name for name in LOOKUP_NAMES}
    assert type(lamina.losses.get("dice")) is lamina.losses.Dice
    assert type(lamina.losses.get(lamina.losses.circle)) is lamina.losses.Circle


COMPILED = """
{kind}
HEAD = [K.layers.UnitNormalization()] if EMBED else []  # Circle's embeddings are unit vectors
model = K.Sequential([K.Input((4,)), K.layers.Dense(4, activation=ACTIVATION)] + HEAD)
model.compile(optimizer=K.optimizers.SGD(0.1), loss=LOSS)
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
history = model.fit(targets, yt, sample_weight=sample_weight, batch_size=6, epochs=2, shuffle=False, verbose=0)
result = {{"history": history.history, "weights": model.get_weights()}}
"""


@pytest.mark.parametrize("loss, kind, activation", [("dice", "multilabel", "sigmoid"),
                                                    ("tversky", "multilabel", "sigmoid"),
                                                    ("circle", "embeddings", "linear")])
def test_compile_by_name_trains_as_keras(keras_oracle, loss, kind, activation):
    code = COMPILED.format(kind=KINDS[kind])
    keras_oracle.compare(code, {**inputs(12), "LOSS": loss, "ACTIVATION": activation, "EMBED": loss == "circle"})


GCE_COLUMN = """
{kind}
result = numpy(K.losses.CategoricalGeneralizedCrossEntropy(q=0.4, reduction=None)(yt, yp))
"""


def test_generalized_crossentropy_takes_a_column_of_labels_as_one_label_each(keras_oracle):
    """A difference on purpose: Keras 3.15 one-hot encodes (batch, 1) labels as they are, which
    broadcasts into a (batch, batch) loss; lamina gives Keras's answer for the (batch,) labels."""
    theirs = keras_oracle.run(GCE_COLUMN.format(kind=KINDS["sparse"]), inputs(12))
    column = run_lamina(GCE_COLUMN.format(kind=KINDS["sparse"].replace("yt = labels", "yt = labels[:, None]")),
                        inputs(12))
    assert theirs.shape == column.shape == (12,)
    np.testing.assert_allclose(column, theirs, rtol=1e-6)


@pytest.mark.parametrize("expression, error, message", [
    ("CategoricalGeneralizedCrossEntropy(q=1.0)", ValueError, r"q must be in the interval \(0, 1\), got 1.0"),
    ("CategoricalGeneralizedCrossEntropy(q=0)", ValueError, r"q must be in the interval \(0, 1\), got 0"),
    ("CategoricalGeneralizedCrossEntropy(q='0.5')", TypeError, "q must be a number, got '0.5'"),
    ("Tversky(alpha=None)", TypeError, "Tversky alpha must be a number, got None"),
    ("Tversky(beta=[0.5])", TypeError, "Tversky beta must be a number"),
    ("Dice(axis=1.5)", TypeError, "Dice axis must be None, an integer or a tuple of integers, got 1.5"),
    ("Circle(gamma='big')", TypeError, "Circle gamma must be a number"),
    ("Circle(remove_diagonal=1)", TypeError, "Circle remove_diagonal must be True or False, got 1"),
    ("Dice(reduction='average')", ValueError, "Dice reduction must be one of"),
])
def test_bad_arguments_are_refused_by_name(expression, error, message):
    with pytest.raises(error, match=message):
        eval(f"lamina.losses.{expression}", {"lamina": lamina})


def test_keras_refuses_q_outside_the_interval_too(keras_oracle):
    code = ("try:\n    K.losses.CategoricalGeneralizedCrossEntropy(q=1.0)\n    result = None\n"
            "except ValueError as error:\n    result = 'ValueError'")
    keras_oracle.compare(code)
