"""What a layer is in a Functional graph (its first call's symbolic input and output, the
shapes of its last call) and its build config (the input shape ``build`` got, saved and
restored with a model). Split from ``layer.py``: ``Layer`` inherits these."""
from __future__ import annotations

from typing import Any


class GraphSide:
    """The graph- and build-config side of ``Layer`` (see ``layer.py``)."""

    _inbound_nodes: list
    _build_shapes: Any
    built: bool
    name: str

    def build(self, input_shape) -> None:
        """Create the weights: ``Layer.build`` (declared here for ``build_from_config``)."""

    # --- in a graph --------------------------------------------------------------------------
    def _node_outputs(self, index: int):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on symbolic tensors, so it has no "
                                 "defined output (call it on Input(...) tensors, or use it in a Sequential)")
        return self._inbound_nodes[index].output_structure

    @property
    def output(self):
        """The symbolic output of the layer's first call in a graph."""
        return self._node_outputs(0)

    @property
    def input(self):
        """The symbolic input of the layer's first call in a graph."""
        self._node_outputs(0)
        node = self._inbound_nodes[0]
        return node.call_args[0] if len(node.call_args) == 1 else list(node.call_args)

    @property
    def output_shape(self):
        """The output shape in the graph it was last called in (None if never)."""
        if not self._inbound_nodes:
            return None
        outputs = self._inbound_nodes[-1].outputs
        return outputs[0].shape if len(outputs) == 1 else [t.shape for t in outputs]

    @property
    def input_shape(self):
        if not self._inbound_nodes:
            return None
        inputs = self._inbound_nodes[-1].input_tensors
        return inputs[0].shape if len(inputs) == 1 else [t.shape for t in inputs]

    def get_build_config(self) -> dict | None:
        if self._build_shapes is None:
            return None
        shapes = self._build_shapes
        return {"input_shape": list(shapes) if isinstance(shapes, tuple) else shapes}

    def build_from_config(self, config: dict) -> None:
        shape = config.get("input_shape")
        if shape is not None and not self.built:
            shape = tuple(shape) if isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape) \
                else shape
            self._build_shapes = shape
            self.build(shape)
            self.built = True
