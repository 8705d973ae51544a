"""``lamina.ops`` calls inside a Functional model, in the form Keras 3 gives them in a config.

Keras records ``ops.concatenate([a, b], axis=1)`` on symbolic tensors as a node of an operation
object and saves it as ``{"module": "keras.src.ops.numpy", "class_name": "Concatenate",
"config": {"name": "concatenate", "axis": 1}, "registered_name": "Concatenate"}`` whose node
arguments hold only the tensors. lamina records the same call as an ``OpLayer``; this module maps
the ops both libraries share onto Keras's class names and back. Only the fixed table below can be
named by a file (nothing is imported); any other op is refused, naming it.

>>> sorted(KERAS_OPS)[:3]
['Absolute', 'Add', 'Amax']
"""
from __future__ import annotations

import inspect

# Keras op class -> (its module, the lamina.ops function, the constructor arguments Keras saves in
# the config; the lamina function's other parameters are the node's arguments)
KERAS_OPS = {
    "Add": ("numpy", "add", ()), "Subtract": ("numpy", "subtract", ()), "Multiply": ("numpy", "multiply", ()),
    "TrueDivide": ("numpy", "true_divide", ()), "Divide": ("numpy", "divide", ()),
    "Maximum": ("numpy", "maximum", ()), "Minimum": ("numpy", "minimum", ()), "Power": ("numpy", "power", ()),
    "Matmul": ("numpy", "matmul", ()), "Concatenate": ("numpy", "concatenate", ("axis",)),
    "Stack": ("numpy", "stack", ("axis",)), "Mean": ("numpy", "mean", ("axis", "keepdims")),
    "Sum": ("numpy", "sum", ("axis", "keepdims")), "Max": ("numpy", "max", ("axis", "keepdims")),
    "Min": ("numpy", "min", ("axis", "keepdims")), "Amax": ("numpy", "amax", ("axis", "keepdims")),
    "Amin": ("numpy", "amin", ("axis", "keepdims")), "Negative": ("numpy", "negative", ()),
    "Absolute": ("numpy", "abs", ()), "Fabs": ("numpy", "fabs", ()), "Exp": ("numpy", "exp", ()),
    "Log": ("numpy", "log", ()),
    "Sqrt": ("numpy", "sqrt", ()), "Square": ("numpy", "square", ()), "Tanh": ("numpy", "tanh", ()),
    "Transpose": ("numpy", "transpose", ("axes",)), "Reshape": ("numpy", "reshape", ("newshape",)),
    "ExpandDims": ("numpy", "expand_dims", ("axis",)), "Squeeze": ("numpy", "squeeze", ("axis",)),
    "Clip": ("numpy", "clip", ("x_min", "x_max")), "Cast": ("core", "cast", ("dtype",)),
    "Relu": ("nn", "relu", ()), "Sigmoid": ("nn", "sigmoid", ()), "Softmax": ("nn", "softmax", ("axis",)),
}
# config keys Keras adds that lamina's functions do not take: accepted only with these values
_KERAS_ONLY = {"Max": {"initial": None}, "Min": {"initial": None}}
OP_MODULES = tuple(f"keras.src.ops.{m}" for m in ("numpy", "nn", "core"))


def keras_class_name(op_layer) -> str | None:
    """The Keras op class an ``OpLayer`` is saved as: its own class, named as Keras's (None when
    the table above does not have it)."""
    name = type(op_layer).__name__
    return name if name in KERAS_OPS else None


def _parameters(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


def split_call(op_layer, node) -> tuple[list, dict]:
    """The node's tensor arguments (as Keras passes them to the op) and the op's config values."""
    class_name = keras_class_name(op_layer)
    if class_name is None:
        saved = sorted(entry[1] for entry in KERAS_OPS.values())
        raise ValueError(f"The op '{op_layer.fn.__name__}' (layer '{op_layer.name}') cannot be saved in a Keras "
                         f"config: lamina saves only {saved}. Write it as a layer (a Layer "
                         "subclass, or a built-in layer such as layers.Add), or save the weights only with "
                         "save_weights")
    _, _, config_names = KERAS_OPS[class_name]
    signature = inspect.signature(op_layer.fn)
    try:
        bound = signature.bind(*node.call_args, **node.call_kwargs)
    except TypeError as error:
        raise ValueError(f"The op layer '{op_layer.name}' was called with arguments {op_layer.fn.__name__} does "
                         f"not take: {error}") from None
    bound.apply_defaults()
    values = {**bound.arguments, **op_layer.op_kwargs}
    args = [values[name] for name in signature.parameters if name not in config_names]
    config = {name: values[name] for name in config_names}
    config.update(_KERAS_ONLY.get(class_name, {}))
    return args, config


def serialize_op_layer(op_layer, node) -> tuple[dict, list]:
    """Keras's layer entry for an ``OpLayer`` (without ``inbound_nodes``) and its node's arguments."""
    args, config = split_call(op_layer, node)
    class_name = keras_class_name(op_layer)
    module = KERAS_OPS[class_name][0]  # type: ignore[index]  # the callers save only ops it names
    if isinstance(config.get("newshape"), tuple):
        config["newshape"] = list(config["newshape"])
    entry = {"module": f"keras.src.ops.{module}", "class_name": class_name,
             "config": {"name": op_layer.name, **config}, "registered_name": class_name}
    return entry, args


def is_op_config(layer_config: dict) -> bool:
    """Whether a layer entry of a Functional config names one of Keras's ops."""
    return layer_config.get("module") in OP_MODULES


def deserialize_op_layer(layer_config: dict):
    """The ``OpLayer`` for a Keras op entry of a config, or a ValueError naming the op."""
    from .. import ops
    from ..layers.op_layer import _kind
    class_name, module = layer_config.get("class_name"), layer_config.get("module")
    entry = KERAS_OPS.get(class_name) if isinstance(class_name, str) else None
    if entry is None or module != f"keras.src.ops.{entry[0]}":
        raise ValueError(f"The Functional config uses the op {module}.{class_name}, which lamina cannot "
                         f"rebuild: lamina rebuilds the ops {sorted(KERAS_OPS)}")
    config = layer_config.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"The config of op {class_name} must be a dict, got {type(config).__name__}")
    _, function_name, config_names = entry
    expected = {"name", *config_names, *_KERAS_ONLY.get(str(class_name), {})}  # a str: it has an entry
    unknown = sorted(set(config) - expected)
    if unknown:
        raise ValueError(f"The op {class_name} got config keys {unknown} lamina does not know; it takes "
                         f"{sorted(expected)}")
    for key, required in _KERAS_ONLY.get(str(class_name), {}).items():
        if config.get(key, required) != required:
            raise ValueError(f"The op {class_name} got {key}={config[key]!r}; lamina supports only {required!r}")
    fn = getattr(ops, function_name)
    fn = getattr(fn, "__wrapped__", fn)
    defaults = {n: p.default for n, p in inspect.signature(fn).parameters.items()}
    op_kwargs = {name: _plain(config.get(name, defaults.get(name))) for name in config_names}
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"The op {class_name} needs a string name, got {name!r:.100}")
    return _kind(function_name)(fn, name=name, op_kwargs=op_kwargs)


def _plain(value):
    """A config value as the op takes it (JSON lists of ints as tuples: shapes and axes)."""
    if isinstance(value, list):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value) or len(value) > 32:
            raise ValueError(f"An op argument must be an int, a short list of ints or null, got {value!r:.100}")
        return tuple(value)
    if value is not None and not isinstance(value, (int, float, str, bool)):
        raise ValueError(f"An op argument must be a number, a string or a list of ints, got {value!r:.100}")
    return value
