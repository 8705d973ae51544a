"""``GradientTape``: reverse-mode automatic differentiation over lamina's ops, as TensorFlow's.

While a tape records, every differentiable op whose inputs the tape tracks (a watched tensor, a
trainable ``Variable`` it reads, or the output of an op it recorded) is put on the tape as one
node. ``gradient`` walks the nodes backwards from the target, calls each node's VJP, and *adds*
each result into its input's gradient, so a value used twice gets the sum of both uses (no
gradient is ever updated in place). Tapes nest: a tape recording while another computes its
gradient records that backward pass, which gives second-order gradients. As in TensorFlow, a
tape records only the ops of the thread that entered it: two models trained in two threads, or a
tape loop beside a thread that predicts, do not record into each other's tapes.

>>> from lamina import ops, Variable, GradientTape
>>> w = Variable([1.0, 2.0], name="w")
>>> with GradientTape() as tape:
...     loss = ops.sum(w * w)
>>> tape.gradient(loss, w).numpy().tolist()
[2.0, 4.0]
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from .. import _macros
from .tensor import Tensor


def _blas_threads():
    if not _THREADS:
        from ..backend import threads
        _THREADS.append(threads)
    return _THREADS[0].for_user_loop()


_THREADS: list = []  # lamina.backend.threads, imported at the first tape (the import costs ~1.5 us a call)

class _ThisThread(threading.local):
    """The tapes recording in one thread (a new thread starts with none, as in TensorFlow)."""

    def __init__(self) -> None:
        self.tapes: list[GradientTape] = []  # innermost last


_HERE = _ThisThread()
# Every thread's recording tapes, for the one test an op pays when nothing records (empty nearly
# always); when it is not empty, ``record`` reads the op's own thread's tapes. Kept beside the
# per-thread lists because reading a threading.local on every eager op would cost more.
ANYWHERE: list[GradientTape] = []
# of those, the tapes that want every primitive, differentiable or not (the step trace of
# trainers/step_trace.py): only a shortcut test too, each tape's ``_all_ops`` decides
RECORDING_ALL: list = []


def active() -> list[GradientTape]:
    """The tapes recording in this thread now, innermost last."""
    return _HERE.tapes


@contextlib.contextmanager
def recording_only(tape: GradientTape):
    """In the block this thread's ops are recorded by ``tape`` alone (``custom_gradient``'s probe:
    its function's own ops are not recorded, the probe notices the Variables it reads). The other
    threads' tapes go on recording theirs."""
    tapes = _HERE.tapes
    saved = tapes[:]
    tapes[:] = [tape]
    ANYWHERE.append(tape)
    try:
        yield
    finally:
        tapes[:] = saved
        ANYWHERE.remove(tape)


class _Node:
    __slots__ = ("prim", "args", "params", "outputs", "versions", "residuals")

    def __init__(self, prim, args, params, outputs, versions, residuals):
        self.prim, self.args, self.params, self.outputs = prim, args, params, outputs
        self.versions, self.residuals = versions, residuals


def record(prim, args, params, result, residuals=None) -> None:
    """Put one op call on every tape recording in this thread that tracks one of its inputs."""
    outputs = result if type(result) is tuple else (result,)
    node = None
    for tape in _HERE.tapes:
        if not (prim.differentiable or tape._all_ops):
            continue
        tracked = tape._tracked
        hit = False
        for arg in args:
            if id(arg) in tracked:
                hit = True
            elif tape._watch_variables and getattr(arg, "_is_variable", False) and (arg.trainable or tape._all_ops):
                tracked[id(arg)] = arg
                hit = True
        if hit:
            if node is None:
                versions = tuple((a, a._version) for a in args if getattr(a, "_is_variable", False))
                node = _Node(prim, args, params, outputs, versions, residuals)
            tape._nodes.append(node)
            for out in outputs:
                tracked[id(out)] = out


def _flatten(structure) -> list:
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in _flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    return [structure]


