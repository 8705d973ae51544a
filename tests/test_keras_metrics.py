"""Every metric against Keras 3 itself: two weighted updates, the result, a reset, one more
update (so a reset that forgets a variable shows), and the variables Keras keeps; then
compiled metrics through train_on_batch and evaluate."""
import numpy as np
import pytest
from keras_oracle import assert_same, run_lamina
from test_keras_losses import KINDS, inputs

import lamina

METRICS = {
    "Mean": ("K.metrics.Mean()", "values"),
    "Sum": ("K.metrics.Sum()", "values"),
    "Accuracy": ("K.metrics.Accuracy()", "sparse_predicted"),
    "BinaryAccuracy": ("K.metrics.BinaryAccuracy(threshold=0.4)", "binary"),
    "CategoricalAccuracy": ("K.metrics.CategoricalAccuracy()", "probabilities"),
    "SparseCategoricalAccuracy": ("K.metrics.SparseCategoricalAccuracy()", "sparse"),
    "TopKCategoricalAccuracy": ("K.metrics.TopKCategoricalAccuracy(k=2)", "probabilities"),
    "SparseTopKCategoricalAccuracy": ("K.metrics.SparseTopKCategoricalAccuracy(k=2)", "sparse"),
    "Precision": ("K.metrics.Precision()", "binary"),
    "Precision_thresholds_top_k": ("K.metrics.Precision(thresholds=[0.2, 0.5], top_k=2, class_id=1)",
                                   "multilabel"),
    "Recall": ("K.metrics.Recall(thresholds=0.3)", "binary"),
    "Recall_class_id": ("K.metrics.Recall(class_id=2)", "multilabel"),
    "AUC": ("K.metrics.AUC(num_thresholds=50)", "binary"),
    "AUC_PR": ("K.metrics.AUC(curve='PR', summation_method='minoring')", "binary"),
    "AUC_multilabel_logits": ("K.metrics.AUC(multi_label=True, num_labels=4, from_logits=True)",
                              "multilabel_logits"),
    "F1Score": ("K.metrics.F1Score(average='macro', threshold=0.3)", "multilabel"),
    "FBetaScore": ("K.metrics.FBetaScore(beta=2.0, average='weighted')", "multilabel"),
    "FBetaScore_micro": ("K.metrics.FBetaScore(beta=0.5, average='micro', threshold=0.4)", "multilabel"),
    "MeanSquaredError": ("K.metrics.MeanSquaredError()", "regression"),
    "MeanAbsoluteError": ("K.metrics.MeanAbsoluteError()", "regression"),
    "MeanAbsolutePercentageError": ("K.metrics.MeanAbsolutePercentageError()", "regression"),
    "MeanSquaredLogarithmicError": ("K.metrics.MeanSquaredLogarithmicError()", "positive"),
    "RootMeanSquaredError": ("K.metrics.RootMeanSquaredError()", "regression"),
    "R2Score": ("K.metrics.R2Score()", "regression"),
    "R2Score_adjusted": ("K.metrics.R2Score(class_aggregation='variance_weighted_average', num_regressors=1)",
                         "regression"),
    "CosineSimilarity": ("K.metrics.CosineSimilarity()", "regression"),
    "LogCoshError": ("K.metrics.LogCoshError()", "regression"),
    "Hinge": ("K.metrics.Hinge()", "signs"),
    "SquaredHinge": ("K.metrics.SquaredHinge()", "signs"),
    "CategoricalHinge": ("K.metrics.CategoricalHinge()", "probabilities"),
    "KLDivergence": ("K.metrics.KLDivergence()", "positive"),
    "Poisson": ("K.metrics.Poisson()", "positive"),
    "BinaryCrossentropy": ("K.metrics.BinaryCrossentropy(label_smoothing=0.1)", "binary"),
    "BinaryCrossentropy_logits": ("K.metrics.BinaryCrossentropy(from_logits=True)", "binary_logits"),
    "CategoricalCrossentropy": ("K.metrics.CategoricalCrossentropy()", "probabilities"),
    "SparseCategoricalCrossentropy": ("K.metrics.SparseCategoricalCrossentropy(from_logits=True)",
                                      "sparse_logits"),
    # the counts, the rates at a target and the correlations (tests/test_keras_confusion_counts.py
    # and test_keras_api_names.py hold them to Keras in more cases)
    "TruePositives": ("K.metrics.TruePositives()", "binary"),
    "FalsePositives": ("K.metrics.FalsePositives(thresholds=[0.1, 0.3, 0.6])", "binary"),
    "TrueNegatives": ("K.metrics.TrueNegatives(thresholds=0.2)", "multilabel"),
    "FalseNegatives": ("K.metrics.FalseNegatives()", "multilabel"),
    "SensitivityAtSpecificity": ("K.metrics.SensitivityAtSpecificity(0.5)", "binary"),
    "SpecificityAtSensitivity": ("K.metrics.SpecificityAtSensitivity(0.4, num_thresholds=50)", "binary"),
    "PrecisionAtRecall": ("K.metrics.PrecisionAtRecall(0.3, class_id=1)", "multilabel"),
    "RecallAtPrecision": ("K.metrics.RecallAtPrecision(0.2)", "binary"),
    "PearsonCorrelation": ("K.metrics.PearsonCorrelation()", "regression"),
    "ConcordanceCorrelation": ("K.metrics.ConcordanceCorrelation()", "regression"),
    # the IoU metrics (tests/test_keras_iou_metrics.py holds them to Keras in more cases); float32:
    # Keras's int default truncates these fractional weights
    "IoU": ("K.metrics.IoU(num_classes=4, target_class_ids=[0, 3], dtype='float32')", "sparse_predicted"),
    "MeanIoU": ("K.metrics.MeanIoU(num_classes=4, dtype='float32')", "sparse_predicted"),
    "BinaryIoU": ("K.metrics.BinaryIoU(threshold=0.2, dtype='float32')", "binary"),
    "OneHotIoU": ("K.metrics.OneHotIoU(num_classes=4, target_class_ids=[1, 2], dtype='float32')", "probabilities"),
    "OneHotMeanIoU": ("K.metrics.OneHotMeanIoU(num_classes=4, dtype='float32')", "probabilities"),
}
EXTRA_KINDS = {
    "values": "yt = None; yp = targets[:, 0]",
    "sparse_predicted": "yt = labels; yp = np.argmax(probabilities, -1)",
    "multilabel_logits": "yt = (targets > 0).astype(floatx); yp = logits",
}

