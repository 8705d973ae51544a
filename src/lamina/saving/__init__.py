"""Saving and loading models (Keras's ``.keras`` format)."""

__all__: list[str] = []