def _pack_like(structure, leaves: list):
    if type(structure) is list and len(structure) == len(leaves) and not any(
            isinstance(s, (dict, list, tuple)) for s in structure):
        return leaves  # the common case (a list of variables): already in shape
    return _build(structure, iter(leaves))


def _build(structure, leaves):
    # a module function, not a closure: a recursive closure is a reference cycle, which kept every
    # step's gradients alive until the garbage collector ran
    if isinstance(structure, dict):
        return {k: _build(structure[k], leaves) for k in sorted(structure)}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_build(item, leaves) for item in structure)
    return next(leaves)


def _unit_seeds(target):
    """One output gradient per element of ``target``: 1 there, 0 elsewhere."""
    shape, dtype = target.shape, target._value.dtype
    for index in np.ndindex(*shape):
        seed = np.zeros(shape, dtype)
        seed[index] = 1
        yield seed


def _column_seeds(target):
    """One output gradient per per-example element of ``target`` (every row at once)."""
    shape, dtype = target.shape, target._value.dtype
    for index in np.ndindex(*shape[1:]):
        seed = np.zeros(shape, dtype)
        seed[(slice(None),) + index] = 1
        yield seed


def _is_float(x) -> bool:
    value = x._value if isinstance(x, Tensor) else x
    return getattr(value, "dtype", np.dtype(type(value))).kind == "f"


