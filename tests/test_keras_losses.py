"""Every loss, with its options (from_logits, label_smoothing, reduction, sample_weight,
class_weight), against Keras 3 itself: the loss value called directly, and a few
train_on_batch steps on a model (weights and logged losses), 1e-5 relative in float32."""
import numpy as np
import pytest

import lamina

# the labels and predictions each kind of loss takes
KINDS = {
    "probabilities": "yt = np.eye(4)[labels]; yp = probabilities",
    "logits": "yt = np.eye(4)[labels]; yp = logits",
    "sparse": "yt = labels; yp = probabilities",
    "sparse_logits": "yt = labels; yp = logits",
    "binary": "yt = (labels % 2).astype(floatx)[:, None]; yp = probabilities[:, :1]",
    "binary_logits": "yt = (labels % 2).astype(floatx)[:, None]; yp = logits[:, :1]",
    "multilabel": "yt = (targets > 0).astype(floatx); yp = probabilities",
    "regression": "yt = targets; yp = logits",
    "positive": "yt = np.abs(targets); yp = probabilities",
    "signs": "yt = np.sign(targets); yp = logits",
    "embeddings": "yt = labels; yp = logits / np.linalg.norm(logits, axis=-1, keepdims=True)",
}

LOSSES = {
    "categorical_crossentropy": ("K.losses.CategoricalCrossentropy()", "probabilities"),
    "categorical_crossentropy_logits_smoothing": (
        "K.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)", "logits"),
    "sparse_categorical_crossentropy": ("K.losses.SparseCategoricalCrossentropy()", "sparse"),
    "sparse_categorical_crossentropy_logits": ("K.losses.SparseCategoricalCrossentropy(from_logits=True)",
                                               "sparse_logits"),
    "sparse_categorical_crossentropy_ignore_class": (
        "K.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)", "sparse_logits"),
    "binary_crossentropy": ("K.losses.BinaryCrossentropy()", "binary"),
    "binary_crossentropy_logits_smoothing": ("K.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)",
                                             "binary_logits"),
    "binary_crossentropy_multilabel": ("K.losses.BinaryCrossentropy()", "multilabel"),
    "binary_focal_crossentropy": ("K.losses.BinaryFocalCrossentropy()", "binary"),
    "binary_focal_crossentropy_balanced": (
        ("K.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5, from_logits=True, "
         "label_smoothing=0.1)"), "binary_logits"),
    "categorical_focal_crossentropy": ("K.losses.CategoricalFocalCrossentropy()", "probabilities"),
    "categorical_focal_crossentropy_logits": (
        "K.losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.0, from_logits=True, label_smoothing=0.1)",
        "logits"),
    "mean_squared_error": ("K.losses.MeanSquaredError()", "regression"),
    "mean_absolute_error": ("K.losses.MeanAbsoluteError()", "regression"),
    "mean_absolute_percentage_error": ("K.losses.MeanAbsolutePercentageError()", "regression"),
    "mean_squared_logarithmic_error": ("K.losses.MeanSquaredLogarithmicError()", "positive"),
    "huber": ("K.losses.Huber(delta=0.7)", "regression"),
    "log_cosh": ("K.losses.LogCosh()", "regression"),
    "kl_divergence": ("K.losses.KLDivergence()", "positive"),
    "poisson": ("K.losses.Poisson()", "positive"),
    "cosine_similarity": ("K.losses.CosineSimilarity(axis=-1)", "regression"),
    "hinge": ("K.losses.Hinge()", "signs"),
    "squared_hinge": ("K.losses.SquaredHinge()", "signs"),
    "categorical_hinge": ("K.losses.CategoricalHinge()", "probabilities"),
    # axis=None (Dice's and Tversky's default) gives one value for the whole batch
    "dice": ("K.losses.Dice()", "multilabel"),
    "dice_per_sample": ("K.losses.Dice(axis=-1)", "multilabel"),
    "tversky": ("K.losses.Tversky()", "multilabel"),
    "tversky_weighted_per_sample": ("K.losses.Tversky(alpha=0.8, beta=0.2, axis=(1,))", "multilabel"),
    # the labels of inputs() leave some samples without a pair: Circle's mask drops them
    # (gamma=80, the default, blows a few SGD steps up: tests/test_keras_losses_segmentation.py has its values)
    "circle": ("K.losses.Circle(gamma=8.0)", "embeddings"),
    "circle_options": ("K.losses.Circle(gamma=4.0, margin=0.25, remove_diagonal=False)", "embeddings"),
    "categorical_generalized_cross_entropy": ("K.losses.CategoricalGeneralizedCrossEntropy()", "sparse"),
    "categorical_generalized_cross_entropy_q": ("K.losses.CategoricalGeneralizedCrossEntropy(q=0.8)", "sparse"),
}

