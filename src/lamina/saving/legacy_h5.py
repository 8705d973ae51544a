"""Keras's legacy HDF5 model format (``.h5`` / ``.hdf5``), as Keras 3 writes and reads it.

The file's root attributes are ``keras_version``, ``backend``, ``model_config`` (the model's
config in Keras's legacy layout, ``legacy_h5_config``) and, for a compiled model,
``training_config`` (its compile arguments and optimizer); the group ``model_weights`` and, when
the model is compiled, ``optimizer_weights`` hold the numbers (``legacy_h5_store``). Keras calls the
format legacy and warns each time a model is saved in it; lamina passes the warning on.

A file is written in memory and then atomically, as a ``.keras`` file is. Loading treats it as
untrusted, as ``.keras`` loading does: every array is checked before it is read, the model may build
no more numbers than the file's weights hold, only lamina's classes and the caller's are built, and
any problem with the content is a ``ValueError`` naming the file.

>>> import os, tempfile, warnings, numpy as np, lamina
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     model.save(path)
>>> x = np.ones((1, 3))
>>> restored = lamina.models.load_model(path, compile=False)  # a model not compiled: Keras would warn
>>> bool(np.array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0)))
True
"""
from __future__ import annotations

import io
import json
import warnings

from .._atomic import atomic_write
from .._optional import require
from . import legacy_h5_config, legacy_h5_store, limits, weights_store

SUFFIXES = (".h5", ".hdf5")
SAVE_WARNING = ("You are saving your model as an HDF5 file via `model.save()` or `keras.saving.save_model(model)`. "
                "This file format is considered legacy. We recommend using instead the native Keras format, e.g. "
                "`model.save('my_model.keras')` or `keras.saving.save_model(model, 'my_model.keras')`. ")
_NOT_COMPILED = ("No training configuration found in the save file, so the model was *not* compiled. "
                 "Compile it manually.")
_FRESH_OPTIMIZER = ("Error in loading the saved optimizer state. As a result, your model is starting with a "
                    "freshly initialized optimizer.")


def is_legacy_path(path: str) -> bool:
    """Whether ``path`` names a legacy HDF5 model file (``.h5`` or ``.hdf5``, not ``.weights.h5``)."""
    return path.endswith(SUFFIXES) and not path.endswith(".weights.h5")


# --- saving ------------------------------------------------------------------------------------
def check_save_format(save_format: str | None, path: str) -> None:
    """Keras 3's rule for tf.keras's ``save_format``: deprecated, a warning when the name already
    says the format (``.keras``, ``.h5``, ``.hdf5``), else an error (the name decides)."""
    if not save_format:
        return
    message = ("The `save_format` argument is deprecated in Keras 3. We recommend removing this argument as it "
               f"can be inferred from the file path. Received: save_format={save_format}")
    if not path.endswith((".keras", *SUFFIXES)):
        raise ValueError("The `save_format` argument is deprecated in Keras 3. Please remove this argument and pass "
                         f"a file path with either `.keras` or `.h5` extension. Received: save_format={save_format}")
    warnings.warn(message, UserWarning, stacklevel=4)



def save_model(model, path: str, include_optimizer: bool = True) -> None:
    """Write ``model`` to the legacy HDF5 file ``path`` (atomically), warning as Keras does."""
    warnings.warn(SAVE_WARNING, UserWarning, stacklevel=4)  # the caller of model.save
    data = model_bytes(model, include_optimizer)
    with atomic_write(path) as file:
        file.write(data)


def model_bytes(model, include_optimizer: bool = True) -> bytes:
    """The bytes of ``model``'s legacy HDF5 file, everything serialized before anything is written."""
    from .saving_lib import KERAS_VERSION
    from .. import backend
    h5py = require("h5py", "Writing .h5 files")
    attrs = {"keras_version": KERAS_VERSION, "backend": backend.backend(),
             "model_config": json.dumps(legacy_h5_config.model_config(model))}
    compiled = include_optimizer and getattr(model, "compiled", False) and model.optimizer is not None
    if compiled:
        attrs["training_config"] = json.dumps(legacy_h5_config.training_config(model))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", libver=weights_store.LIBVER) as h5file:
        for key, value in attrs.items():
            h5file.attrs[key] = value.encode("utf8")
        legacy_h5_store.write_model_weights(h5file.create_group("model_weights"), model, KERAS_VERSION,
                                            backend.backend())
        if compiled and model.built:
            variables = legacy_h5_store.optimizer_variables(model)
            if variables:
                legacy_h5_store.write_weights(h5file.create_group("optimizer_weights"), variables)
    return buffer.getvalue()


