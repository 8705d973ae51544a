"""The Keras 3 names lamina adds for MLP programs: a fixed list that must all be there (and that
Keras itself has), the correlation metrics and the function forms of ``keras.metrics`` against
Keras, ``serialize``/``deserialize`` of metrics, losses and optimizers, ``keras.utils``'s helpers,
and the top-level base classes."""
import json
import subprocess
import sys

import numpy as np
import pytest
from test_keras_losses import KINDS, inputs

import lamina

# what Keras programs reach for: each must resolve in lamina (a missing one fails here by name)
NAMES = {
    "metrics": ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall",
                "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
                "PearsonCorrelation", "ConcordanceCorrelation", "mean_squared_error", "mean_absolute_error",
                "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "binary_crossentropy",
                "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_focal_crossentropy",
                "categorical_focal_crossentropy", "hinge", "squared_hinge", "categorical_hinge", "huber",
                "kl_divergence", "log_cosh", "poisson", "pearson_correlation", "concordance_correlation",
                "IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU", "serialize", "deserialize"],
    "utils": ["clear_session", "register_keras_serializable", "get_custom_objects", "custom_object_scope",
              "CustomObjectScope", "serialize_keras_object", "deserialize_keras_object", "get_registered_name",
              "get_registered_object", "is_keras_tensor", "get_source_inputs", "standardize_dtype",
              "enable_interactive_logging", "disable_interactive_logging", "is_interactive_logging_enabled",
              "pad_sequences", "timeseries_dataset_from_array", "get_file"],
    "": ["Layer", "Loss", "Metric", "Optimizer", "Initializer", "Regularizer", "KerasTensor", "version", "InputSpec"],
    "layers": ["InputSpec"],
    "models": ["save_model"],
    "losses": ["serialize", "deserialize", "Dice", "Tversky", "Circle", "CategoricalGeneralizedCrossEntropy", "dice",
               "tversky", "circle", "categorical_generalized_cross_entropy"],
    "optimizers": ["serialize", "deserialize", "Lamb", "Adafactor"],
    "callbacks": ["SwapEMAWeights"],
    "tree": ["map_structure", "flatten", "pack_sequence_as", "is_nested", "assert_same_structure", "traverse",
             "map_structure_up_to", "lists_to_tuples", "MAP_TO_NONE"],
    "config": ["backend", "image_data_format", "set_image_data_format", "enable_interactive_logging",
               "disable_interactive_logging", "is_interactive_logging_enabled", "enable_traceback_filtering",
               "disable_traceback_filtering", "is_traceback_filtering_enabled", "max_epochs", "set_max_epochs",
               "max_steps_per_epoch", "set_max_steps_per_epoch", "dtype_policy", "set_dtype_policy"],
    "initializers": ["serialize", "deserialize"],
}


def _module(package, sub):
    return getattr(package, sub) if sub else package


def missing_names(package, names=NAMES) -> list:
    return [f"{sub or 'top'}.{name}" for sub, listed in names.items() for name in listed
            if not hasattr(_module(package, sub), name)]


def test_every_listed_keras_name_resolves_in_lamina():
    assert missing_names(lamina) == []
    for sub, listed in NAMES.items():
        assert set(listed) <= set(dir(_module(lamina, sub))), sub  # dir() lists what is not loaded yet


def test_the_completeness_check_names_what_is_missing():
    assert missing_names(lamina, {"metrics": ["TruePositives", "NoSuchMetric"]}) == ["metrics.NoSuchMetric"]


def test_the_listed_names_are_keras_names(keras_oracle):
    code = "result = {sub: sorted(n for n in LISTED[sub] if hasattr(getattr(K, sub) if sub else K, n)) " \
           "for sub in LISTED}"
    theirs = keras_oracle.run(code, {"LISTED": NAMES})
    assert theirs == {sub: sorted(listed) for sub, listed in NAMES.items()}


def test_the_names_are_keras_own_objects_where_keras_shares_them():
    metrics, losses = lamina.metrics, lamina.losses
    assert metrics.mean_squared_error is losses.mean_squared_error and metrics.huber is losses.huber
    assert lamina.Layer is lamina.layers.Layer and lamina.Loss is losses.Loss and lamina.Metric is metrics.Metric
    assert lamina.Optimizer is lamina.optimizers.Optimizer and lamina.Initializer is lamina.initializers.Initializer
    assert lamina.Regularizer is lamina.regularizers.Regularizer
    assert lamina.KerasTensor is type(lamina.Input((2,)))
    assert lamina.keras.Layer is lamina.Layer and lamina.keras.version() == lamina.version() == lamina.__version__
    assert lamina.utils.register_keras_serializable is lamina.saving.register_keras_serializable
    assert lamina.models.save_model is lamina.saving.save_model


