"""The IoU metrics against Keras 3 itself: weighted updates over several batches, the result, a
reset, the confusion matrix Keras keeps, the config round trip; then compiled in a model through
fit and evaluate; and the arguments Keras refuses."""
import warnings

import numpy as np
import pytest
from keras_oracle import run_lamina
from test_keras_losses import inputs

import lamina

# labels and predictions: class ids, one-hot labels with scores, 0/1 masks with probabilities; two
# samples in three get their label's score raised, so the classes overlap as a trained model's do
HITS = "hits = np.arange(len(labels)) % 3 != 0; scores = probabilities + np.eye(4)[labels] * hits[:, None]; "
KINDS = {
    "ids": HITS + "yt = labels; yp = np.argmax(scores, -1)",
    "ids_column": HITS + "yt = labels[:, None]; yp = np.argmax(scores, -1)[:, None]",
    "ids_scores": HITS + "yt = labels; yp = scores",
    "ids_out_of_range": HITS + ("yt = np.where(labels == 3, 7, labels); "
                                "yp = np.where(labels == 1, -1, np.argmax(scores, -1))"),
    "one_hot": HITS + "yt = np.eye(4)[labels]; yp = scores",
    "one_hot_ids": HITS + "yt = np.eye(4)[labels]; yp = np.argmax(scores, -1)",
    "binary": "yt = (labels % 2).astype(floatx)[:, None]; yp = (probabilities[:, :1] + yt) / 2",
    "masks": "yt = (targets > 0).astype(floatx); yp = (probabilities * 2 + yt) / 2",
}
# the weights of each update: fractions (for a float metric), counts (Keras's int default
# truncates fractions), or one per mask pixel
WEIGHTS = {"fractions": "sample_weight", "counts": "np.floor(sample_weight * 2)",
           "pixels": "np.repeat(sample_weight[:, None], 4, axis=1)"}

METRICS = {
    "IoU": ("K.metrics.IoU(num_classes=4, target_class_ids=[0, 2], dtype='float32')", "ids", "fractions"),
    "IoU_int_counts": ("K.metrics.IoU(num_classes=4, target_class_ids=[1, 2, 3])", "ids", "counts"),
    "IoU_int_truncates_fractions": ("K.metrics.IoU(num_classes=4, target_class_ids=[0, 1])", "ids", "fractions"),
    "IoU_ignore_class_scores": (
        "K.metrics.IoU(num_classes=4, target_class_ids=[1, 3], ignore_class=2, sparse_y_pred=False, dtype='float32')",
        "ids_scores", "fractions"),
    "IoU_one_hot_labels": ("K.metrics.IoU(4, [3], sparse_y_true=False, sparse_y_pred=False, dtype='float64')",
                           "one_hot", "fractions"),
    "IoU_column_labels": ("K.metrics.IoU(num_classes=4, target_class_ids=[2], dtype='float32')", "ids_column",
                          "fractions"),
    "MeanIoU": ("K.metrics.MeanIoU(num_classes=4, dtype='float32')", "ids", "fractions"),
    "MeanIoU_int": ("K.metrics.MeanIoU(num_classes=4, name='miou')", "ids", "counts"),
    "MeanIoU_out_of_range_left_out": ("K.metrics.MeanIoU(num_classes=4, dtype='float32')", "ids_out_of_range",
                                      "fractions"),
    "MeanIoU_ignore_class": ("K.metrics.MeanIoU(4, ignore_class=0, sparse_y_pred=False, dtype='float32')",
                             "ids_scores", "fractions"),
    "BinaryIoU": ("K.metrics.BinaryIoU()", "binary", "counts"),
    "BinaryIoU_threshold": ("K.metrics.BinaryIoU(target_class_ids=[1], threshold=0.3, dtype='float32')", "binary",
                            "fractions"),
    "BinaryIoU_masks": ("K.metrics.BinaryIoU(target_class_ids=(0, 1), threshold=0.6, dtype='float32')", "masks",
                        "pixels"),
    "OneHotIoU": ("K.metrics.OneHotIoU(num_classes=4, target_class_ids=[0, 3], dtype='float32')", "one_hot",
                  "fractions"),
    "OneHotIoU_ids": ("K.metrics.OneHotIoU(4, [1, 2], ignore_class=3, sparse_y_pred=True, dtype='float32')",
                      "one_hot_ids", "fractions"),
    "OneHotMeanIoU": ("K.metrics.OneHotMeanIoU(num_classes=4, dtype='float32')", "one_hot", "fractions"),
    "OneHotMeanIoU_int_ignore": ("K.metrics.OneHotMeanIoU(num_classes=4, ignore_class=1)", "one_hot", "counts"),
}

