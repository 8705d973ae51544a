"""The weights of Keras's legacy HDF5 format (``.h5``), written and read, layer by layer in order.

A group (the file's ``model_weights``, or the root of a file written by Keras 2's
``save_weights``) lists its layers in the attribute ``layer_names`` and holds one group per layer,
named after it; each layer group lists its weights in ``weight_names`` (their variable paths:
``sequential/dense/kernel``) and stores each as the array at that path below it. A layer's weights
are its trainable ones, then the others. Weights a model holds itself, outside any layer, sit in
``top_level_model_weights``. The optimizer's variables go to the file's ``optimizer_weights``,
listed the same way. Attributes longer than HDF5's object header limit are split into
``layer_names0``, ``layer_names1``...

Loading matches by position, as Keras does: the i-th layer holding weights takes the i-th saved
layer that lists any. Every array is checked by ``h5_checks`` before it is read and every shape is
compared before any weight changes; any mismatch is a ``ValueError`` naming the file.

>>> legacy_weights(__import__("lamina").layers.Dense(2))
[]
"""
from __future__ import annotations

import math
import posixpath
import warnings
from typing import TYPE_CHECKING

import numpy as np

from .._optional import require
from . import h5_checks, limits, weights_store

if TYPE_CHECKING:  # h5py is imported when a file is read or written, not with lamina
    import h5py

HEADER_LIMIT = 64512  # bytes an attribute may take in an HDF5 object header (Keras splits longer lists)
TOP_LEVEL = "top_level_model_weights"
MAX_NAMES = 1_000_000  # names one attribute may list (h5_checks visits at most as many objects)


def legacy_weights(layer) -> list:
    """A layer's (or a nested model's) weights in the order the legacy format stores them."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def top_level_weights(model) -> list:
    """The weights a model holds itself, in none of its layers."""
    in_layers = {id(v) for layer in model.layers for v in legacy_weights(layer)}
    return [v for v in legacy_weights(model) if id(v) not in in_layers]


# --- writing -----------------------------------------------------------------------------------
def write_names(group, name: str, names: list[str]) -> None:
    """``group.attrs[name] = names`` as UTF-8 bytes, split where Keras splits a long list."""
    data = np.asarray([n.encode("utf8") for n in names]) if names else np.asarray([], dtype="float64")
    if any(len(n.encode("utf8")) > HEADER_LIMIT for n in names):
        raise ValueError(f"A name in {name} is longer than {HEADER_LIMIT} bytes; HDF5 cannot store it")
    chunks = 1
    while data.nbytes / chunks > HEADER_LIMIT:
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
        return
    for i, part in enumerate(np.array_split(data, chunks)):
        group.attrs[f"{name}{i}"] = part


def write_weights(group, variables: list) -> None:
    """``weight_names`` and one array per variable, at its path below ``group``."""
    names = [str(v.path) for v in variables]
    write_names(group, "weight_names", names)
    for name, variable in zip(names, variables):
        folder, base = posixpath.split(name)
        parent = group.require_group(folder) if folder else group
        weights_store.create_dataset(parent, base, variable._value)


def write_model_weights(group, model, keras_version: str, backend: str) -> None:
    """The layers' weights (and the model's own) into ``group``, as Keras's ``model_weights``."""
    write_names(group, "layer_names", [layer.name for layer in model.layers])
    group.attrs["backend"] = backend.encode("utf8")
    group.attrs["keras_version"] = keras_version.encode("utf8")
    for layer in sorted(model.layers, key=lambda layer: layer.name):  # Keras's order of creation
        write_weights(group.create_group(layer.name), legacy_weights(layer))
    write_weights(group.create_group(TOP_LEVEL), top_level_weights(model))


