"""What a file may not ask for even through lamina's own classes: a layer dtype that is not a float
(issue 13, point 7), and lamina's internal helpers named as loss or metric functions (point 16)."""
import json

import numpy as np
import pytest

import lamina
from lamina import layers

pytest.importorskip("h5py")


def _with_dtype(dtype) -> str:
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    config = json.loads(model.to_json())
    config["config"]["layers"][1]["config"]["dtype"] = dtype
    return json.dumps(config)


def _policy(name):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


@pytest.mark.parametrize("dtype", ["int64", "int8", "bool", "uint8", "complex128", "object", "datetime64",
                                   "mixed_float16", "bfloat16", _policy("int64"), _policy("mixed_bfloat16")])
def test_a_layer_dtype_that_is_not_a_float_is_refused(dtype):
    name = dtype if isinstance(dtype, str) else dtype["config"]["name"]
    with pytest.raises(ValueError, match=rf"Dense 'dense' got dtype={name!r}; lamina computes in float16, float32 "
                                         r"or float64"):
        lamina.models.model_from_json(_with_dtype(dtype))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", _policy("float64")])
def test_float_dtypes_and_float_policies_load(dtype):
    model = lamina.models.model_from_json(_with_dtype(dtype))
    name = dtype if isinstance(dtype, str) else dtype["config"]["name"]
    assert model.layers[0].dtype == name and model.layers[0].kernel.value.dtype == np.dtype(name)


def test_the_model_and_input_dtypes_are_checked_too():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    for edit in (lambda c: c["config"].__setitem__("dtype", _policy("int32")),
                 lambda c: c["config"]["layers"][0]["config"].__setitem__("dtype", "complex64")):
        config = json.loads(model.to_json())
        edit(config)
        with pytest.raises(ValueError, match="lamina computes in float16, float32 or float64"):
            lamina.models.model_from_json(json.dumps(config))
    config = json.loads(model.to_json())  # integer ids (an Embedding's) are an input's right
    config["config"]["layers"][0]["config"]["dtype"] = "int64"
    assert lamina.models.model_from_json(json.dumps(config)).inputs[0].dtype == "int64"


def test_a_layer_made_in_code_with_an_integer_dtype_is_refused():
    with pytest.raises(ValueError, match=r"Dense 'd' got dtype='int64'"):
        layers.Dense(2, dtype="int64", name="d")


@pytest.mark.parametrize("module, name", [("keras.losses", "register"), ("keras.losses", "get"),
                                          ("keras.losses", "from_registry"), ("keras.metrics", "register"),
                                          ("keras.metrics", "get"), ("keras.metrics", "resolve_accuracy"),
                                          ("keras.losses", "check_sparse_labels")])
def test_only_public_losses_and_metrics_may_be_named_as_functions(module, name):
    config = {"module": module, "class_name": "function", "config": name, "registered_name": name}
    with pytest.raises(ValueError, match=rf"Refusing to use function {module}\.{name}"):
        lamina.saving.deserialize_keras_object(config)


@pytest.mark.parametrize("module, name", [("keras.losses", "mean_squared_error"), ("keras.losses", "mse"),
                                          ("keras.metrics", "sparse_categorical_accuracy")])
def test_public_loss_and_metric_functions_may_be_named(module, name):
    config = {"module": module, "class_name": "function", "config": name, "registered_name": None}
    assert callable(lamina.saving.deserialize_keras_object(config))


def test_deep_nesting_is_refused_with_a_value_error():
    inner = lamina.Sequential([lamina.Input((2,)), layers.Dense(2)])
    config = json.loads(inner.to_json())
    for _ in range(80):  # a model in a model in a model...
        config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
                  "config": {"name": None, "layers": [config]}}
    with pytest.raises(ValueError, match="nested more than 64 deep"):
        lamina.models.model_from_json(json.dumps(config))
    deep = json.loads(inner.to_json())
    deep["config"]["layers"][1]["config"]["units"] = json.loads("[" * 900 + "]" * 900)
    with pytest.raises(ValueError, match="nested more than 64 deep"):
        lamina.models.model_from_json(json.dumps(deep))
