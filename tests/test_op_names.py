"""Every op called on symbolic tensors is the node Keras 3 makes of it: the same class name and
the same auto-generated layer name (``ops.abs(x)`` is an ``Absolute`` called ``absolute``), or
refused where Keras refuses it; and summary() lists such a model's rows as Keras does."""
import numpy as np

from lamina import ops
from lamina.ops import _NOT_SYMBOLIC
from ops_cases import CASES


def sym(*shape, dtype="float32"):
    """A symbolic input of this (full) shape in a scenario; an int or bool one is a cast of a
    float Input, as lamina's Input takes floats only."""
    return ("<symbolic>", shape, dtype)


F = sym
def I(*shape): return sym(*shape, dtype="int32")  # noqa: E302, E704, E743
def B(*shape): return sym(*shape, dtype="bool")  # noqa: E302, E704


# the ops tests/ops_cases.py has no case for (its cases give the others' arguments)
EXTRA = {
    "all": ((B(2, 3),), {}), "any": ((B(2, 3),), {}), "allclose": ((F(2, 3), F(2, 3)), {}),
    "arange": ((I(1),), {}), "argmax": ((F(2, 3),), {}), "argmin": ((F(2, 3),), {}),
    "argpartition": ((F(2, 3),), {"kth": 1}), "argsort": ((F(2, 3),), {}), "array": ((F(2, 3),), {}),
    "bartlett": ((I(1),), {}), "blackman": ((I(1),), {}), "hamming": ((I(1),), {}), "hanning": ((I(1),), {}),
    "kaiser": ((I(1), 1.0), {}), "bincount": ((I(5),), {}),
    "bitwise_and": ((I(3), I(3)), {}), "bitwise_or": ((I(3), I(3)), {}), "bitwise_xor": ((I(3), I(3)), {}),
    "bitwise_invert": ((I(3),), {}), "bitwise_not": ((I(3),), {}),
    "bitwise_left_shift": ((I(3), I(3)), {}), "bitwise_right_shift": ((I(3), I(3)), {}),
    "left_shift": ((I(3), I(3)), {}), "right_shift": ((I(3), I(3)), {}),
    "convert_to_tensor": ((F(2, 3),), {}), "copysign": ((F(2, 3), F(2, 3)), {}),
    "count_nonzero": ((F(2, 3),), {}), "digitize": ((F(5), np.array([0.0, 1.0])), {}),
    "dsplit": ((F(2, 3, 4), 2), {}), "dstack": (([F(2, 3), F(2, 3)],), {}),
    "hsplit": ((F(2, 4), 2), {}), "vsplit": ((F(4, 2), 2), {}), "split": ((F(4, 2), 2), {}),
    "empty": ((I(2),), {}), "zeros": ((I(2),), {}), "ones": ((I(2),), {}),
    "eye": ((I(1),), {}), "identity": ((I(1),), {}), "tri": ((I(1),), {}),
    "empty_like": ((F(2, 3),), {}), "zeros_like": ((F(2, 3),), {}), "ones_like": ((F(2, 3),), {}),
    "full_like": ((F(2, 3), 1.0), {}), "full": (((2, 3), F(3)), {}),
    "equal": ((F(2, 3), F(2, 3)), {}), "not_equal": ((F(2, 3), F(2, 3)), {}), "greater": ((F(2, 3), F(2, 3)), {}),
    "greater_equal": ((F(2, 3), F(2, 3)), {}), "less": ((F(2, 3), F(2, 3)), {}),
    "less_equal": ((F(2, 3), F(2, 3)), {}), "floor_divide": ((F(2, 3), F(2, 3)), {}),
    "gcd": ((I(3), I(3)), {}), "lcm": ((I(3), I(3)), {}), "heaviside": ((F(2, 3), F(2, 3)), {}),
    "ldexp": ((F(3), I(3)), {}), "nextafter": ((F(3), F(3)), {}),
    "geomspace": ((F(2), F(2)), {}), "linspace": ((F(2), F(2)), {}), "logspace": ((F(2), F(2)), {}),
    "get_item": ((F(4, 3), 1), {}), "histogram": ((F(6),), {}), "in_top_k": ((I(2), F(2, 3), 1), {}),
    "isclose": ((F(2, 3), F(2, 3)), {}), "isfinite": ((F(2, 3),), {}), "isinf": ((F(2, 3),), {}),
    "isnan": ((F(2, 3),), {}), "isneginf": ((F(2, 3),), {}), "isposinf": ((F(2, 3),), {}),
    "isin": ((F(2, 3), F(4)), {}), "signbit": ((F(2, 3),), {}),
    "logical_and": ((B(3), B(3)), {}), "logical_or": ((B(3), B(3)), {}), "logical_xor": ((B(3), B(3)), {}),
    "logical_not": ((B(3),), {}), "meshgrid": ((F(3), F(4)), {}), "moments": ((F(2, 3),), {"axes": [0]}),
    "multi_hot": ((I(2, 3),), {"num_classes": 4}), "one_hot": ((I(3),), {"num_classes": 4}),
    "nanargmax": ((F(2, 3),), {}), "nanargmin": ((F(2, 3),), {}), "nancumprod": ((F(2, 3),), {}),
    "nanmedian": ((F(2, 3),), {}), "nanpercentile": ((F(2, 3), 50.0), {}),
    "nanquantile": ((F(2, 3), 0.5), {}), "nonzero": ((F(2, 3),), {}),
    "saturate_cast": ((F(2, 3),), {"dtype": "int32"}), "searchsorted": ((F(4), F(3)), {}),
    "stop_gradient": ((F(2, 3),), {}), "unique": ((F(5),), {}), "unravel_index": ((I(3), (2, 3)), {}),
    "unstack": ((F(2, 3),), {}), "vander": ((F(3),), {}), "view": ((F(2, 4),), {"dtype": "int32"}),
}
# lamina's ops Keras 3.15 does not have: named as Keras would name them (Copysign, copysign)
NOT_IN_KERAS = {"copysign": ("Copysign", "copysign")}
SYMBOLIC_OPS = sorted(name for name in ops.__all__ if name not in _NOT_SYMBOLIC)