UPDATES = """
{kind}
metric = {metric}
def update(rows, weights):
    if yt is None:
        metric.update_state(yp[rows], sample_weight=weights)
    else:
        metric.update_state(yt[rows], yp[rows], sample_weight=weights)
update(slice(0, 5), sample_weight[:5])
first = numpy(metric.result())
update(slice(5, 12), sample_weight[5:12])
second = numpy(metric.result())
metric.reset_state()
after_reset = numpy(metric.result())
update(slice(2, 9), None)
result = {{"first": first, "second": second, "after_reset": after_reset, "again": numpy(metric.result()),
          "variables": [numpy(v) for v in metric.variables]}}
"""


# Differences on purpose, each checked below:
# - the mean metrics (Mean and its wrappers) keep their total and count as Python floats, not
#   variables, so their `variables` is empty where Keras lists total and count; AUC, F1/FBeta and
#   R2Score keep their state in arrays too. Precision and Recall hold Keras's variables exactly.
# - after reset_state, with nothing seen, R2Score gives 0.0 where Keras
#   gives nan (0/0); every other metric gives Keras's 0.0.
WITH_KERAS_VARIABLES = {"Precision", "Precision_thresholds_top_k", "Recall", "Recall_class_id", "TruePositives",
                        "FalsePositives", "TrueNegatives", "FalseNegatives", "SensitivityAtSpecificity",
                        "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision", "IoU", "MeanIoU",
                        "BinaryIoU", "OneHotIoU", "OneHotMeanIoU"}
ZERO_NOT_NAN_WHEN_EMPTY = {"R2Score", "R2Score_adjusted"}


