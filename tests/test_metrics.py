"""Metrics against hand-computed values (with sample weights), their names, configs and subclassing."""
import numpy as np
import pytest

import lamina
from lamina import layers, losses, metrics

W = np.array([1.0, 2.0, 0.0, 1.0])


def result(metric, *args, **kwargs):
    metric.reset_state()
    metric.update_state(*args, **kwargs)
    return np.asarray(metric.result())


# --- reductions ----------------------------------------------------------------------------------
def test_mean_and_sum():
    m = metrics.Mean()
    m.update_state([1.0, 3.0])
    m.update_state([[5.0, 7.0]], sample_weight=[2.0])  # one sample whose mean is 6, weight 2
    assert float(m.result()) == pytest.approx((1 + 3 + 12) / 4)
    m.add(10.0, 2.0)
    assert float(m.result()) == pytest.approx(26 / 6)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert float(result(metrics.Sum(), [[1.0, 2.0], [3.0, 4.0]], sample_weight=[0.5, 1.0])) == pytest.approx(8.5)


# --- accuracy ------------------------------------------------------------------------------------
def test_accuracies_with_sample_weight():
    y_pred = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5], [0.7, 0.1, 0.2]])
    labels = np.array([1, 2, 2, 0])  # right, wrong, right, right
    hits = np.array([1, 0, 1, 1])
    expected = (hits * W).sum() / W.sum()
    assert float(result(metrics.SparseCategoricalAccuracy(), labels, y_pred, W)) == pytest.approx(expected)
    assert float(result(metrics.CategoricalAccuracy(), np.eye(3)[labels], y_pred, W)) == pytest.approx(expected)
    # top 2 of each row: {1, 2}, {0, 2}, {2, 1}, {0, 2}; of labels 0, 1, 1, 1 only row 2's is in
    other, w = np.array([0, 1, 1, 1]), np.array([1.0, 2.0, 3.0, 1.0])
    assert float(result(metrics.SparseTopKCategoricalAccuracy(k=2), other[:, None], y_pred, w)) == pytest.approx(3 / 7)
    assert float(result(metrics.TopKCategoricalAccuracy(k=2), np.eye(3)[other], y_pred, w)) == pytest.approx(3 / 7)
    assert float(result(metrics.SparseTopKCategoricalAccuracy(k=2), labels, y_pred)) == 1.0
    assert float(result(metrics.TopKCategoricalAccuracy(), np.eye(3)[labels], y_pred)) == 1.0  # k=5 > 3 classes


def test_binary_accuracy_and_accuracy():
    y_true = np.array([[1], [0], [1], [0]])
    y_pred = np.array([[0.7], [0.6], [0.4], [0.1]])  # right, wrong, wrong, right
    assert float(result(metrics.BinaryAccuracy(), y_true, y_pred, W)) == pytest.approx((1 + 0 + 0 + 1) / 4)
    assert float(result(metrics.BinaryAccuracy(threshold=0.35), y_true, y_pred)) == pytest.approx(0.75)
    assert float(result(metrics.Accuracy(), np.array([1, 2, 3, 4]), np.array([1, 2, 0, 0]), W)) == pytest.approx(3 / 4)


# --- regression ----------------------------------------------------------------------------------
def test_regression_metrics_with_sample_weight():
    y_true = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, -1.0], [4.0, 1.0]])
    y_pred = np.array([[1.5, 2.0], [1.0, 4.0], [0.0, 0.0], [5.0, 3.0]])
    err = y_pred - y_true
    per_mae = np.abs(err).mean(axis=1)
    per_mse = (err ** 2).mean(axis=1)
    per_mape = 100 * np.abs(err / y_true).mean(axis=1)
    assert float(result(metrics.MeanAbsoluteError(), y_true, y_pred, W)) == pytest.approx((per_mae * W).sum() / W.sum())
    assert float(result(metrics.MeanSquaredError(), y_true, y_pred, W)) == pytest.approx((per_mse * W).sum() / W.sum())
    assert float(result(metrics.RootMeanSquaredError(), y_true, y_pred, W)) == pytest.approx(
        np.sqrt((per_mse * W).sum() / W.sum()), rel=1e-6)
    assert float(result(metrics.MeanAbsolutePercentageError(), y_true, y_pred, W)) == pytest.approx(
        (per_mape * W).sum() / W.sum(), rel=1e-6)
    cos = metrics.CosineSimilarity()
    assert float(result(cos, np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 0.0]]))) == pytest.approx(
        (1 + 1 / np.sqrt(2)) / 2)


