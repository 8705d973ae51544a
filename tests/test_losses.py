"""Losses: Keras's values, reductions and names, and every gradient against finite differences."""
import numpy as np
import pytest

import lamina
from lamina import layers, losses
from gradcheck import check_loss

RNG = np.random.default_rng(0)
_Z = np.exp(RNG.normal(size=(5, 4)) * 0.5)
PROBS = _Z / _Z.sum(axis=1, keepdims=True)  # rows summing to 1, well away from the clip
ONE_HOT = np.eye(4)[[0, 3, 1, 2, 3]]
LABELS = np.array([0, 3, 1, 2, 3])
UNIT = RNG.uniform(0.1, 0.9, size=(5, 3))  # probabilities for element-wise binary losses
BINARY = (RNG.uniform(size=(5, 3)) > 0.5).astype(float)
REAL = RNG.normal(size=(5, 3))
TARGET = REAL + RNG.normal(size=(5, 3)) * 0.7
POSITIVE = RNG.uniform(0.5, 3.0, size=(5, 3))
WEIGHTS = np.array([1.0, 0.0, 2.0, 0.5, 1.5])


# --- values Keras documents -----------------------------------------------------------------------
def test_crossentropy_values_from_keras_docs():
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(
        np.array([1, 2]), np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), [0.0513, 2.303], atol=1e-3)
    np.testing.assert_allclose(losses.categorical_crossentropy(
        np.array([[0, 1, 0], [0, 0, 1]]), np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), [0.0513, 2.303], atol=1e-3)
    np.testing.assert_allclose(losses.binary_crossentropy(
        np.array([[0, 1], [0, 0]]), np.array([[0.6, 0.4], [0.4, 0.6]])), [0.916, 0.714], atol=1e-3)
    bce = losses.BinaryCrossentropy(from_logits=True)
    y_true, logits = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    assert float(bce(y_true, logits)) == pytest.approx(0.8654, abs=1e-4)
    assert float(bce(y_true, logits, sample_weight=[0.8, 0.2])) == pytest.approx(0.243, abs=1e-3)
    assert float(losses.BinaryCrossentropy(from_logits=True, reduction="sum")(y_true, logits)) == pytest.approx(
        1.730, abs=1e-3)
    np.testing.assert_allclose(losses.BinaryCrossentropy(from_logits=True, reduction=None)(y_true, logits),
                               [0.235, 1.496], atol=1e-3)


def test_focal_values_from_keras_docs():
    y_true, logits = np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8])
    assert float(losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)(y_true, logits)) == pytest.approx(
        0.691, abs=1e-3)
    assert float(losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=2.0, from_logits=True)(
        y_true, logits)) == pytest.approx(0.51, abs=1e-3)
    y_true, logits = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    focal = losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True)
    assert float(focal(y_true, logits)) == pytest.approx(0.647, abs=1e-3)
    assert float(focal(y_true, logits, sample_weight=[0.8, 0.2])) == pytest.approx(0.133, abs=1e-3)
    balanced = losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3.0, from_logits=True)
    assert float(balanced(y_true, logits)) == pytest.approx(0.482, abs=1e-3)
    assert float(balanced(y_true, logits, sample_weight=[0.8, 0.2])) == pytest.approx(0.097, abs=1e-3)
    np.testing.assert_allclose(losses.binary_focal_crossentropy(
        np.array([[0, 1], [0, 0]]), np.array([[0.6, 0.4], [0.4, 0.6]]), gamma=2), [0.330, 0.206], atol=1e-3)
    np.testing.assert_allclose(losses.categorical_focal_crossentropy(
        np.array([[0, 1, 0], [0, 0, 1]]), np.array([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])),
        [2.63401289e-04, 6.75912094e-01], rtol=1e-5)


