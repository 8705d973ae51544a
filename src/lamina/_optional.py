"""Optional dependencies, imported only when a feature needs them, with the install line in the
error rather than a bare ``No module named ...``.

>>> require("json", "this example").dumps([1])
'[1]'
"""
from __future__ import annotations

import importlib

_EXTRAS = {"h5py": "files", "matplotlib": "plot", "tensorboard": "tensorboard", "onnx": "onnx",
           "onnxruntime": "onnx", "sklearn": "sklearn", "optuna": "tuner"}
_PIP_NAMES = {"sklearn": "scikit-learn"}  # where the import name is not the distribution's


def require(module: str, feature: str):
    """Import ``module`` for ``feature``, or raise an ImportError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        extra, pip_name = _EXTRAS.get(package), _PIP_NAMES.get(package, package)
        how = f"pip install 'lamina[{extra}]' (or pip install {pip_name})" if extra else f"pip install {pip_name}"
        raise ImportError(f"{feature} needs {package}, which is not installed: {how}") from error
