"""The fused training step for stacks of ``Flatten``, ``Dense`` and ``Dropout`` layers.

The general step (each layer's ``forward`` and ``backward``) allocates its arrays afresh and
makes ~3x more NumPy calls than the products need. On the lesson's workload (batch 32) that
overhead, not the arithmetic, is most of the time. This plan does the same computation with:

- every buffer preallocated per batch size, reused across steps, C-contiguous, and every
  matrix product bound to its buffers once (``ops.bind_gemm``);
- the bias inside the kernel: a Dense's weights live in one ``(n_in + 1, units)`` array
  (the layer's ``kernel`` and ``bias`` Variables become views of it), and its input buffer has
  a last column of ones, so one product gives ``x @ W + b`` and one gives both gradients;
- each batch gathered straight from the user's array (any dtype) into the input buffer;
- softmax + crossentropy fused (gradient ``p - onehot``); the ``1 / batch`` of the mean is
  folded into the products' ``alpha`` rather than spent on a pass over the gradient;
- no input gradient for the first trainable layer, none at all below it;
- plain SGD landing in the weights inside the gradient product (BLAS ``beta = 1``), SGD with
  momentum inside the momentum product; the other elementwise optimizers (Adam, RMSprop...)
  update all the weights, laid out in one array, in one pass (``Optimizer.pack``); anything
  else (clipping, weight decay, frozen layers) gets gradient views and the usual ``apply``;
- loss and accuracy computed from the probabilities the step already has;
- a ``Dropout`` after a relu or linear Dense applied in place on that layer's output buffer,
  drawing its mask through the layer (so both paths draw the same masks).

``tests/test_fast_plan.py`` holds it to the general step's weights, to float32 rounding.
"""
from __future__ import annotations

import numpy as np

from .. import backend, losses
from .. import metrics as metrics_module
from ..layers.dense import Dense
from ..layers.regularization import Dropout
from ..layers.reshaping import Flatten
from ..backend.blas import bind_gemm
from ..optimizers import Adadelta, Adagrad, Adam, Adamax, Ftrl, Lion, Nadam, RMSprop
from ..optimizers.sgd import SGD

_HIDDEN = ("relu", "tanh", "sigmoid", "linear")
# (output activation, loss class): how the output gradient is formed from the probabilities
_OUTPUTS = {
    ("softmax", losses.SparseCategoricalCrossentropy): "sparse",
    ("softmax", losses.CategoricalCrossentropy): "categorical",
    ("sigmoid", losses.BinaryCrossentropy): "binary",
    ("linear", losses.MeanSquaredError): "squared",
}
# optimizers whose rule is elementwise, so one update over all the weights at once is exact
_ELEMENTWISE = (SGD, Adam, Nadam, Adamax, RMSprop, Adagrad, Adadelta, Lion, Ftrl)
_FAST_METRICS = {metrics_module.SparseCategoricalAccuracy: "sparse",
                 metrics_module.CategoricalAccuracy: "categorical"}


class _Buffers:
    """The arrays of one batch size and the products bound to them.

    ``inputs[i]`` is Dense ``i``'s input (with its ones column), ``hidden[i]`` the view of
    ``inputs[i + 1]`` that Dense ``i`` writes, ``input_grads[i]`` the gradient with respect to
    Dense ``i``'s input (without the ones column)."""

    def __init__(self, plan: FastPlan, batch: int):
        dtype, dense = plan.dtype, plan.dense
        self.inputs = []
        for layer in dense:
            buffer = np.empty((batch, layer.kernel.shape[0] + layer.use_bias), dtype)
            if layer.use_bias:
                buffer[:, -1] = 1
            self.inputs.append(buffer)
        self.output = np.empty((batch, dense[-1].units), dtype)
        self.hidden = [self.inputs[i + 1][:, :layer.units] for i, layer in enumerate(dense[:-1])] + [self.output]
        self.features = self.inputs[0][:, :plan.n_in]
        self.input_grads = [np.empty((batch, layer.kernel.shape[0]), dtype) for layer in dense]
        # the gradient arriving at Dense i's output (pre-activation): the output buffer for the last
        self.output_grads = self.input_grads[1:] + [self.output]
        self.forward_calls = [bind_gemm(self.inputs[i], plan.packed[i], self.hidden[i]) for i in range(len(dense))]
        self.input_grad_calls = [bind_gemm(self.output_grads[i], plan.kernels[i], self.input_grads[i], trans_b=True)
                                 for i in range(len(dense))]
        self.weight_calls = [None if target is None else
                             bind_gemm(self.inputs[i], self.output_grads[i], target, trans_a=True)
                             for i, target in enumerate(plan.weight_targets)]
        self.rows = np.arange(batch)
        self.dropped = {}  # Dense index -> this step's dropout multiplier after it  # for picking each row's label column


