"""``InputSpec`` against Keras 3: a custom layer that sets ``self.input_spec`` is refused the
same inputs when called, eagerly and on symbolic inputs (rank, min/max rank, dtype, axes,
shape, a squeezable last axis, several named or optional inputs, a spec set by ``build``), with
an error that names the layer, what was expected and what came."""
import numpy as np
import pytest

import lamina

LAYER = """
class Spec(K.layers.Layer):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec
    def build(self, *shapes, **named_shapes):  # lamina builds a layer called on a dict by its keys
        pass
    def call(self, x):
        return x[0] if isinstance(x, (list, tuple)) else (x[sorted(x)[0]] if isinstance(x, dict) else x)

class BuildsSpec(K.layers.Layer):
    def build(self, input_shape):
        self.input_spec = K.InputSpec(axes={-1: 4})
    def call(self, x):
        return x

def outcome(call):
    try:
        return "ok " + str(tuple(call().shape))
    except ValueError as error:
        return "refused " + type(error).__name__
"""

# (spec, the inputs' per-call shapes (eager; the first axis is the batch) and dtype)
CASES = {
    "ndim": ("K.InputSpec(ndim=2)", [(2, 8), (2, 8, 1), (4,)], "float32"),
    "min_ndim": ("K.InputSpec(min_ndim=3)", [(2, 3), (2, 3, 4), (2, 3, 4, 5)], "float32"),
    "max_ndim": ("K.InputSpec(max_ndim=2)", [(2, 3), (2, 3, 4)], "float32"),
    "axes": ("K.InputSpec(axes={-1: 8})", [(2, 8), (2, 3), (8,), (2, 5, 8)], "float32"),
    "axes_positive": ("K.InputSpec(min_ndim=2, axes={1: 3})", [(2, 3), (2, 4), (2, 3, 9)], "float32"),
    "shape": ("K.InputSpec(shape=(None, 4))", [(3, 4), (3, 5), (3, 4, 1), (1, 4)], "float32"),
    "shape_fixed_batch": ("K.InputSpec(shape=(2, 4))", [(2, 4), (3, 4)], "float32"),
    "squeeze": ("K.InputSpec(shape=(None, 4, 1), allow_last_axis_squeeze=True)", [(3, 4), (3, 4, 1), (3, 5)],
                "float32"),
    "squeeze_added": ("K.InputSpec(shape=(None, 4), allow_last_axis_squeeze=True)", [(3, 4, 1), (3, 4, 2)],
                      "float32"),
    "dtype_float": ("K.InputSpec(dtype='float32')", [(2, 3)], "float32"),
    "dtype_int": ("K.InputSpec(dtype='int32')", [(2, 3)], "int32"),
    "dtype_refused": ("K.InputSpec(dtype='int32')", [(2, 3)], "float32"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_input_spec_refuses_what_keras_refuses(keras_oracle, case):
    spec, shapes, dtype = CASES[case]
    code = LAYER + f"""
layer = Spec({spec}, name="checked")
eager = [outcome(lambda: layer(np.ones(s, dtype=DTYPE))) for s in SHAPES]
symbolic = [outcome(lambda: Spec({spec})(K.Input(s[1:], dtype=DTYPE))) for s in SHAPES]
result = {{"eager": eager, "symbolic": symbolic}}
"""
    ours, _ = keras_oracle.compare(code, {"SHAPES": shapes, "DTYPE": dtype})
    assert any(o.startswith("ok") for o in ours["eager"]) or "refused" in case


SEVERAL = LAYER + """
two = Spec([K.InputSpec(ndim=2), K.InputSpec(ndim=3)])
named = Spec([K.InputSpec(ndim=2, name="b"), K.InputSpec(ndim=3, name="a")])
optional = Spec([K.InputSpec(ndim=2), K.InputSpec(ndim=2, optional=True)])
a, b = np.ones((2, 3)), np.ones((2, 3, 4))
result = [outcome(lambda: two([a, b])), outcome(lambda: two([b, a])), outcome(lambda: two([a])),
          outcome(lambda: two([a, b, b])),
          outcome(lambda: named({"b": a, "a": b})), outcome(lambda: named({"b": b, "a": a})),
          outcome(lambda: named({"b": a})),
          outcome(lambda: optional([a, None])), outcome(lambda: optional([a, b]))]
"""


def test_several_inputs_match_keras(keras_oracle):
    keras_oracle.compare(SEVERAL)


AFTER_BUILD = LAYER + """
late = BuildsSpec()
first = outcome(lambda: late(np.ones((2, 3))))
again = outcome(lambda: late(np.ones((2, 4))))
other = BuildsSpec()
right = [outcome(lambda: other(np.ones((2, 4)))), outcome(lambda: other(np.ones((2, 5))))]
result = [first, again, right, outcome(lambda: BuildsSpec()(K.Input((3,)))),
          outcome(lambda: BuildsSpec()(K.Input((4,))))]
"""


def test_a_spec_set_by_build_is_checked_after_it_as_in_keras(keras_oracle):
    ours, _ = keras_oracle.compare(AFTER_BUILD)
    assert ours[0].startswith("refused") and ours[2][0] == "ok (2, 4)"


CONSTRUCTION = """
def made(**kwargs):
    try:
        spec = K.InputSpec(**kwargs)
    except (ValueError, TypeError) as error:
        return "refused " + type(error).__name__
    return [repr(spec), {k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.get_config().items()
                         if k != "axes"}, sorted(spec.get_config()["axes"].items())]
result = [made(ndim=2, axes={-1: 8}), made(shape=(None, 4), dtype="float64"), made(min_ndim=2, max_ndim=4),
          made(axes={"a": 1}), made(ndim=2, axes={3: 1}), made(max_ndim=2, axes={1: 1}),
          made(shape=(None, "4")), made(dtype="int64", optional=True), made(axes={"1": 2})]
"""


def test_construction_repr_and_config_match_keras(keras_oracle):
    keras_oracle.compare(CONSTRUCTION)


class Checked(lamina.layers.Layer):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec

    def call(self, x):
        return x


@pytest.mark.parametrize("spec, shape, words", [
    # Keras 3.15 raises an IndexError here; later Keras (and lamina) a ValueError
    (lamina.InputSpec(axes={2: 4}), (2, 3), ["axis 2 does not exist in an input of ndim=2"]),
    (lamina.InputSpec(ndim=2), (2, 8, 1), ["expected ndim=2", "found ndim=3", "(2, 8, 1)"]),
    (lamina.InputSpec(min_ndim=3), (2, 3), ["expected min_ndim=3", "found ndim=2"]),
    (lamina.InputSpec(max_ndim=2), (2, 3, 4), ["expected max_ndim=2", "found ndim=3"]),
    (lamina.InputSpec(axes={-1: 8}), (2, 3), ["expected axis -1 of size 8", "found 3"]),
    (lamina.InputSpec(shape=(None, 4)), (3, 5), ["expected shape=(None, 4)", "found shape=(3, 5)"]),
    (lamina.InputSpec(dtype="int32"), (2, 3), ["expected dtype=int32", "found dtype=float32"]),
])
def test_the_error_names_the_layer_what_was_expected_and_what_came(spec, shape, words):
    with pytest.raises(ValueError) as caught:
        Checked(spec, name="my_layer")(np.ones(shape, dtype="float32"))
    message = str(caught.value)
    assert message.startswith("Input 0 of layer 'my_layer' is incompatible with the layer")
    assert all(word in message for word in words), message
    assert "Raised in layer" not in message  # named once


def test_a_checked_layer_trains_in_a_model():
    model = lamina.Sequential([lamina.Input((4,)), Checked(lamina.InputSpec(axes={-1: 4})), lamina.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.ones((8, 4)), np.ones(8), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="expected axis -1 of size 4, found 3"):
        lamina.Sequential([lamina.Input((3,)), Checked(lamina.InputSpec(axes={-1: 4}))])