def test_regression_values_by_hand():
    y_true, y_pred = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]])
    assert float(losses.Huber()(y_true, y_pred)) == pytest.approx(0.155)
    np.testing.assert_allclose(losses.huber(np.array([[0.0]]), np.array([[3.0]]), delta=2.0), [2 * 3 - 0.5 * 4])
    assert float(losses.LogCosh()(np.array([[0., 1.], [0., 0.]]), np.array([[1., 1.], [0., 0.]]))) == pytest.approx(
        np.log(np.cosh(1.0)) / 4)
    np.testing.assert_allclose(losses.mean_absolute_error(y_true, y_pred), [0.6, 0.5])
    np.testing.assert_allclose(losses.mean_squared_error(y_true, y_pred), [0.36 / 2 + 0.36 / 2, 0.26])
    np.testing.assert_allclose(losses.mean_absolute_percentage_error(np.array([[2.0, -4.0]]), np.array([[1.0, -5.0]])),
                               [100 * (0.5 + 0.25) / 2])
    np.testing.assert_allclose(losses.mean_squared_logarithmic_error(np.array([[1.0, 3.0]]), np.array([[3.0, 1.0]])),
                               [np.log(2.0) ** 2])
    np.testing.assert_allclose(losses.poisson(np.array([[1.0, 2.0]]), np.array([[1.0, 4.0]])),
                               [(1 + 4 - 2 * np.log(4.0 + 1e-7)) / 2])
    np.testing.assert_allclose(losses.kl_divergence(np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])),
                               [0.5 * np.log(2) + 0.5 * np.log(2 / 3)])
    np.testing.assert_allclose(losses.cosine_similarity(np.array([[0., 1.], [1., 1.], [1., 1.]]),
                                                        np.array([[1., 0.], [1., 1.], [-1., -1.]])), [0, -1, 1],
                               atol=1e-7)


def test_hinge_losses_convert_01_labels():
    y_pred = np.array([[0.3, -0.4], [2.0, 0.5]])
    from_01 = losses.hinge(np.array([[1, 0], [0, 1]]), y_pred)
    np.testing.assert_allclose(from_01, losses.hinge(np.array([[1, -1], [-1, 1]]), y_pred))
    np.testing.assert_allclose(from_01, [(0.7 + 0.6) / 2, (3.0 + 0.5) / 2])
    np.testing.assert_allclose(losses.squared_hinge(np.array([[1, 0]]), np.array([[0.3, -0.4]])),
                               [(0.49 + 0.36) / 2])
    np.testing.assert_allclose(losses.categorical_hinge(np.array([[0, 1, 0]]), np.array([[0.5, 0.2, 0.1]])),
                               [0.5 - 0.2 + 1])


# --- reductions and sample weights ---------------------------------------------------------------
def test_reductions_by_hand():
    y_true, y_pred = np.array([[0.0], [0.0], [0.0]]), np.array([[1.0], [2.0], [3.0]])
    w = np.array([1.0, 0.0, 2.0])
    per_sample = np.array([1.0, 4.0, 9.0])
    assert float(losses.MeanSquaredError()(y_true, y_pred, w)) == pytest.approx((1 + 18) / 3)
    assert float(losses.MeanSquaredError(reduction="mean")(y_true, y_pred, w)) == pytest.approx((1 + 18) / 3)
    assert float(losses.MeanSquaredError(reduction="mean_with_sample_weight")(y_true, y_pred, w)) == pytest.approx(
        19 / 3)
    assert float(losses.MeanSquaredError(reduction="sum")(y_true, y_pred, w)) == pytest.approx(19)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(y_true, y_pred, w), per_sample * w)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction=None)(y_true, y_pred), per_sample)
    assert float(losses.MeanSquaredError()(y_true, y_pred, sample_weight=2.0)) == pytest.approx(2 * 14 / 3)


