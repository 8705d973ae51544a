"""``save_model`` / ``load_model`` (the ``.keras`` zip) and ``save_weights`` / ``load_weights``
(a ``.weights.h5`` file), in Keras 3's native format; ``.h5`` / ``.hdf5`` names go to Keras's
legacy HDF5 format (``legacy_h5``).

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` (the model serialized by
``serialize_keras_object``) and ``model.weights.h5`` (``weights_store``), stored uncompressed
as Keras writes it. Files are written atomically: a failure midway leaves the previous file.
Loading treats the file as untrusted (see ``archive``, ``limits``, ``serialization_lib`` and
``weights_store``): any problem with its content is a ``ValueError`` naming the file.

>>> import os, tempfile, numpy as np, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> model.save(path)
>>> restored = load_model(path)
>>> bool(np.array_equal(restored.predict(np.ones((1, 3)), verbose=0), model.predict(np.ones((1, 3)), verbose=0)))
True
"""
from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import zipfile

from .._atomic import atomic_write
from .._files import open_regular
from .._optional import require
from . import limits, weights_store
from .archive import SafeArchive
from .serialization_lib import deserialize_keras_object, serialize_keras_object

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"
# The Keras version lamina's files claim: they hold only the keys Keras 3.8 knew, and every
# Keras from 3.8 on reads them.
KERAS_VERSION = "3.8.0"


def _path(filepath, argument: str = "filepath") -> str:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"{argument} must be a path (str or os.PathLike), got {filepath!r}")
    return os.fspath(filepath)


def _check_overwrite(path: str, overwrite: bool) -> None:
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"'{path}' exists and overwrite=False; pass overwrite=True to replace it")


def _weights_bytes(model) -> bytes:
    h5py = require("h5py", "Reading and writing .keras and .weights.h5 files")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", libver=weights_store.LIBVER) as h5file:
        weights_store.write_model(h5file, model)
    return buffer.getvalue()


# --- .keras --------------------------------------------------------------------------------------
def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True,
               save_format: str | None = None) -> None:
    """Write ``model`` to a ``.keras`` file that lamina and Keras 3 (3.8 on) both load, or, for a
    name ending in ``.h5`` / ``.hdf5``, to Keras's legacy HDF5 format (``legacy_h5``, with Keras's
    warning that it is legacy; ``include_optimizer=False`` leaves the optimizer out of it).
    ``save_format`` (tf.keras's) is deprecated, as in Keras 3: the name decides the format.

    >>> import lamina
    >>> save_model(lamina.Sequential([lamina.layers.Dense(1)]), "m.json")
    Traceback (most recent call last):
    ...
    ValueError: Invalid filepath extension for saving: add '.keras' for Keras's native format (recommended) or '.h5' for its legacy HDF5 format, got 'm.json'
    """  # noqa: E501  (a doctest's expected error message is one line)
    path = _path(filepath)
    from . import legacy_h5
    legacy_h5.check_save_format(save_format, path)
    if not path.endswith(".keras") and not path.endswith(legacy_h5.SUFFIXES):
        raise ValueError("Invalid filepath extension for saving: add '.keras' for Keras's native format "
                         f"(recommended) or '.h5' for its legacy HDF5 format, got {path!r}")
    _check_overwrite(path, overwrite)
    if path.endswith(legacy_h5.SUFFIXES):
        legacy_h5.save_model(model, path, include_optimizer=include_optimizer)
        return
    with atomic_write(path) as file:
        _write_archive(model, file)


def _write_archive(model, file) -> None:
    """The ``.keras`` zip of ``model`` into the binary ``file``, everything serialized first."""
    config = json.dumps(serialize_keras_object(model))
    metadata = json.dumps({"keras_version": KERAS_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    weights = _weights_bytes(model)
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA_FILENAME, metadata)
        zf.writestr(CONFIG_FILENAME, config)
        zf.writestr(WEIGHTS_FILENAME, weights)


PICKLED = "<a pickled model>"  # how loading errors name the bytes of a pickled model


def model_to_bytes(model) -> bytes:
    """The bytes of ``model``'s ``.keras`` file, made in memory: how a model pickles (as Keras's)."""
    buffer = io.BytesIO()
    _write_archive(model, buffer)
    return buffer.getvalue()


def model_from_bytes(data: bytes):
    """The model of :func:`model_to_bytes`' ``data``, compiled as it was with its optimizer state.

    Loaded as Keras unpickles a model: ``safe_mode=False`` (unpickling runs code anyway), and the
    classes registered with ``register_keras_serializable`` or in a ``custom_object_scope``."""
    return _guarded(PICKLED, _load_from_file, io.BytesIO(data), PICKLED, None, True, False)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """The model saved in a ``.keras`` file (by lamina or Keras 3), or in Keras's legacy HDF5
    format (``.h5`` / ``.hdf5``), compiled as it was saved, with its optimizer state, unless
    ``compile=False``. ``custom_objects`` maps names to the user's own classes and functions;
    nothing else outside lamina is ever built.

    >>> load_model("model.json")
    Traceback (most recent call last):
    ...
    ValueError: load_model reads '.keras' files and legacy '.h5' / '.hdf5' files, got 'model.json'
    """
    path = _path(filepath)
    from . import legacy_h5
    if not path.endswith(".keras") and not path.endswith(legacy_h5.SUFFIXES):
        raise ValueError(f"load_model reads '.keras' files and legacy '.h5' / '.hdf5' files, got {path!r}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict, got {custom_objects!r}")
    load = legacy_h5.load_model if path.endswith(legacy_h5.SUFFIXES) else _load_from_file
    with _guarded_open(path, "load_model") as file:
        return _guarded(path, load, file, path, custom_objects, compile, safe_mode)


def _load_from_file(file, path, custom_objects, compile, safe_mode):
    h5py = require("h5py", "Reading and writing .keras and .weights.h5 files")
    with SafeArchive(file, path) as archive:
        config = _parse_config(archive.read(CONFIG_FILENAME, limits.MAX_CONFIG_BYTES), path)
        if WEIGHTS_FILENAME not in archive.names():
            raise ValueError(f"'{path}' has no {WEIGHTS_FILENAME} (lamina reads Keras's HDF5 weights only)")
        if not compile:
            config.pop("compile_config", None)
        with archive.open_entry(WEIGHTS_FILENAME, limits.MAX_ARCHIVE_BYTES) as weights, \
                h5py.File(weights, "r") as h5file:
            reader = weights_store.Reader(h5file, path)
            stored = reader.check_all()
            with limits.loading(stored, f"the weights file stores ({stored:,})"):
                model = deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
            _check_is_layer(model, path)
            weights_store.read_model(reader, model, load_optimizer=compile)
    return model


def _parse_config(data: bytes, path: str) -> dict:
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"'{path}': {CONFIG_FILENAME} is not valid JSON: {error}") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"'{path}': {CONFIG_FILENAME} must hold a serialized model (a dict with class_name)")
    return config