def test_r2_score():
    y_true = np.array([[1.0], [4.0], [3.0]])
    y_pred = np.array([[2.0], [4.0], [4.0]])
    # SS_res = 1 + 0 + 1 = 2; mean 8/3, SS_tot = (25 + 16 + 1) / 9 = 42 / 9
    assert float(result(metrics.R2Score(), y_true, y_pred)) == pytest.approx(1 - 2 / (42 / 9), rel=1e-6)
    w = np.array([1.0, 2.0, 1.0])  # weighted mean 3, SS_tot = 4 + 2 + 0 = 6, SS_res = 1 + 0 + 1
    assert float(result(metrics.R2Score(), y_true, y_pred, w)) == pytest.approx(1 - 2 / 6, rel=1e-6)
    two = np.c_[y_true, [0.0, 1.0, 2.0]]
    pred = np.c_[y_pred, [0.0, 1.0, 1.0]]  # column 2: SS_res 1, SS_tot 2
    raw = np.array([1 - 2 / (42 / 9), 0.5])
    np.testing.assert_allclose(result(metrics.R2Score(class_aggregation=None), two, pred), raw, rtol=1e-6)
    assert float(result(metrics.R2Score(), two, pred)) == pytest.approx(raw.mean(), rel=1e-6)
    assert float(result(metrics.R2Score(class_aggregation="variance_weighted_average"), two, pred)) == pytest.approx(
        (raw * [42 / 9, 2]).sum() / (42 / 9 + 2), rel=1e-6)
    n, p = 6, 2  # num_samples counts every entry of y_true, as Keras does
    assert float(result(metrics.R2Score(num_regressors=2), two, pred)) == pytest.approx(
        1 - (1 - raw.mean()) * (n - 1) / (n - p - 1), rel=1e-6)
    with pytest.warns(UserWarning, match="More independent predictors than datapoints"):
        result(metrics.R2Score(num_regressors=9), two, pred)


# --- precision, recall ---------------------------------------------------------------------------
def test_precision_and_recall():
    y_true = np.array([0, 1, 1, 1])
    y_pred = np.array([0.9, 0.2, 0.7, 0.6])
    # at 0.5: predicted positive rows 0, 2, 3 -> tp = w2 + w3 = 0 + 1, fp = w0 = 1, fn = w1 = 2
    assert float(result(metrics.Precision(), y_true, y_pred, W)) == pytest.approx(1 / 2)
    assert float(result(metrics.Recall(), y_true, y_pred, W)) == pytest.approx(1 / 3)
    assert float(result(metrics.Precision(), y_true, y_pred)) == pytest.approx(2 / 3)
    np.testing.assert_allclose(result(metrics.Precision(thresholds=[0.1, 0.65, 0.95]), y_true, y_pred),
                               [3 / 4, 1 / 2, 0.0])
    np.testing.assert_allclose(result(metrics.Recall(thresholds=[0.1, 0.65, 0.95]), y_true, y_pred),
                               [1.0, 1 / 3, 0.0])


def test_precision_top_k_and_class_id():
    y_true = np.array([[0, 1, 1, 0], [1, 0, 0, 1]])
    y_pred = np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]])
    # top 2 per row: {0, 1} and {3, 2}: tp = 1 + 1, fp = 1 + 1
    assert float(result(metrics.Precision(top_k=2), y_true, y_pred)) == pytest.approx(0.5)
    assert float(result(metrics.Recall(top_k=1), y_true, y_pred)) == pytest.approx(1 / 4)
    # class 3 alone: predictions 0.1 and 0.4 against labels 0 and 1, threshold 0.3
    assert float(result(metrics.Precision(class_id=3, thresholds=0.3), y_true, y_pred)) == 1.0
    assert float(result(metrics.Recall(class_id=1), y_true, y_pred)) == 0.0


