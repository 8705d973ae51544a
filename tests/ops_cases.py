"""The op cases every VJP is checked on: against JAX (through Keras's own ops on the JAX
backend, in float64) and against central differences.

A case is ``(id, op name, positional args, keyword args, the differentiable args)``: an index
into the args, or ``(i, j)`` for the ``j``-th tensor of a list argument ``i``.
The inputs stay inside each op's domain and away from its kinks and ties, where derivatives
are not unique. Shared by tests/test_ops_grad.py and tests/jax_vjp_oracle.py (run in its own
process, so JAX never loads into the test process).
"""
from __future__ import annotations

import numpy as np


def _cases():
    rng = np.random.default_rng(20261201)

    def r(*shape, low=-2.0, high=2.0):
        return rng.uniform(low, high, shape)

    def away(*shape, gap=0.1, scale=2.0):  # no value within gap of 0 (kinks of abs, relu...)
        x = rng.uniform(gap, scale, shape)
        return x * rng.choice([-1.0, 1.0], shape)

    def pos(*shape, low=0.2, high=3.0):
        return rng.uniform(low, high, shape)

    def distinct(*shape):  # no ties (max, sort, median...)
        n = int(np.prod(shape))
        return (rng.permutation(n).reshape(shape) * 0.37 - n * 0.15 + rng.uniform(0, 0.05, shape))

    def unit(*shape):
        return rng.uniform(-0.9, 0.9, shape)

    c = []
    add = c.append
    for name in ("add", "subtract", "multiply", "maximum", "minimum", "arctan2", "hypot", "logaddexp",
                 "logaddexp2"):
        add((f"{name}-broadcast", name, (distinct(3, 4), distinct(4)), {}, (0, 1)))
    add(("true_divide", "true_divide", (r(3, 4), pos(3, 1)), {}, (0, 1)))
    add(("divide", "divide", (r(2, 3), away(2, 3)), {}, (0, 1)))
    add(("divide_no_nan", "divide_no_nan", (r(2, 3), away(2, 3)), {}, (0, 1)))
    add(("power", "power", (pos(2, 3), r(2, 3)), {}, (0, 1)))
    add(("power-int-exponent", "power", (r(2, 3),), {"x2": 3}, (0,)))
    add(("mod", "mod", (pos(2, 3, low=2.1, high=5.0), pos(2, 3, low=0.7, high=0.9)), {}, (0, 1)))
    add(("fmod", "fmod", (away(2, 3, gap=1.0, scale=4.0), pos(2, 3, low=0.7, high=0.9)), {}, (0, 1)))
    add(("fmax", "fmax", (distinct(5), distinct(5) + 0.01), {}, (0, 1)))
    add(("fmin", "fmin", (distinct(5), distinct(5) + 0.01), {}, (0, 1)))
    unary = {
        "negative": r(2, 3), "abs": away(2, 3), "absolute": away(2, 3), "fabs": away(2, 3), "exp": r(2, 3),
        "exp2": r(2, 3), "expm1": r(2, 3), "log": pos(2, 3), "log2": pos(2, 3), "log10": pos(2, 3),
        "log1p": pos(2, 3), "sqrt": pos(2, 3), "rsqrt": pos(2, 3), "cbrt": away(2, 3), "square": r(2, 3),
        "reciprocal": away(2, 3), "sin": r(2, 3), "cos": r(2, 3), "tan": unit(2, 3), "arcsin": unit(2, 3),
        "arccos": unit(2, 3), "arctan": r(2, 3), "sinh": r(2, 3), "cosh": r(2, 3), "tanh": r(2, 3),
        "arcsinh": r(2, 3), "arccosh": pos(2, 3, low=1.2), "arctanh": unit(2, 3), "deg2rad": r(2, 3),
        "rad2deg": r(2, 3), "sinc": away(2, 3), "erf": r(2, 3), "erfc": r(2, 3), "erfinv": unit(2, 3),
        "sign": away(2, 3), "floor": away(2, 3), "ceil": away(2, 3), "trunc": away(2, 3), "round": away(2, 3),
        "nan_to_num": r(2, 3), "copy": r(2, 3),
        # nn
        "relu": away(2, 3), "relu6": away(2, 3, scale=8), "sigmoid": r(2, 3), "softplus": r(2, 3),
        "softsign": away(2, 3), "silu": r(2, 3), "swish": r(2, 3), "selu": away(2, 3), "elu": away(2, 3),
        "leaky_relu": away(2, 3), "hard_sigmoid": away(3, 4, scale=5), "hard_silu": away(3, 4, scale=5),
        "hard_swish": away(3, 4, scale=5), "log_sigmoid": r(2, 3), "celu": away(2, 3), "hard_tanh": away(2, 3),
        "tanh_shrink": r(2, 3), "squareplus": r(2, 3), "gelu": r(2, 3), "softmax": r(2, 4),
        "log_softmax": r(2, 4), "sparsemax": distinct(2, 4), "sparse_plus": away(3, 4, scale=3),
        "sparse_sigmoid": away(3, 4, scale=3), "glu": r(2, 4),
        # reductions
        "sum": r(3, 4), "mean": r(3, 4), "max": distinct(3, 4), "min": distinct(3, 4), "amax": distinct(3, 4),
        "amin": distinct(3, 4), "prod": r(3, 4), "var": r(3, 4), "std": r(3, 4), "logsumexp": r(3, 4),
        "cumsum": r(3, 4), "cumprod": away(3, 4), "ptp": distinct(3, 4), "median": distinct(3, 5),
        "nansum": r(3, 4), "nanmean": r(3, 4), "nanmax": distinct(3, 4), "nanmin": distinct(3, 4),
        "nanprod": r(3, 4), "nanvar": r(3, 4), "nanstd": r(3, 4), "nancumsum": r(3, 4),
        # shape
        "ravel": r(2, 3), "transpose": r(2, 3, 4), "flip": r(2, 3), "fliplr": r(2, 3), "flipud": r(2, 3),
        "rot90": r(2, 3), "diag": r(3, 3), "diagflat": r(3), "trace": r(3, 3), "tril": r(3, 3), "triu": r(3, 3),
        "diagonal": r(3, 4), "sort": distinct(3, 4), "norm": r(3, 4), "diff": r(3, 5), "trapezoid": r(3, 5),
        "corrcoef": r(3, 6), "normalize": r(3, 4), "rms_normalization": r(3, 4), "layer_normalization": r(3, 4),
    }
    for name, x in unary.items():
        add((name, name, (x,), {}, (0,)))
    add(("leaky_relu-slope", "leaky_relu", (away(2, 3),), {"negative_slope": 0.1}, (0,)))
    add(("elu-alpha", "elu", (away(2, 3),), {"alpha": 0.5}, (0,)))
    add(("gelu-exact", "gelu", (r(2, 3),), {"approximate": False}, (0,)))
    add(("softmax-axis0", "softmax", (r(3, 2),), {"axis": 0}, (0,)))
    add(("hard_shrink", "hard_shrink", (away(2, 3, gap=0.6),), {}, (0,)))
    add(("soft_shrink", "soft_shrink", (away(2, 3, gap=0.6),), {}, (0,)))
    add(("threshold", "threshold", (away(2, 3, gap=0.3),), {"threshold": 0.1, "default_value": -1.0}, (0,)))
    add(("clip", "clip", (away(3, 4, gap=0.05, scale=2),), {"x_min": -1.0, "x_max": 1.0}, (0,)))
    add(("round-decimals", "round", (away(2, 3),), {"decimals": 1}, (0,)))
    for name in ("sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "median"):
        add((f"{name}-axis", name, (distinct(3, 4, 2),), {"axis": (0, 2), "keepdims": True}, (0,)))
        add((f"{name}-axis1", name, (distinct(3, 4),), {"axis": 1}, (0,)))
    add(("prod-with-zero", "prod", (np.array([[0.0, 2.0, 3.0], [1.5, -2.0, 0.5]]),), {"axis": 1}, (0,)))
    add(("cumsum-axis", "cumsum", (r(3, 4),), {"axis": 1}, (0,)))
    add(("cumprod-axis", "cumprod", (away(3, 4),), {"axis": 0}, (0,)))
    add(("quantile", "quantile", (distinct(3, 6), np.array([0.1, 0.5, 0.9])), {"axis": 1}, (0,)))
    add(("percentile", "percentile", (distinct(7),), {"q": 30.0}, (0,)))
    add(("average", "average", (r(3, 4),), {"axis": 1, "weights": pos(4)}, (0,)))
    add(("norm-ord1", "norm", (away(3, 4),), {"ord": 1, "axis": 1}, (0,)))
    add(("norm-inf", "norm", (distinct(3, 4),), {"ord": np.inf, "axis": 1}, (0,)))
    add(("norm-p3", "norm", (away(3, 4),), {"ord": 3, "axis": -1}, (0,)))
    add(("norm-fro", "norm", (r(3, 4),), {"ord": "fro"}, (0,)))
    add(("norm-matrix1", "norm", (distinct(3, 4),), {"ord": 1, "axis": (0, 1)}, (0,)))
    add(("normalize-l1", "normalize", (away(3, 4),), {"order": 1}, (0,)))
    # shapes
    add(("reshape", "reshape", (r(2, 6),), {"newshape": (3, 4)}, (0,)))
    add(("transpose-axes", "transpose", (r(2, 3, 4),), {"axes": (2, 0, 1)}, (0,)))
    add(("expand_dims", "expand_dims", (r(2, 3),), {"axis": 1}, (0,)))
    add(("squeeze", "squeeze", (r(2, 1, 3),), {"axis": 1}, (0,)))
    add(("broadcast_to", "broadcast_to", (r(1, 3),), {"shape": (4, 3)}, (0,)))
    add(("swapaxes", "swapaxes", (r(2, 3, 4),), {"axis1": 0, "axis2": 2}, (0,)))
    add(("moveaxis", "moveaxis", (r(2, 3, 4),), {"source": 0, "destination": -1}, (0,)))
    add(("tile", "tile", (r(2, 3),), {"repeats": (2, 1, 2)}, (0,)))
    add(("repeat", "repeat", (r(2, 3),), {"repeats": 2, "axis": 1}, (0,)))
    add(("repeat-flat", "repeat", (r(2, 3),), {"repeats": 3}, (0,)))
    add(("repeat-list", "repeat", (r(3, 2),), {"repeats": [1, 3, 2], "axis": 0}, (0,)))
    add(("roll", "roll", (r(3, 4),), {"shift": 1, "axis": 1}, (0,)))
    add(("flip-axis", "flip", (r(3, 4),), {"axis": 0}, (0,)))
    add(("rot90-k3", "rot90", (r(2, 3),), {"k": 3}, (0,)))
    add(("pad-constant", "pad", (r(2, 3),), {"pad_width": ((1, 0), (0, 2))}, (0,)))
    for mode in ("reflect", "symmetric", "edge", "wrap"):
        add((f"pad-{mode}", "pad", (r(3, 4),), {"pad_width": ((1, 2), (2, 1)), "mode": mode}, (0,)))
    add(("diagonal-offset", "diagonal", (r(3, 4, 2),), {"offset": 1, "axis1": 0, "axis2": 1}, (0,)))
    add(("diag-vector", "diag", (r(3),), {"k": -1}, (0,)))
    add(("tril-k", "tril", (r(3, 4),), {"k": 1}, (0,)))
    # several inputs
    add(("concatenate", "concatenate", ([r(2, 3), r(1, 3), r(4, 3)],), {"axis": 0}, ((0, 0), (0, 1), (0, 2))))
    add(("stack", "stack", ([r(2, 3), r(2, 3)],), {"axis": 1}, ((0, 0), (0, 1))))
    add(("hstack", "hstack", ([r(2, 3), r(2, 1)],), {}, ((0, 0), (0, 1))))
    add(("vstack", "vstack", ([r(3), r(3)],), {}, ((0, 0), (0, 1))))
    add(("append", "append", (r(2, 3), r(2, 3)), {"axis": 1}, (0, 1)))
    add(("matmul", "matmul", (r(3, 4), r(4, 2)), {}, (0, 1)))
    add(("matmul-batched", "matmul", (r(2, 3, 4), r(4, 2)), {}, (0, 1)))
    add(("matmul-vector-left", "matmul", (r(4), r(2, 4, 3)), {}, (0, 1)))
    add(("matmul-vector-right", "matmul", (r(2, 3, 4), r(4)), {}, (0, 1)))
    add(("matmul-vectors", "matmul", (r(4), r(4)), {}, (0, 1)))
    add(("dot", "dot", (r(3, 4), r(4, 2)), {}, (0, 1)))
    add(("dot-3d", "dot", (r(2, 3, 4), r(5, 4, 2)), {}, (0, 1)))
    add(("tensordot", "tensordot", (r(2, 3, 4), r(4, 3, 5)), {"axes": ([1, 2], [1, 0])}, (0, 1)))
    add(("tensordot-int", "tensordot", (r(2, 3, 4), r(3, 4, 2)), {"axes": 2}, (0, 1)))
    add(("einsum", "einsum", ("ij,jk->ik", r(3, 4), r(4, 2)), {}, (1, 2)))
    add(("einsum-batch", "einsum", ("bij,bjk->bik", r(2, 3, 4), r(2, 4, 2)), {}, (1, 2)))
    add(("einsum-sum", "einsum", ("ij,j->i", r(3, 4), r(4)), {}, (1, 2)))
    add(("einsum-reduce-own", "einsum", ("ijk,j->i", r(2, 3, 4), r(3)), {}, (1, 2)))
    add(("outer", "outer", (r(3), r(4)), {}, (0, 1)))
    add(("inner", "inner", (r(2, 4), r(3, 4)), {}, (0, 1)))
    add(("vdot", "vdot", (r(2, 3), r(2, 3)), {}, (0, 1)))
    add(("kron", "kron", (r(2, 2), r(2, 3)), {}, (0, 1)))
    add(("cross", "cross", (r(4, 3), r(4, 3)), {}, (0, 1)))
    add(("cdist", "cdist", (r(3, 4), r(5, 4)), {}, (0, 1)))
    add(("correlate", "correlate", (r(6), r(3)), {}, (0, 1)))
    add(("correlate-full", "correlate", (r(6), r(3)), {"mode": "full"}, (0, 1)))
    add(("where", "where", (rng.uniform(size=(3, 4)) > 0.5, r(3, 4), r(4)), {}, (1, 2)))
    add(("select", "select", ([rng.uniform(size=(4,)) > 0.5, rng.uniform(size=(4,)) > 0.5], [r(4), r(4)]),
         {"default": -1.0}, ((1, 0), (1, 1))))
    add(("take", "take", (r(4, 3), np.array([3, 0, 0, 2])), {"axis": 0}, (0,)))
    add(("take-flat", "take", (r(4, 3), np.array([[1, 5], [5, 11]])), {}, (0,)))
    add(("take_along_axis", "take_along_axis", (r(3, 4), np.array([[0, 3], [1, 1], [2, 0]])), {"axis": 1}, (0,)))
    add(("slice", "slice", (r(4, 5),), {"start_indices": (1, 2), "shape": (2, 3)}, (0,)))
    add(("slice_update", "slice_update", (r(4, 5), (1, 2), r(2, 3)), {}, (0, 2)))
    add(("scatter", "scatter", (np.array([[0, 1], [2, 0], [0, 1]]), r(3)), {"shape": (3, 2)}, (1,)))
    add(("scatter_update", "scatter_update", (r(3, 2), np.array([[0, 1], [2, 0]]), r(2)), {}, (0, 2)))
    add(("segment_sum", "segment_sum", (r(5, 2), np.array([0, 0, 2, 1, 2])), {"num_segments": 3}, (0,)))
    add(("segment_max", "segment_max", (distinct(5, 2), np.array([0, 0, 2, 1, 2])), {"num_segments": 3}, (0,)))
    add(("segment_min", "segment_min", (distinct(5, 2), np.array([1, 0, 2, 1, 2])), {"num_segments": 3}, (0,)))
    add(("segment_prod", "segment_prod", (away(5, 2), np.array([1, 0, 2, 1, 2])), {"num_segments": 3}, (0,)))
    add(("array_split", "array_split", (r(5, 2),), {"indices_or_sections": 2}, (0,)))
    add(("cast-down", "cast", (r(2, 3),), {"dtype": "float32"}, (0,)))
    add(("top_k", "top_k", (distinct(3, 5),), {"k": 2}, (0,)))
    add(("cast", "cast", (r(2, 3),), {"dtype": "float64"}, (0,)))
    # crossentropies and normalizations (written in other ops)
    probs = pos(4, 3, low=0.1, high=1.0)
    probs = probs / probs.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[[0, 2, 1, 2]]
    add(("binary_crossentropy", "binary_crossentropy", ((r(4, 2) > 0).astype(float), pos(4, 2, low=0.1, high=0.9)),
         {}, (1,)))
    add(("binary_crossentropy-logits", "binary_crossentropy", ((r(4, 2) > 0).astype(float), r(4, 2)),
         {"from_logits": True}, (1,)))
    add(("categorical_crossentropy", "categorical_crossentropy", (onehot, probs), {}, (1,)))
    add(("categorical_crossentropy-logits", "categorical_crossentropy", (onehot, r(4, 3)), {"from_logits": True},
         (1,)))
    add(("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", (np.array([0, 2, 1, 2]), probs), {},
         (1,)))
    add(("sparse_categorical_crossentropy-logits", "sparse_categorical_crossentropy", (np.array([0, 2, 1, 2]),
                                                                                      r(4, 3)),
         {"from_logits": True}, (1,)))
    add(("batch_normalization", "batch_normalization", (r(4, 3), r(3), pos(3)),
         {"axis": -1, "offset": r(3), "scale": pos(3)}, (0, 1, 2)))
    add(("psnr", "psnr", (r(3, 4), r(3, 4)), {"max_val": 1.0}, (0, 1)))
    return c


CASES = _cases()


def substitute(args: tuple, diff: tuple, values: list) -> list:
    """``args`` with the differentiable entries replaced by ``values`` (in ``diff`` order)."""
    out = [list(a) if isinstance(a, list) else a for a in args]
    for where, value in zip(diff, values):
        if isinstance(where, tuple):
            out[where[0]][where[1]] = value
        else:
            out[where] = value
    return out


def pick(args: tuple, where):
    return args[where[0]][where[1]] if isinstance(where, tuple) else args[where]


def cotangent(case_id: str, shape: tuple) -> np.ndarray:
    seed = sum(ord(ch) * (i + 1) for i, ch in enumerate(case_id))
    return np.random.default_rng(seed).standard_normal(shape)


def first_output(out):
    """The output a case checks: the first of several (``top_k``'s values)."""
    return out[0] if isinstance(out, (tuple, list)) else out
