"""Models: ``Model`` (Functional or subclassed), ``Sequential``, and loading."""
from .._lazy import lazy_names
from .functional import Functional
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional"]
from .cloning import clone_model  # noqa: E402

# as keras.models has them; the saving code (zipfile, the archive) loads at their first use
_SAVING = ("load_model", "save_model", "model_from_json")
_saving_getattr, _ = lazy_names("lamina.saving", dict.fromkeys(_SAVING, "saving_lib"))


def __getattr__(name: str):
    """``load_model``, ``save_model`` and ``model_from_json``, from lamina.saving at their first use."""
    if name not in _SAVING:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _saving_getattr(name)
    globals()[name] = value
    return value


__all__ += ["load_model", "save_model", "model_from_json", "clone_model"]


def __dir__() -> list:
    """What ``__all__`` names, loaded or not."""
    return sorted(set(globals()) | set(__all__))
