"""Exporting a model for inference elsewhere: ``model.export(path, format="onnx")``.

Only ONNX: Keras's other formats (``tf_saved_model``, its default, ``openvino``, ``litert``,
``torch``) need TensorFlow, OpenVINO or PyTorch and are refused by name. The ``onnx`` package is
imported only when a model is exported (``pip install 'lamina[onnx]'``).
"""
from __future__ import annotations

import os

__all__ = ["export_model"]

_KERAS_FORMATS = ("tf_saved_model", "onnx", "openvino", "litert", "torch")


def export_model(model, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs) -> None:
    """What ``Model.export`` does: write ``model`` to ``filepath`` in ``format`` (``"onnx"``).

    ``kwargs`` may hold ``opset_version`` (default 17, from 13 on)."""
    if format != "onnx":
        known = format in _KERAS_FORMATS
        raise ValueError(f"model.export(format={format!r}): lamina exports format='onnx' only"
                         + (f" ({format!r} needs TensorFlow, OpenVINO or PyTorch, which lamina does not use)"
                            if known else f"; Keras's formats are {list(_KERAS_FORMATS)}")
                         + f". Call model.export({os.fspath(filepath)!r}, format='onnx')")
    unknown = set(kwargs) - {"opset_version"}
    if unknown:
        raise TypeError(f"model.export(format='onnx') got unexpected keyword arguments {sorted(unknown)}; it takes "
                        "verbose, input_signature (None) and opset_version")
    from .onnx_export import export_onnx
    export_onnx(model, filepath, verbose=verbose, input_signature=input_signature, **kwargs)
