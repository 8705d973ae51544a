"""What every ``get(identifier)`` resolver shares (initializers, regularizers, constraints,
losses, metrics, optimizers): as in Keras, an instance is returned as is, a class is
instantiated, a config dict is rebuilt from the registry, and a name is looked up; an unknown
name or class is refused with the valid ones listed."""
from __future__ import annotations

UNRESOLVED = object()  # the caller's own cases (functions, None...) come after


def from_registry(identifier, base: type, registry: dict, kind: str, key=None):
    """Resolve ``identifier`` against ``registry`` (names and class names to classes), or return
    ``UNRESOLVED``. ``key`` normalizes a name before the lookup (optimizers: lowercase)."""
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        cls = registry.get(key(name) if key and isinstance(name, str) else name) or _registered(identifier, base)
        if cls is None:
            choices = sorted(k for k in registry if k[0].isupper()) or sorted(registry)
            raise ValueError(f"Unknown {kind} class {name!r}. Valid classes: {', '.join(choices)}")
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        cls = registry.get(key(identifier) if key else identifier)
        if cls is None:
            names = sorted(k for k in registry if k[0].islower())
            raise ValueError(f"Unknown {kind} {identifier!r}. Valid names: {', '.join(names)}")
        return cls()
    return UNRESOLVED


def _registered(config: dict, base: type):
    """The user's class a config names by its ``register_keras_serializable`` name (or a name in
    an open ``custom_object_scope``), when it derives from ``base``; else None."""
    from .saving.object_registration import get_registered_object  # here: lamina.saving imports this module

    for name in (config.get("registered_name"), config.get("class_name")):
        found = get_registered_object(name) if isinstance(name, str) else None
        if isinstance(found, type) and issubclass(found, base):
            return found
    return None
