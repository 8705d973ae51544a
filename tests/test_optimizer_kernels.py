"""The one-pass updates of SGD, Adam, RMSprop and Nadam (``optimizers/kernels.py``): the compiled
kernels (numba, optional) and the NumPy fallback each against closed forms in float64 over
several steps, and the fused plan against the general step with each, for every option."""
import importlib.util

import numpy as np
import pytest

import lamina
from lamina import optimizers
from lamina.optimizers import kernels

from test_fast_plan import X, Y, assert_same, build, train_both

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
MODES = ["numpy", pytest.param("compiled", marks=pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed"))]


@pytest.fixture(params=MODES)
def mode(request):
    kernels.use_compiled(request.param == "compiled")
    if request.param == "compiled":
        assert kernels.compiled() is not None
    else:
        assert kernels.compiled() is None
    yield request.param
    kernels.use_compiled(True)


RNG = np.random.default_rng(3)
W0 = RNG.standard_normal((4, 5))
GRADS = [RNG.standard_normal((4, 5)) * s for s in (1.0, 0.3, 2.0, 0.01, 0.5, 1.5)]


def closed_adam(lr=0.01, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, decay=0.0):
    w, m, v, v_max, out = W0.copy(), 0 * W0, 0 * W0, 0 * W0, []
    for t, g in enumerate(GRADS, 1):
        w = w - w * decay * lr
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        w = w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v_max if amsgrad else v) + eps)
        out.append(w)
    return out


