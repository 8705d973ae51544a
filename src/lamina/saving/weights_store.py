"""The weights file (HDF5) in Keras 3's layout, written and read.

``vars`` holds the model's own variables (none for a ``Sequential``), ``layers/<name>/vars/<i>``
each layer's, where ``<name>`` is the snake_case class name with a per-class counter in model
order (``dense``, ``dense_1``...), never ``layer.name``; a nested model repeats the layout under
its own path (``layers/sequential/layers/dense/vars/0``). ``optimizer/vars/<i>`` holds the
optimizer's ``variables`` in Keras's order. A layer's variables are its trainable ones, then the
others, each in creation order (Dense: kernel, bias).

Writing protects every number with a checksum HDF5 verifies on reading (and Keras reads
transparently): arrays are chunked with ``fletcher32``, scalars and empty arrays are stored inside
their object header, and the file is written in HDF5 1.8's format, whose headers carry checksums.

Reading trusts nothing: every array is checked by ``h5_checks`` (links, external and virtual
data, non-numbers, unknown filters, oversized or missing chunks, arrays that store less than they
declare) before any is read, shapes that differ from the model's are refused with a
``ValueError`` naming the file, and no weight changes unless every array fits.

>>> own_variables(__import__("lamina").layers.Dense(2)) == []
True
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from .. import backend
from .._optional import require
from . import h5_checks, keras_walk

if TYPE_CHECKING:  # h5py is imported when a file is read or written, not with lamina
    import h5py

LIBVER = ("v110", "v110")  # HDF5 1.10's format: checksummed headers, readable by every h5py 3
# Arrays up to HDF5's chunk cache size are one chunk (no chunk index to store); larger ones get
# h5py's chunks (at most 1 MiB), since a checksummed chunk is inflated whole beside the array.
_SINGLE_CHUNK_BYTES = 1 << 20


def is_model(obj) -> bool:
    """A container of layers saved with its own ``layers/`` folder (a Sequential or Functional)."""
    return saved_layers(obj) is not None


def saved_layers(obj) -> list | None:
    """The layers a model keeps under ``layers/``, in Keras's order: a Sequential's, or a graph
    model's InputLayers and layers in Keras's graph order (ops have no weights and no folder)."""
    if hasattr(obj, "add") and isinstance(getattr(obj, "layers", None), list):
        return obj.layers
    if getattr(obj, "_graph", None) is not None and hasattr(obj, "_current_graph"):
        from ..models.functional_config import keras_layers
        return keras_layers(obj)
    return None


def own_variables(obj) -> list:
    """The variables ``obj`` itself saves, in Keras's order: trainable first, then the others
    (a layer holding layers saves theirs in their own folders)."""
    if is_model(obj):
        return []
    variables = obj._own_weights() if hasattr(obj, "_own_weights") else list(getattr(obj, "variables", []))
    return [v for v in variables if v.trainable] + [v for v in variables if not v.trainable]


def children(obj) -> list[tuple[str, object]]:
    """``(path below obj, child)``: a Sequential's or Functional's layers under ``layers/`` and its
    optimizer, or what Keras's attribute walk finds in a subclassed model or a layer of layers."""
    layers = saved_layers(obj)
    if layers is not None:
        found = [(f"layers/{name}", layer) for name, layer in child_paths(layers)]
        if getattr(obj, "optimizer", None) is not None and getattr(obj, "compiled", False):
            found.append(("optimizer", obj.optimizer))
        return found
    return keras_walk.children(obj) if keras_walk.is_walked(obj) else []


def _is_optimizer_of(obj, child) -> bool:
    return child is getattr(obj, "optimizer", None) and getattr(obj, "compiled", False)


