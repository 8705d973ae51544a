"""Models: ``Model`` (Functional or subclassed), ``Sequential``, and loading."""
from .functional import Functional
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional"]
from ..saving import load_model, model_from_json  # noqa: E402  (as keras.models has them)

from .cloning import clone_model  # noqa: E402

__all__ += ["load_model", "model_from_json", "clone_model"]