# --- the correlation metrics and the function forms -------------------------------------------------
CORRELATIONS = """
{kind}
metric = {metric}
steps = []
for rows, weights in ((slice(0, 5), sample_weight[:5]), (slice(5, 12), None), (slice(2, 9), sample_weight[2:9])):
    # along axis 0 the values are per column, which a weight per sample cannot weigh (Keras refuses)
    metric.update_state(yt[rows], yp[rows], sample_weight=weights if WEIGHTED else None)
    steps.append(numpy(metric.result()))
config = metric.get_config()
result = {{"steps": steps, "config": config, "rebuilt": type(metric).from_config(config).get_config()}}
"""


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("metric", ["PearsonCorrelation()", "PearsonCorrelation(axis=0, name='pcc')",
                                    "ConcordanceCorrelation()", "ConcordanceCorrelation(axis=0)"])
def test_correlation_metrics_match_keras(keras_oracle, metric, floatx):
    code = CORRELATIONS.format(kind=KINDS["regression"], metric=f"K.metrics.{metric}")
    keras_oracle.compare(code, {**inputs(12), "WEIGHTED": "axis=0" not in metric}, floatx, rtol=1e-6)


FUNCTION_KINDS = {
    "mean_squared_error": "regression", "mean_absolute_error": "regression",
    "mean_absolute_percentage_error": "regression", "mean_squared_logarithmic_error": "positive",
    "binary_crossentropy": "binary", "categorical_crossentropy": "probabilities",
    "sparse_categorical_crossentropy": "sparse", "binary_focal_crossentropy": "binary",
    "categorical_focal_crossentropy": "probabilities", "hinge": "signs", "squared_hinge": "signs",
    "categorical_hinge": "probabilities", "huber": "regression", "kl_divergence": "positive",
    "log_cosh": "regression", "poisson": "positive", "pearson_correlation": "regression",
    "concordance_correlation": "regression",
}


@pytest.mark.parametrize("name", sorted(FUNCTION_KINDS))
def test_metric_functions_match_keras(keras_oracle, name):
    code = f"{KINDS[FUNCTION_KINDS[name]]}\nresult = numpy(K.metrics.{name}(yt, yp))"
    keras_oracle.compare(code, inputs(12), "float32", rtol=1e-6)


def test_every_listed_metric_function_has_a_keras_test():
    functions = {n for n in NAMES["metrics"] if n[0].islower() and n not in ("serialize", "deserialize")}
    assert functions == set(FUNCTION_KINDS)


def test_correlation_functions_serialize_by_name_and_resolve_to_their_metrics():
    config = lamina.saving.serialize_keras_object(lamina.metrics.pearson_correlation)
    assert (config["module"], config["config"]) == ("keras.metrics", "pearson_correlation")
    assert lamina.saving.deserialize_keras_object(config) is lamina.metrics.pearson_correlation
    metric = lamina.metrics.get(lamina.metrics.concordance_correlation)
    assert type(metric) is lamina.metrics.ConcordanceCorrelation and metric.name == "concordance_correlation"


# --- serialize and deserialize -----------------------------------------------------------------------
SERIALIZE = """
import json
obj = {expression}
text = json.dumps(K.{module}.serialize(obj))
back = K.{module}.deserialize(json.loads(text))  # Keras's optimizers.deserialize edits the dict it gets
result = {{"config": json.loads(text), "back": json.loads(json.dumps(K.{module}.serialize(back)))}}
"""
SERIALIZE_CASES = {
    "metric_class": ("metrics", "K.metrics.TruePositives(thresholds=[0.3, 0.6], name='tp')"),
    "metric_auc": ("metrics", "K.metrics.AUC(num_thresholds=20, name='auc')"),
    "metric_rate": ("metrics", "K.metrics.RecallAtPrecision(0.7, num_thresholds=11)"),
    # not Huber: Keras 3's Huber config leaves out delta, lamina's keeps it
    "loss_class": ("losses", "K.losses.CategoricalCrossentropy(label_smoothing=0.2, name='cce')"),
    "loss_bce": ("losses", "K.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)"),
    "optimizer_adam": ("optimizers", "K.optimizers.Adam(learning_rate=0.01)"),
    # not the Glorot/He family: Keras 3.15 adds input_axes/output_axes to their configs
    "initializer_normal": ("initializers", "K.initializers.RandomNormal(mean=0.1, stddev=0.2, seed=4)"),
    "initializer_orthogonal": ("initializers", "K.initializers.Orthogonal(gain=2.0, seed=1)"),
    # named: Keras 3.15 names an SGD "sgd" by default, lamina "SGD" (left to the optimizers' owners)
    "optimizer_sgd": ("optimizers", "K.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True, name='s')"),
}


