"""The fused training step for chains of ``Flatten``, ``Dense`` and ``Dropout`` layers.

The general step (a tape over each layer's node) allocates its arrays afresh and makes ~3x
more NumPy calls than the products need. On the lesson's workload (batch 32) that
overhead, not the arithmetic, is most of the time. This plan does the same computation with:

- every buffer preallocated per batch size, reused across steps, C-contiguous, and every
  matrix product bound to its buffers once (``ops.bind_gemm``);
- the bias inside the kernel: a Dense's weights live in one ``(n_in + 1, units)`` array
  (the layer's ``kernel`` and ``bias`` Variables become views of it), and its input buffer has
  a last column of ones, so one product gives ``x @ W + b`` and one gives both gradients;
- each batch gathered straight from the user's array (any dtype) into the input buffer (with
  numba, by a loop that prefetches the next row, ``_plan_kernels.gather_rows``);
- softmax + crossentropy fused (gradient ``p - onehot``; with numba, softmax and the loss in
  one compiled pass, ``Link.activate_and_loss``); the ``1 / batch`` of the mean is
  folded into the products' ``alpha`` rather than spent on a pass over the gradient;
- no input gradient for the first trainable layer, none at all below it;
- plain SGD landing in the weights inside the gradient product (BLAS ``beta = 1``), SGD with
  momentum inside the momentum product; the other elementwise optimizers (Adam, RMSprop...)
  update all the weights, laid out in one array, in one pass (``Optimizer.pack``); anything
  else (clipping, weight decay, frozen layers) gets gradient views and the usual ``apply``;
- loss and accuracy computed from the probabilities the step already has;
- with numba (the optimizers' kernel switch), relu and its derivative as compiled loops
  (``_plan_kernels.py``), NumPy's forms otherwise;
- with numba, the products called through a compiled caller of the same cblas function
  (``_plan_kernels.gemm_caller``: ~1.3 us a call against ~4.3 us through ctypes);
- a second first-input buffer per batch size, which ``fit``'s prefetching thread fills with the
  next batch's rows while this one trains, when a core is spare (``trainers/prefetch.py``);
- a ``Dropout`` after a relu or linear Dense applied in place on that layer's output buffer,
  drawing its mask through the layer (so both paths draw the same masks).

The plan reads only what the parts declare: a layer's ``fused_role()``, a hidden activation's
``derivative_into``, the loss's ``canonical_link(activation)`` (``losses/links.py``), the
optimizer's ``gemm_momentum()`` and ``updates_elementwise()``, a metric's ``fused_update``.
It serves any chain graph (a Sequential, or a Functional model that is a chain) whose
``train_step`` is not overridden. ``tests/test_fast_plan.py`` holds it to the general step's
weights, to float32 rounding.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _kernel_switch
from ..backend import blas
from . import batch_gather, tracing
from .plan_buffers import Buffers
from .compile_utils import get_loss

if TYPE_CHECKING:
    from ..losses.links import Link


def _in_place(into):
    """An activation's ``into(z, out)`` as the plan calls it, ``f(z, buffer)``: in place on ``z``."""
    return lambda z, buffer: into(z, z)


def _of_columns(derivative_into):
    """A derivative's ``derivative_into(dy, y)`` as the plan calls it, ``f(dy, buffer)``: ``y`` the
    columns of ``buffer`` that ``dy`` has."""
    return lambda dy, buffer: derivative_into(dy, buffer[:, :dy.shape[1]])


def chain_layers(model) -> list | None:
    """The layers of ``model`` when it runs a chain: its graph's, or its traced ``call``'s."""
    graph = model._current_graph() if hasattr(model, "_current_graph") else None
    if graph is not None:
        return tracing.graph_chain(graph)
    return tracing.traced_chain(model)


def _roles(layers) -> tuple[list, dict] | None:
    """The Dense layers and, by Dense index, the Dropout right after one (relu or linear)."""
    while layers and layers[0].fused_role() == "flatten":
        layers = layers[1:]
    dense, dropouts = [], {}
    for previous, layer in zip([None, *layers], layers):
        role = layer.fused_role()
        if role == "dense":
            dense.append(layer)
        elif (role == "dropout" and previous is not None and previous.fused_role() == "dense"
              and layer is not layers[-1] and previous.activation.name in ("relu", "linear")):
            dropouts[len(dense) - 1] = layer  # their derivative reads the same from the dropped output
        else:
            return None
    return (dense, dropouts) if dense else None


