"""``copy.deepcopy`` of an optimizer (a model's deepcopy copies its optimizer with it).

Why. An optimizer finds each model variable's state by the variable's ``id`` (``_slots``,
``_index``, the weight-decay exclusions). A plain deepcopy copies those dicts with the original
ids as keys while the variables become new objects: the copy would look up nothing, or, once an
old id is reused by a new object, another variable's state. Here the keys are mapped to the copies
of the variables the optimizer holds; keys of variables it no longer holds (a fused plan's packed
variable, made again by the copy's next ``fit``) are dropped, and so are the work arrays.
"""
from __future__ import annotations

import copy
from typing import Any


def deepcopy_optimizer(optimizer: Any, memo: dict) -> Any:
    """A deep copy of ``optimizer`` whose id-keyed state points at the copied variables."""
    clone = object.__new__(type(optimizer))
    memo[id(optimizer)] = clone
    state = {key: value for key, value in optimizer.__dict__.items() if key != "_scratch"}  # made again on use
    copied = copy.deepcopy(state, memo)
    held = {id(v): v for v in optimizer._trainable_variables} | dict(optimizer._exclude_from_weight_decay)
    new_id = {old: id(copy.deepcopy(variable, memo)) for old, variable in held.items()}  # memo: the copies made
    copied["_slots"] = {new_id[old]: slots for old, slots in copied["_slots"].items() if old in new_id}
    copied["_index"] = {new_id[old]: i for old, i in copied["_index"].items() if old in new_id}
    copied["_exclude_from_weight_decay"] = {id(v): v for v in copied["_exclude_from_weight_decay"].values()}
    clone.__dict__.update(copied)
    return clone