@pytest.mark.parametrize("case", sorted(SERIALIZE_CASES))
def test_serialize_and_deserialize_match_keras(keras_oracle, case):
    module, expression = SERIALIZE_CASES[case]
    keras_oracle.compare(SERIALIZE.format(module=module, expression=expression), {}, "float32", rtol=1e-6)


NAMED = """
names = {"metric": [type(K.metrics.deserialize(n)).__name__ for n in ("mse", "mean_squared_error", "accuracy",
                                                                      "TruePositives", "pearson_correlation")],
         "metric_name": K.metrics.deserialize("mse").name,
         "loss": [getattr(K.losses.deserialize(n), "__name__", type(K.losses.deserialize(n)).__name__)
                  for n in ("mean_squared_error", "MeanSquaredError", "huber")],
         "optimizer": type(K.optimizers.deserialize({"module": "keras.optimizers", "class_name": "sgd",
                                                     "config": {"learning_rate": 0.5}, "registered_name": None})
                           ).__name__,
         "initializer": [type(K.initializers.deserialize(n)).__name__ for n in ("he_normal", "HeNormal", "zeros")]}
result = names
"""


def test_deserialize_resolves_names_as_keras_does(keras_oracle):
    ours, theirs = keras_oracle.compare(NAMED)
    assert ours["metric"][0] == "MeanSquaredError" and ours["optimizer"] == "SGD"


def test_deserialize_refuses_what_is_not_its_kind():
    dense = lamina.saving.serialize_keras_object(lamina.layers.Dense(2))
    for module in (lamina.metrics, lamina.losses, lamina.optimizers, lamina.initializers):
        with pytest.raises(ValueError, match="deserialize built a Dense"):
            module.deserialize(dense)
    with pytest.raises(ValueError, match="Unknown metric 'no_such_metric'"):
        lamina.metrics.deserialize("no_such_metric")
    with pytest.raises(ValueError, match="Unknown loss"):
        lamina.losses.deserialize("no_such_loss")
    with pytest.raises(TypeError, match="expects a config dict"):
        lamina.optimizers.deserialize("adam")
    config = {"module": "keras.optimizers", "class_name": "adam", "config": {}, "registered_name": None}
    lamina.optimizers.deserialize(config)
    assert config["class_name"] == "adam"  # the caller's dict is left as it was


# --- keras.utils ---------------------------------------------------------------------------------------
SOURCES = """
a, b, c = K.Input((3,), name="a"), K.Input((2,), name="b"), K.Input((4,), name="c")
h = K.layers.Dense(2, name="h")(a)
merged = K.layers.Concatenate(name="cat")([b, h, K.layers.Dense(2, name="g")(a)])
top = K.layers.Add(name="add")([K.layers.Dense(3, name="d")(merged), K.layers.Dense(3, name="e")(c)])
result = {"top": [t.name for t in K.utils.get_source_inputs(top)],
          "merged": [t.name for t in K.utils.get_source_inputs(merged)],
          "input": [t.name for t in K.utils.get_source_inputs(c)],
          "plain": K.utils.get_source_inputs(np.ones(2)),
          "is_keras_tensor": [K.utils.is_keras_tensor(top), K.utils.is_keras_tensor(np.ones(2))],
          "dtypes": [K.utils.standardize_dtype(d) for d in (None, float, int, bool, "int", np.float32,
                                                             np.dtype("int64"), "float16", "uint8")]}
"""


def test_source_inputs_and_dtypes_match_keras(keras_oracle):
    ours, _ = keras_oracle.compare(SOURCES)
    assert ours["top"] == ["b", "a", "c"]  # in the order the graph reaches them, each once


def test_get_source_inputs_walks_a_deep_graph_without_recursion():
    x = lamina.Input((2,))
    y = x
    for _ in range(3000):  # deeper than Python's recursion limit
        y = lamina.layers.Identity()(y)
    sources = lamina.utils.get_source_inputs(y)
    assert len(sources) == 1 and sources[0] is x


def test_clear_session_resets_names_with_keras_signature():
    lamina.layers.Dense(2)
    lamina.utils.clear_session(free_memory=False)
    assert lamina.layers.Dense(2).name == "dense"
    lamina.utils.clear_session()
    assert lamina.layers.Dense(2).name == "dense"


def test_save_model_writes_a_file_load_model_reads(tmp_path):
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", metrics=[lamina.metrics.TruePositives(name="tp")])
    lamina.models.save_model(model, tmp_path / "m.keras")
    restored = lamina.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    metrics = json.loads(json.dumps(restored.get_compile_config()["metrics"]))
    assert metrics[0]["class_name"] == "TruePositives"


def test_the_new_names_keep_import_lamina_lazy():
    """``lamina.version()`` and the top-level classes load only what they name."""
    code = ("import sys, lamina; lamina.version(); "
            "print('lamina.metrics' in sys.modules, 'lamina.saving.serialization_lib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