class FastPlan:
    @classmethod
    def for_model(cls, model) -> FastPlan | None:
        """The plan for ``model``, or None when it holds anything the plan does not cover."""
        layers = model.layers
        while layers and type(layers[0]) is Flatten:
            layers = layers[1:]
        dense, dropouts = [], {}  # dropouts: Dense index -> the Dropout right after it
        for previous, layer in zip([None, *layers], layers):
            if type(layer) is Dense:
                dense.append(layer)
            elif (type(layer) is Dropout and type(previous) is Dense and layer is not layers[-1]
                  and layer.noise_shape is None and previous.activation.name in ("relu", "linear")):
                # after relu or linear only: their derivative reads the same from the dropped output
                dropouts[len(dense) - 1] = layer
            else:
                return None
        layers = dense
        if not layers or not model.trainable_weights:
            return None
        if any(getattr(layer, attr, None) is not None for layer in layers for attr in (
                "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                "bias_constraint")):
            return None
        if any(layer.activation.name not in _HIDDEN for layer in layers[:-1]):
            return None
        loss = model.loss
        kind = _OUTPUTS.get((layers[-1].activation.name, type(loss)))
        if kind != "squared" and getattr(loss, "fused_activation", None) != layers[-1].activation.name:
            return None  # e.g. from_logits=True behind a softmax
        if getattr(loss, "ignore_class", None) is not None or getattr(loss, "label_smoothing", 0):
            return None
        dtypes = {layer.kernel.value.dtype for layer in layers}
        if kind is None or len(dtypes) != 1 or dtypes.pop().kind != "f":
            return None
        return cls(model, layers, kind, dropouts)

    def __init__(self, model, dense_layers, kind, dropouts=None):
        self.model, self.dense, self.kind = model, list(dense_layers), kind
        self.dropouts = dropouts or {}
        self.dtype = self.dense[0].kernel.value.dtype
        self.n_in = self.dense[0].kernel.shape[0]
        # every weight in one flat array, so elementwise optimizers update all of it in one pass;
        # per Dense a [kernel; bias] block of it, and the layer's Variables view that block
        shapes = [(layer.kernel.shape[0] + layer.use_bias, layer.units) for layer in self.dense]
        self.offsets = np.cumsum([0, *(rows * units for rows, units in shapes)])
        self.flat = np.empty(self.offsets[-1], self.dtype)
        self.packed = [self.flat[start:stop].reshape(shape)
                       for start, stop, shape in zip(self.offsets, self.offsets[1:], shapes)]
        for layer, packed in zip(self.dense, self.packed):
            layer.kernel.rebind(packed[:layer.kernel.shape[0]])
            if layer.use_bias:
                layer.bias.rebind(packed[-1])
        self.kernels = [packed[:layer.kernel.shape[0]] for packed, layer in zip(self.packed, self.dense)]
        self.mode = None
        self.weight_targets = [None] * len(self.dense)
        self.buffers: dict[int, _Buffers] = {}

    # --- per fit ---------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Read the optimizer and the layers' trainable flags, which may change between fits,
        and decide where each weight-gradient product lands:

        - ``"sgd"``: into the weights themselves (plain SGD, ``beta = 1``);
        - ``"momentum"``: into the momentum (``beta = momentum``), added to the weights after;
        - ``"whole"``: into one gradient array, then one elementwise update over all the weights;
        - ``"apply"``: into per-layer gradients for the optimizer's ``apply`` (clipping, weight
          decay, frozen layers, optimizers of the user's own).
        """
        model, optimizer = self.model, self.model.optimizer
        trainable = tuple(layer.trainable and model.trainable for layer in self.dense)
        plain_sgd = type(optimizer) is SGD and optimizer.plain and not optimizer.nesterov
        if plain_sgd and not optimizer.momentum:
            kind = "sgd"
        elif optimizer.plain and all(trainable) and type(optimizer) in _ELEMENTWISE:
            kind = "momentum" if plain_sgd else "whole"
        else:
            kind = "apply"
        mode = (trainable, kind, id(optimizer))
        if mode == self.mode:
            return
        self.mode, self.kind_of_update, self.trainable = mode, kind, trainable
        self.fused = kind in ("sgd", "momentum")
        self.first_trainable = trainable.index(True) if any(trainable) else len(self.dense)
        self.grad_views, self.grad_vars = [], []
        if kind == "sgd":
            self.weight_targets = [p if t else None for p, t in zip(self.packed, trainable)]
        elif kind in ("momentum", "whole"):  # the weights and their slots, each one flat array
            self.flat_variable = optimizer.pack(model.trainable_weights, self.flat)
            self.flat_target = (optimizer.slot(self.flat_variable, "momentum").value if kind == "momentum"
                                else np.empty_like(self.flat))
            self.weight_targets = [self.flat_target[start:stop].reshape(packed.shape)
                                   for start, stop, packed in zip(self.offsets, self.offsets[1:], self.packed)]
        else:
            self.weight_targets = [np.empty_like(p) if t else None for p, t in zip(self.packed, trainable)]
            for layer, grad in zip(self.dense, self.weight_targets):
                if grad is not None:
                    self.grad_views += [grad[:layer.kernel.shape[0]]] + ([grad[-1]] if layer.use_bias else [])
                    self.grad_vars += [layer.kernel] + ([layer.bias] if layer.use_bias else [])
        self.buffers.clear()  # their bound products point at the old targets

    def _buffers(self, batch: int) -> _Buffers:
        buffers = self.buffers.get(batch)
        if buffers is None:
            buffers = self.buffers[batch] = _Buffers(self, batch)
        return buffers

    # --- the step ---------------------------------------------------------------------------------
    def _load(self, x, index) -> _Buffers:
        """Gather the rows ``index`` of ``x`` into the first input buffer, converting the dtype."""
        x2d = x.reshape(len(x), -1)
        if x2d.shape[1] != self.n_in:
            raise ValueError(f"Dense '{self.dense[0].name}' expects inputs with last dimension "
                             f"{self.n_in}, got {x.shape}")
        rows = x2d[index]  # fancy indexing gathers faster than np.take into a staging array
        buffers = self._buffers(len(rows))
        np.copyto(buffers.features, rows, casting="unsafe")
        return buffers

    def _forward(self, buffers: _Buffers, training: bool = False) -> np.ndarray:
        for i, (layer, product, out) in enumerate(zip(self.dense, buffers.forward_calls, buffers.hidden)):
            product()
            layer.activation.forward(out, out)
            dropout = self.dropouts.get(i) if training else None
            if dropout is not None and dropout.rate:
                buffers.dropped[i] = dropout.multiplier(out.shape, out.dtype)
                out *= buffers.dropped[i]
        return buffers.output

    def _score(self, p, rows, y_batch, loss_tracker, metrics) -> None:
        """Add the batch's loss and metrics, from the probabilities ``p``."""
        eps = backend.epsilon()
        kind, batch = self.kind, len(p)
        if kind == "sparse":
            picked = np.clip(p[rows, y_batch], eps, 1 - eps)
            loss = -float(np.log(picked).sum())
        elif kind == "categorical":
            loss = -float((y_batch * np.log(np.clip(p, eps, 1 - eps))).sum())
        elif kind == "binary":
            q = np.clip(p, eps, 1 - eps)
            t = y_batch.reshape(p.shape)
            loss = -float((t * np.log(q) + (1 - t) * np.log(1 - q)).sum()) / p.shape[1]
        else:
            loss = float(np.square(p - y_batch.reshape(p.shape)).sum()) / p.shape[1]
        loss_tracker.add(loss, batch)
        for metric in metrics:
            fast = _FAST_METRICS.get(type(metric))
            if fast == "sparse" and kind == "sparse":
                metric.add(float(np.count_nonzero(p.argmax(axis=1) == y_batch)), batch)
            elif fast == "categorical" and kind == "categorical":
                metric.add(float(np.count_nonzero(p.argmax(axis=1) == y_batch.argmax(axis=1))), batch)
            else:
                metric.update_state(y_batch, p)

    def _output_grad(self, p, rows, y_batch) -> float:
        """Turn ``p`` into the (unscaled) gradient of the pre-activation; return the scale."""
        if self.kind == "sparse":
            p[rows, y_batch] -= 1
            return 1.0 / len(p)
        targets = y_batch.reshape(p.shape)
        if self.kind == "categorical":
            p *= targets.sum(axis=1, keepdims=True)
            p -= targets
            return 1.0 / len(p)
        p -= targets  # binary crossentropy and squared error are means over the units too
        return (2.0 if self.kind == "squared" else 1.0) / p.size

    def train(self, x, y, index, loss_tracker, metrics) -> None:
        buffers = self._load(x, index)
        y_batch = y[index]
        p = self._forward(buffers, training=True)
        self._score(p, buffers.rows, y_batch, loss_tracker, metrics)
        scale = self._output_grad(p, buffers.rows, y_batch)
        optimizer = self.model.optimizer
        if self.fused:  # the update itself: alpha = -lr / batch, beta = 1 (or the momentum)
            alpha, beta = -optimizer.current_learning_rate() * scale, optimizer.momentum or 1.0
        else:  # a gradient for ``apply``; a loss scale factor is undone by the optimizer
            alpha, beta = scale * (optimizer.loss_scale_factor or 1.0), 0.0
        first, dense = self.first_trainable, self.dense
        for i in range(len(dense) - 1, first - 1, -1):
            if i > first:  # the input gradient, from the weights before their update
                buffers.input_grad_calls[i]()
                if i - 1 in buffers.dropped:
                    buffers.input_grads[i] *= buffers.dropped[i - 1]
                dense[i - 1].activation.backward(buffers.input_grads[i], buffers.hidden[i - 1], None)
            if self.trainable[i]:
                buffers.weight_calls[i](alpha, beta)
        kind = self.kind_of_update
        if kind == "apply":
            optimizer.apply(self.grad_views, self.grad_vars)
            return
        if kind == "momentum":  # each layer's gradient product left the new momentum
            self.flat += self.flat_target
        elif kind == "whole":
            optimizer.update_steps([self.flat_target], [self.flat_variable], optimizer.current_learning_rate())
        optimizer.finish_step()

    def test(self, x, y, index, loss_tracker, metrics) -> None:
        buffers = self._load(x, index)
        self._score(self._forward(buffers), buffers.rows, y[index], loss_tracker, metrics)

    def predict(self, x, index) -> np.ndarray:
        return self._forward(self._load(x, index))