def test_ignore_class_leaves_samples_out_of_the_mean():
    y_pred = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    labels = np.array([0, -1, 1])
    per_sample = losses.sparse_categorical_crossentropy(labels, y_pred, ignore_class=-1)
    np.testing.assert_allclose(per_sample, [np.log(2), 0, -np.log(0.8)])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    eps = lamina.backend.epsilon()
    # Keras rescales the mask by total / (valid + epsilon), so the mean runs over the 2 valid rows
    assert float(loss(labels, y_pred)) == pytest.approx((np.log(2) - np.log(0.8)) / (2 + eps))
    weighted = float(loss(labels, y_pred, sample_weight=[3.0, 5.0, 1.0]))
    assert weighted == pytest.approx((3 * np.log(2) - np.log(0.8)) / (2 + eps))
    assert float(losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction="sum")(labels, y_pred)) == (
        pytest.approx(np.log(2) - np.log(0.8)))
    assert float(losses.SparseCategoricalCrossentropy(ignore_class=0)(np.array([0, 0]), y_pred[:2])) == 0.0


# --- gradients -----------------------------------------------------------------------------------
GRADIENT_CASES = [
    (losses.SparseCategoricalCrossentropy(), LABELS, PROBS),
    (losses.SparseCategoricalCrossentropy(from_logits=True), LABELS, REAL[:, :2].repeat(2, axis=1) * 2),
    (losses.SparseCategoricalCrossentropy(ignore_class=3), LABELS, PROBS),
    (losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0), LABELS, RNG.normal(size=(5, 4))),
    (losses.CategoricalCrossentropy(), ONE_HOT, PROBS),
    (losses.CategoricalCrossentropy(label_smoothing=0.2), ONE_HOT, PROBS),
    (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), ONE_HOT, RNG.normal(size=(5, 4))),
    (losses.BinaryCrossentropy(), BINARY, UNIT),
    (losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.3), BINARY, REAL),
    (losses.BinaryFocalCrossentropy(), BINARY, UNIT),
    (losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5, label_smoothing=0.1),
     BINARY, UNIT),
    (losses.BinaryFocalCrossentropy(from_logits=True, gamma=3.0), BINARY, REAL),
    (losses.CategoricalFocalCrossentropy(), ONE_HOT, PROBS),
    (losses.CategoricalFocalCrossentropy(alpha=[0.1, 0.2, 0.3, 0.4], gamma=1.0, label_smoothing=0.1), ONE_HOT, PROBS),
    (losses.CategoricalFocalCrossentropy(from_logits=True), ONE_HOT, RNG.normal(size=(5, 4))),
    (losses.MeanSquaredError(), TARGET, REAL),
    (losses.MeanAbsoluteError(), TARGET, REAL),
    (losses.MeanAbsolutePercentageError(), TARGET, REAL),
    (losses.MeanSquaredLogarithmicError(), POSITIVE[::-1], POSITIVE),
    (losses.Huber(), TARGET, REAL),
    (losses.Huber(delta=0.3), TARGET, REAL),
    (losses.LogCosh(), TARGET, REAL),
    (losses.KLDivergence(), PROBS[::-1], PROBS),
    (losses.Poisson(), POSITIVE[::-1], POSITIVE),
    (losses.CosineSimilarity(), TARGET, REAL),
    (losses.Hinge(), BINARY, REAL),
    (losses.SquaredHinge(), BINARY * 2 - 1, REAL),
    (losses.CategoricalHinge(), ONE_HOT, RNG.normal(size=(5, 4))),
    (losses.Dice(), BINARY, UNIT),
    (losses.Dice(axis=1), BINARY, UNIT),
    (losses.Tversky(alpha=0.3, beta=0.7), BINARY, UNIT),
    (losses.Tversky(axis=1), BINARY, UNIT),
    (losses.Circle(gamma=2.0), np.array([0, 1, 0, 1, 2]), RNG.normal(size=(5, 4))),
    (losses.CategoricalGeneralizedCrossEntropy(q=0.5), LABELS, PROBS),
]


@pytest.mark.parametrize("loss,y_true,y_pred", GRADIENT_CASES, ids=lambda v: getattr(v, "name", ""))
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_gradient_matches_finite_differences(loss, y_true, y_pred, reduction, float64):
    loss.reduction = reduction
    check_loss(loss, y_true, y_pred)
    check_loss(loss, y_true, y_pred, sample_weight=WEIGHTS)


