"""The switch of lamina's compiled (numba) kernels: on when numba is installed, unless
``LAMINA_KERNELS=numpy`` or :func:`use_compiled(False) <use_compiled>`; off, every part takes its
NumPy form. Public as ``lamina.optimizers.kernels.use_compiled``.

Why a module of its own: the ops, the losses' fused heads, the fused plan and the optimizers all
ask it at every step, and it imports nothing of lamina, so each can import it at the top (asking
through ``optimizers.kernels`` needed a lazy import, the optimizers importing the ops). The
kernel modules themselves load at their first use, each once (an import statement costs ~1.5 us
even when done, and the heads ask at every step).
"""
from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

_state: dict[str, Any] = {"enabled": os.environ.get("LAMINA_KERNELS", "").strip().lower() != "numpy"}
_modules: dict[str, Any] = {}  # module name -> the module, or False when numba is missing
OPTIMIZER_KERNELS = "lamina.optimizers._numba_kernels"


def use_compiled(enabled: bool) -> None:
    """Use the compiled kernels when numba is installed (True, the default) or always NumPy."""
    _state["enabled"] = bool(enabled)


def compiled_module(name: str) -> Any:
    """The compiled-kernel module ``name`` (``"lamina.losses._link_kernels"``...) when the kernels
    are on and numba imports, else None."""
    if not _state["enabled"] or (name != OPTIMIZER_KERNELS and compiled() is None):
        return None
    module = _modules.get(name)
    if module is None:
        try:
            with warnings.catch_warnings():  # numba's own deprecation notices are not the user's business
                warnings.simplefilter("ignore")
                module = importlib.import_module(name)
        except ImportError:
            module = False
        _modules[name] = module
    return module or None


def compiled() -> Any:
    """The optimizers' compiled kernels (``optimizers/_numba_kernels.py``), or None: numba missing
    or switched off. The other kernel modules load only when this one does."""
    return compiled_module(OPTIMIZER_KERNELS)