def _symbolic_args(value):
    """A case's NumPy arrays as symbolic inputs of their shape and dtype (lists kept)."""
    if isinstance(value, np.ndarray):
        return sym(*value.shape, dtype={"b": "bool", "i": "int32"}.get(value.dtype.kind, "float32"))
    if isinstance(value, list):
        return [_symbolic_args(v) for v in value]
    return value


def cases() -> dict:
    first: dict = {}
    for _, name, args, kwargs, _ in CASES:
        first.setdefault(name, (tuple(_symbolic_args(a) for a in args), kwargs))
    return {name: EXTRA.get(name) or first[name] for name in SYMBOLIC_OPS if name in EXTRA or name in first}


NAMES = """
def symbolic(value):
    if isinstance(value, tuple) and value[:1] == ("<symbolic>",):
        x = K.Input(batch_shape=value[1])
        return x if value[2] == "float32" else K.ops.cast(x, value[2])
    if isinstance(value, list):
        return [symbolic(v) for v in value]
    return value

result = {}
for name, (args, kwargs) in CASES.items():
    K.backend.clear_session()  # each op's first name: no counter left by the op before
    try:
        out = getattr(K.ops, name)(*[symbolic(a) for a in args], **kwargs)
    except Exception as error:  # Keras's refusals raise several types; compared as refused
        result[name] = ["refused"]
        continue
    while isinstance(out, (list, tuple)):
        out = out[0]
    operation = out._keras_history[0]
    result[name] = [type(operation).__name__, operation.name]
"""


def test_every_symbolic_op_has_a_case():
    assert set(cases()) == set(SYMBOLIC_OPS)