# --- AUC -----------------------------------------------------------------------------------------
def test_auc_roc_is_keras_trapezoid_on_a_small_case():
    y_true, y_pred = np.array([0, 0, 1, 1]), np.array([0.0, 0.5, 0.3, 0.9])
    # thresholds [-eps, 0.5, 1+eps]: (fpr, tpr) = (1, 1), (0, 0.5), (0, 0)
    assert float(result(metrics.AUC(num_thresholds=3), y_true, y_pred)) == pytest.approx((1 - 0) * (1 + 0.5) / 2)
    assert float(result(metrics.AUC(num_thresholds=3, summation_method="minoring"), y_true, y_pred)) == 0.5
    assert float(result(metrics.AUC(num_thresholds=3, summation_method="majoring"), y_true, y_pred)) == 1.0
    # a fine grid with no ties gives the exact rank AUC: 3 of 4 (positive, negative) pairs ordered
    assert float(result(metrics.AUC(), y_true, y_pred)) == pytest.approx(0.75)
    # weights [1, 2, 0, 1]: only positive 0.9 counts; it beats both negatives
    assert float(result(metrics.AUC(), y_true, y_pred, W)) == pytest.approx(1.0)


def test_auc_pr_interpolation_by_hand():
    y_true, y_pred = np.array([0, 0, 1, 1]), np.array([0.0, 0.5, 0.3, 0.9])
    # tp [2, 1, 0], fp [2, 0, 0], fn [0, 1, 2]; positives p [4, 1, 0]
    # slopes dtp/dp = [1/3, 1], intercepts tp - slope * p = [2/3, 0]
    expected = (1 / 3) * (1 + (2 / 3) * np.log(4)) / 2 + 1 * (1 + 0) / 2
    assert float(result(metrics.AUC(num_thresholds=3, curve="PR"), y_true, y_pred)) == pytest.approx(expected)
    # (recall, precision) = (1, 0.5), (0.5, 1), (0, 0) under the trapezoid
    assert float(result(metrics.AUC(num_thresholds=3, curve="PR", summation_method="majoring"),
                        y_true, y_pred)) == pytest.approx(0.5 * 1 + 0.5 * 1)


def test_auc_matches_a_direct_trapezoid_on_random_data():
    rng = np.random.default_rng(3)
    y_true = (rng.uniform(size=300) > 0.6).astype(int)
    y_pred = np.clip(y_true * 0.3 + rng.uniform(size=300) * 0.7, 0, 1)
    thresholds = np.r_[-1e-7, np.arange(1, 199) / 199, 1 + 1e-7]
    above = y_pred[None] > thresholds[:, None]
    tpr = (above & (y_true == 1)).sum(1) / (y_true == 1).sum()
    fpr = (above & (y_true == 0)).sum(1) / (y_true == 0).sum()
    trapezoid = ((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum()
    m = metrics.AUC()
    for rows in np.array_split(np.arange(300), 7):  # state accumulates over batches
        m.update_state(y_true[rows], y_pred[rows])
    assert float(m.result()) == pytest.approx(trapezoid, rel=1e-6)


def test_auc_multi_label_from_logits_and_label_weights():
    y_true = np.array([[0, 1], [0, 0], [1, 1], [1, 0]])
    y_pred = np.array([[0.0, 0.9], [0.5, 0.8], [0.3, 0.6], [0.9, 0.1]])
    first = float(result(metrics.AUC(num_thresholds=3), y_true[:, 0], y_pred[:, 0]))
    second = float(result(metrics.AUC(num_thresholds=3), y_true[:, 1], y_pred[:, 1]))
    multi = metrics.AUC(num_thresholds=3, multi_label=True)
    assert float(result(multi, y_true, y_pred)) == pytest.approx((first + second) / 2)
    weighted = metrics.AUC(num_thresholds=3, multi_label=True, label_weights=[3.0, 1.0])
    assert float(result(weighted, y_true, y_pred)) == pytest.approx((3 * first + second) / 4)
    logits = np.log(y_pred[:, 0] + 1e-3) - np.log(1 - y_pred[:, 0] + 1e-3)
    assert float(result(metrics.AUC(from_logits=True), y_true[:, 0], logits)) == pytest.approx(
        float(result(metrics.AUC(), y_true[:, 0], y_pred[:, 0])))


# --- F scores ------------------------------------------------------------------------------------
Y_TRUE = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
Y_PRED = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])


