"""What ``import lamina as tf`` answers for TensorFlow names it does not have: an AttributeError
that says lamina lacks the name and why, and what to use instead.

lamina holds numeric tensors for multilayer perceptrons. String, ragged and sparse tensors, the
byte-level ``tf.io`` and the multi-device machinery are out of its scope: a program that needs
them should say so loudly at the first use, not fail later on a half-working stand-in.
"""
from __future__ import annotations

_STRINGS = ("string tensors are out of lamina's scope (it holds numbers for MLPs); turn text into numbers in "
            "Python or NumPy first (str.split, a vocabulary dict, np.array of ids) and pass int or float arrays")
_RAGGED = ("ragged tensors are out of lamina's scope; pad the rows to one length "
           "(tf.keras.utils.pad_sequences) and pass a rectangular array")
_SPARSE = ("sparse tensors are out of lamina's scope; pass a dense array (scipy.sparse's .toarray(), "
           "or np.zeros and assignment by index)")

REASONS: dict[str, str] = {
    "strings": _STRINGS, "string": _STRINGS,
    "ragged": _RAGGED, "RaggedTensor": _RAGGED, "RaggedTensorSpec": _RAGGED,
    "sparse": _SPARSE, "SparseTensor": _SPARSE, "SparseTensorSpec": _SPARSE,
    "io": ("tf.io decodes bytes, images and TFRecords, which lamina does not hold; read files with NumPy, "
           "pandas or Python and pass numeric arrays"),
    "complex64": "complex dtypes are out of lamina's scope; it computes in bool, integer and float dtypes",
    "complex128": "complex dtypes are out of lamina's scope; it computes in bool, integer and float dtypes",
    "debugging": ("its asserts and check_numerics are not in lamina: check values with np.testing on x.numpy(); "
                  "and lamina computes on the CPU only, so there is no device placement to log"),
    "distribute": "lamina runs on one CPU device: there is no tf.distribute strategy to pick; drop the scope",
}


def refusal(name: str, where: str = "tf") -> AttributeError:
    """The AttributeError for ``<where>.<name>``: lamina lacks it, why, and what to use instead."""
    reason = REASONS.get(name, "lamina's TensorFlow names cover the tensor functions MLP programs use (README, "
                               "'What works'), and this is not one of them")
    return AttributeError(f"lamina has no {where}.{name}: {reason}")