def child_paths(layers) -> list[tuple[str, object]]:
    """``(path name, layer)`` per layer: snake_case class name plus a per-class counter."""
    counts: dict[str, int] = {}
    named = []
    for layer in layers:
        base = backend.snake_case(type(layer).__name__)
        count = counts.get(base, -1) + 1
        counts[base] = count
        named.append((base if count == 0 else f"{base}_{count}", layer))
    return named


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def optimizer_state(model) -> list[np.ndarray]:
    """The optimizer's variables as saved. An optimizer not yet built is saved as it will be
    once built (zero slots), so Keras and lamina both load the file without skipping it."""
    optimizer = model.optimizer
    current = [v._value for v in optimizer.variables]
    if optimizer.built:
        return current
    fresh = type(optimizer).from_config(optimizer.get_config())
    fresh.build(model.trainable_weights)
    return current + [v._value for v in fresh.variables[len(current):]]


# --- writing ---------------------------------------------------------------------------------
def write_model(h5file, model) -> None:
    """Write ``model``'s weights (and its optimizer's state, if compiled) into an open HDF5 file."""
    _write(h5file, model, "")


def _write(h5file, obj, path: str, visited: set | None = None) -> None:
    visited = set() if visited is None else visited
    if id(obj) in visited:
        return  # Keras saves each object once, where its walk first meets it
    visited.add(id(obj))
    group = h5file.create_group(_join(path, "vars"))
    group.attrs["name"] = obj.name
    for i, variable in enumerate(own_variables(obj)):
        create_dataset(group, str(i), variable._value)
    for child_path, child in children(obj):
        if _is_optimizer_of(obj, child):
            if obj.built:
                group = h5file.create_group(_join(path, child_path, "vars"))
                group.attrs["name"] = obj.optimizer.name
                for i, value in enumerate(optimizer_state(obj)):
                    create_dataset(group, str(i), value)
        else:
            _write(h5file, child, _join(path, child_path), visited)


def create_dataset(group, name: str, value) -> None:
    """Write ``value`` so that HDF5 checks it on reading: chunked with a fletcher32 checksum, or
    (scalars, empty arrays: they cannot be chunked) compact, inside the checksummed header."""
    h5py = require("h5py", "Writing .weights.h5 files")
    value = np.asarray(value)
    if value.ndim and value.size:
        chunks = value.shape if value.nbytes <= _SINGLE_CHUNK_BYTES else True
        group.create_dataset(name, data=value, chunks=chunks, fletcher32=True)
        return
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    if value.ndim:
        group.create_dataset(name, data=value, dcpl=dcpl)
        return
    # h5py's create_dataset drops the layout of scalars: make it through the low-level API
    space = h5py.h5s.create(h5py.h5s.SCALAR)
    dataset = h5py.h5d.create(group.id, name.encode(), h5py.h5t.py_create(value.dtype, logical=True), space,
                              dcpl=dcpl)
    dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(value))