def _check_is_layer(model, path: str) -> None:
    from ..layers.layer import Layer
    if not isinstance(model, Layer):
        raise ValueError(f"'{path}' holds a {type(model).__name__}, not a model")


def _guarded_open(path: str, what: str):
    """``open_regular``, its refusals naming the file as every other loading error does."""
    try:
        return open_regular(path, what)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except OSError as error:
        raise OSError(error.errno, f"{what} cannot open '{path}': {error.strerror or error}") from error


def _guarded(path: str, load, *args):
    """Run ``load``; any failure caused by the file's content becomes a ValueError naming it."""
    try:
        return load(*args)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except ValueError as error:
        if path in str(error):
            raise
        raise ValueError(f"Cannot load '{path}': {error}") from error
    except Exception as error:  # noqa: BLE001 - h5py, zipfile and constructors fail in many ways
        raise ValueError(f"Cannot load '{path}': {type(error).__name__}: {error}") from error


# --- weights only --------------------------------------------------------------------------------
def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write the weights (and optimizer state) to a ``.weights.h5`` file, in Keras's layout.

    >>> import lamina
    >>> save_weights(lamina.Sequential([lamina.layers.Dense(1)]), "w.h5")
    Traceback (most recent call last):
    ...
    ValueError: The filename must end in '.weights.h5', got 'w.h5'
    """
    path = _path(filepath)
    if not path.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in '.weights.h5', got {path!r}")
    _check_overwrite(path, overwrite)
    data = _weights_bytes(model)
    with atomic_write(path) as file:
        file.write(data)


def load_weights(model, filepath, skip_mismatch: bool = False, **kwargs) -> None:
    """Set ``model``'s weights (and optimizer state, when compiled) from a ``.weights.h5`` file,
    the weights inside a ``.keras`` file, or a legacy ``.h5`` / ``.hdf5`` file (a whole model's or
    Keras 2's weights, matched layer by layer in order, or by name with ``by_name=True``); nothing
    changes if any array does not fit, unless ``skip_mismatch=True`` (legacy files only) skips it."""
    path = _path(filepath)
    from . import legacy_h5
    by_name = kwargs.pop("by_name", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    if (by_name is not None or skip_mismatch) and not legacy_h5.is_legacy_path(path):
        # Keras refuses by_name there too; its skip_mismatch for native files lamina does not have
        raise ValueError(f"`by_name` and `skip_mismatch` only support loading legacy '.h5' or '.hdf5' files in "
                         f"lamina. Received: {path}")
    if not path.endswith((".weights.h5", ".keras", *legacy_h5.SUFFIXES)):
        raise ValueError(f"load_weights reads a file ending in '.weights.h5' (or '.keras', or a legacy '.h5' / "
                         f"'.hdf5'), got {path!r}")
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built, so it has no weights to load into: give it an "
                         "input shape (or call it on data) first")
    with _guarded_open(path, "load_weights") as file:
        if legacy_h5.is_legacy_path(path):
            _guarded(path, legacy_h5.load_weights, model, file, path, bool(by_name), skip_mismatch)
        else:
            _guarded(path, _load_weights_from_file, model, file, path)


def _load_weights_from_file(model, file, path) -> None:
    h5py = require("h5py", "Reading and writing .keras and .weights.h5 files")
    with contextlib.ExitStack() as stack:
        if path.endswith(".keras"):
            archive = stack.enter_context(SafeArchive(file, path))
            file = stack.enter_context(archive.open_entry(WEIGHTS_FILENAME, limits.MAX_ARCHIVE_BYTES))
        h5file = stack.enter_context(h5py.File(file, "r"))
        reader = weights_store.Reader(h5file, path)
        reader.check_all()
        weights_store.read_model(reader, model)


# --- JSON ----------------------------------------------------------------------------------------
def model_from_json(json_string: str, custom_objects: dict | None = None):
    """A new model from ``model.to_json()`` (architecture only, fresh weights).

    >>> import lamina
    >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2, name="out")])
    >>> model_from_json(model.to_json()).layers[0].name
    'out'
    """
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"model_from_json expects a JSON string, got {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ValueError(f"model_from_json got invalid JSON: {error}") from None
    return deserialize_keras_object(config, custom_objects=custom_objects)