def closed_rmsprop(lr=0.01, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    w, v, a, mom, out = W0.copy(), 0 * W0, 0 * W0, 0 * W0, []
    for g in GRADS:
        v, a = rho * v + (1 - rho) * g * g, rho * a + (1 - rho) * g
        step = lr * g / np.sqrt((v - a * a if centered else v) + eps)
        mom = momentum * mom + step
        w = w - (mom if momentum else step)
        out.append(w)
    return out


def closed_nadam(lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    def u(t):
        return b1 * (1 - 0.5 * 0.96 ** t)
    w, m, v, product, out = W0.copy(), 0 * W0, 0 * W0, 1.0, []
    for t, g in enumerate(GRADS, 1):
        product *= u(t)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        m_hat = u(t + 1) * m / (1 - product * u(t + 1)) + (1 - u(t)) * g / (1 - product)
        w = w - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
        out.append(w)
    return out


def closed_sgd(lr=0.01, momentum=0.0, nesterov=False):
    w, m, out = W0.copy(), 0 * W0, []
    for g in GRADS:
        m = momentum * m - lr * g
        w = w + (momentum * m - lr * g if nesterov else m) if momentum else w - lr * g
        out.append(w)
    return out


CASES = {
    "sgd": (lambda: optimizers.SGD(0.01), closed_sgd),
    "sgd_momentum": (lambda: optimizers.SGD(0.01, momentum=0.9), lambda: closed_sgd(momentum=0.9)),
    "sgd_nesterov": (lambda: optimizers.SGD(0.01, momentum=0.9, nesterov=True),
                     lambda: closed_sgd(momentum=0.9, nesterov=True)),
    "adam": (lambda: optimizers.Adam(0.01), closed_adam),
    "adam_amsgrad": (lambda: optimizers.Adam(0.01, beta_2=0.5, amsgrad=True),
                     lambda: closed_adam(b2=0.5, amsgrad=True)),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1), lambda: closed_adam(decay=0.1)),
    "rmsprop": (lambda: optimizers.RMSprop(0.01), closed_rmsprop),
    "rmsprop_momentum": (lambda: optimizers.RMSprop(0.01, momentum=0.5), lambda: closed_rmsprop(momentum=0.5)),
    "rmsprop_centered": (lambda: optimizers.RMSprop(0.01, centered=True), lambda: closed_rmsprop(centered=True)),
    "rmsprop_centered_momentum": (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
                                  lambda: closed_rmsprop(momentum=0.5, centered=True)),
    "nadam": (lambda: optimizers.Nadam(0.01), closed_nadam),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_update_matches_the_closed_form_over_six_steps(case, dtype, mode):
    make, closed = CASES[case]
    optimizer, w = make(), lamina.Variable(W0.astype(dtype), name="w")
    rtol = 1e-9 if dtype == "float64" else 1e-6
    atol = 1e-11 if dtype == "float64" else 1e-7  # float32: a weight near 0 keeps ~1e-8 of rounding
    for g, expected in zip(GRADS, closed()):
        optimizer.apply([g.astype(dtype)], [w])
        np.testing.assert_allclose(w.numpy(), expected, rtol=rtol, atol=atol)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_and_numpy_forms_agree_in_float32(case):
    make, _ = CASES[case]
    results = []
    for enabled in (True, False):
        kernels.use_compiled(enabled)
        optimizer, w = make(), lamina.Variable(W0.astype("float32"), name="w")
        for g in GRADS:
            optimizer.apply([g.astype("float32")], [w])
        results.append([w.numpy()] + [s.numpy() for s in optimizer.variables[1:]])
    kernels.use_compiled(True)
    for compiled, numpy_form in zip(*results):
        np.testing.assert_allclose(compiled, numpy_form, rtol=1e-6, atol=1e-7)


def test_non_contiguous_or_mixed_arrays_take_the_numpy_form(monkeypatch):
    if HAVE_NUMBA:  # the compiled kernel must not see them (it would index a strided view wrongly)
        module = kernels.compiled()
        monkeypatch.setattr(module, "adam", lambda *args: pytest.fail("compiled kernel given a strided view"))
    w = np.asfortranarray(W0.astype("float32"))
    work = np.empty_like(w)
    m, v = np.zeros_like(w), np.zeros_like(w)
    kernels.adam(w, GRADS[0].astype("float32"), m, v, None, work, 0.1, 0.001, 0.01 * np.sqrt(0.001) / 0.1, 1e-7)
    np.testing.assert_allclose(w, closed_adam()[0], rtol=1e-6)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("kernel, make", [("adam", optimizers.Adam), ("sgd", optimizers.SGD),
                                          ("sgd_momentum", lambda: optimizers.SGD(momentum=0.5))])
def test_the_compiled_kernel_runs_when_numba_is_installed(monkeypatch, kernel, make):
    module, calls = kernels.compiled(), []
    original = getattr(module, kernel)
    monkeypatch.setattr(module, kernel, lambda *args: calls.append(1) or original(*args))
    w = lamina.Variable(W0.astype("float32"), name="w")
    make().apply([GRADS[0].astype("float32")], [w])
    assert calls == [1]


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_plain_sgd_compiled_is_bit_for_bit_the_numpy_form():
    """One multiply and one subtract per element either way (no fused multiply-add): the fused
    plan's same-seed runs do not move with the kernel."""
    results = []
    for enabled in (True, False):
        kernels.use_compiled(enabled)
        w = lamina.Variable(W0.astype("float32"), name="w")
        optimizer = optimizers.SGD(0.013)
        for g in GRADS:
            optimizer.apply([g.astype("float32")], [w])
        results.append(w.numpy())
    kernels.use_compiled(True)
    np.testing.assert_array_equal(*results)


FIT_CASES = {
    "adam": lambda: optimizers.Adam(0.01),
    "adam_amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True),
    "adam_weight_decay": lambda: optimizers.Adam(0.01, weight_decay=0.05),
    "adam_clipnorm": lambda: optimizers.Adam(0.01, clipnorm=0.1),
    "adamw": lambda: optimizers.AdamW(0.01),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_momentum_centered": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "rmsprop_clipvalue": lambda: optimizers.RMSprop(0.01, clipvalue=0.01),
    "nadam": lambda: optimizers.Nadam(0.01),
    "nadam_global_clipnorm": lambda: optimizers.Nadam(0.01, global_clipnorm=0.2),
}


@pytest.mark.parametrize("case", sorted(FIT_CASES))
def test_fused_plan_matches_the_general_step(case, mode):
    def make():
        return build(optimizer=FIT_CASES[case]())
    assert_same(*train_both(make, X, Y, epochs=3))


def test_import_lamina_loads_neither_numba_nor_the_downloader():
    import subprocess
    import sys
    code = ("import sys, lamina\n"
            "print(sorted(m for m in ('numba', 'lamina.optimizers._numba_kernels', 'lamina.datasets._loader',"
            " 'urllib.request', 'http.client') if m in sys.modules))\n"
            "from lamina.keras.datasets import mnist\n"
            "print(mnist.__name__, 'lamina.datasets._loader' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "lamina.datasets.mnist True"