DIRECT = """
{kind}
loss = {loss}
result = {{"plain": numpy(loss(yt, yp)), "weighted": numpy(loss(yt, yp, sample_weight=sample_weight))}}
"""
REDUCED = """
result["{reduction}"] = numpy({loss}(yt, yp, sample_weight=sample_weight))
"""
REDUCTIONS = ["sum", "sum_over_batch_size", "mean", "mean_with_sample_weight", "none", None]


def with_reduction(expression: str, reduction) -> str:
    """The loss expression with ``reduction=`` added to its arguments."""
    head, arguments = expression[:-1].split("(", 1)
    return f"{head}({arguments}{', ' if arguments else ''}reduction={reduction!r})"


def inputs(n=8):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((n, 4)) * 1.5
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return {"labels": rng.integers(0, 4, n), "logits": logits, "probabilities": probabilities,
            "targets": rng.standard_normal((n, 4)), "sample_weight": rng.uniform(0.0, 2.0, n)}


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_values_and_reductions_match_keras(keras_oracle, name, floatx):
    loss, kind = LOSSES[name]
    code = DIRECT.format(kind=KINDS[kind], loss=loss) + "".join(
        REDUCED.format(reduction=r, loss=with_reduction(loss, r)) for r in REDUCTIONS)
    # Keras's ops.mean computes in result_type(x, "float32"), which its type lattice makes float32
    # for float64 inputs: under float64 Keras's losses agree with float64 arithmetic to ~1e-7 only
    # (jax.numpy's own mean is exact); lamina's must at least stay float64
    ours, _ = keras_oracle.compare(code, inputs(), floatx, **({"rtol": 3e-7} if floatx == "float64" else {}))
    assert {np.asarray(v).dtype.name for v in ours.values()} == {floatx}


TRAIN = """
{kind}
units = yp.shape[-1]
model = K.Sequential([K.Input((4,)), K.layers.Dense(5, activation="tanh"),
                     K.layers.Dense(units, activation=ACTIVATION)])
model.compile(optimizer=K.optimizers.SGD(0.2), loss={loss})
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
x = targets
logs = []
for start in (0, 4, 0):
    rows = slice(start, start + 4)
    # Keras refuses sample_weight with class_weight (lamina multiplies them: test_fit_behaviour.py)
    logs.append(model.train_on_batch(x[rows], yt[rows], sample_weight=None if CLASS_WEIGHT else sample_weight[rows],
                                     class_weight=CLASS_WEIGHT))
result = {{"weights": model.get_weights(), "logs": logs,
          "evaluate": model.evaluate(x, yt, sample_weight=sample_weight, verbose=0)}}
"""

ACTIVATIONS = {"probabilities": "softmax", "sparse": "softmax", "binary": "sigmoid", "multilabel": "sigmoid",
               "positive": "softplus"}
CLASS_WEIGHTED = {"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
                  "sparse_categorical_crossentropy_logits"}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_train_on_batch_with_each_loss_matches_keras(keras_oracle, name):
    loss, kind = LOSSES[name]
    class_weight = None
    if name in CLASS_WEIGHTED:
        class_weight = {0: 0.5, 1: 2.0} if kind.startswith("binary") else {0: 0.5, 1: 2.0, 2: 1.0, 3: 1.5}
    code = TRAIN.format(kind=KINDS[kind], loss=loss)
    keras_oracle.compare(code, {**inputs(), "ACTIVATION": ACTIVATIONS.get(kind, "linear"),
                                "CLASS_WEIGHT": class_weight}, "float32")


def test_every_loss_has_an_oracle_test():
    classes = {name for name in lamina.losses.__all__ if isinstance(getattr(lamina.losses, name), type)}
    covered = {expression.split("(")[0].removeprefix("K.losses.") for expression, _ in LOSSES.values()}
    excluded = {"Loss": "the base class; every loss above is one",
                "LossFunctionWrapper": "the base of every loss class above"}
    assert classes - covered - set(excluded) == set(), "a loss class without a Keras oracle test"
    functions = {name for name in lamina.losses.__all__ if not isinstance(getattr(lamina.losses, name), type)}
    # every function and alias is one of the classes' functions: the same object
    wrapped = {getattr(getattr(lamina.losses, expression.split("(")[0].removeprefix("K.losses."))(), "fn", None)
               for expression, _ in LOSSES.values()}
    assert {name for name in functions if getattr(lamina.losses, name) not in wrapped} == set()


def test_huber_config_keeps_delta_where_keras_drops_it():
    """A difference on purpose: Keras 3.15's Huber.get_config omits ``delta`` (so a saved
    Huber(delta=0.7) reloads as delta=1.0); lamina keeps it."""
    loss = lamina.losses.Huber(delta=0.7)
    assert lamina.losses.Huber.from_config(loss.get_config()).delta == 0.7
