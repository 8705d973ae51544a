"""Every op's forward value and VJP held to Keras's ops on JAX (``jax.vjp``, float32, run in its
own process) and to central differences (float64); plus the tape's own rules."""
from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import lamina
from lamina import ops
from lamina.ops.primitive import Primitive

from ops_cases import CASES, cotangent, first_output, pick, substitute

HERE = os.path.dirname(os.path.abspath(__file__))
# cases Keras's JAX ops cannot run; each is still held to central differences
JAX_CANNOT = {"repeat-list": "keras.ops.repeat on JAX takes no list of repeats",
              "segment_prod": "JAX differentiates scatter_mul only with unique indices"}
# a float32 result differenced in float64 is only as exact as float32 allows
NUMERIC_RTOL = {"cast-down": 5e-2}
# where Keras 3.15 is wrong and lamina is not (the README lists these); held to a reference instead
KERAS_BUGS = {"sparsemax": "Keras 3.15 takes the threshold from the sum of the cumulative sums, so the output does "
                           "not sum to 1 (keras-team/keras#23425, fixed in #23469)"}


@pytest.fixture(scope="session")
def jax_results(request):
    """The oracle's results, computed once per version of the cases (cached by their hash)."""
    digest = hashlib.sha256()
    for name in ("ops_cases.py", "jax_vjp_oracle.py"):
        with open(os.path.join(HERE, name), "rb") as f:
            digest.update(f.read())
    cache_plugin = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    if cache_plugin is not None:
        cache = cache_plugin.mkdir("lamina-jax-oracle")
    else:
        cache = request.getfixturevalue("tmp_path_factory").mktemp("oracle")
    path = os.path.join(cache, digest.hexdigest()[:16] + ".pkl")
    if not os.path.exists(path):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
        subprocess.run([sys.executable, os.path.join(HERE, "jax_vjp_oracle.py"), path + ".tmp"], check=True,
                       env=env, timeout=900, capture_output=True)
        os.replace(path + ".tmp", path)
    with open(path, "rb") as f:
        return pickle.load(f)


def _cast_args(args, kwargs, dtype):
    def cast(x):
        return np.asarray(x, dtype) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x
    args = tuple([cast(v) for v in a] if isinstance(a, list) else cast(a) for a in args)
    return args, {k: cast(v) for k, v in kwargs.items()}


def lamina_vjp(case, dtype):
    case_id, name, args, kwargs, diff = case
    args, kwargs = _cast_args(args, kwargs, dtype)
    op = getattr(ops, name)
    primals = [ops.convert_to_tensor(pick(args, where)) for where in diff]
    with lamina.GradientTape() as tape:
        tape.watch(primals)
        out = first_output(op(*substitute(args, diff, primals), **kwargs))
    seed = np.asarray(cotangent(case_id, out.shape), out.dtype)
    grads = tape.gradient(out, primals, output_gradients=seed) if diff else []
    return out, grads, tape


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_forward_and_vjp_match_jax(case, jax_results):
    result = jax_results[case[0]]
    if case[0] in JAX_CANNOT:
        assert isinstance(result, str), f"{case[0]} now runs on JAX: hold it to JAX"
        return
    assert not isinstance(result, str), f"the JAX oracle failed on {case[0]}: {result}"
    expected_out, expected_grads = result
    out, grads, _ = lamina_vjp(case, np.float32)
    if case[0] in KERAS_BUGS:
        np.testing.assert_allclose(out.numpy(), _sparsemax_reference(case[2][0]), rtol=1e-5, atol=1e-6)
        assert not np.allclose(out.numpy(), expected_out), f"Keras is fixed for {case[0]}: hold lamina to it again"
        return
    np.testing.assert_allclose(out.numpy(), expected_out, rtol=2e-5, atol=2e-6, err_msg="forward")
    for where, grad, expected in zip(case[4], grads, expected_grads):
        assert grad is not None, f"no gradient for argument {where}"
        np.testing.assert_allclose(grad.numpy(), expected, rtol=2e-4, atol=2e-5, err_msg=f"gradient of {where}")