def _feeds_more_than_rows(layers, first_dense) -> bool:
    """Whether the first Dense sees inputs of rank > 2 (no Flatten before it): Keras applies it to
    the last axis, which the plan's row-major buffers do not do."""
    if layers and layers[0].fused_role() == "flatten":
        return False
    sample_shape = first_dense.input_spec_shape
    return sample_shape is not None and len(sample_shape) > 1


def _output_link(model, last):
    compiled = model._compile_loss
    if compiled is None or compiled._user_weights is not None:
        return None
    spec = compiled._user_loss
    if isinstance(spec, (list, tuple)):
        spec = spec[0] if len(spec) == 1 else None
    if spec is None or (isinstance(spec, str) and spec.lower() in ("crossentropy", "ce")):
        return None
    loss = compiled.losses[0] if compiled.built else get_loss(spec, None, None)
    return loss.canonical_link(last.activation.name)


class FastPlan:
    """The fused training step for a chain of Flatten, Dense and Dropout layers (see the module docstring)."""
    @classmethod
    def for_model(cls, model) -> FastPlan | None:
        """The plan for ``model``, or None when it holds anything the plan does not cover."""
        layers = chain_layers(model)
        found = None if layers is None else _roles(layers)
        if found is None or not model.trainable_weights:
            return None
        dense, dropouts = found
        if any(layer.activation.derivative_into is None for layer in dense[:-1]):
            return None
        if _feeds_more_than_rows(layers, dense[0]):
            return None  # Dense on the last axis of (batch, ..., features): the general path
        link = _output_link(model, dense[-1])
        dtypes = {layer.kernel._value.dtype for layer in dense}
        if link is None or len(dtypes) != 1 or dtypes.pop().kind != "f":
            return None
        return cls(model, dense, link, dropouts)

    def __init__(self, model: Any, dense_layers: list, link: Link, dropouts: dict | None = None):
        # model: a Model, or the owner a tf.function's plan stands in for (tf/fused_function.py)
        self.model, self.dense, self.link = model, list(dense_layers), link
        self.dropouts = dropouts or {}
        self.dtype = self.dense[0].kernel._value.dtype
        self.n_in = self.dense[0].kernel.shape[0]
        # every weight in one flat array, so elementwise optimizers update all of it in one pass;
        # per Dense a [kernel; bias] block of it, and the layer's Variables view that block
        shapes = [(layer.kernel.shape[0] + layer.use_bias, layer.units) for layer in self.dense]
        self.offsets = np.cumsum([0, *(rows * units for rows, units in shapes)])
        self.flat = np.empty(self.offsets[-1], self.dtype)
        self.packed = [self.flat[start:stop].reshape(shape)
                       for start, stop, shape in zip(self.offsets, self.offsets[1:], shapes)]
        self._bind()
        self.kernels = [packed[:layer.kernel.shape[0]] for packed, layer in zip(self.packed, self.dense)]
        self.variables = [v for layer in self.dense for v in layer._trainable_variables]
        self.mode: tuple | None = None  # (trainable flags, kind of update, optimizer id) prepared for
        self.weight_targets: list[np.ndarray | None] = [None] * len(self.dense)
        self.buffers: dict[int, Buffers] = {}
        self.prefetcher = None  # a fit's gathering thread while one runs (trainers/prefetch.py)
        self.gathered: Any = None  # the rows it gathered for the batch about to train, when it did
        self.gemm_caller = None  # the products' compiled caller (_plan_kernels.gemm_caller), when on
        self.gather_rows = None  # the batch gather's compiled loop (_plan_kernels.gather_rows), when on
        self._choose_activations()

    def _choose_activations(self) -> None:
        """Each Dense's activation ``f(z, buffer)``, in place on its output ``z`` (the first columns
        of ``buffer``), and hidden derivative ``f(dy, buffer)`` (``dy *= f'``, the output read from
        the columns of ``buffer`` that ``dy`` has): relu's compiled loops over the whole buffer
        (C-contiguous: they vectorize) when the compiled kernels are on (``_plan_kernels``), else
        the activation's own ``into`` and ``derivative_into``."""
        compiled: Any = None
        if _kernel_switch.compiled() is not None:
            from . import _plan_kernels as compiled
        caller = None if compiled is None else compiled.gemm_caller(self.dtype)
        self.gather_rows = None if compiled is None else compiled.gather_rows
        if caller is not self.gemm_caller:
            self.gemm_caller = caller
            self.buffers.clear()  # their products are bound through the other caller
        relu = [layer.activation.name == "relu" and not layer.activation.params for layer in self.dense]
        self.activate = [compiled.relu_columns if compiled is not None and is_relu
                         else _in_place(layer.activation.into) for layer, is_relu in zip(self.dense, relu)]
        self.derivative = [compiled.relu_derivative_columns if compiled is not None and is_relu
                           else _of_columns(layer.activation.derivative_into)
                           for layer, is_relu in zip(self.dense, relu)]

    # --- per fit ---------------------------------------------------------------------------------
    def _bind(self) -> None:
        for layer, packed in zip(self.dense, self.packed):
            layer.kernel.rebind(packed[:layer.kernel.shape[0]])
            if layer.use_bias:
                layer.bias.rebind(packed[-1])

    def _bindings(self) -> tuple:
        """The arrays this plan works in: the weights' buffers and the optimizer's state for them.
        Another plan of the same layers (a ``tf.function``'s, ``fused_function.py``) or an
        optimizer packed again moves them, and this plan's views would be stale."""
        slots = self.model.optimizer._slots
        return tuple(id(v._value) for v in self.variables) + tuple(
            id(slot._value) for v in self.variables for slot in slots.get(id(v), {}).values())

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
        if getattr(self, "_bound", None) != self._bindings():
            self._bind()  # moved by another plan: back into this one's buffers, and decide again
            self.mode = None
        trainable = tuple(layer.trainable and model.trainable for layer in self.dense)
        momentum = optimizer.gemm_momentum() if hasattr(optimizer, "gemm_momentum") else None
        if momentum == 0.0:
            kind = "sgd"
        elif optimizer.plain and all(trainable) and optimizer.updates_elementwise():
            kind = "momentum" if momentum is not None else "whole"
        else:
            kind = "apply"
        mode = (trainable, kind, id(optimizer))
        self._choose_activations()
        if mode == self.mode:
            return
        self.mode, self.kind_of_update, self.trainable = mode, kind, trainable
        self.fused = kind in ("sgd", "momentum")
        self.first_trainable = trainable.index(True) if any(trainable) else len(self.dense)
        self.grad_views: list = []
        self.grad_vars: list = []
        if kind == "sgd":
            self.weight_targets = [p if t else None for p, t in zip(self.packed, trainable)]
        elif kind in ("momentum", "whole"):  # the weights and their slots, each one flat array
            self.flat_variable = optimizer.pack(model.trainable_weights, self.flat)
            self.flat_target = (optimizer.slot(self.flat_variable, "momentum")._value if kind == "momentum"
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
        self._bound = self._bindings()

    def bind_gemm(self, a, b, out, trans_a=False, trans_b=False):
        """A product bound to its buffers (``blas.bind_gemm``), through the compiled caller when on."""
        return blas.bind_gemm(a, b, out, trans_a, trans_b, caller=self.gemm_caller)

    def _buffers(self, batch: int) -> Buffers:
        buffers = self.buffers.get(batch)
        if buffers is None:
            buffers = self.buffers[batch] = Buffers(self, batch)
        return buffers

    # --- the step ---------------------------------------------------------------------------------
    def slot_for_prefetch(self, x, index, after) -> tuple[np.ndarray, Buffers, int, np.ndarray] | None:
        """Where a gather of rows ``index`` of ``x`` may run while the batch before it trains: its
        buffers, the first-input slot that batch does not use (``after``: the gather it trains
        from, or None: it is gathered into the active slot) and that slot's feature columns;
        with ``x`` as rows of features. None when ``x`` does not fit the plan."""
        x2d = x.reshape(len(x), -1)
        if x2d.shape[1] != self.n_in:
            return None  # the plan raises its error when the batch is due
        buffers = self._buffers(len(index))
        busy = after.slot if after is not None and after.buffers is buffers else buffers.active
        return x2d, buffers, 1 - busy, buffers.slot_features(self, 1 - busy)

    def _load(self, x, index) -> Buffers:
        """Gather the rows ``index`` of ``x`` into the first input buffer, converting the dtype (or
        take the buffer the prefetching thread has gathered them into)."""
        gathered = self.gathered
        if gathered is not None and gathered.index is index and gathered.x is x:
            self.gathered = None
            gathered.wait()
            buffers = self.buffers.get(len(index))
            if buffers is not None and buffers is gathered.buffers:  # not dropped by a prepare() meanwhile
                buffers.use(gathered.slot)
                return buffers
        x2d = x.reshape(len(x), -1)
        if x2d.shape[1] != self.n_in:
            raise ValueError(f"Dense '{self.dense[0].name}' expects inputs with last dimension "
                             f"{self.n_in}, got {x.shape}")
        rows = len(range(*index.indices(len(x2d)))) if isinstance(index, slice) else len(index)
        buffers = self._buffers(rows)
        self.gather(x2d, index, buffers.features)
        return buffers

    def gather(self, x2d, index, out) -> None:
        """Rows ``index`` of ``x2d`` into ``out`` (``batch_gather.gather``, compiled when on)."""
        batch_gather.gather(x2d, index, out, self.gather_rows)

    def _forward(self, buffers: Buffers, training: bool = False, head=None) -> np.ndarray | float:
        """The output probabilities; with ``head = (rows, y)``, the batch's summed loss instead when
        the link's compiled head applied the output activation and scored it (the output buffer
        then holds the probabilities)."""
        last = len(self.dense) - 1
        for i, (activate, product, out, buffer) in enumerate(zip(self.activate, buffers.forward_calls, buffers.hidden,
                                                                 buffers.holding)):
            product()
            if i == last and head is not None:
                loss = self.link.activate_and_loss(out, *head)
                if loss is not None:
                    return loss
            activate(out, buffer)
            dropout = self.dropouts.get(i) if training else None
            if dropout is not None and dropout.rate:
                buffers.dropped[i] = dropout.multiplier(out.shape, out.dtype)
                out *= buffers.dropped[i]
        return buffers.output

    def _score(self, p, rows, y_batch, loss_tracker, compiled_metrics, loss=None, y_given=None) -> None:
        """Add the batch's loss (``loss``, or computed) and metrics, from the probabilities ``p``.
        A metric without the plan's shortcut gets the targets as given (``y_given``: a sparse
        link's labels are flattened to ints, which Keras hands no metric)."""
        loss_tracker.add(self.link.loss_sum(p, rows, y_batch) if loss is None else loss, len(p))
        if compiled_metrics is None:
            return
        if not compiled_metrics.built:
            compiled_metrics.build([y_batch], [p])
        for metric in compiled_metrics.metrics:
            if not metric.fused_update(p, y_batch, self.link.kind):
                metric.update_state(y_batch if y_given is None else y_given, p)

    def train(self, x, y, index, loss_tracker, metrics) -> None:
        buffers = self._load(x, index)
        y_given = y[index]
        y_batch = self.link.labels(y_given)
        p, loss = self._run_head(buffers, y_batch, training=True)
        self._score(p, buffers.rows, y_batch, loss_tracker, metrics, loss, y_given)
        scale = self.link.into_gradient(p, buffers.rows, y_batch)
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
                self.derivative[i - 1](buffers.input_grads[i], buffers.inputs[i])
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
        for variable in self.variables:
            variable._version += 1  # what a tape read before this step is stale now
        optimizer.finish_step()

    def test(self, x, y, index, loss_tracker, metrics) -> None:
        buffers = self._load(x, index)
        y_given = y[index]
        y_batch = self.link.labels(y_given)
        p, loss = self._run_head(buffers, y_batch)
        self._score(p, buffers.rows, y_batch, loss_tracker, metrics, loss, y_given)

    def _run_head(self, buffers: Buffers, y_batch, training: bool = False) -> tuple[np.ndarray, float | None]:
        """The forward pass: the probabilities, and the summed loss when the compiled head gave it."""
        out = self._forward(buffers, training, head=(buffers.rows, y_batch))
        return (buffers.output, out) if isinstance(out, float) else (out, None)

    def predict(self, x, index) -> np.ndarray:
        out = self._forward(self._load(x, index))
        assert isinstance(out, np.ndarray)  # no head asked for: the probabilities
        return out
