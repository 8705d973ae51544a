"""How a layer builds: on its first call (from its inputs' shapes), from ``build_for``, or when
the user calls ``build`` directly. Split from ``layer.py``: ``Layer`` inherits these.

Keras marks a layer built, records the shapes and opens the layer's name scope around every
``build``, however it is reached (a user's ``build(shape, init)`` called from their own
``build_from_config``, ``layer.build((None, 784))`` before ``set_weights``): each subclass's
``build`` is wrapped once, when the class is made, to do the same.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import _build_hooks
from . import scopes
from .input_spec import assert_input_compatibility


def _marking_built(build):
    """``build`` that, at its outermost call on a layer, runs in the layer's scope, records a
    lone shape argument for ``get_build_config`` and leaves the layer built."""
    @functools.wraps(build)
    def build_and_mark(self, *args, **kwargs) -> None:
        if self.__dict__.get("_building"):  # a super().build() inside a build: the outer call marks
            build(self, *args, **kwargs)
            return
        object.__setattr__(self, "_building", True)
        try:
            with scopes.scope(self):
                build(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "_building", False)
        if getattr(self, "_build_shapes", None) is None and len(args) == 1 and not kwargs:
            shape = args[0]
            self._build_shapes = tuple(shape) if isinstance(shape, list) else shape
        self.built = True
        _build_hooks.built(self)  # a checkpoint restored before the weights existed fills them now
    build_and_mark.marks_built = True
    return build_and_mark


class Building:
    """The build side of ``Layer`` (see ``layer.py``)."""

    _build_shapes: Any
    built: bool
    input_spec: Any
    name: str

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if callable(build) and not getattr(build, "marks_built", False):
            cls.build = _marking_built(build)  # type: ignore[method-assign]

    @_marking_built
    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch dimension included): a layer
        without weights has nothing to create; being built is what the wrapper records."""

    def _maybe_build(self, args: tuple) -> None:
        # every call, symbolic or not, passes here: the one place InputSpec is checked (again after
        # build, which may set it, as Keras does)
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, args[0] if args else None, self.name)
        if self.built:
            return
        from .shapes import ShapesByArgument, shapes_for_build
        shapes = shapes_for_build(self, args)
        self._build_shapes = shapes
        with scopes.scope(self):  # its weights' paths name it, and the layers around it
            if isinstance(shapes, ShapesByArgument):
                self.build(**shapes)
            else:
                self.build(shapes)
        self.built = True
        _build_hooks.built(self)
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, args[0] if args else None, self.name)

    @property
    def input_spec_shape(self) -> tuple | None:
        """The per-sample input shape the layer was built for (None before, or for several inputs)."""
        shapes = self._build_shapes
        if isinstance(shapes, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in shapes):
            return tuple(shapes[1:])
        return None

    def build_for(self, sample_shape) -> None:
        """Build for inputs whose per-sample shape is ``sample_shape`` (batch dimension excluded)."""
        if not self.built:
            shape = (None, *sample_shape)
            self._build_shapes = shape
            self.build(shape)
            self.built = True
            _build_hooks.built(self)