class GradientTape:
    """Records ops for automatic differentiation (TensorFlow's ``tf.GradientTape``).

    ``persistent=True`` allows several ``gradient`` calls; ``watch_accessed_variables=False``
    records only what ``watch`` was given.
    """

    _all_ops = False  # a step trace records non-differentiable primitives and every Variable too
    _owner: list | None = None  # the tape list of the thread that entered it (``_HERE.tapes``)

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = bool(persistent)
        self._watch_variables = bool(watch_accessed_variables)
        self._nodes: list[_Node] = []
        self._tracked: dict[int, object] = {}
        self._used = False

    def __enter__(self) -> GradientTape:
        # A training loop of the user's own gets the BLAS threads fit would choose (under load
        # OpenBLAS's spinning workers cost 10x; backend/threads.py), for the recorded forward
        # pass here and for the backward pass in ``gradient``.
        self._threads = _blas_threads()
        self._threads.__enter__()
        self._owner = _HERE.tapes
        self._resume()
        return self

    def __exit__(self, *exc_info) -> None:
        self._pause()
        threads, self._threads = getattr(self, "_threads", None), None
        if threads is not None:
            threads.__exit__(*exc_info)

    def _pause(self) -> bool:
        """Stop recording; whether it was recording. Its own thread's list, whichever thread asks."""
        owner = self._owner
        if owner is None or self not in owner:
            return False
        owner.remove(self)
        ANYWHERE.remove(self)
        return True

    def _resume(self) -> None:
        assert self._owner is not None
        self._owner.append(self)
        ANYWHERE.append(self)

    def watch(self, tensor) -> None:
        """Track ``tensor`` (or each leaf of a nested structure) so gradients can be taken for it."""
        for leaf in _flatten(tensor):
            if leaf is None or isinstance(leaf, (bool, int, float)):
                raise ValueError(f"GradientTape.watch expects tensors or Variables, got {leaf!r}")
            self._tracked[id(leaf)] = leaf

    def watched_variables(self) -> tuple:
        """The Variables this tape tracked, in the order it met them."""
        return tuple(v for v in self._tracked.values() if getattr(v, "_is_variable", False))

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops run inside this block are not recorded."""
        was_active = self._pause()
        try:
            yield
        finally:
            if was_active:
                self._resume()

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self._nodes.clear()
        self._tracked.clear()
        self._used = False

    # --- gradients -----------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """The gradient of ``target`` (summed over its leaves) with respect to each of ``sources``,
        in ``sources``' structure: ``None`` for a source the target does not depend on (or zeros
        with ``unconnected_gradients="zero"``)."""
        trace = _macros.recorder()
        if trace is not None:  # inside a tf.function's trace: one step of its program
            return trace.record_gradient(self, target, sources, output_gradients, unconnected_gradients)
        self._check_use("gradient")
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"unconnected_gradients must be 'none' or 'zero', got {unconnected_gradients!r}")
        targets = _flatten(target)
        if self._watch_variables:  # a Variable given as the target is read by this call, as in TensorFlow
            for leaf in targets:
                if getattr(leaf, "_is_variable", False) and leaf.trainable:
                    self._tracked.setdefault(id(leaf), leaf)
        seeds = None if output_gradients is None else _flatten(output_gradients)
        if seeds is not None and len(seeds) != len(targets):
            raise ValueError(f"output_gradients has {len(seeds)} entries for {len(targets)} targets")
        leaves = _flatten(sources)
        with _blas_threads():
            grads = self._backward(targets, seeds, leaves)
        if unconnected_gradients == "zero":
            from . import zeros_like
            grads = [zeros_like(s) if g is None else g for g, s in zip(grads, leaves)]
        self._used = True
        if not self._persistent:  # the record goes; what it watched stays for watched_variables()
            self._nodes = []
        return _pack_like(sources, grads)

    def jacobian(self, target, sources, unconnected_gradients="none", parallel_iterations=None,
                 experimental_use_pfor=True):
        """``d target[i...] / d source[j...]`` for every element pair: shape ``target.shape + source.shape``."""
        from . import stack, zeros
        self._check_use("jacobian")
        leaves = _flatten(sources)
        flat_target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
        rows = [self._backward([flat_target], [seed], leaves) for seed in _unit_seeds(flat_target)]
        out = []
        for j, source in enumerate(leaves):
            shape = tuple(flat_target.shape) + tuple(np.shape(source._value if isinstance(source, Tensor) else source))
            parts = [r[j] for r in rows]
            if all(p is None for p in parts) and unconnected_gradients == "none":
                out.append(None)
                continue
            filled = [zeros(shape[flat_target.ndim:], "float32") if p is None else p for p in parts]
            out.append(stack(filled).reshape(shape) if filled else zeros(shape))
        self._used = True
        if not self._persistent:
            self._nodes, self._tracked = [], {}
        return _pack_like(sources, out)

    def batch_jacobian(self, target, source, unconnected_gradients="none", parallel_iterations=None,
                       experimental_use_pfor=True):
        """Per example ``i``: ``d target[i, ...] / d source[i, ...]``, assuming examples are
        independent; shape ``(batch,) + target.shape[1:] + source.shape[1:]``."""
        from . import stack, zeros_like
        self._check_use("batch_jacobian")
        target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
        columns = [self._backward([target], [seed], [source])[0] for seed in _column_seeds(target)]
        self._used = True
        if not self._persistent:
            self._nodes, self._tracked = [], {}
        if all(c is None for c in columns):
            return None if unconnected_gradients == "none" else zeros_like(source)
        columns = [zeros_like(source) if c is None else c for c in columns]
        batch = target.shape[0]
        stacked = stack(columns, axis=1)  # (batch, target features, *source features)
        return stacked.reshape((batch, *target.shape[1:], *source.shape[1:]))

    def _check_use(self, what: str) -> None:
        trace = _macros.recorder()
        if trace is not None:
            trace.refuse(f"GradientTape.{what} inside the function")
        if self._used and not self._persistent:
            raise RuntimeError(f"GradientTape.{what} can only be called once on a non-persistent tape: "
                               "create the tape with GradientTape(persistent=True) to take several gradients")

    def _backward(self, targets, seeds, sources) -> list:
        from . import backprop
        was_active = self._pause()  # this tape does not record its own backward pass
        try:
            # recorded (second order) when another tape of this thread records
            return backprop.backward(self._nodes, self._tracked, targets, seeds, sources, higher=bool(_HERE.tapes))
        finally:
            if was_active:
                self._resume()
