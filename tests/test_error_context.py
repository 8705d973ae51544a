"""Errors name where they happened: the op and its arguments' shapes, the layer and its inputs."""
import numpy as np
import pytest

import lamina as keras
from lamina import layers, ops


class _Linear(layers.Layer):
    """A user's layer whose kernel does not fit its input (4 rows for 3 features)."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(4, 2))

    def call(self, x):
        return ops.matmul(x, self.w)


def test_an_op_error_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"ops\.add got x1 of shape \(2, 3\).*x2 of shape \(4,\)") as info:
        ops.add(np.ones((2, 3)), np.ones((4,)))
    assert "could not be broadcast" in str(info.value)  # NumPy's own reason is kept


def test_an_axis_out_of_range_is_a_value_error_naming_the_op():
    with pytest.raises(ValueError, match=r"ops\.sum got x of shape \(2, 3\).*axis=4"):
        ops.sum(np.ones((2, 3)), axis=4)


def test_a_symbolic_op_error_shows_the_unknown_batch_as_none():
    with pytest.raises(ValueError, match=r"ops\.concatenate got xs of shapes \[\(None, 3, 4\), \(None, 5\)\]"):
        ops.concatenate([keras.Input((3, 4)), keras.Input((5,))], axis=-1)


@pytest.mark.parametrize("symbolic", [True, False])
def test_an_error_inside_a_users_call_names_the_layer_and_the_op(symbolic):
    x = keras.Input((3,)) if symbolic else np.ones((2, 3), "float32")
    batch = "None" if symbolic else "2"
    with pytest.raises(ValueError) as info:
        _Linear(name="lin")(x)
    message = str(info.value)
    assert message.startswith(f"ops.matmul got x1 of shape ({batch}, 3)")
    assert f"Raised in layer 'lin' (_Linear.call) called on inputs of shape ({batch}, 3)" in message


def test_a_layer_inside_a_layer_is_named_once_by_the_innermost():
    class Outer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = _Linear(name="inner")

        def call(self, x):
            return self.inner(x)

    with pytest.raises(ValueError) as info:
        Outer(name="outer")(np.ones((2, 3), "float32"))
    assert "layer 'inner'" in str(info.value) and "layer 'outer'" not in str(info.value)


def test_a_users_exception_class_is_kept_with_a_note():
    class Mine(ValueError):
        def __init__(self, code):  # a signature the error cannot be rebuilt with
            super().__init__(f"mine {code}")

    class Raises(layers.Layer):
        def call(self, x):
            raise Mine(7)

    with pytest.raises(Mine, match="mine 7") as info:
        Raises(name="raises")(np.ones((2, 3), "float32"))
    assert any("layer 'raises'" in note for note in info.value.__notes__)


def test_non_numeric_input_names_the_layer():
    with pytest.raises(TypeError, match=r"(?s)Expected numeric data.*Raised in layer 'd' \(Dense\.call\)"):
        layers.Dense(3, name="d")(np.array([["a", "b"]], dtype=object))