def run_both(keras_oracle, name, floatx, **tol):
    metric, kind = METRICS[name]
    code = UPDATES.format(kind={**KINDS, **EXTRA_KINDS}[kind], metric=metric)
    theirs = keras_oracle.run(code, inputs(12), floatx)
    ours = run_lamina(code, inputs(12), floatx)
    if name not in WITH_KERAS_VARIABLES:
        assert ours.pop("variables") == [], "a metric now keeps variables: compare them with Keras's"
        theirs.pop("variables")
    if name in ZERO_NOT_NAN_WHEN_EMPTY:
        assert np.isnan(theirs["after_reset"]) and ours["after_reset"] == 0.0
        theirs["after_reset"] = ours["after_reset"]
    assert_same(ours, theirs, floatx, **tol)
    return ours


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metric_updates_results_and_reset_match_keras(keras_oracle, name):
    run_both(keras_oracle, name, "float32")


@pytest.mark.parametrize("name", ["Mean", "MeanSquaredError", "Precision", "AUC", "R2Score", "CategoricalAccuracy"])
def test_metrics_compute_in_float64_under_float64(keras_oracle, name):
    """Bug 1 of issue 10: under floatx float64, results are float64 (Keras computes in floatx)."""
    # Keras's ops.mean computes float64 in float32 (see test_keras_losses.py): ~1e-7 agreement
    ours = run_both(keras_oracle, name, "float64", rtol=3e-7)
    assert all(np.asarray(ours[key]).dtype == np.float64 for key in ("first", "second", "again"))


TRAIN = """
model = K.Sequential([K.Input((4,)), K.layers.Dense(4, activation="softmax")])
model.compile(optimizer=K.optimizers.SGD(0.3), loss="categorical_crossentropy",
              metrics=["accuracy", "mae", K.metrics.AUC(name="auc"), K.metrics.Precision(name="precision"),
                       K.metrics.TopKCategoricalAccuracy(k=2, name="top2")])
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
yt = np.eye(4)[labels]
logs = [model.train_on_batch(targets[r], yt[r], sample_weight=sample_weight[r], return_dict=True)
        for r in (slice(0, 6), slice(6, 12))]
result = {"logs": logs, "evaluate": model.evaluate(targets, yt, batch_size=5, verbose=0, return_dict=True),
          "names": [m.name for m in model.metrics]}
"""


def test_compiled_metrics_in_train_on_batch_and_evaluate_match_keras(keras_oracle):
    keras_oracle.compare(TRAIN, inputs(12), "float32")


def test_every_metric_has_an_oracle_test():
    classes = {name for name in lamina.metrics.__all__ if isinstance(getattr(lamina.metrics, name), type)}
    covered = {expression.split("(")[0].removeprefix("K.metrics.") for expression, _ in METRICS.values()}
    excluded = {"Metric": "the base class", "MetricVariable": "a metric's state, not a metric",
                "MeanMetricWrapper": "the base of the mean metrics above"}
    assert classes - covered - set(excluded) == set(), "a metric without a Keras oracle test"


WEIGHTED = """
model = K.Sequential([K.Input((4,)), K.layers.Dense(2)])
model.compile(optimizer=K.optimizers.SGD(0.1), loss="mse", loss_weights=LOSS_WEIGHTS, metrics=["mae"],
              weighted_metrics=["mae", K.metrics.MeanSquaredError(name="wmse")])
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
yt = targets[:, :2]
logs = [model.train_on_batch(targets[r], yt[r], sample_weight=sample_weight[r], return_dict=True)
        for r in (slice(0, 6), slice(6, 12))]
result = {"logs": logs, "weights": model.get_weights(),
          "evaluate": model.evaluate(targets, yt, sample_weight=sample_weight, verbose=0, return_dict=True),
          "unweighted": model.evaluate(targets, yt, verbose=0, return_dict=True)}
"""


@pytest.mark.parametrize("loss_weights", [None, [2.5], 0.5])
def test_weighted_metrics_and_loss_weights_match_keras(keras_oracle, loss_weights):
    """Bug 8 of issue 10: weighted_metrics see sample_weight (named as Keras names them) and
    loss_weights scales a one-output model's loss."""
    keras_oracle.compare(WEIGHTED, {**inputs(12), "LOSS_WEIGHTS": loss_weights})
