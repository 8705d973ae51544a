"""``lamina.ops``: Keras 3's ``keras.ops`` on NumPy, with automatic gradients.

Every op takes tensors, NumPy arrays or Python numbers and returns a ``Tensor``; while a
``GradientTape`` records, differentiable ops go on the tape (see ``tape.py``). The names,
signatures and dtype rules are Keras's; ``OUT_OF_SCOPE`` lists the Keras ops lamina leaves out,
each with the reason.

>>> from lamina import ops
>>> x = ops.convert_to_tensor([[1.0, -2.0], [3.0, 4.0]])
>>> ops.relu(x).numpy().tolist()
[[1.0, 0.0], [3.0, 4.0]]
>>> float(ops.mean(ops.square(x)))
7.5
"""
from .core import (associative_scan, cast, cond, convert_to_numpy, convert_to_tensor, custom_gradient, dtype,
                   fori_loop, is_tensor, jvp, map, ndim, saturate_cast, scan, shape, size, stop_gradient, switch,
                   vectorize, vectorized_map, view, while_loop)
from .creation import (arange, array, bartlett, blackman, copy, empty, empty_like, eye, full, full_like, geomspace,
                       hamming, hanning, identity, kaiser, linspace, logspace, meshgrid, ones, ones_like, tri, zeros,
                       zeros_like)
from .indexing import (argpartition, argsort, bincount, diag, diagflat, diagonal, digitize, get_item, histogram,
                       in_top_k, index_add, isin, nonzero, scatter, scatter_update, searchsorted, segment_max,
                       segment_min, segment_prod, segment_sum, select, slice, slice_update, sort, take,
                       take_along_axis, top_k, trace, tril, triu, unique, unravel_index, where)
from .linalg_ops import (cdist, corrcoef, correlate, cross, diff, dot, einsum, inner, kron, matmul, norm, outer,
                         tensordot, trapezoid, vander, vdot)
from .math_ops import (abs, absolute, add, allclose, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh,
                       bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                       bitwise_xor, cbrt, ceil, clip, copysign, cos, cosh, deg2rad, divide, divide_no_nan, equal,
                       erf, erfc, erfinv, exp, exp2, expm1, fabs, floor, floor_divide, fmax, fmin, fmod, gcd, greater,
                       greater_equal, heaviside, hypot, isclose, isfinite, isinf, isnan, isneginf, isposinf, lcm,
                       ldexp, left_shift, less, less_equal, log, log1p, log2, log10, logaddexp, logaddexp2,
                       logical_and, logical_not, logical_or, logical_xor, maximum, minimum, mod, multiply,
                       nan_to_num, negative, nextafter, not_equal, power, rad2deg, reciprocal, right_shift, round,
                       rsqrt, sign, signbit, sin, sinc, sinh, sqrt, square, subtract, tan, tanh, true_divide, trunc)
from .nn import (celu, elu, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_swish, hard_tanh, leaky_relu,
                 log_sigmoid, log_softmax, relu, relu6, selu, sigmoid, silu, soft_shrink, softmax, softplus, softsign,
                 sparse_plus, sparse_sigmoid, sparsemax, squareplus, swish, tanh_shrink, threshold)
from .nn_composite import (batch_normalization, binary_crossentropy, categorical_crossentropy, layer_normalization,
                           moments, multi_hot, normalize, one_hot, psnr, rms_normalization,
                           sparse_categorical_crossentropy)
from .reductions import (all, amax, amin, any, argmax, argmin, average, count_nonzero, cumprod, cumsum, logsumexp,
                         max, mean, median, min, nanargmax, nanargmin, nancumprod, nancumsum, nanmax, nanmean,
                         nanmedian, nanmin, nanpercentile, nanprod, nanquantile, nanstd, nansum, nanvar, percentile,
                         prod, ptp, quantile, std, sum, var)
from .shape_ops import (append, array_split, broadcast_to, concatenate, dsplit, dstack, expand_dims, flip, fliplr,
                        flipud, hsplit, hstack, moveaxis, pad, ravel, repeat, reshape, roll, rot90, split, squeeze,
                        stack, swapaxes, tile, transpose, unstack, vsplit, vstack)
from .tape import GradientTape
from .tensor import Tensor

# Keras ops lamina does not have, and why (a test compares dir(keras.ops) with this module)
OUT_OF_SCOPE = {
    **dict.fromkeys(["conv", "conv_transpose", "depthwise_conv", "separable_conv", "max_pool", "average_pool",
                     "adaptive_average_pool", "adaptive_max_pool", "fold", "unfold", "depth_to_space",
                     "space_to_depth", "extract_sequences"],
                    "convolution, pooling and patch ops: lamina is for multilayer perceptrons"),
    **dict.fromkeys(["image"], "image processing: lamina is for multilayer perceptrons"),
    **dict.fromkeys(["fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft"], "signal processing (FFT)"),
    **dict.fromkeys(["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq", "lu_factor",
                     "matrix_rank", "pinv", "qr", "solve", "solve_triangular", "svd", "logdet", "slogdet"],
                    "linear-algebra solvers and decompositions"),
    **dict.fromkeys(["angle", "conj", "conjugate", "imag", "real", "isreal", "polar", "view_as_complex",
                     "view_as_real"], "complex numbers: lamina computes in real floats"),
    **dict.fromkeys(["ctc_loss", "ctc_decode"], "sequence losses (CTC): for recurrent models"),
    **dict.fromkeys(["dot_product_attention"], "attention: for transformer models"),
    **dict.fromkeys(["rearrange"], "einops-style pattern strings: write reshape/transpose instead"),
    **dict.fromkeys(["i0"], "the modified Bessel function: no MLP use"),
    **dict.fromkeys(["linalg", "numpy"], "sub-namespaces: every op is at lamina.ops itself (lamina.ops.nn exists)"),
}

__all__ = sorted(name for name in dir() if not name.startswith("_") and name not in (
    "annotations", "core", "creation", "indexing", "linalg_ops", "math_ops", "nn", "nn_composite", "reductions",
    "shape_ops", "sorting", "tape", "tensor", "tensor_types", "primitive", "backprop", "convert", "dtypes", "index_add",
    "OUT_OF_SCOPE"))


def _public_op(fn):
    """``fn`` as ``lamina.ops`` exposes it: it records a graph node when given symbolic tensors
    (``Input(...)``), and an error from inside it names the op and its arguments."""
    name = fn.__name__

    def op(*args, **kwargs):
        try:
            if any_symbolic(args, kwargs):
                from ..layers.op_layer import symbolic_op
                return symbolic_op(op, args, kwargs)
            return fn(*args, **kwargs)
        except (ValueError, TypeError, IndexError) as error:
            named = named_op_error(error, name, fn, args, kwargs)
            if named is error:
                raise
            raise named from error
    op.__name__, op.__qualname__, op.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    op.__wrapped__ = fn
    return op


from .._errors import named_op_error  # noqa: E402
from ..backend.keras_tensor import any_symbolic  # noqa: E402

# these take functions, or answer questions about their argument, rather than compute
_NOT_SYMBOLIC = {"GradientTape", "Tensor", "associative_scan", "cond", "custom_gradient", "fori_loop", "is_tensor",
                 "jvp", "map", "scan", "switch", "vectorize", "vectorized_map", "while_loop", "dtype", "ndim",
                 "shape", "size", "convert_to_numpy"}
for _name in __all__:
    if _name not in _NOT_SYMBOLIC:
        globals()[_name] = _public_op(globals()[_name])
del _name