# --- reading ---------------------------------------------------------------------------------
class Reader:
    """Checked access to an open HDF5 file that came from ``filename``."""

    def __init__(self, h5file: h5py.File, filename: str):
        self._h5py = require("h5py", "Reading .weights.h5 data")
        self.file = h5file
        self.filename = filename
        self.prefix = "layers"
        self._checked: set[str] = set()  # paths of the arrays check_all has already checked
        if "layers" not in h5file and "_layer_checkpoint_dependencies" in h5file:
            self.prefix = "_layer_checkpoint_dependencies"  # files from Keras 2.13

    def fail(self, message: str) -> ValueError:
        return ValueError(f"Invalid weights in '{self.filename}': {message}")

    def child(self, parent, name: str):
        """``parent[name]`` after checking the link stays inside this file; None if absent."""
        return h5_checks.child(parent, name, self.fail)

    def group(self, path: str):
        node = self.file
        for part in path.split("/"):
            node = self.child(node, part)
            if node is None:
                return None
            if not isinstance(node, self._h5py.Group):
                raise self.fail(f"'{path}' should be a group, found a {type(node).__name__}")
        return node

    def dataset(self, group, name: str, path: str):
        node = self.child(group, name)
        if node is None:
            raise self.fail(f"missing array '{path}'")
        if not isinstance(node, self._h5py.Dataset):
            raise self.fail(f"'{path}' should be an array, found a {type(node).__name__}")
        if path not in self._checked:
            h5_checks.check_dataset(node, path, self.fail)
        return node

    def check_all(self) -> int:
        """Check every array of the file (``h5_checks``); return how many numbers the layers'
        arrays store: the most a model loaded from this file may build."""
        return h5_checks.walk(self.file, self.prefix, self.fail, self._checked)

    def read_into(self, path: str, variables: list, what: str, pending: list) -> bool:
        """Queue ``(variable, array)`` pairs for the arrays under ``path``; False if absent."""
        group = self.group(path)
        if group is None:
            if variables:
                raise self.fail(f"no weights for {what}: expected {len(variables)} arrays under '{path}'")
            return False
        names = list(group)
        if len(names) != len(variables):
            raise self.fail(f"{what} has {len(variables)} weights "
                            f"({[tuple(v.shape) for v in variables]}) but '{path}' holds {len(names)} arrays")
        for i, variable in enumerate(variables):
            dataset = self.dataset(group, str(i), f"{path}/{i}")
            if tuple(dataset.shape) != tuple(variable.shape):
                raise self.fail(f"'{path}/{i}' has shape {tuple(dataset.shape)} but weight {i} of {what} "
                                f"('{variable.name}') has shape {tuple(variable.shape)}")
            pending.append((variable, np.asarray(dataset[()]).astype(variable._value.dtype, copy=False)))
        return True


def read_model(reader: Reader, model, load_optimizer: bool = True) -> None:
    """Load ``model``'s weights (and optimizer state) from ``reader``, all or nothing."""
    pending: list = []
    _read(reader, model, "", pending, load_optimizer, top=True)
    for variable, value in pending:
        variable.assign(value)
    for layer in _all_layers(model):  # Keras's hook for state derived from loaded weights
        if callable(getattr(layer, "finalize_state", None)) and own_variables(layer):
            layer.finalize_state()


def _all_layers(obj) -> list:
    inner = [layer for _, child in children(obj) if not _is_optimizer_of(obj, child) for layer in _all_layers(child)]
    return inner if is_model(obj) else [obj, *inner]


def _read(reader: Reader, obj, path: str, pending: list, load_optimizer: bool, top: bool = False,
          visited: set | None = None) -> None:
    visited = set() if visited is None else visited
    if id(obj) in visited:
        return
    visited.add(id(obj))
    what = f"{type(obj).__name__} '{obj.name}'"
    variables = own_variables(obj)
    if variables or not top:
        reader.read_into(_join(path, "vars"), variables, what, pending)
    for child_path, child in children(obj):
        if _is_optimizer_of(obj, child):
            if load_optimizer:
                _read_optimizer(reader, obj, _join(path, child_path, "vars"), pending)
            continue
        if top and child_path.startswith("layers/"):
            child_path = f"{reader.prefix}/{child_path[len('layers/'):]}"
        _read(reader, child, _join(path, child_path), pending, load_optimizer, visited=visited)


def _read_optimizer(reader: Reader, model, path: str, pending: list) -> None:
    group = reader.group(path)
    if group is None:
        return  # a file saved without optimizer state: the optimizer starts fresh
    optimizer = model.optimizer
    saved = len(list(group))
    # What an optimizer holds before its first step (the iteration count, the learning rate):
    # Keras saves only these for a model compiled but never trained.
    unbuilt = len(type(optimizer).from_config(optimizer.get_config()).variables)
    if not optimizer.built:
        optimizer.build(model.trainable_weights)
    if saved == unbuilt != len(optimizer.variables):
        warnings.warn(f"Skipping variable loading for optimizer '{optimizer.name}', because it has "
                      f"{len(optimizer.variables)} variables whereas the saved optimizer has {saved} variables. ",
                      stacklevel=2)  # Keras's warning, and Keras's choice: the optimizer starts fresh
        return
    reader.read_into(path, optimizer.variables, f"optimizer '{optimizer.name}'", pending)
