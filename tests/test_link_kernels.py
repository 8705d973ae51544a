"""The fused step's compiled kernels (numba): the output head (``losses/_link_kernels.py``: softmax
and the summed sparse crossentropy in one pass) and relu's passes (``trainers/_plan_kernels.py``),
each against the NumPy form it replaces; and the fused plan with them against the general step."""
import importlib.util

import numpy as np
import pytest

from lamina.losses.links import SparseSoftmax
from lamina.ops.nn import _softmax_into
from lamina.optimizers import kernels

from test_fast_plan import X, Y, assert_same, build, train_both

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")


def numpy_head(z, y):
    p = _softmax_into(z, np.empty_like(z))
    return p, SparseSoftmax().loss_sum(p, np.arange(len(z)), y)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 32, 257])
def test_the_compiled_head_is_softmax_and_the_summed_loss(dtype, batch):
    rng = np.random.default_rng(batch)
    z = (rng.standard_normal((batch, 10)) * 8).astype(dtype)
    z[0, 3] = 200  # a saturated row: p clipped at 1 - eps for its label, eps elsewhere
    y = rng.integers(0, 10, batch).astype(np.intp)
    want_p, want_loss = numpy_head(z, y)
    got = z.copy()
    loss = SparseSoftmax().activate_and_loss(got, np.arange(batch), y)
    assert isinstance(loss, float)
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(got, want_p, rtol=tol, atol=tol)
    assert loss == pytest.approx(want_loss, rel=tol)


@needs_numba
def test_a_label_out_of_range_leaves_the_logits_to_the_numpy_form():
    z = np.arange(20, dtype="float32").reshape(2, 10)
    for bad in (10, -1):
        got = z.copy()
        assert SparseSoftmax().activate_and_loss(got, np.arange(2), np.array([1, bad], np.intp)) is None
        np.testing.assert_array_equal(got, z)


def test_without_the_compiled_kernels_the_head_declines():
    kernels.use_compiled(False)
    try:
        z = np.zeros((2, 10), "float32")
        assert SparseSoftmax().activate_and_loss(z, np.arange(2), np.array([1, 2], np.intp)) is None
        assert not z.any()
    finally:
        kernels.use_compiled(True)


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
def test_the_fused_plan_with_the_head_matches_the_general_step(compiled, monkeypatch):
    losses = []
    original = SparseSoftmax.activate_and_loss

    def spy(self, z, rows, y):
        losses.append(original(self, z, rows, y))
        return losses[-1]
    monkeypatch.setattr(SparseSoftmax, "activate_and_loss", spy)
    kernels.use_compiled(compiled)
    try:
        assert_same(*train_both(build, X, Y, epochs=3))
    finally:
        kernels.use_compiled(True)
    assert len(losses) == 3 * (5 + 1)  # per epoch 5 training batches of 8 rows and one validation block
    assert all(isinstance(loss, float) for loss in losses) if compiled else all(loss is None for loss in losses)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_compiled_relu_passes_are_numpys_exactly(dtype):
    from lamina.trainers import _plan_kernels

    rng = np.random.default_rng(5)
    buffer = rng.standard_normal((33, 9)).astype(dtype)
    buffer[0, :4] = [np.nan, -0.0, np.inf, -np.inf]
    z = buffer[:, :8]  # a column slice, as the plan's hidden buffers are
    want, got = np.maximum(z, 0), np.empty_like(z)
    _plan_kernels.relu_into(z, got)  # in place, returning nothing (boxing an array back costs ~1 us)
    np.testing.assert_array_equal(got, want)  # NaN where NaN
    dy = rng.standard_normal(z.shape).astype(dtype)
    dy[1, :2] = [np.nan, np.inf]
    want = dy * (z > 0)
    _plan_kernels.relu_derivative_into(dy, z)
    np.testing.assert_array_equal(dy, want)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_plans_relu_over_its_buffers_is_numpys_exactly(dtype):
    from lamina.trainers import _plan_kernels

    rng = np.random.default_rng(6)
    buffer = rng.standard_normal((40, 21)).astype(dtype)  # 20 units and the next layer's ones column
    buffer[:, -1] = 1
    buffer[0, :5] = [np.nan, -0.0, np.inf, -np.inf, 0.0]
    z = buffer[:, :20]
    want = np.maximum(z, 0)
    _plan_kernels.relu_columns(z, buffer)
    np.testing.assert_array_equal(z, want)  # NaN where NaN
    np.testing.assert_array_equal(np.signbit(z), np.signbit(want))  # -0.0 becomes +0.0, as in NumPy
    np.testing.assert_array_equal(buffer[:, -1], 1)  # the ones column untouched
    dy = rng.standard_normal(z.shape).astype(dtype)
    dy[1, :2] = [np.nan, np.inf]
    want = dy * (z > 0)
    _plan_kernels.relu_derivative_columns(dy, buffer)
    np.testing.assert_array_equal(dy, want)


@needs_numba
def test_the_plan_takes_the_compiled_relu_only_when_the_kernels_are_on():
    from lamina.trainers import _plan_kernels

    model = build(hidden=("relu", "tanh"))
    model.fit(X, Y, epochs=1, verbose=0)
    plan = model._fast_plan()
    assert plan.activate[0] is _plan_kernels.relu_columns
    assert plan.derivative[0] is _plan_kernels.relu_derivative_columns
    assert plan.activate[1] is not _plan_kernels.relu_columns  # tanh keeps its own
    z = np.linspace(-2, 2, 12).reshape(3, 4)
    plan.activate[1](z, z)
    np.testing.assert_array_equal(z, np.tanh(np.linspace(-2, 2, 12).reshape(3, 4)))
    kernels.use_compiled(False)
    try:
        model.fit(X, Y, epochs=1, verbose=0)
        assert plan.activate[0] is not _plan_kernels.relu_columns
    finally:
        kernels.use_compiled(True)
