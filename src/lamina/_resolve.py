"""What every ``get(identifier)`` resolver shares (activations, initializers, regularizers,
constraints, losses, metrics, optimizers): as in Keras, an instance is returned as is, a class is
instantiated, a config dict is rebuilt from the registry, and a name is looked up; an unknown
name or class is refused with the closest valid ones suggested and all of them listed.

>>> print(unknown_name("metric", "acuracy", ["accuracy", "auc", "mae"]))
Unknown metric 'acuracy'. Valid names: accuracy, auc, mae. Did you mean 'accuracy'?
"""
from __future__ import annotations

import difflib
from typing import Callable, Iterable

UNRESOLVED = object()  # the caller's own cases (functions, None...) come after


def closest(name: str, choices: Iterable[str], key: Callable[[str], str] | None = None) -> list[str]:
    """The choices nearest to ``name`` (case-insensitively): the best match, and any as good."""
    fold = key or str.lower
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(fold(choice), choice)
    target = fold(name)
    scored = []
    for folded, choice in by_folded.items():
        score = difflib.SequenceMatcher(None, target, folded).ratio()
        if score >= 0.6:
            scored.append((-score, choice))
    scored.sort()
    return [choice for score, choice in scored if score <= scored[0][0] + 0.02][:3]


def unknown_name(kind: str, name, choices: Iterable[str], what: str = "names",
                 key: Callable[[str], str] | None = None) -> ValueError:
    """The error for a ``name`` no registry holds: every valid one listed, the nearest suggested."""
    choices = list(choices)
    message = f"Unknown {kind} {name!r}. Valid {what}: {', '.join(choices)}"
    if isinstance(name, str):
        near = [m for m in closest(name, choices, key) if m != name]
        if near:
            message += ". Did you mean " + " or ".join(repr(m) for m in near) + "?"
    return ValueError(message)


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
            raise unknown_name(f"{kind} class", name, choices, "classes")
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        cls = registry.get(key(identifier) if key else identifier)
        if cls is None:
            names = sorted(k for k in registry if k[0].islower())
            raise unknown_name(kind, identifier, names, key=key)
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