def test_every_builtin_function_has_a_gradient_case():
    covered = {loss.fn for loss, _, _ in GRADIENT_CASES}
    functions = {getattr(losses, name) for name in losses.__all__ if name[0].islower() and name.isidentifier()
                 and callable(getattr(losses, name)) and not isinstance(getattr(losses, name), type)}
    assert covered == functions


def _link_gradient(link, y_true, p):
    """The pre-activation gradient the fused plan forms from the probabilities ``p``."""
    grad = np.array(p, dtype=np.float64)
    labels = link.labels(y_true)
    scale = link.into_gradient(grad, np.arange(len(grad)), labels)
    return grad * scale


@pytest.mark.parametrize("loss,activation,y_true", [
    (losses.SparseCategoricalCrossentropy(), "softmax", LABELS),
    (losses.CategoricalCrossentropy(), "softmax", ONE_HOT),
    (losses.BinaryCrossentropy(), "sigmoid", BINARY[:, :1]),
    (losses.MeanSquaredError(), "linear", REAL[:, :1]),
])
def test_canonical_link_is_the_chain_rule_through_the_activation(loss, activation, y_true, float64):
    """The fused plan's ``p - y`` (scaled) is the tape's gradient through the activation."""
    units = y_true.shape[1] if y_true.ndim == 2 else 4
    z = lamina.ops.convert_to_tensor(RNG.normal(size=(5, units)))
    act = lamina.activations.get(activation)
    with lamina.GradientTape() as tape:
        tape.watch(z)
        p = act(z)
        value = loss(y_true, p)
    link = loss.canonical_link(activation)
    np.testing.assert_allclose(_link_gradient(link, y_true, p.numpy()), tape.gradient(value, z).numpy(), atol=1e-9)
    np.testing.assert_allclose(link.loss_sum(p.numpy(), np.arange(5), link.labels(y_true)) / 5, float(value),
                               rtol=1e-9)


def test_canonical_links_only_for_the_plain_loss():
    assert losses.SparseCategoricalCrossentropy(from_logits=True).canonical_link("softmax") is None
    assert losses.SparseCategoricalCrossentropy(ignore_class=0).canonical_link("softmax") is None
    assert losses.CategoricalCrossentropy(label_smoothing=0.1).canonical_link("softmax") is None
    assert losses.BinaryCrossentropy().canonical_link("softmax") is None
    assert losses.MeanSquaredError(reduction="sum").canonical_link("linear") is None

    class Squared(losses.MeanSquaredError):
        def call(self, y_true, y_pred):
            return super().call(y_true, y_pred) * 2
    assert Squared().canonical_link("linear") is None


# --- bad arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [losses.CategoricalCrossentropy, losses.BinaryCrossentropy,
                                 losses.BinaryFocalCrossentropy, losses.CategoricalFocalCrossentropy])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_label_smoothing_outside_unit_interval(cls, value):
    with pytest.raises(ValueError, match=rf"{cls.__name__} label_smoothing must be in \[0, 1\], got {value}"):
        cls(label_smoothing=value)


def test_bad_reduction_delta_and_gamma():
    with pytest.raises(ValueError, match=r"MeanAbsoluteError reduction must be one of .*'sum'.*, got 'avg'"):
        losses.MeanAbsoluteError(reduction="avg")
    with pytest.raises(ValueError, match=r"Huber delta must be a positive number, got -1"):
        losses.Huber(delta=-1)
    with pytest.raises(ValueError, match=r"Huber delta must be a positive number, got 0"):
        losses.Huber(delta=0)
    with pytest.raises(ValueError, match=r"BinaryFocalCrossentropy gamma must be >= 0, got -2"):
        losses.BinaryFocalCrossentropy(gamma=-2)
    with pytest.raises(ValueError, match=r"CategoricalFocalCrossentropy gamma must be >= 0, got -1"):
        losses.CategoricalFocalCrossentropy(gamma=-1)


def test_unknown_names():
    with pytest.raises(ValueError, match=r"Unknown loss 'hubber'. Valid names: .*huber.*kld"):
        losses.get("hubber")
    with pytest.raises(TypeError, match=r"loss must be a name, a function or a Loss, got 3"):
        losses.get(3)
    with pytest.raises(ValueError, match=r"Unknown loss class 'Nope'"):
        losses.get({"class_name": "Nope"})


