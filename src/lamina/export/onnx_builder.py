"""``OnnxBuilder``: the nodes and constants of one ONNX graph, named uniquely, for one opset.

Converters call ``op`` (a node; its output names are made from a hint), ``const`` (an
initializer, float32 unless the array is an integer one) and the reductions, whose form changed
between opsets (``ReduceMean`` takes its axes as an input from opset 18 on, ``ReduceSum`` from
13): the builder hides that, so each converter is written once.
"""
from __future__ import annotations

import re

import numpy as np

from .._optional import require

FEATURE = "model.export(format='onnx')"


class OnnxBuilder:
    """Collects nodes and initializers; ``model(...)`` makes the ``onnx.ModelProto``."""

    def __init__(self, opset: int):
        self.onnx = require("onnx", FEATURE)
        self.helper = self.onnx.helper
        self.numpy_helper = require("onnx.numpy_helper", FEATURE)
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._used: set[str] = set()
        self._constants: dict = {}

    def name(self, hint: str) -> str:
        """A name no other value of the graph has, made from ``hint``."""
        base = re.sub(r"[^A-Za-z0-9_./-]", "_", hint) or "value"
        name, count = base, 0
        while name in self._used:
            count += 1
            name = f"{base}_{count}"
        self._used.add(name)
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, outputs: int = 1, **attributes) -> str | list[str]:
        """A node ``op_type(inputs)``; its output name (or names, when ``outputs > 1``)."""
        names = [self.name(f"{hint}/{op_type}" + (f":{i}" if outputs > 1 else "")) for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, inputs, names, name=self.name(f"{hint}/{op_type}_node"),
                                                **attributes))
        return names if outputs > 1 else names[0]

    def const(self, value, hint: str, key=None) -> str:
        """An initializer holding ``value`` (float32, or int64 for integers). ``key`` (a weight,
        say) lets two uses of the same value share one initializer."""
        if key is not None and id(key) in self._constants:
            return self._constants[id(key)][0]
        array = np.asarray(value)
        array = array.astype(np.int64 if array.dtype.kind in "iub" else np.float32)
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        if key is not None:
            self._constants[id(key)] = (name, key)  # the key is held, so its id stays its own
        return name

    def scalar(self, value: float, hint: str = "const") -> str:
        """A float32 scalar initializer."""
        return self.const(np.float32(value), hint)

    def reduce(self, op_type: str, x: str, axes, hint: str, keepdims: bool = True) -> str | list[str]:
        """``ReduceMean`` or ``ReduceSum`` of ``x`` over ``axes``, in this opset's form."""
        axes = [int(a) for a in (axes if isinstance(axes, (list, tuple)) else [axes])]
        takes_input = self.opset >= (18 if op_type == "ReduceMean" else 13)
        if takes_input:
            return self.op(op_type, [x, self.const(np.array(axes, np.int64), f"{hint}/axes")], hint,
                           keepdims=int(keepdims))
        return self.op(op_type, [x], hint, axes=axes, keepdims=int(keepdims))

    def value_info(self, name: str, shape=None) -> object:
        """A float32 graph input or output of ``shape`` (None: a dimension named ``batch`` for the
        first, ``dim_<i>`` for the others; no shape at all: ONNX's shape inference fills it in)."""
        dims = None if shape is None else [d if d is not None else ("batch" if i == 0 else f"dim_{i}")
                                           for i, d in enumerate(shape)]
        return self.helper.make_tensor_value_info(name, self.onnx.TensorProto.FLOAT, dims)

    def model(self, inputs: list, outputs: list, graph_name: str, doc: str):
        """The finished ``ModelProto``, checked by ``onnx.checker``. The outputs' shapes are
        ONNX's inference from the inputs' (the symbolic shapes lamina records can be wrong where
        an activation changes the width, as ``glu`` halves it)."""
        graph = self.helper.make_graph(self.nodes, graph_name, inputs, outputs, self.initializers)
        model = self.helper.make_model(graph, producer_name="lamina", doc_string=doc,
                                       opset_imports=[self.helper.make_opsetid("", self.opset)])
        model = self.onnx.shape_inference.infer_shapes(model, strict_mode=True)
        # the IR version of the opset, not the newest the onnx package writes, so that an older
        # onnxruntime reads the file
        model.ir_version = min(model.ir_version, _IR_FOR_OPSET.get(self.opset, model.ir_version))
        self.onnx.checker.check_model(model, full_check=True)
        return model


# opset -> the IR version released with it (onnx/docs/Versioning.md)
_IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11}