def _sparsemax_reference(z):
    """Martins and Astudillo's algorithm, row by row: tau from the k-th cumulative sum."""
    rows = []
    for row in np.asarray(z, np.float64):
        ordered = np.sort(row)[::-1]
        k = np.arange(1, len(row) + 1)
        cumulative = np.cumsum(ordered)
        support = k[1 + k * ordered > cumulative].max()
        rows.append(np.maximum(row - (cumulative[support - 1] - 1) / support, 0))
    out = np.array(rows)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0)
    return out


def _numeric(case, seed_out_shape):
    case_id, name, args, kwargs, diff = case
    args, kwargs = _cast_args(args, kwargs, np.float64)
    op = getattr(ops, name)
    values = [np.array(pick(args, where), np.float64) for where in diff]
    seed = cotangent(case_id, seed_out_shape)

    def f():
        return float(np.sum(first_output(op(*substitute(args, diff, list(values)), **kwargs)).numpy() * seed))
    grads = []
    for value in values:
        grad, flat = np.zeros_like(value), value.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + 1e-6
            up = f()
            flat[i] = saved - 1e-6
            down = f()
            flat[i] = saved
            grad.reshape(-1)[i] = (up - down) / 2e-6
        grads.append(grad)
    return grads


@pytest.mark.parametrize("case", [c for c in CASES if c[4]], ids=[c[0] for c in CASES if c[4]])
def test_vjp_matches_central_differences(case):
    out, grads, _ = lamina_vjp(case, np.float64)
    for where, grad, expected in zip(case[4], grads, _numeric(case, out.shape)):
        rtol = NUMERIC_RTOL.get(case[0], 1e-6)
        np.testing.assert_allclose(grad.numpy(), expected, rtol=rtol, atol=1e-7, err_msg=f"gradient of {where}")


def _primitives():
    found = {}
    for module in (ops.math_ops, ops.reductions, ops.shape_ops, ops.indexing, ops.linalg_ops, ops.nn, ops.core,
                   ops.creation):
        for value in vars(module).values():
            if isinstance(value, Primitive) and value.differentiable:
                found[value.name] = value
    return found


def test_every_differentiable_primitive_is_checked():
    recorded = set()
    for case in CASES:
        if not case[4]:
            continue
        args, kwargs = _cast_args(case[2], case[3], np.float64)
        primals = [ops.convert_to_tensor(pick(args, where)) for where in case[4]]
        tape = lamina.GradientTape(persistent=True)
        with tape:
            tape.watch(primals)
            getattr(ops, case[1])(*substitute(args, case[4], primals), **kwargs)
        recorded |= {node.prim.name for node in tape._nodes}
    # read (a Variable as a tensor), index_add (the VJP of gathers) and linear (an activation's
    # identity) are held by the tape and activation tests
    missing = set(_primitives()) - recorded - {"read", "index_add", "linear"}
    assert not missing, f"primitives with a VJP but no case in tests/ops_cases.py: {sorted(missing)}"


def test_dir_matches_keras_ops():
    """Every name of keras.ops exists in lamina.ops, or is out of scope with a reason."""
    out = subprocess.run([sys.executable, "-c", "import keras; print(' '.join(n for n in dir(keras.ops) "
                          "if not n.startswith('_')))"], capture_output=True, text=True, check=True,
                         env={**os.environ, "KERAS_BACKEND": "jax"}, timeout=300)
    keras_names = set(out.stdout.split())
    missing = keras_names - set(dir(ops)) - set(ops.OUT_OF_SCOPE)
    assert not missing, f"keras.ops names missing from lamina.ops: {sorted(missing)}"
    assert not set(ops.OUT_OF_SCOPE) & set(ops.__all__)
    assert all(reason for reason in ops.OUT_OF_SCOPE.values())
