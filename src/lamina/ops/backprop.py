"""The backward pass over a tape's nodes (what ``GradientTape.gradient`` runs).

Only nodes on a path from a source to a target are visited: a forward sweep marks what depends
on the sources, the backward sweep skips the rest. Gradients are summed, never updated in place,
since one array may be the gradient of several inputs (``add`` hands its gradient to both).
"""
from __future__ import annotations

import numpy as np

from .primitive import RAW, shape_of, unbroadcast
from .tensor import Tensor


def _value(x):
    return x._value if isinstance(x, Tensor) else x


def _dtype_of(x):
    value = x._value if isinstance(x, Tensor) else x
    return value.dtype if type(value) is np.ndarray else np.asarray(value).dtype


def backward(nodes, tracked, targets, seeds, sources, higher: bool) -> list:
    """Gradients of ``sum(targets)`` (weighted by ``seeds``) for each of ``sources`` (None when
    unconnected). ``higher``: run the VJPs as ops, so a recording tape sees them."""
    from .. import ops
    F = ops if higher else RAW
    source_ids = {id(s) for s in sources}
    reach = {i for i in source_ids if i in tracked}  # an unwatched source gets None, as in TF
    relevant = []
    for node in nodes:
        if node.prim.differentiable and any(id(a) in reach for a in node.args):
            relevant.append(node)
            reach.update(id(o) for o in node.outputs)
    grads: dict[int, object] = {}
    for i, target in enumerate(targets):
        if id(target) not in reach or _dtype_of(target).kind != "f":
            continue
        seed = None if seeds is None else seeds[i]
        if seed is None:
            seed = np.ones(shape_of(target), _dtype_of(target))
        seed = _as_mode(seed, higher)
        _accumulate(grads, id(target), seed, F)
    for node in reversed(relevant):
        out_grads = [grads.get(id(o)) for o in node.outputs]
        if all(g is None for g in out_grads):
            continue
        if node.versions:
            _check_versions(node)
        needs = tuple(id(a) in reach and _dtype_of(a).kind == "f" for a in node.args)
        for arg, g, needed in zip(node.args, _node_vjp(node, out_grads, F, higher, needs), needs):
            if g is None or not needed:
                continue
            shape = shape_of(arg)
            if tuple(g.shape) != shape:
                g = unbroadcast(F, g, shape)
            if g.dtype != _dtype_of(arg):
                g = F.cast(g, _dtype_of(arg).name)
            _accumulate(grads, id(arg), g, F)
    return [_as_tensor(grads.get(id(s))) for s in sources]


def _as_mode(value, higher: bool):
    if higher:
        return value if isinstance(value, Tensor) else Tensor(np.asarray(value))
    return np.asarray(_value(value))


def _as_tensor(g):
    if g is None or isinstance(g, Tensor):
        return g
    return Tensor(g)


def _accumulate(grads: dict, key: int, g, F) -> None:
    existing = grads.get(key)
    grads[key] = g if existing is None else F.add(existing, g)


def _check_versions(node) -> None:
    for variable, version in node.versions:
        if variable._version != version:
            raise ValueError(f"Variable '{variable.path}' was changed after it was read inside the "
                             f"GradientTape (by assign or an optimizer step), so the recorded "
                             f"{node.prim.name!r} no longer matches it: take the gradient before "
                             "updating the variable")


def _node_vjp(node, out_grads, F, higher: bool, needs: tuple) -> tuple:
    prim, outputs = node.prim, node.outputs
    if prim.multi_output:
        out = outputs if higher else tuple(o._value for o in outputs)
        g = tuple(F.zeros_like(o) if gi is None else gi for gi, o in zip(out_grads, out))
    else:
        g, out = out_grads[0], (outputs[0] if higher else outputs[0]._value)
    if higher:
        if prim.vjp is not None:
            params = {**node.params, "needs": needs} if prim.takes_needs else node.params
            return prim.vjp(F, g, out, *node.args, **params)
        return _composite_vjp(node, g)
    args = [_value(a) for a in node.args]
    params = {**node.params, "needs": needs} if prim.takes_needs else node.params
    if prim.raw_vjp is not None:
        if prim.saves:
            return prim.raw_vjp(g, out, node.residuals, *args, **params)
        return prim.raw_vjp(g, out, *args, **params)
    return prim.vjp(F, g, out, *args, **params)


def _composite_vjp(node, g) -> tuple:
    """A fused op's gradient while a tape records the backward pass: differentiate its
    composite (the same computation in ops), so the recording tape sees every step."""
    from .tape import GradientTape
    watched = [a for a in node.args if isinstance(a, (Tensor, np.ndarray)) and _dtype_of(a).kind == "f"]
    with GradientTape(watch_accessed_variables=False) as local:
        local.watch(watched)
        out = node.prim.composite(*node.args, **node.params)
    grads = local.gradient(out, watched, output_gradients=g)
    by_id = {id(a): gr for a, gr in zip(watched, grads)}
    return tuple(by_id.get(id(a)) for a in node.args)
