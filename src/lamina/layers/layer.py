"""``Layer``: the base of every layer and model, as Keras 3's.

A layer holds state (``add_weight`` in ``__init__`` or ``build``) and a computation (``call``,
written in ``lamina.ops``). Calling it converts the inputs to tensors, builds it on the first
call from the inputs' shapes, passes ``training`` (and ``mask``) only when ``call`` takes them,
collects ``add_loss`` values and the activity regularizer's penalty, and, on symbolic inputs
(``Input(...)``), records a node of a Functional graph instead of computing. A ``GradientTape``
differentiates ``call`` op by op; built-in layers whose hand-written backward pass pays for
itself call a fused op instead (see ``fused.py``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend, regularizers
from .._errors import named_layer_error
from .._tracebacks import filter_traceback
from ..backend.keras_tensor import any_symbolic
from ..saving import limits
from .. import _versions
from .._types import DTypeLike, RegularizerLike
from . import call_context, scopes
from .building import Building
from .conversion import _call_signature, _dtype_name, _resolve_training, _to_tensors, _wrap_outputs, as_shape, to_array
from .layer_graph import GraphSide
from .tracking import WatchedList, collect_weights, flatten_layers, track, untrack

__all__ = ["Layer", "as_shape", "to_array"]  # the conversion helpers are still imported from here

_LAYER_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim")
_INTERNAL = frozenset(("_layers", "_trainable_variables", "_non_trainable_variables", "_metrics", "_losses",
                       "_seed_generators", "_call_signature", "_inbound_nodes", "_outbound_nodes", "_weight_lists",
                       "_flat_layers"))
_WATCHED = frozenset(("_layers", "_trainable_variables", "_non_trainable_variables"))


class Layer(Building, GraphSide):
    """Base class for layers: subclass it with ``__init__``, optionally ``build``, and ``call``.

    >>> import lamina
    >>> from lamina import ops
    >>> class Linear(lamina.layers.Layer):
    ...     def __init__(self, units=4, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.units = units
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
    ...         self.b = self.add_weight(shape=(self.units,), initializer="zeros")
    ...     def call(self, inputs):
    ...         return ops.matmul(inputs, self.w) + self.b
    >>> layer = Linear(3)
    >>> layer(ops.ones((2, 5))).shape
    (2, 3)
    >>> [w.path for w in layer.weights]
    ['linear/variable', 'linear/variable_1']
    """

    # set in __new__ (through object.__setattr__, so that a subclass may assign before super().__init__)
    _layers: list[Layer]
    _trainable_variables: list
    _non_trainable_variables: list
    _metrics: list
    _losses: list
    _inbound_nodes: list
    _seed_generators: list
    _weight_lists: tuple | None
    # set in __init__ and changed by build: None, one shape tuple, or a structure of them
    _build_shapes: Any
    activity_regularizer: Any
    input_spec: Any = None  # an InputSpec (or a structure of them) that a subclass may set

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        for name in _WATCHED:
            object.__setattr__(self, name, WatchedList())
        for name in ("_metrics", "_losses", "_inbound_nodes", "_seed_generators"):
            object.__setattr__(self, name, [])
        object.__setattr__(self, "_weight_lists", None)  # (_versions.VERSION, weights, trainable_weights)
        object.__setattr__(self, "_flat_layers", None)  # (_versions.VERSION, layers): tracking.flatten_layers
        object.__setattr__(self, "_trainable", True)
        object.__setattr__(self, "built", False)
        return self

    def __init__(self, *, activity_regularizer: RegularizerLike = None, trainable: bool = True,
                 dtype: DTypeLike = None, autocast: bool = True, name: str | None = None, **kwargs):
        unknown = [k for k in kwargs if k not in _LAYER_KWARGS]
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) {unknown}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__} expects name to be a str, got {name!r}")
        self.name = name or backend.unique_name(backend.snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = _dtype_name(limits.layer_dtype(dtype, f"{type(self).__name__} '{self.name}'"))
        self.autocast = bool(autocast)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = getattr(self, "built", False)
        self.input_shape_hint = self._input_shape_from(kwargs)
        self.supports_masking = False
        self._build_shapes = None  # the input shapes build() was given, for get_build_config

    def _input_shape_from(self, kwargs) -> tuple | None:
        owner = f"{type(self).__name__} '{self.name}'"
        if kwargs.get("batch_input_shape") is not None:
            return as_shape(kwargs["batch_input_shape"], "batch_input_shape", owner)[1:]
        if kwargs.get("input_shape") is not None:
            return as_shape(kwargs["input_shape"], "input_shape", owner)
        if kwargs.get("input_dim") is not None:
            return as_shape(kwargs["input_dim"], "input_dim", owner)
        return None

    def __setattr__(self, name, value):
        if name in _WATCHED:  # a list of sub-layers or weights replaced: watch the new one
            _versions.changed()
            value = WatchedList(value)
        elif name not in _INTERNAL:
            old = self.__dict__.get(name)
            if old is not None and old is not value and not isinstance(old, (list, dict, tuple)):
                untrack(self, old)
            value = track(self, value)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        value = self.__dict__.get(name)
        if value is not None:
            untrack(self, value)
        object.__delattr__(self, name)

    # --- weights ---------------------------------------------------------------------------
    # ``shape`` is positional-only so that tf.keras 2's ``add_weight("kernel", shape=...)`` reaches
    # the body (Python would refuse "multiple values for 'shape'"); ``shape=`` comes in ``keywords``
    def add_weight(self, shape=None, /, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none", overwrite_with_gradient=False,
                   name=None, **keywords):
        """Create a weight of ``shape``, initialized now (``glorot_uniform`` for floats by
        default), and track it on this layer. tf.keras 2's order (``add_weight("name", shape)``,
        ``add_weight("name", shape=...)``) is accepted too."""
        from .. import constraints, initializers
        from ..variables import Variable
        from ._weight_arguments import keras_3_order
        shape, initializer, trainable, regularizer, name = keras_3_order(
            self.name, shape, initializer, trainable, autocast, regularizer, name, keywords)
        shape = () if shape is None else tuple(int(d) for d in shape)
        limits.claim(self, shape)  # while loading a file: within what the file stores
        dtype = self.dtype if dtype is None else np.dtype(dtype).name
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        value = initializers.required(initializer, f"{type(self).__name__} '{self.name}'.add_weight")(shape, dtype)
        count = len(self._trainable_variables) + len(self._non_trainable_variables)
        name = name or ("variable" if count == 0 else f"variable_{count}")
        variable = Variable(np.asarray(value, dtype), name=name, trainable=trainable,
                            path=scopes.variable_path(self, name), regularizer=regularizers.get(regularizer),
                            constraint=constraints.get(constraint), aggregation=aggregation)
        (self._trainable_variables if trainable else self._non_trainable_variables).append(variable)
        return variable

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freezing a layer freezes its weights and its sub-layers, as in Keras."""
        value = bool(value)
        self._trainable = value
        _versions.changed()
        for variable in self._trainable_variables:
            variable.trainable = value
        for layer in self._layers:
            layer.trainable = value

    @property
    def weights(self) -> list:
        """This layer's weights (trainable, then the others, in creation order), then each
        sub-layer's, without repeats."""
        return list(self._weight_lists_now()[1])

    def _weight_lists_now(self) -> tuple:
        """``(version, weights, trainable_weights)``, recomputed when a weight, a sub-layer or a
        ``trainable`` flag changed anywhere since (``_versions.VERSION``); training loops ask
        for ``trainable_weights`` every step."""
        cached = self._weight_lists
        if cached is not None and cached[0] == _versions.VERSION[0]:
            return cached
        version = _versions.VERSION[0]
        weights = collect_weights(self)
        trainable = [v for v in weights if v.trainable]
        cached = (version, weights, trainable)
        object.__setattr__(self, "_weight_lists", cached)
        return cached

    def _own_weights(self) -> list:
        return self._trainable_variables + self._non_trainable_variables

    @property
    def variables(self) -> list:
        """The weights, then the state of the ``SeedGenerator``s this layer and its sub-layers hold
        (Keras's ``variables``: all the state, where ``weights`` leaves the seeds out)."""
        return self.weights + self._seed_states()

    def _seed_states(self) -> list:
        states = [g.state for g in self._seed_generators]
        for layer in self._layers:
            states += [s for s in layer._seed_states() if not any(s is t for t in states)]
        return states

    @property
    def trainable_weights(self) -> list:
        return list(self._weight_lists_now()[2]) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list:
        return self.weights if not self.trainable else [v for v in self.weights if not v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_variables(self) -> list:
        """The non-trainable weights and the seed generators' states."""
        return self.variables if not self.trainable else [v for v in self.variables if not v.trainable]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' values, in ``weights`` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Set every weight from a list of arrays of matching shapes (``get_weights`` order)."""
        own, weights = self.weights, list(weights)
        owner = f"{type(self).__name__} '{self.name}'"
        if len(weights) != len(own):
            raise ValueError(f"{owner} expects {len(own)} weight arrays, got {len(weights)} (its weights have "
                             f"shapes {[v.shape for v in own]})")
        for variable, value in zip(own, weights):
            if np.shape(value) != variable.shape:
                raise ValueError(f"{owner} weight '{variable.name}' has shape {variable.shape}, "
                                 f"got an array of shape {np.shape(value)}")
        for variable, value in zip(own, weights):
            variable.assign(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Layer '{self.name}' is not built yet, so its weights do not exist: "
                             "call it on data or build it first")
        return sum(math.prod(v.shape) for v in self.weights)

    @property
    def metrics(self) -> list:
        return list(self._metrics) + [m for layer in self._layers for m in layer.metrics]

    # --- losses ----------------------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Add a scalar (or tensors to sum) to the losses of this call (``layer.losses``)."""
        from .. import ops
        values = loss if isinstance(loss, (list, tuple)) else [loss]
        if call_context.current() is None and any_symbolic(values):
            # tf.keras 2 made such a loss part of a Functional graph; Keras 3 refuses it, and
            # taking it here would leave it out of every step, silently
            raise ValueError(f"{type(self).__name__} '{self.name}'.add_loss got a symbolic tensor (from Input(...)) "
                             "outside a call: Keras 3 does not take a loss on a model's symbolic tensors. Compute "
                             "it in a layer's call() with self.add_loss(...) and use that layer in the model")
        self._losses.extend(ops.convert_to_tensor(v) for v in values)

    @property
    def losses(self) -> list:
        """The ``add_loss`` values of the last call (this layer's and its sub-layers'), then the
        weight penalties (``kernel_regularizer``...), computed now."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
        for variable in self.trainable_weights:
            if variable.regularizer is not None:
                out.append(variable.regularizer(variable))
        return out

    def _flatten_layers(self, include_self: bool = True) -> list:
        return flatten_layers(self, include_self)

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            layer._losses.clear()

    # --- building: building.py ---------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``: found by running ``call`` on stand-in inputs
        when a layer does not say."""
        from .shapes import infer_output_shape
        return infer_output_shape(self, input_shape)

    def compute_output_spec(self, *args, **kwargs):
        from .shapes import default_output_spec
        return default_output_spec(self, args, kwargs)

    # --- calling -----------------------------------------------------------------------------
    @filter_traceback
    def __call__(self, *args, **kwargs):
        if any_symbolic(args, kwargs):
            from .node import symbolic_call
            return symbolic_call(self, args, kwargs)
        try:
            args = tuple(_to_tensors(a, self) for a in args)
        except TypeError as error:
            raise named_layer_error(error, self, args) from error
        signature = _call_signature(type(self))
        training = _resolve_training(signature, args, kwargs)
        calls = call_context.stack()
        outer = calls[-1] if calls else None
        context = outer if outer is not None else call_context.CallContext(self, training)
        if training is None:
            training = context.training
        if signature.takes_training:
            kwargs["training"] = training
        elif "training" in kwargs and not signature.takes_kwargs:
            kwargs.pop("training")
        if "mask" in kwargs and not (signature.takes_mask or signature.takes_kwargs):
            kwargs.pop("mask")
        calls.append(context)
        try:
            if outer is None:
                self._clear_losses()
            opened = scopes.enter(self)  # layers built inside the call are in its scope (as Keras)
            try:
                self._maybe_build(args)
                outputs = self.call(*args, **kwargs)
            except (ValueError, TypeError) as error:
                named = named_layer_error(error, self, args)
                if named is error:
                    raise
                raise named from error
            finally:
                if opened:
                    scopes.leave()
            if self.activity_regularizer is not None:
                self._add_activity_penalty(outputs)
        finally:
            calls.pop()
        return _wrap_outputs(outputs)

    def _add_activity_penalty(self, outputs) -> None:
        """Keras 3.14+: the activity penalty is divided by the batch size (keras PR #22021)."""
        from .. import ops
        for output in (outputs if isinstance(outputs, (list, tuple)) else [outputs]):
            batch = output.shape[0] if output.ndim else 1
            self.add_loss(ops.divide(self.activity_regularizer(output), float(batch)))

    def fused_role(self) -> str | None:
        """What this layer is to the fused training plan (``"dense"``, ``"dropout"``,
        ``"flatten"``), or None: a layer not listed keeps a model on the general path."""
        return None

    def call(self, *args, **kwargs):
        """The layer's computation; the base class passes its input through unchanged."""
        return args[0] if len(args) == 1 else args

    # --- config ----------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None and type(self).__init__ is Layer.__init__:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

