"""The confusion counts (TruePositives...) and the rates at a target (SensitivityAtSpecificity...)
against Keras 3 itself: three weighted and unweighted updates, on one-column and multi-label
predictions, with several thresholds lists (one value, an evenly spaced list that Keras counts by
bucketing, an uneven one) and predictions exactly at a threshold; their variables, configs and
from_config; their serialized dicts read by the other library; and compiled in a small binary
model through fit (with class_weight) and evaluate."""
import numpy as np
import pytest
from keras_oracle import assert_same, run_lamina

import lamina

TOL = {"rtol": 1e-6}


def scores(n=16, labels=3):
    """Labels and predictions in [0, 1], some exactly 0, 0.5 and 1 (on a threshold of each list)."""
    rng = np.random.default_rng(7)
    predictions = rng.uniform(0, 1, (n, labels))
    predictions[:3, 0] = [0.0, 0.5, 1.0]
    predictions[3, :] = 0.5
    return {"y": (rng.uniform(size=(n, labels)) < 0.45).astype(np.float64), "p": predictions,
            "w": rng.uniform(0.0, 2.0, n)}


UPDATES = """
import json
yt, yp = (y[:, :1], p[:, :1]) if KIND == "binary" else (y, p)
metric = {metric}
steps = []
for rows, weights in ((slice(0, 6), w[:6]), (slice(6, 11), None), (slice(11, 16), w[11:])):
    metric.update_state(yt[rows], yp[rows], sample_weight=weights)
    steps.append(numpy(metric.result()))
# a JSON round trip, as a file stores it (Keras hands back a thresholds list as its own list type)
config = json.loads(json.dumps(metric.get_config()))
rebuilt = type(metric).from_config(config)
rebuilt.update_state(yt, yp, sample_weight=w)
result = {{"steps": steps, "variables": [numpy(v) for v in metric.variables],
          "variable_names": [v.name for v in metric.variables], "config": config,
          "rebuilt": numpy(rebuilt.result()), "rebuilt_config": json.loads(json.dumps(rebuilt.get_config()))}}
metric.reset_state()
result["after_reset"] = numpy(metric.result())
"""

COUNTS = ("TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives")
THRESHOLDS = {"default": "", "one": "thresholds=0.3", "even": "thresholds=[0.0, 0.5, 1.0]",
              "uneven": "thresholds=[0.1, 0.25, 0.5, 0.9]", "ends": "thresholds=[0.0, 1.0]"}


def compare(keras_oracle, metric: str, kind: str, floatx: str = "float32"):
    code = UPDATES.format(metric=metric)
    data = {**scores(), "KIND": kind}
    theirs = keras_oracle.run(code, data, floatx)
    ours = run_lamina(code, data, floatx)
    assert_same(ours, theirs, **TOL)
    return ours


@pytest.mark.parametrize("kind", ["binary", "multilabel"])
@pytest.mark.parametrize("thresholds", sorted(THRESHOLDS))
@pytest.mark.parametrize("name", COUNTS)
def test_confusion_counts_match_keras(keras_oracle, name, thresholds, kind):
    ours = compare(keras_oracle, f"K.metrics.{name}({THRESHOLDS[thresholds]})", kind)
    assert ours["variable_names"] == ["accumulator"]


RATES = {
    "SensitivityAtSpecificity": "specificity", "SpecificityAtSensitivity": "sensitivity",
    "PrecisionAtRecall": "recall", "RecallAtPrecision": "precision",
}
RATE_CASES = {"default": ("0.5", "", "binary"), "one_threshold": ("0.8", "num_thresholds=1", "binary"),
              "two_thresholds": ("0.3", "num_thresholds=2", "binary"),
              "three_thresholds": ("0.6", "num_thresholds=3", "multilabel"),
              "class_id": ("0.4", "num_thresholds=50, class_id=1", "multilabel"),
              "unreachable": ("1.0", "num_thresholds=20", "binary"), "zero": ("0.0", "num_thresholds=7", "binary")}


# In float32 Keras derives tn and fn as a total minus a cumulative sum, and the cancellation
# leaves ~1e-7 absolute error in them (lamina's are exact sums, rounded once): a rate made of
# small counts then differs by a few 1e-6, and a rate of exactly 1.0 can come out 0.99999994,
# missing a target of 1.0. The cases below at those edges run in float64, where both are exact.
FLOAT64_ONLY = {("PrecisionAtRecall", "unreachable"), ("SpecificityAtSensitivity", "three_thresholds"),
                ("SpecificityAtSensitivity", "two_thresholds"), ("SpecificityAtSensitivity", "unreachable")}