UPDATES = """
import json
import warnings
{kind}
weights = {weights}
with warnings.catch_warnings():  # Keras warns of float weights for an int metric; so does lamina
    warnings.simplefilter("ignore")
    metric = {metric}
    results = []
    for rows in (slice(0, 5), slice(5, 9), slice(9, 12)):
        metric.update_state(yt[rows], yp[rows], sample_weight=weights[rows])
        results.append(numpy(metric.result()))
    matrix = numpy(metric.variables[0])
    metric.reset_state()
    after_reset = numpy(metric.result())
    metric.update_state(yt[2:10], yp[2:10])
config = json.loads(json.dumps(metric.get_config()))  # as a file holds it (and plain lists, not Keras's)
rebuilt = json.loads(json.dumps(type(metric).from_config(config).get_config()))
result = {{"results": results, "matrix": matrix, "after_reset": after_reset, "again": numpy(metric.result()),
          "names": [v.name for v in metric.variables], "config": config, "rebuilt": rebuilt,
          "result_dtype": str(np.asarray(numpy(metric.result())).dtype), "name": metric.name}}
"""


@pytest.mark.parametrize("name", sorted(METRICS))
def test_iou_updates_results_reset_and_config_match_keras(keras_oracle, name):
    metric, kind, weights = METRICS[name]
    code = UPDATES.format(kind=KINDS[kind], weights=WEIGHTS[weights], metric=metric)
    ours, _ = keras_oracle.compare(code, inputs(12), "float32", rtol=1e-6)
    assert ours["result_dtype"] == "float32" and ours["names"] == ["total_confusion_matrix"]
    assert float(np.max(ours["results"])) > 0  # a case that counts nothing would prove little


def test_every_iou_metric_has_a_keras_test():
    covered = {expression.split("(")[0].removeprefix("K.metrics.") for expression, _, _ in METRICS.values()}
    assert covered == {"IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU"}


def test_float_weights_for_an_int_metric_warn_and_count_whole():
    metric = lamina.metrics.MeanIoU(num_classes=2)
    with pytest.warns(UserWarning, match="truncated to the metric's dtype int32"):
        metric.update_state(np.array([0, 1, 1]), np.array([0, 1, 0]), sample_weight=np.array([0.7, 1.9, 2.2]))
    np.testing.assert_array_equal(metric.variables[0].numpy(), [[0, 0], [2, 1]])


TRAIN = """
model = K.Sequential([K.Input((4,)), K.layers.Dense(6, activation="tanh"),
                     K.layers.Dense(UNITS, activation=ACTIVATION)])
model.compile(optimizer=K.optimizers.SGD(0.3), loss=LOSS, metrics={metrics}, weighted_metrics={weighted})
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
y = {y}
history = model.fit(targets, y, sample_weight=sample_weight, batch_size=5, epochs=3, shuffle=False, verbose=0)
result = {{"history": history.history, "names": sorted(m.name for m in model.metrics),
          "evaluate": model.evaluate(targets, y, sample_weight=sample_weight, batch_size=4, verbose=0,
                                     return_dict=True),
          "unweighted": model.evaluate(targets, y, verbose=0, return_dict=True)}}
"""
TRAIN_CASES = {
    "sparse": {"UNITS": 4, "ACTIVATION": "softmax", "LOSS": "sparse_categorical_crossentropy", "Y": "labels",
               "METRICS": "[K.metrics.MeanIoU(4, sparse_y_pred=False, name='miou'), "
                          "K.metrics.IoU(4, [1, 2], sparse_y_pred=False, name='iou12')]",
               "WEIGHTED": "[K.metrics.MeanIoU(4, sparse_y_pred=False, dtype='float32', name='wmiou')]"},
    "one_hot": {"UNITS": 4, "ACTIVATION": "softmax", "LOSS": "categorical_crossentropy", "Y": "np.eye(4)[labels]",
                "METRICS": "[K.metrics.OneHotMeanIoU(4, name='miou'), K.metrics.OneHotIoU(4, [0, 3], name='iou03')]",
                "WEIGHTED": "[K.metrics.OneHotIoU(4, [1], dtype='float32', name='wiou1')]"},
    "binary": {"UNITS": 1, "ACTIVATION": "sigmoid", "LOSS": "binary_crossentropy",
               "Y": "(labels % 2).astype(floatx)[:, None]",
               "METRICS": "[K.metrics.BinaryIoU(name='biou'), K.metrics.BinaryIoU([1], threshold=0.4, name='biou1')]",
               "WEIGHTED": "[K.metrics.BinaryIoU(threshold=0.6, dtype='float32', name='wbiou')]"},
}