def test_every_op_node_is_named_and_typed_as_keras_names_it(keras_oracle):
    from keras_oracle import run_lamina
    in_keras = {name: case for name, case in cases().items() if name not in NOT_IN_KERAS}
    theirs = keras_oracle.run(NAMES, {"CASES": in_keras})
    ours = run_lamina(NAMES, {"CASES": cases()})
    differ = {name: (ours[name], theirs[name]) for name in in_keras if ours[name] != theirs[name]}
    assert not differ, f"(lamina, Keras) where they differ: {differ}"
    assert sum(entry != ["refused"] for entry in theirs.values()) > 240  # the scenario ran
    for name, expected in NOT_IN_KERAS.items():
        assert ours[name] == list(expected)


SUMMARY = """
x = K.Input((4,))
y = K.ops.abs(x)
y = K.ops.absolute(y) + K.ops.fabs(x)
y = K.ops.swish(K.ops.hard_swish(y))
y = K.ops.divide(K.ops.rms_normalization(y), K.ops.amax(x, axis=-1, keepdims=True))
y = K.layers.Dense(2)(K.ops.concatenate([y, K.ops.abs(x)], axis=-1))
model = K.Model(x, y)
printed = []
model.summary(print_fn=lambda line, *args, **kwargs: printed.append(line))
result = {"text": "\\n".join(printed), "layers": [layer.name for layer in model.layers]}
"""


def test_summary_of_a_model_with_ops_is_keras_summary(keras_oracle):
    from keras_oracle import run_lamina
    theirs = keras_oracle.run(SUMMARY)
    ours = run_lamina(SUMMARY)
    assert ours["text"] == theirs["text"] and "absolute_2 " in theirs["text"] and "(RMSNorm)" in theirs["text"]
    assert ours["layers"] == theirs["layers"] == ["input_layer", "dense"]


CONFIG = """
x = K.Input((3, 4))
model = K.Model(x, [K.ops.amax(x, axis=1), K.ops.divide(x, x + 1.0), K.ops.absolute(x), K.ops.fabs(x)])
entries = model.get_config()["layers"][1:]
rebuilt = K.Model.from_config(model.get_config())
data = np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4)
result = {"entries": [[e["module"], e["class_name"], sorted(e["config"].items())] for e in entries],
          "rebuilt": [numpy(out) for out in rebuilt(data)],
          "names": [[type(op).__name__, op.name] for op in rebuilt.operations[1:]]}
"""


def test_ops_with_keras_own_classes_save_and_load_as_keras_does(keras_oracle):
    """``amax`` is Keras's Amax (not Max), ``divide`` its Divide (not TrueDivide): the config
    names the class Keras names, and a rebuilt model has the same nodes."""
    ours, theirs = keras_oracle.compare(CONFIG)
    assert [entry[1] for entry in theirs["entries"]] == ["Add", "Amax", "Divide", "Absolute", "Fabs"]


SPLIT = """
x = K.Input((4,))
first, second = K.ops.split(x, 2, axis=1)
model = K.Model(x, K.ops.hsplit(K.ops.concatenate([second, first], axis=1), [1])[1])
result = numpy(model(np.arange(8.0).reshape(2, 4)))
"""


def test_an_op_keeps_its_number_arguments_as_numbers_in_a_graph(keras_oracle):
    """``ops.split(x, 2)``: the sections stay an int (a layer's call would make a tensor of it)."""
    ours, _ = keras_oracle.compare(SPLIT)
    np.testing.assert_array_equal(ours, [[3.0, 0.0, 1.0], [7.0, 4.0, 5.0]])


def test_ops_whose_shape_is_a_value_refuse_symbolic_sizes():
    import lamina
    size = lamina.ops.cast(lamina.Input((2,)), "int32")
    for name in ("ones", "zeros", "eye", "arange", "tri"):
        with np.testing.assert_raises_regex(TypeError, f"ops.{name} takes sizes as Python or NumPy numbers"):
            getattr(lamina.ops, name)(size)
