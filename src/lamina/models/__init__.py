"""Models: ``Sequential``."""
from .sequential import Sequential

__all__ = ["Sequential"]
from ..saving import load_model, model_from_json  # noqa: E402  (as keras.models has them)

__all__ += ["load_model", "model_from_json"]
