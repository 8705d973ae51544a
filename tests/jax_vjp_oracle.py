"""Compute every op case's output and VJP with Keras's own ops on the JAX backend (float32).

Run as a separate process by tests/test_ops_grad.py (``python jax_vjp_oracle.py OUT.pkl``), so
JAX never loads into the test process; writes ``{case id: (output, [grads])}`` as a pickle.
"""
import os
import pickle
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_cases import CASES, cotangent, first_output, pick, substitute  # noqa: E402


def _f32(x):
    return np.asarray(x, np.float32) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x


def run_case(case):
    case_id, name, args, kwargs, diff = case
    args = tuple([_f32(v) for v in a] if isinstance(a, list) else _f32(a) for a in args)
    kwargs = {k: _f32(v) for k, v in kwargs.items()}
    op = getattr(keras.ops, name)
    primals = [pick(args, where) for where in diff]

    def f(*values):
        return first_output(op(*substitute(args, diff, list(values)), **kwargs))
    out, vjp_fn = jax.vjp(f, *primals)
    grads = vjp_fn(np.asarray(cotangent(case_id, np.shape(out)), out.dtype)) if diff else ()
    return np.asarray(out), [np.asarray(g) for g in grads]


def main(path):
    results = {}
    for case in CASES:
        try:
            results[case[0]] = run_case(case)
        except Exception as error:  # the test reports it against the case
            results[case[0]] = f"{type(error).__name__}: {error}"
    with open(path, "wb") as f:
        pickle.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1])
