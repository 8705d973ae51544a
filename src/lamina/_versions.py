"""One counter bumped by every change that can change any layer's ``weights`` or
``trainable_weights``: a weight or sub-layer added or removed anywhere, a ``trainable`` flag
flipped (a layer's or a Variable's). Layers cache those lists and recompute them when the
counter moved; one counter for all, since a layer cannot know its parents, whose lists a change
of its own changes too. Its own module: ``variables`` and ``layers`` both bump it.
"""
from __future__ import annotations

VERSION = [0]


def changed() -> None:
    """Invalidate every layer's cached weight lists."""
    VERSION[0] += 1
