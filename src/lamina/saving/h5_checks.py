"""What an HDF5 weights file must satisfy before any array in it is read.

A weights file is untrusted. Each array is checked where it sits, before its data is touched:

- it is reached through hard links only (no soft or external links), and is neither an external
  dataset (data in other files) nor a virtual one (mapped from other files);
- it holds plain numbers (bool, int, uint or float);
- its filters are among those lamina and Keras write (gzip, shuffle, fletcher32, lzf): any other
  filter id would make HDF5 look for a native plugin library to load;
- its chunks are no larger than the array (one huge chunk behind a tiny array inflates whole),
  and every chunk is stored (missing chunks read as fill values, not as weights);
- it stores what it declares: all its bytes when unfiltered, at least ``1 / MAX_HDF5_RATIO`` of
  them when compressed (a shape bomb stores next to nothing).

``walk`` applies them to every array of the file (at most ``MAX_OBJECTS`` objects, nested at most
``MAX_DEPTH`` deep) and returns how many numbers the arrays a model's layers read hold: the most
loading may build.
"""
from __future__ import annotations

import math

from .._optional import require
from . import limits

MAX_OBJECTS = 1_000_000  # groups and datasets visited when checking a file
MAX_DEPTH = 64
# HDF5 filter ids: deflate (gzip), shuffle, fletcher32, lzf.
ALLOWED_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 32000: "lzf"}
_COMPRESSING = {1, 32000}


def child(parent, name: str, fail):
    """``parent[name]`` after checking the link stays inside this file; None if absent."""
    h5py = require("h5py", "Reading .weights.h5 data")
    link = parent.get(name, getlink=True)
    if link is None:
        return None
    if not isinstance(link, h5py.HardLink):
        raise fail(f"'{name}' is a {type(link).__name__}; links are not allowed in a weights file")
    return parent[name]


def check_dataset(node, path: str, fail) -> None:
    """Refuse ``node`` (an ``h5py.Dataset`` at ``path``) unless reading it is safe and gives
    the numbers it declares; ``fail(message)`` makes the error."""
    if node.external:
        raise fail(f"'{path}' is an external dataset stored in other files ({node.external!r:.100})")
    if node.is_virtual:
        raise fail(f"'{path}' is a virtual dataset mapped from other files")
    if node.dtype.kind not in "biuf":
        raise fail(f"'{path}' holds {node.dtype} values, not numbers")
    plist = node.id.get_create_plist()
    filters = _filters(plist, path, fail)
    shape = tuple(node.shape or ())
    chunks = node.chunks
    if chunks is not None:
        if len(chunks) != len(shape) or any(c > max(d, 1) for c, d in zip(chunks, shape)):
            raise fail(f"'{path}' of shape {shape} is stored in chunks of shape {tuple(chunks)}, larger than "
                       "the array; refusing to inflate them")
        expected = math.prod(math.ceil(d / c) for d, c in zip(shape, chunks))
        stored = node.id.get_num_chunks()
        if stored != expected:
            raise fail(f"'{path}' stores {stored} of its {expected} chunks; the others would read as "
                       "fill values, not weights")
    declared = math.prod(shape) * node.dtype.itemsize
    stored = node.id.get_storage_size()
    if filters & _COMPRESSING:
        if declared > limits.RATIO_FLOOR_BYTES and declared > limits.MAX_HDF5_RATIO * stored:
            raise fail(f"array '{path}' declares {declared:,} bytes but stores only {stored:,}: refusing a "
                       "potential shape bomb")
    elif stored < declared and plist.get_layout() != require("h5py", "Reading .weights.h5 data").h5d.COMPACT:
        raise fail(f"array '{path}' declares {declared:,} bytes but stores only {stored:,}")


def _filters(plist, path: str, fail) -> set[int]:
    codes = set()
    for i in range(plist.get_nfilters()):
        code = plist.get_filter(i)[0]
        if code not in ALLOWED_FILTERS:
            raise fail(f"'{path}' uses HDF5 filter {code}; only {', '.join(ALLOWED_FILTERS.values())} are "
                       "allowed (another filter would make HDF5 load a plugin library)")
        codes.add(code)
    return codes


def walk(h5file, prefix: str, fail, checked: set | None = None) -> int:
    """Check every group and array of ``h5file``; return the numbers the arrays outside
    ``optimizer`` hold (``prefix``, ``layers`` for a Sequential or Functional model, or a
    subclassed model's attribute folders), which bounds what loading may build. The paths
    checked are added to ``checked``."""
    h5py = require("h5py", "Reading .weights.h5 data")
    budget, seen = 0, 0
    stack = [(h5file, "", 0)]
    while stack:
        group, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise fail(f"groups nested deeper than {MAX_DEPTH} levels at '{path}'")
        for name in group:
            seen += 1
            if seen > MAX_OBJECTS:
                raise fail(f"more than {MAX_OBJECTS:,} objects")
            node_path = f"{path}/{name}" if path else name
            node = child(group, name, fail)
            if isinstance(node, h5py.Group):
                stack.append((node, node_path, depth + 1))
                continue
            if not isinstance(node, h5py.Dataset):
                raise fail(f"'{node_path}' is a {type(node).__name__}, neither a group nor an array")
            check_dataset(node, node_path, fail)
            if checked is not None:
                checked.add(node_path)
            if node_path.split("/")[0] != "optimizer":  # a subclassed model's layers sit under attribute names
                budget += math.prod(node.shape or ())
    return budget