@pytest.mark.parametrize("case", sorted(TRAIN_CASES))
def test_iou_metrics_in_fit_and_evaluate_match_keras(keras_oracle, case):
    settings = dict(TRAIN_CASES[case])
    code = TRAIN.format(metrics=settings.pop("METRICS"), weighted=settings.pop("WEIGHTED"), y=settings.pop("Y"))
    ours, _ = keras_oracle.compare(code, {**inputs(12), **settings}, "float32")
    assert len(ours["history"]["loss"]) == 3


REFUSED = """
refusals = {}
for label, expression in CASES.items():
    try:
        eval(expression, {"K": K})
        refusals[label] = None
    except (TypeError, ValueError) as error:
        refusals[label] = type(error).__name__
result = refusals
"""
# what Keras refuses, lamina refuses with the same kind of error (lamina's messages name the argument)
REFUSALS = {
    "target_out_of_range": ("K.metrics.IoU(num_classes=3, target_class_ids=[0, 3])",
                            "target class id 3 is out of range"),
    "no_target": ("K.metrics.IoU(num_classes=3, target_class_ids=[])", "must name at least one class"),
    "no_classes": ("K.metrics.MeanIoU(num_classes=0)", "num_classes must be an integer >= 1, got 0"),
    "fractional_classes": ("K.metrics.MeanIoU(num_classes=2.5)", "num_classes must be an integer, got 2.5"),
    "one_target": ("K.metrics.OneHotIoU(num_classes=3, target_class_ids=1)", "must be a list or tuple"),
    "binary_target": ("K.metrics.BinaryIoU(target_class_ids=[2])", "target class id 2 is out of range, which is"),
    "missing_classes": ("K.metrics.OneHotMeanIoU()", "num_classes"),
}


def test_bad_arguments_are_refused_as_keras_refuses_them(keras_oracle):
    cases = {label: expression for label, (expression, _) in REFUSALS.items()}
    theirs = keras_oracle.run(REFUSED, {"CASES": cases})
    assert run_lamina(REFUSED, {"CASES": cases}) == theirs
    assert all(theirs.values()), theirs
    for expression, message in REFUSALS.values():
        with pytest.raises((TypeError, ValueError), match=message):
            eval(expression, {"K": lamina})


@pytest.mark.parametrize("expression, message", [
    ("K.metrics.IoU(3, [-1])", "target class id -1 is out of range"),  # Keras takes -1 as the last class
    ("K.metrics.IoU(3, [0.5])", "target_class_ids entry must be an integer, got 0.5"),
    ("K.metrics.MeanIoU(3, ignore_class='void')", "ignore_class must be an integer"),
    ("K.metrics.OneHotIoU(3, [1], sparse_y_pred='no')", "sparse_y_pred must be True or False"),
    ("K.metrics.BinaryIoU(threshold='0.5')", "threshold must be a number"),
])
def test_arguments_keras_would_misuse_are_refused_by_name(expression, message):
    with pytest.raises((TypeError, ValueError), match=message):
        eval(expression, {"K": lamina})


def test_mismatched_labels_and_weights_are_refused():
    metric = lamina.metrics.MeanIoU(num_classes=3, dtype="float32")
    with pytest.raises(ValueError, match="one prediction per label, got 3 labels and 2 predictions"):
        metric.update_state(np.array([0, 1, 2]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"one weight per label \(3\) or be a scalar, got 2 weights"):
        metric.update_state(np.array([0, 1, 2]), np.array([0, 1, 1]), sample_weight=np.array([1.0, 2.0]))


NAMES = """
import json
serialized = json.loads(json.dumps(K.metrics.serialize(K.metrics.OneHotIoU(3, (0, 2), ignore_class=1))))
back = K.metrics.deserialize(serialized)
result = {"serialized": serialized, "back": json.loads(json.dumps(K.metrics.serialize(back))),
          "by_name": json.loads(json.dumps(K.metrics.deserialize("BinaryIoU").get_config()))}
"""


def test_serialize_deserialize_and_lookup_by_name_match_keras(keras_oracle):
    keras_oracle.compare(NAMES)


def test_a_saved_model_keeps_its_iou_metric(tmp_path):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[lamina.metrics.MeanIoU(3, sparse_y_pred=False, ignore_class=0, name="miou")])
    model.save(tmp_path / "m.keras")
    restored = lamina.models.load_model(tmp_path / "m.keras")
    x, y = np.random.default_rng(0).normal(size=(6, 4)), np.array([0, 1, 2, 2, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert restored.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(x, y, verbose=0, return_dict=True)
    config = restored.get_compile_config()["metrics"][0]
    assert (config["class_name"], config["config"]["ignore_class"]) == ("MeanIoU", 0)