RATE_RUNS = [(name, case, floatx) for name in sorted(RATES) for case in sorted(RATE_CASES)
             for floatx in ("float32", "float64") if not (floatx == "float32" and (name, case) in FLOAT64_ONLY)]


@pytest.mark.parametrize("name,case,floatx", RATE_RUNS)
def test_rates_at_a_target_match_keras(keras_oracle, name, case, floatx):
    target, extra, kind = RATE_CASES[case]
    arguments = ", ".join(a for a in (f"{RATES[name]}={target}", extra) if a)
    ours = compare(keras_oracle, f"K.metrics.{name}({arguments})", kind, floatx)
    assert ours["variable_names"] == ["true_positives", "false_positives", "true_negatives", "false_negatives"]


@pytest.mark.parametrize("name", sorted(RATES))
def test_rate_targets_out_of_range_are_refused_as_keras_does(name):
    cls = getattr(lamina.metrics, name)
    with pytest.raises(ValueError, match=f"`{RATES[name]}` must be in the range"):
        cls(1.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        cls(0.5, num_thresholds=0)
    with pytest.raises(ValueError, match="thresholds must be in"):
        lamina.metrics.TruePositives(thresholds=[0.2, 1.5])


SERIALIZED = """
import json
result = json.loads(json.dumps(K.saving.serialize_keras_object({metric})))
"""
SERIALIZE_CASES = ("TruePositives(thresholds=[0.2, 0.7], name='tp')", "FalseNegatives(name='fn')",
                   "SensitivityAtSpecificity(0.7, num_thresholds=20, class_id=2)", "RecallAtPrecision(0.8)",
                   "PearsonCorrelation(axis=0)", "ConcordanceCorrelation(name='ccc')")
READ_BACK = """
import json
result = json.loads(json.dumps(K.saving.deserialize_keras_object(config).get_config()))
"""


@pytest.mark.parametrize("metric", SERIALIZE_CASES)
def test_serialized_metrics_match_keras_and_load_in_either(keras_oracle, metric):
    code = SERIALIZED.format(metric=f"K.metrics.{metric}")
    theirs, ours = keras_oracle.run(code), run_lamina(code)
    assert_same(ours, theirs)
    # Keras's dict built in lamina, lamina's dict built in Keras: the same configs again
    assert_same(run_lamina(READ_BACK, {"config": theirs}), theirs["config"])
    assert_same(keras_oracle.run(READ_BACK, {"config": ours}), ours["config"])


MODEL = """
model = K.Sequential([K.Input((4,)), K.layers.Dense(3, activation="relu"), K.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=K.optimizers.SGD(0.2), loss="binary_crossentropy",
              metrics=[K.metrics.TruePositives(name="tp"), K.metrics.FalsePositives(name="fp"),
                       K.metrics.TrueNegatives(name="tn"), K.metrics.FalseNegatives(name="fn"),
                       K.metrics.Precision(name="precision"), K.metrics.Recall(name="recall"),
                       K.metrics.SensitivityAtSpecificity(0.5, name="sens"),
                       K.metrics.SpecificityAtSensitivity(0.5, name="spec"),
                       K.metrics.PrecisionAtRecall(0.5, name="p_at_r"),
                       K.metrics.RecallAtPrecision(0.5, name="r_at_p"),
                       K.metrics.TruePositives(thresholds=0.3, name="tp_03")])
model.set_weights([draw(v.shape, i) for i, v in enumerate(model.get_weights())])
yt = (labels % 2).astype(floatx)[:, None]
history = model.fit(targets, yt, batch_size=4, epochs=2, shuffle=False, verbose=0, class_weight={0: 1.0, 1: 3.0})
result = {"history": history.history, "weights": model.get_weights(),
          "evaluate": model.evaluate(targets, yt, sample_weight=sample_weight, batch_size=5, verbose=0,
                                     return_dict=True)}
"""


def test_compiled_counts_in_fit_and_evaluate_match_keras(keras_oracle):
    from test_keras_losses import inputs
    ours, _ = keras_oracle.compare(MODEL, inputs(12), "float32")
    assert ours["evaluate"]["tp"] + ours["evaluate"]["fn"] > 0  # the scenario has positives to count