def optimizer_variables(model) -> list:
    """The optimizer's variables as saved: an optimizer not built yet is saved as it is once built
    (zero slots), so that Keras, which builds it before loading, takes the state."""
    optimizer = model.optimizer
    if optimizer.built:
        return list(optimizer.variables)
    fresh = type(optimizer).from_config(optimizer.get_config())
    fresh.build(model.trainable_weights)
    current = list(optimizer.variables)
    return current + list(fresh.variables[len(current):])


# --- reading -----------------------------------------------------------------------------------
class LegacyReader:
    """Checked access to an open legacy HDF5 file that came from ``filename``."""

    def __init__(self, h5file: h5py.File, filename: str):
        self._h5py = require("h5py", "Reading .h5 files")
        self.file = h5file
        self.filename = filename

    def fail(self, message: str) -> ValueError:
        return ValueError(f"Invalid legacy HDF5 file '{self.filename}': {message}")

    def check_all(self, group) -> int:
        """Check every array of the file; return how many numbers ``group``'s arrays hold (the
        weights: the most a model loaded from this file may build)."""
        h5_checks.walk(self.file, "", self.fail)
        return h5_checks.walk(group, "", self.fail)

    def group(self, parent, path: str, required: bool = True):
        node = parent
        for part in path.split("/"):
            node = h5_checks.child(node, part, self.fail) if part else node
            if node is None:
                if required:
                    raise self.fail(f"missing group '{path}'")
                return None
            if not isinstance(node, self._h5py.Group):
                raise self.fail(f"'{path}' should be a group, found a {type(node).__name__}")
        return node

    def names(self, group, name: str) -> list[str]:
        """The list of names in attribute ``name`` (or its parts ``name0``, ``name1``...)."""
        if name in group.attrs:
            return self._attr_names(group, name)
        found: list[str] = []
        i = 0
        while f"{name}{i}" in group.attrs:
            found += self._attr_names(group, f"{name}{i}")
            i += 1
            if len(found) > MAX_NAMES:
                raise self.fail(f"attribute {name} lists more than {MAX_NAMES:,} names")
        return found

    def _attr_names(self, group, name: str) -> list[str]:
        attr = self._h5py.h5a.open(group.id, name.encode())
        shape, dtype = attr.shape, attr.dtype
        if math.prod(shape) > MAX_NAMES:
            raise self.fail(f"attribute {name} of '{group.name}' lists more than {MAX_NAMES:,} names")
        if math.prod(shape) == 0:
            return []
        if len(shape) > 1 or self._h5py.check_string_dtype(dtype) is None and dtype.kind != "S":
            raise self.fail(f"attribute {name} of '{group.name}' must be a list of strings, got {dtype} {shape}")
        values = np.atleast_1d(group.attrs[name])
        return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]

    def arrays(self, group, variables: list, what: str, skip_mismatch: bool = False) -> list:
        """``(variable, dataset)`` for each name ``group`` lists, after checking count and shapes;
        with ``skip_mismatch`` a weight whose shape differs is left out, with Keras's warning."""
        names = self.names(group, "weight_names")
        if len(names) != len(variables):
            raise self.fail(f"{what} expects {len(variables)} weight(s), the file saves {len(names)}")
        pairs = []
        for name, variable in zip(names, variables):
            dataset = self._dataset(group, name)
            if tuple(dataset.shape) == tuple(variable.shape):
                pairs.append((variable, dataset))
                continue
            message = (f"shape mismatch in {what} for weight {variable.path}: the weight has shape "
                       f"{tuple(variable.shape)}, the file's '{name}' has {tuple(dataset.shape)}")
            if not skip_mismatch:
                raise self.fail(message)
            warnings.warn(f"Skipping loading weights for {what}: {message}", UserWarning, stacklevel=2)
        return pairs

    def _dataset(self, group, name: str):
        parent, base = posixpath.split(name)
        node = h5_checks.child(self.group(group, parent) if parent else group, base, self.fail)
        if not isinstance(node, self._h5py.Dataset):
            raise self.fail(f"'{group.name}/{name}' should be an array, found {type(node).__name__}")
        return node  # checked with every other array of the file by check_all, which loading runs first


