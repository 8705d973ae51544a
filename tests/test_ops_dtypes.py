"""Keras's dtype rules where NumPy's differ: integer sums and products accumulate in int32
(uint32 for small unsigned types), scans keep their input's dtype."""
import numpy as np
import pytest

from lamina import ops

_KERAS = {  # Keras 3 (its NumPy backend's rules; JAX agrees except that it has no int64 without x64)
    "sum": {"bool": "int32", "int8": "int32", "int16": "int32", "int32": "int32", "int64": "int64",
            "uint8": "uint32", "uint16": "uint32", "uint32": "uint32", "float16": "float16"},
    "cumsum": {"bool": "int32", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
               "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "float16": "float16"},
}
_KERAS["prod"] = _KERAS["nansum"] = _KERAS["nanprod"] = _KERAS["sum"]
_KERAS["cumprod"] = _KERAS["cumsum"]


@pytest.mark.parametrize("op", sorted(_KERAS))
@pytest.mark.parametrize("dtype", sorted(_KERAS["sum"]))
def test_integer_accumulators_follow_keras(op, dtype):
    x = np.array([[1, 0, 1], [1, 1, 1]], dtype=dtype)
    result = getattr(ops, op)(x)
    assert str(result.dtype) == _KERAS[op][dtype]
    expected = {"sum": 5, "nansum": 5, "prod": 0, "nanprod": 0}.get(op)
    if expected is not None:
        assert float(result) == expected


def test_an_int8_sum_does_not_overflow_where_int8_would():
    assert int(ops.sum(np.full(300, 100, dtype="int8"))) == 30000
