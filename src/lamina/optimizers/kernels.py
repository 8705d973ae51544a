"""The elementwise updates of Adam, RMSprop and Nadam, each in one pass over the weights when
numba is installed (``pip install 'lamina[fast]'``), else in NumPy with ``out=`` buffers.

Why. On the lesson's model (266,610 weights, batch 32) a step's products take ~0.4 ms; Adam's
update written as NumPy calls is ~10 passes over the weights and their state, ~0.3 ms more even
with every pass in place (each pass reads and writes ~1 MB, out of the CPU's fastest caches).
One compiled loop reads each value once: measured ~55 us against ~320 us (bench/RESULTS.md).
numexpr was measured too and lost to NumPy (it evaluates one output per call).

The NumPy forms are the fallback, always available and tested against the compiled ones
(``tests/test_optimizer_kernels.py``); ``LAMINA_KERNELS=numpy`` or :func:`use_compiled` picks
them. A compiled kernel runs only on C-contiguous arrays of one float dtype (what the optimizers
hold); anything else takes the NumPy form. The kernels are compiled at their first use in a
process (~0.2-1 s, cached on disk by numba where it can write) and are single-threaded on
purpose: OpenBLAS's threads already share the cores with the step's products.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

# the switch (on with numba, unless LAMINA_KERNELS=numpy or use_compiled(False)), public here
from .._kernel_switch import compiled, compiled_module, use_compiled  # noqa: F401


def _flat(arrays, dtype):
    """1-D views of ``arrays`` when all are C-contiguous of ``dtype`` (a compiled kernel's
    condition), else None."""
    flat = []
    for array in arrays:
        if array.dtype != dtype or not array.flags.c_contiguous:
            return None
        flat.append(array.reshape(-1))
    return flat


def _moments(g, m, v, work, c1, c2) -> None:
    """Adam's and Nadam's moments in place: ``m += c1 (g - m)``, ``v += c2 (g^2 - v)``."""
    np.subtract(g, m, out=work)
    work *= c1
    m += work
    np.multiply(g, g, out=work)
    work -= v
    work *= c2
    v += work


def sgd(w, g, m, scratch: Callable[[], np.ndarray], lr, momentum, nesterov) -> None:
    """Plain ``w -= lr g``; with ``m`` (momentum): ``m = momentum m - lr g``, then ``w += m`` or,
    with ``nesterov``, ``w += momentum m - lr g``. ``scratch()`` gives a work array of w's shape
    (asked for only by the NumPy form). One pass instead of two: ~25 us against ~52 us on the
    lesson's 784x300 kernel, which a user's own training loop pays at every step."""
    kernels = compiled()
    flat = None if kernels is None else _flat([w, g] + ([m] if m is not None else []), w.dtype)
    if flat is not None:
        lr = w.dtype.type(lr)
        if m is None:
            kernels.sgd(*flat, lr)
        else:
            getattr(kernels, "sgd_nesterov" if nesterov else "sgd_momentum")(*flat, lr, w.dtype.type(momentum))
        return
    work = scratch()  # no temporaries: a fresh 1 MB array per step costs more than the arithmetic
    np.multiply(g, lr, out=work)
    if m is None:
        w -= work
        return
    m *= momentum
    m -= work
    if nesterov:
        np.subtract(m * momentum, work, out=work)
        w += work
    else:
        w += m


def adam(w, g, m, v, v_hat, work, c1, c2, alpha, eps) -> None:
    """``m += (g - m) c1; v += (g^2 - v) c2``; with ``v_hat`` (amsgrad) ``v_hat = max(v_hat, v)``
    and that in the root; ``w -= alpha m / (sqrt(v) + eps)``. ``work`` is scratch of w's shape."""
    kernels = compiled()
    arrays = [w, g, m, v] + ([v_hat] if v_hat is not None else [])
    flat = None if kernels is None else _flat(arrays, w.dtype)
    if flat is not None:
        scalars = [w.dtype.type(s) for s in (c1, c2, alpha, eps)]
        if v_hat is None:
            kernels.adam(*flat, *scalars)
        else:
            kernels.adam_amsgrad(*flat, *scalars)
        return
    _moments(g, m, v, work, c1, c2)
    if v_hat is not None:
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    np.sqrt(v, out=work)
    work += eps
    np.divide(m, work, out=work)
    work *= alpha
    w -= work


def rmsprop(w, g, v, a, mom, work, rho, momentum, lr, eps) -> None:
    """``v = rho v + (1 - rho) g^2``; centered (``a`` given): ``a = rho a + (1 - rho) g`` and
    ``v - a^2`` under the root; ``step = lr g / sqrt(. + eps)``; with ``mom`` given
    ``mom = momentum mom + step; w -= mom``, else ``w -= step``."""
    kernels = compiled()
    arrays = [w, g, v] + [x for x in (a, mom) if x is not None]
    flat = None if kernels is None else _flat(arrays, w.dtype)
    if flat is not None:
        scalars = [w.dtype.type(s) for s in (rho, 1 - rho, momentum, lr, eps)]
        name = "rmsprop" + ("_centered" if a is not None else "") + ("_momentum" if mom is not None else "")
        getattr(kernels, name)(*flat, *scalars)
        return
    v *= rho
    np.multiply(g, g, out=work)
    work *= 1 - rho
    v += work
    if a is not None:
        a *= rho
        np.multiply(g, 1 - rho, out=work)
        a += work
        np.multiply(a, a, out=work)
        np.subtract(v, work, out=work)
        work += eps
    else:
        np.add(v, eps, out=work)
    np.sqrt(work, out=work)
    np.divide(g, work, out=work)
    work *= lr
    if mom is not None:
        mom *= momentum
        mom += work
        w -= mom
    else:
        w -= work


def nadam(w, g, m, v, work, work2, c1, c2, m_scale, g_scale, v_scale, lr, eps) -> None:
    """``m += (g - m) c1; v += (g^2 - v) c2``;
    ``w -= lr (m m_scale + g g_scale) / (sqrt(v v_scale) + eps)`` (``g_scale > 0``)."""
    kernels = compiled()
    flat = None if kernels is None else _flat([w, g, m, v], w.dtype)
    if flat is not None:
        kernels.nadam(*flat, *[w.dtype.type(s) for s in (c1, c2, m_scale, g_scale, v_scale, lr, eps)])
        return
    _moments(g, m, v, work, c1, c2)
    np.multiply(v, v_scale, out=work)  # the denominator
    np.sqrt(work, out=work)
    work += eps
    np.multiply(m, m_scale / g_scale, out=work2)  # the numerator over g_scale: no third array
    work2 += g
    work2 /= work
    work2 *= g_scale * lr
    w -= work2