def test_sparse_label_check_allows_the_ignored_class():
    losses.check_sparse_labels(np.array([0, 255, 2]), 3, ignore_class=255)
    with pytest.raises(ValueError, match=r"must be in \[0, 3\) for an output of 3 units, got values from 0 to 255"):
        losses.check_sparse_labels(np.array([0, 255, 2]), 3)


# --- names and configs ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls", [
    ("mse", losses.MeanSquaredError), ("MAE", losses.MeanAbsoluteError), ("mape", losses.MeanAbsolutePercentageError),
    ("msle", losses.MeanSquaredLogarithmicError), ("kld", losses.KLDivergence), ("kl_divergence", losses.KLDivergence),
    ("huber", losses.Huber), ("Huber", losses.Huber), ("log_cosh", losses.LogCosh), ("poisson", losses.Poisson),
    ("cosine_similarity", losses.CosineSimilarity), ("hinge", losses.Hinge), ("squared_hinge", losses.SquaredHinge),
    ("categorical_hinge", losses.CategoricalHinge), ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy),
    ("categorical_focal_crossentropy", losses.CategoricalFocalCrossentropy), ("bce", losses.BinaryCrossentropy),
])
def test_names_resolve(name, cls):
    assert type(losses.get(name)) is cls
    assert type(losses.get(getattr(losses, name, None) or cls)) is cls


def test_default_names_and_config_round_trip():
    assert losses.Huber().name == "huber_loss"
    assert losses.LogCosh().name == "log_cosh"
    loss = losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.0, from_logits=True,
                                          label_smoothing=0.1, reduction="sum", name="focal")
    config = loss.get_config()
    assert config == {"name": "focal", "reduction": "sum", "apply_class_balancing": True, "alpha": 0.4, "gamma": 1.0,
                      "from_logits": True, "label_smoothing": 0.1, "axis": -1}
    again = losses.get({"class_name": "BinaryFocalCrossentropy", "config": config})
    np.testing.assert_allclose(again(BINARY, REAL), loss(BINARY, REAL))
    assert losses.SparseCategoricalCrossentropy(ignore_class=-1).get_config() == {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size", "from_logits": False,
        "ignore_class": -1}
    assert losses.Huber(delta=2.0).get_config()["delta"] == 2.0


# --- user losses in compile ----------------------------------------------------------------------
def test_a_callable_built_from_builtin_losses_trains():
    def blended(y_true, y_pred):
        return losses.mean_squared_error(y_true, y_pred) + 0.5 * losses.huber(y_true, y_pred, delta=0.5)

    x = RNG.normal(size=(64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = lamina.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.05), loss=blended)
    assert model.loss is blended
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_custom_loss_gradient_is_exact(float64):
    """A user's loss function in ops is differentiated by the tape (no numerical gradient)."""
    loss = losses.get(lambda t, p: losses.log_cosh(t, p) * 3)
    check_loss(loss, TARGET, REAL, atol=1e-8, rtol=1e-7)


def test_custom_loss_subclass_gradient_is_exact(float64):
    class Quartic(losses.Loss):
        def call(self, y_true, y_pred):
            return lamina.ops.mean((y_pred - y_true) ** 4, axis=-1)
    check_loss(Quartic(), TARGET, REAL, atol=1e-8, rtol=1e-7)
    check_loss(Quartic(reduction="sum"), TARGET, REAL, sample_weight=WEIGHTS, atol=1e-8, rtol=1e-7)


@pytest.mark.parametrize("loss", ["huber", "binary_focal_crossentropy", "hinge", "kld"])
def test_builtin_losses_train_a_model(loss):
    x = RNG.normal(size=(64, 3))
    y = (x[:, :1] > 0).astype(float)
    model = lamina.Sequential([layers.Dense(4, activation="tanh", input_shape=(3,)),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.5), loss=loss)
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
