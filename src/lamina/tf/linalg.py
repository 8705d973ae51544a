"""``tf.linalg``: the matrix products and norms an MLP needs (no solvers or decompositions).

>>> import lamina as tf
>>> tf.linalg.matvec([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).numpy().tolist()
[3.0, 7.0]
"""
from __future__ import annotations

from .. import ops
from ..ops.tensor import Tensor
from ._convert import tensor
from .creation import eye
from .math_ops import matmul, norm, tensordot
from .nn_ops import l2_normalize


def matvec(a, b, transpose_a=False, adjoint_a=False, name=None) -> Tensor:
    """``a @ b`` for a matrix (or batch of matrices) ``a`` and a vector ``b``."""
    a = tensor(a)
    if transpose_a or adjoint_a:
        a = ops.swapaxes(a, -1, -2)
    return ops.squeeze(ops.matmul(a, ops.expand_dims(tensor(b), -1)), -1)


def matrix_transpose(a, name=None, conjugate=False) -> Tensor:
    """``a`` with its last two axes swapped."""
    return ops.swapaxes(tensor(a), -1, -2)


def diag_part(input, name=None, k=0) -> Tensor:  # noqa: A002
    """The main diagonal of each matrix in ``input``."""
    return ops.diagonal(tensor(input), offset=int(k), axis1=-2, axis2=-1)


def trace(x, name=None) -> Tensor:
    """The sum of each matrix's diagonal."""
    return ops.sum(diag_part(x), axis=-1)


def diag(diagonal, name=None) -> Tensor:
    """A square matrix with ``diagonal`` on its diagonal (for a 1-D ``diagonal``)."""
    d = tensor(diagonal)
    if d.ndim != 1:
        raise ValueError(f"linalg.diag: lamina takes a 1-D diagonal, got shape {d.shape}")
    return ops.diag(d)


__all__ = ["diag", "diag_part", "eye", "l2_normalize", "matmul", "matrix_transpose", "matvec", "norm", "tensordot",
           "trace"]


def __getattr__(name: str):
    """A tf.linalg name lamina does not have: refused, saying so (dunder probes get Python's own error)."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._refused import refusal
    raise refusal(name, "tf.linalg")
