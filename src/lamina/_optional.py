"""Optional dependencies, imported only when a feature needs them, with the install line in the
error rather than a bare ``No module named ...``.

>>> require("json", "this example").dumps([1])
'[1]'
"""
from __future__ import annotations

import importlib

_EXTRAS = {"h5py": "files", "matplotlib": "plot", "optuna": "tuner"}


def require(module: str, feature: str):
    """Import ``module`` for ``feature``, or raise an ImportError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        extra = _EXTRAS.get(package)
        how = f"pip install 'lamina[{extra}]' (or pip install {package})" if extra else f"pip install {package}"
        raise ImportError(f"{feature} needs {package}, which is not installed: {how}") from error