def test_f_scores_match_keras_examples():
    np.testing.assert_allclose(result(metrics.F1Score(threshold=0.5), Y_TRUE, Y_PRED), [0.5, 0.8, 2 / 3], rtol=1e-5)
    np.testing.assert_allclose(result(metrics.FBetaScore(beta=2.0, threshold=0.5), Y_TRUE, Y_PRED),
                               [0.3846154, 0.90909094, 0.8333334], rtol=1e-5)


def test_f1_averages_and_weights_by_hand():
    # threshold 0.5: tp [1, 2, 1], fp [0, 1, 1], fn [2, 0, 0], support [3, 2, 1]
    f1 = np.array([0.5, 0.8, 2 / 3])
    assert float(result(metrics.F1Score(average="macro", threshold=0.5), Y_TRUE, Y_PRED)) == pytest.approx(
        f1.mean(), rel=1e-5)
    assert float(result(metrics.F1Score(average="weighted", threshold=0.5), Y_TRUE, Y_PRED)) == pytest.approx(
        (f1 * [3, 2, 1]).sum() / 6, rel=1e-5)
    micro_p, micro_r = 4 / 6, 4 / 6  # tp 4, fp 2, fn 2
    assert float(result(metrics.F1Score(average="micro", threshold=0.5), Y_TRUE, Y_PRED)) == pytest.approx(
        2 * micro_p * micro_r / (micro_p + micro_r), rel=1e-5)
    # no threshold: each row's max is the positive: rows pick classes 2, {1, 2} (tie), 1
    # tp [0, 1, 1], fp [0, 1, 1], fn [3, 1, 0]
    np.testing.assert_allclose(result(metrics.F1Score(), Y_TRUE, Y_PRED), [0.0, 0.5, 2 / 3], rtol=1e-5, atol=1e-6)
    # row weights [2, 0, 1] at 0.5: tp [1, 3, 2], fp [0, 0, 0], fn [2, 0, 0]
    np.testing.assert_allclose(result(metrics.F1Score(threshold=0.5), Y_TRUE, Y_PRED, np.array([2.0, 0.0, 1.0])),
                               [0.5, 1.0, 1.0], rtol=1e-5)


# --- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls", [
    ("mae", metrics.MeanAbsoluteError), ("mse", metrics.MeanSquaredError),
    ("mape", metrics.MeanAbsolutePercentageError),
    ("msle", metrics.MeanSquaredLogarithmicError), ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy), ("auc", metrics.AUC),
    ("AUC", metrics.AUC), ("precision", metrics.Precision), ("recall", metrics.Recall),
    ("f1_score", metrics.F1Score), ("fbeta_score", metrics.FBetaScore), ("r2_score", metrics.R2Score),
    ("root_mean_squared_error", metrics.RootMeanSquaredError), ("binary_accuracy", metrics.BinaryAccuracy),
    ("categorical_accuracy", metrics.CategoricalAccuracy), ("mean", metrics.Mean), ("sum", metrics.Sum),
    ("hinge", metrics.Hinge), ("kl_divergence", metrics.KLDivergence), ("poisson", metrics.Poisson),
])
def test_metric_names_resolve_to_the_class_and_compile_logs_them_as_given(name, cls):
    from lamina.trainers.compile_utils import get_metric
    metric = metrics.get(name)
    assert type(metric) is cls
    assert metric.name == cls().name  # metrics.get keeps the class's own name, as Keras's
    assert get_metric(name, np.zeros((2, 3)), np.zeros((2, 3))).name == name


def test_metrics_get_names_as_keras(keras_oracle):
    keras_oracle.compare("""
result = [K.metrics.get(name).name for name in ["TruePositives", "AUC", "mse", "mae", "msle", "BinaryAccuracy",
                                                "categorical_accuracy", "R2Score", "precision"]]
""")


def test_losses_as_metrics():
    y_true, y_pred = np.array([[0.0], [1.0]]), np.array([[2.0], [1.5]])
    for identifier in ("huber", losses.huber, losses.Huber()):
        metric = metrics.get(identifier)
        assert isinstance(metric, metrics.MeanMetricWrapper)
        assert float(result(metric, y_true, y_pred)) == pytest.approx((1.5 + 0.125) / 2)
    assert metrics.get("huber").name == "huber"
    assert metrics.get(losses.Huber()).name == "huber_loss"
    assert type(metrics.get(metrics.top_k_categorical_accuracy)) is metrics.TopKCategoricalAccuracy