def read_model_weights(reader: LegacyReader, group, model, skip_mismatch: bool = False) -> list:
    """``(variable, dataset)`` pairs for every weight of ``model``, in Keras's positional order
    (``skip_mismatch``: leaving out weights of another shape)."""
    layers = [layer for layer in model.layers if legacy_weights(layer)]
    saved = []
    for name in reader.names(group, "layer_names"):
        layer_group = reader.group(group, name)
        if reader.names(layer_group, "weight_names"):
            saved.append((name, layer_group))
    if len(saved) != len(layers):
        # Keras's rule too; a subclassed model meets it when loaded: it has no weights before it is called
        hint = "" if model.built else " (the model is not built: a subclassed model cannot be loaded from .h5)"
        raise reader.fail(f"layer count mismatch: model '{model.name}' has {len(layers)} layers with weights, "
                          f"the file saves {len(saved)} ({[name for name, _ in saved][:10]}){hint}")
    pairs = []
    for k, ((name, layer_group), layer) in enumerate(zip(saved, layers)):
        pairs += reader.arrays(layer_group, legacy_weights(layer),
                               f"layer #{k} (named {layer.name} in the model, {name} in the file)", skip_mismatch)
    return pairs + _top_level(reader, group, model, skip_mismatch)


def _top_level(reader: LegacyReader, group, model, skip_mismatch: bool) -> list:
    top = reader.group(group, TOP_LEVEL, required=False)
    if top is None:
        return []
    saved, expected = len(reader.names(top, "weight_names")), len(top_level_weights(model))
    if skip_mismatch and saved != expected:
        warnings.warn(f"Skipping loading top-level weights for model '{model.name}' due to mismatch in number of "
                      f"weights: the model expects {expected}, the file saves {saved}", UserWarning, stacklevel=3)
        return []
    return reader.arrays(top, top_level_weights(model), f"the top-level weights of model '{model.name}'",
                         skip_mismatch)


def read_weights_by_name(reader: LegacyReader, group, model, skip_mismatch: bool = False) -> list:
    """``(variable, dataset)`` pairs for the layers of ``model`` named as a saved layer (Keras's
    ``by_name=True``: the others keep their weights); with ``skip_mismatch`` a layer whose weights
    differ in number, or a weight in shape, is left out with Keras's warning."""
    by_name: dict[str, list] = {}
    for layer in model.layers:
        by_name.setdefault(layer.name, []).append(layer)
    pairs = []
    for k, name in enumerate(reader.names(group, "layer_names")):
        for layer in by_name.get(name, []):
            what = f"layer #{k} (named {layer.name})"
            layer_group = reader.group(group, name)
            variables = legacy_weights(layer)
            saved = len(reader.names(layer_group, "weight_names"))
            if saved != len(variables) and skip_mismatch:
                warnings.warn(f"Skipping loading of weights for {what} due to mismatch in number of weights: the "
                              f"layer expects {len(variables)} weight(s), the file saves {saved}", UserWarning,
                              stacklevel=2)
                continue
            pairs += reader.arrays(layer_group, variables, what, skip_mismatch)
    return pairs + _top_level(reader, group, model, skip_mismatch)


def assign(pairs: list, layers: list) -> None:
    """Set each variable from its dataset (all read first: a failure changes nothing), then let
    the layers that derive state from their weights update it."""
    values = [(variable, np.asarray(dataset[()]).astype(variable._value.dtype, copy=False))
              for variable, dataset in pairs]
    for variable, value in values:
        variable.assign(value)
    for layer in layers:
        if callable(getattr(layer, "finalize_state", None)) and legacy_weights(layer):
            layer.finalize_state()


def weights_budget(reader: LegacyReader, group) -> int:
    """Numbers the model may build while loading: what the file's weights hold (``limits``)."""
    return reader.check_all(group) + limits.SLACK_ELEMENTS
