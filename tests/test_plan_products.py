"""The fused plan's compiled pieces against their plain forms: the products' compiled caller
(``_plan_kernels.gemm_caller``) and the compiled ``p - onehot`` of the sparse link."""
import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.backend import blas
from lamina.losses import links
from lamina.optimizers import kernels

numba = pytest.importorskip("numba")
needs_cblas = pytest.mark.skipif(not blas.HAVE_CBLAS, reason="NumPy's OpenBLAS has no cblas here")


@needs_cblas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True)])
def test_the_compiled_caller_gives_the_ctypes_products_bit_for_bit(dtype, trans_a, trans_b):
    from lamina.trainers import _plan_kernels

    rng = np.random.default_rng(2)
    a = rng.standard_normal((7, 5) if not trans_a else (5, 7)).astype(dtype)
    b = rng.standard_normal((5, 4) if not trans_b else (4, 5)).astype(dtype)
    wide = rng.standard_normal((7, 6)).astype(dtype)
    plain, compiled = wide.copy()[:, :4], wide.copy()[:, :4]  # column slices, as the plan's buffers
    blas.bind_gemm(a, b, plain, trans_a, trans_b)(0.5, 2.0)
    blas.bind_gemm(a, b, compiled, trans_a, trans_b, caller=_plan_kernels.gemm_caller(dtype))(0.5, 2.0)
    np.testing.assert_array_equal(compiled, plain)
    want = 0.5 * ((a.T if trans_a else a) @ (b.T if trans_b else b)) + 2.0 * wide[:, :4]
    np.testing.assert_allclose(compiled, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


def build():
    lamina.random.set_seed(4)
    model = lamina.Sequential([lamina.Input((6,)), layers.Dense(5, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


X = np.random.default_rng(0).standard_normal((40, 6))
Y = np.arange(40) % 3


@needs_cblas
def test_the_plan_binds_through_the_caller_only_with_the_kernels_on():
    from lamina.trainers import _plan_kernels

    model = build()
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    plan = model._plan
    assert plan.gemm_caller is _plan_kernels.gemm_caller(np.float32)
    compiled_buffers = plan.buffers[8]
    kernels.use_compiled(False)
    try:
        plain = build()
        plain.fit(X, Y, batch_size=8, epochs=1, verbose=0)
        assert plain._plan.gemm_caller is None
        model.fit(X, Y, batch_size=8, epochs=1, verbose=0)  # the switch turned off between fits
        assert plan.gemm_caller is None and plan.buffers[8] is not compiled_buffers
    finally:
        kernels.use_compiled(True)
    for got, want in zip(build().fit(X, Y, batch_size=8, epochs=1, verbose=0).history.values(),
                         plain.history.history.values()):
        np.testing.assert_allclose(got, want, rtol=1e-6)  # the same products; the heads round alike


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_compiled_sparse_gradient_is_numpys_exactly(dtype):
    rng = np.random.default_rng(1)
    p = rng.random((9, 4)).astype(dtype)
    y = rng.integers(0, 4, 9).astype(np.intp)
    rows = np.arange(9)
    link = links.SparseSoftmax()
    compiled = p.copy()
    assert link.into_gradient(compiled, rows, y) == 1 / 9
    kernels.use_compiled(False)
    try:
        plain = p.copy()
        link.into_gradient(plain, rows, y)
    finally:
        kernels.use_compiled(True)
    np.testing.assert_array_equal(compiled, plain)
    np.testing.assert_array_equal(compiled, p - np.eye(4, dtype=dtype)[y])


def test_a_label_out_of_range_still_raises_in_the_gradient():
    p = np.full((3, 4), 0.25, np.float32)
    with pytest.raises(IndexError):
        links.SparseSoftmax().into_gradient(p, np.arange(3), np.array([0, 4, 1], np.intp))
    np.testing.assert_array_equal(p, 0.25)  # nothing changed before the error


@pytest.mark.parametrize("source", [np.float64, np.float32, np.uint8, np.int64])
def test_the_compiled_gather_casts_the_rows_as_numpy_does(source):
    from lamina.trainers import _plan_kernels

    rng = np.random.default_rng(3)
    x = (rng.standard_normal((50, 13)) * 100).astype(source)
    index = rng.permutation(50)[:17]
    wide = np.full((17, 14), 7.0, np.float32)  # the plan's buffer: features, then the ones column
    assert _plan_kernels.gather_rows(x, index, wide[:, :13])
    np.testing.assert_array_equal(wide[:, :13], x[index].astype(np.float32))
    np.testing.assert_array_equal(wide[:, 13], 7.0)  # nothing written past the features


def test_the_plan_gathers_through_the_compiled_loop_and_falls_back_on_odd_inputs(monkeypatch):
    from lamina.trainers import _plan_kernels

    model = build()
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    plan = model._plan
    assert plan.gather_rows is _plan_kernels.gather_rows
    calls = []
    monkeypatch.setattr(plan, "gather_rows", lambda *args: calls.append(args) or _plan_kernels.gather_rows(*args))
    out = np.empty((3, 6), np.float32)
    plan.gather(X, np.array([4, 0, 39]), out)
    np.testing.assert_array_equal(out, X[[4, 0, 39]].astype(np.float32))
    assert len(calls) == 1
    plan.gather(X, np.array([4, -1, 2]), out)  # a negative index: the loop declines, NumPy wraps
    np.testing.assert_array_equal(out, X[[4, -1, 2]].astype(np.float32))
    with pytest.raises(IndexError):
        plan.gather(X, np.array([4, 40, 2]), out)  # past the end: NumPy's own error
    fortran = np.asfortranarray(X)
    plan.gather(fortran, np.array([1, 2, 3]), out)  # not C-contiguous: NumPy's form, not the loop
    np.testing.assert_array_equal(out, X[1:4].astype(np.float32))
    assert len(calls) == 3