def test_accuracy_resolution_from_shapes():
    assert type(metrics.get("accuracy", (8,), (8, 1))) is metrics.BinaryAccuracy
    assert type(metrics.get("acc", (8,), (8, 3))) is metrics.SparseCategoricalAccuracy
    assert type(metrics.get("accuracy", (8, 3), (8, 3))) is metrics.CategoricalAccuracy
    assert metrics.get("acc", (8,), (8, 3)).name == "acc"
    assert type(metrics.get("accuracy")) is metrics.Accuracy


@pytest.mark.parametrize("metric", [
    metrics.AUC(num_thresholds=50, curve="PR", multi_label=True, label_weights=[1.0, 2.0], name="pr"),
    metrics.AUC(thresholds=[0.25, 0.5, 0.75]), metrics.Precision(thresholds=[0.3, 0.6], class_id=1),
    metrics.Recall(top_k=2), metrics.F1Score(average="macro", threshold=0.4),
    metrics.FBetaScore(average="weighted", beta=0.5), metrics.R2Score(class_aggregation=None, num_regressors=1),
    metrics.TopKCategoricalAccuracy(k=3), metrics.BinaryAccuracy(threshold=0.7),
])
def test_config_round_trip(metric):
    config = metric.get_config()
    again = metrics.get({"class_name": type(metric).__name__, "config": config})
    assert again.get_config() == config


def test_auc_config_keys():
    assert metrics.AUC().get_config() == {
        "name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None, "label_weights": None,
        "from_logits": False}


# --- bad arguments -------------------------------------------------------------------------------
def test_bad_arguments_name_what_was_wrong():
    with pytest.raises(ValueError, match=r"AUC curve must be one of \('ROC', 'PR'\), got 'DET'"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match=r"AUC summation_method must be one of .*, got 'simpson'"):
        metrics.AUC(summation_method="simpson")
    with pytest.raises(ValueError, match=r"AUC num_thresholds must be > 1, got 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match=r"Precision thresholds must be in \[0, 1\], got \[1.5\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"F1Score average must be one of .*, got 'mean'"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match=r"FBetaScore beta must be a number > 0, got 0"):
        metrics.FBetaScore(beta=0)
    with pytest.raises(ValueError, match=r"F1Score threshold must be a number in \(0, 1\], got 0"):
        metrics.F1Score(threshold=0)
    with pytest.raises(ValueError, match=r"F1Score expects inputs of shape \(batch_size, output_dim\)"):
        metrics.F1Score().update_state(np.array([1, 0]), np.array([0.3, 0.6]))
    with pytest.raises(ValueError, match=r"R2Score class_aggregation must be one of .*, got 'median'"):
        metrics.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match=r"R2Score num_regressors must be >= 0, got -1"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match=r"Unknown metric 'maee'. Valid names: .*mae"):
        metrics.get("maee")
    with pytest.raises(TypeError, match=r"metric must be a name, a function or a Metric, got 3"):
        metrics.get(3)


# --- in a model ----------------------------------------------------------------------------------
class PositiveRate(metrics.Metric):
    """A user metric written as in Keras: state from add_variable, updated with assign_add."""

    def __init__(self, name="positive_rate", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positives = self.add_variable(shape=(), initializer="zeros", name="positives")
        self.seen = self.add_weight(name="seen")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.positives.assign_add(np.sum(np.asarray(y_pred) > 0.5))
        self.seen.assign(self.seen + np.size(y_pred))

    def result(self):
        return self.positives / self.seen


def test_user_metric_subclass_in_fit():
    x = np.random.default_rng(1).normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(float)
    model = lamina.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[PositiveRate(), "auc", "precision", "mae"])
    history = model.fit(x, y, epochs=2, batch_size=40, verbose=0)
    assert sorted(history.history) == ["auc", "loss", "mae", "positive_rate", "precision"]
    rate = float(np.mean(model.predict(x, verbose=0) > 0.5))
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["positive_rate"] == pytest.approx(rate)
    assert logs["mae"] == pytest.approx(float(np.mean(np.abs(model.predict(x, verbose=0)[:, 0] - y))), rel=1e-5)
    assert 0.0 <= logs["auc"] <= 1.0