# --- loading -----------------------------------------------------------------------------------
def load_model(file, path: str, custom_objects: dict | None, compile: bool, safe_mode: bool):
    """The model of the open legacy HDF5 ``file`` (which came from ``path``), compiled with its
    optimizer state unless ``compile=False``."""
    from .object_registration import CustomObjectScope
    from .serialization_lib import deserialize_keras_object
    with _open(file, path) as h5file:
        reader = legacy_h5_store.LegacyReader(h5file, path)
        config = _json_attr(reader, "model_config")
        if config is None:
            hint = " (it holds weights only: load them with model.load_weights)" if "layers" in h5file else ""
            raise reader.fail(f"no model config found{hint}")
        weights = reader.group(h5file, "model_weights")
        budget = legacy_h5_store.weights_budget(reader, weights)
        with limits.loading(budget, f"the weights file stores ({budget:,})"):
            model = deserialize_keras_object(legacy_h5_config.from_legacy(config), custom_objects=custom_objects,
                                             safe_mode=safe_mode)
        from .saving_lib import _check_is_layer
        _check_is_layer(model, path)
        pairs = legacy_h5_store.read_model_weights(reader, weights, model)
        legacy_h5_store.assign(pairs, list(model.layers))
        if compile:
            with CustomObjectScope(custom_objects or {}):
                _compile(reader, model)
    return model


def _open(file, path: str):
    """The open binary ``file`` as an HDF5 file, or a ValueError naming ``path`` (HDF5's own
    message says only that a signature or an end of file is wrong)."""
    h5py = require("h5py", "Reading .h5 files")
    try:
        return h5py.File(file, "r")
    except OSError as error:
        raise ValueError(f"'{path}' is not a readable HDF5 file (it is damaged, truncated, or not HDF5 at all): "
                         f"{error}") from None


def _json_attr(reader, name: str):
    """Root attribute ``name`` parsed as JSON (None if absent), its size bounded as a config's."""
    attrs = reader.file.attrs
    if name not in attrs:
        return None
    stored = require("h5py", "Reading .h5 files").h5a.open(reader.file.id, name.encode()).get_storage_size()
    # a fixed-length string is refused before it is read; a variable-length one (as h5py writes
    # it) declares only its pointer, is bounded by the file's size, and is checked once read
    if stored > limits.MAX_CONFIG_BYTES:
        raise reader.fail(f"attribute {name} stores {stored:,} bytes, more than {limits.MAX_CONFIG_BYTES:,}")
    value = attrs[name]
    if hasattr(value, "decode"):
        value = value.decode("utf8")
    if not isinstance(value, str):
        raise reader.fail(f"attribute {name} must be a JSON string, got {type(value).__name__}")
    if len(value) > limits.MAX_CONFIG_BYTES:
        raise reader.fail(f"attribute {name} is longer than {limits.MAX_CONFIG_BYTES:,} bytes")
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError) as error:
        raise reader.fail(f"attribute {name} is not valid JSON: {error}") from None


def _compile(reader, model) -> None:
    """Compile ``model`` as ``training_config`` says and load ``optimizer_weights`` into its
    optimizer; state that does not fit leaves a fresh optimizer, with Keras's warning."""
    training = _json_attr(reader, "training_config")
    if training is None:
        warnings.warn(_NOT_COMPILED, UserWarning, stacklevel=5)  # the caller of load_model
        return
    try:
        model.compile_from_config(legacy_h5_config.compile_config(training))
    except (ValueError, TypeError) as error:
        # what the file asks for is the problem, and the weights are fine: say how to get them
        raise reader.fail(f"its training_config cannot compile the model ({error}); "
                          "load_model(..., compile=False) loads it without compiling") from error
    group = reader.group(reader.file, "optimizer_weights", required=False)
    if group is None or not model.built:
        return
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_weights)
    try:
        pairs = reader.arrays(group, list(optimizer.variables), f"optimizer '{optimizer.name}'")
    except ValueError:
        warnings.warn(_FRESH_OPTIMIZER, UserWarning, stacklevel=5)  # the caller of load_model
        return
    legacy_h5_store.assign(pairs, [])


def load_weights(model, file, path: str, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Set ``model``'s weights from a legacy HDF5 file: a whole model's (its ``model_weights``)
    or one written by Keras 2's ``save_weights`` (layers at the root), layer by layer in order or,
    ``by_name``, to the layers of the same name; all or nothing, unless ``skip_mismatch``."""
    with _open(file, path) as h5file:
        reader = legacy_h5_store.LegacyReader(h5file, path)
        group = h5file
        if "layer_names" not in h5file.attrs and "model_weights" in h5file:
            group = reader.group(h5file, "model_weights")
        reader.check_all(group)
        read = legacy_h5_store.read_weights_by_name if by_name else legacy_h5_store.read_model_weights
        pairs = read(reader, group, model, skip_mismatch)
        legacy_h5_store.assign(pairs, list(model.layers))
