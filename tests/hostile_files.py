"""Builders of hostile model files, each small on disk and expensive if trusted.

Every builder writes a ``.keras`` (a zip of ``config.json``, ``metadata.json`` and
``model.weights.h5``) or a ``.weights.h5`` file and returns its path. The configs are what
lamina's own ``to_json`` writes, edited the way an attacker would.
"""
from __future__ import annotations

import io
import json
import zipfile

import h5py
import numpy as np

import lamina
from lamina import layers


def dense_stack_config(units: list[int], input_dim: int) -> dict:
    """The serialized ``Sequential([Input((input_dim,)), Dense(u) for u in units])``."""
    model = lamina.Sequential([lamina.Input((input_dim,))] + [layers.Dense(1) for _ in units])
    config = json.loads(model.to_json())
    for layer, size in zip(config["config"]["layers"][1:], units):
        layer["config"]["units"] = size
    return config


def write_keras(path, config: dict, weights: bytes, compression=zipfile.ZIP_STORED, config_bytes=None):
    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.8.0"}))
        zf.writestr("config.json", config_bytes if config_bytes is not None else json.dumps(config))
        zf.writestr("model.weights.h5", weights)
    return path


def h5_bytes(fill) -> bytes:
    """An HDF5 file built in memory by ``fill(h5file)``."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5file:
        h5file.create_group("vars")
        fill(h5file)
    return buffer.getvalue()


def declared_not_stored(path, n_layers: int = 8, units: int = 5120):
    """``n_layers`` Dense(units) whose weights declare 100 MiB each (for 5120) and store nothing:
    loading them as filled with zeros would build ``n_layers * units**2`` numbers."""
    config = dense_stack_config([units] * n_layers, units)

    def fill(h5file):
        for i in range(n_layers):
            group = h5file.create_group(f"layers/{'dense' if i == 0 else f'dense_{i}'}/vars")
            group.create_dataset("0", shape=(units, units), dtype="float32")  # never written
            group.create_dataset("1", shape=(units,), dtype="float32")

    return write_keras(path, config, h5_bytes(fill))


def many_layers(path, n: int, class_name: str = "Activation"):
    """``n`` weightless layers after an Input: a few bytes each once deflated."""
    model = lamina.Sequential([lamina.Input((4,)), layers.Activation("relu")])
    config = json.loads(model.to_json())
    template = config["config"]["layers"][1]
    template["class_name"] = class_name
    config["config"]["layers"] = config["config"]["layers"][:1] + [
        {**template, "config": {**template["config"], "name": f"layer_{i}"}} for i in range(n)]
    return write_keras(path, config, h5_bytes(lambda h5file: None), zipfile.ZIP_DEFLATED)


def chunk_bomb(path, chunk: int = 16384):
    """A (4, 8) kernel stored as one ``chunk`` x ``chunk`` gzip chunk: reading it inflates the
    whole chunk (1 GiB of float32 for 16384)."""
    config = dense_stack_config([8], 4)

    def fill(h5file):
        group = h5file.create_group("layers/dense/vars")
        kernel = group.create_dataset("0", shape=(4, 8), maxshape=(None, None), chunks=(chunk, chunk),
                                      dtype="float32", compression="gzip")
        kernel[...] = np.ones((4, 8), "float32")
        group.create_dataset("1", data=np.zeros(8, "float32"))

    return write_keras(path, config, h5_bytes(fill))


def inflating_config(path, numbers: int = 10_000_000):
    """A config.json that deflates more than 900:1: a layer config padded with ``numbers`` zeros."""
    config = dense_stack_config([2], 3)
    config["config"]["layers"][1]["config"]["padding"] = [0] * numbers
    weights = h5_bytes(lambda h5file: None)
    return write_keras(path, config, weights, zipfile.ZIP_DEFLATED)


def inflating_weights(path, units: int = 8192):
    """A Dense(units) on units inputs whose zero kernel deflates about 1000:1 inside the zip."""
    config = dense_stack_config([units], units)

    def fill(h5file):
        group = h5file.create_group("layers/dense/vars")
        group.create_dataset("0", data=np.zeros((units, units), "float32"))
        group.create_dataset("1", data=np.zeros(units, "float32"))

    return write_keras(path, config, h5_bytes(fill), zipfile.ZIP_DEFLATED)


def unknown_filter(path, filter_id: int = 32004):
    """A .keras whose first kernel claims HDF5 filter ``filter_id``: reading it would make HDF5
    search ``HDF5_PLUGIN_PATH`` for a library to load. Written as gzip in HDF5's oldest format,
    then the filter id patched in place (that format has no header checksums to update)."""
    import struct

    config = dense_stack_config([8], 4)

    def fill(h5file):
        group = h5file.create_group("layers/dense/vars")
        group.create_dataset("0", data=np.ones((4, 8), "float32"), chunks=(4, 8), compression="gzip")
        group.create_dataset("1", data=np.zeros(8, "float32"))

    data = bytearray(h5_bytes(fill))
    name = data.find(b"deflate")  # a version 1 filter pipeline: id, name length, flags, count, name
    assert name > 8 and struct.unpack("<H", data[name - 8:name - 6])[0] == 1
    data[name - 8:name - 6] = struct.pack("<H", filter_id)
    return write_keras(path, config, bytes(data))
