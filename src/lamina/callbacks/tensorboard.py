"""``TensorBoard``: event files that TensorBoard reads, in Keras's layout and with Keras's names.

The writer is TensorBoard's own package (``tensorboard.summary.writer.event_file_writer``, the
one PyTorch's ``SummaryWriter`` uses too), not tensorboardX: it is the package that *reads* the
files, so what is written is what TensorBoard expects, and its ``*_pb`` helpers build the
summaries exactly as TensorFlow's ``tf.summary`` does (a tensor with the plugin's metadata: a
float32 scalar for ``scalars``, a ``[buckets, 3]`` float64 tensor for ``histograms``), which is
what Keras writes. tensorboardX would add a second package that writes the older
``simple_value`` form. Nothing here needs TensorFlow.

The layout, as Keras's: ``log_dir/train`` holds ``epoch_loss``, ``epoch_<metric>`` and
``epoch_learning_rate`` (step: the epoch, from 0), the batch scalars ``batch_<name>`` (step: the
batch counted from 1 over the whole run, written every ``update_freq`` batches), the weight
histograms ``<weight path>/histogram`` and the model's structure (tag ``keras``, plugin
``graph_keras_model``: the model's JSON, which TensorBoard's graph tab draws);
``log_dir/validation`` holds the validation scalars under the same ``epoch_<name>`` tags and
``evaluation_<name>_vs_iterations`` (step: the optimizer's iterations) after each validation.
"""
from __future__ import annotations

import os
import struct
import time
import warnings
import zlib
from collections.abc import Sequence

import numpy as np

from .._events import EventLog
from .._optional import require
from .callback import Callback

_PLUGIN_KERAS_MODEL = "graph_keras_model"


def _require_tensorboard():
    return require("tensorboard", "lamina.callbacks.TensorBoard")


def _check_update_freq(update_freq):
    if update_freq in ("batch", "epoch"):
        return 1 if update_freq == "batch" else "epoch"
    if isinstance(update_freq, bool) or not isinstance(update_freq, (int, np.integer)) or update_freq < 1:
        raise ValueError(f"TensorBoard(update_freq=...) expects 'epoch', 'batch' or a positive number of batches, "
                         f"got update_freq={update_freq!r}")
    return int(update_freq)


def _check_frequency(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"TensorBoard({name}=...) expects a number of epochs >= 0 (0 turns it off), "
                         f"got {name}={value!r}")
    return int(value)


def _check_unsupported(profile_batch, embeddings_freq, embeddings_metadata) -> None:
    """Profiling and embeddings are accepted as arguments (Keras programs pass them) but only
    in their off state: lamina has no profiler and no Embedding layer, so a request for either
    is refused rather than dropped."""
    off = profile_batch in (0, "0", (0, 0), [0, 0], "0,0")
    if not off:
        raise ValueError(f"TensorBoard(profile_batch={profile_batch!r}): lamina has no profiler, so it cannot "
                         "profile batches; pass profile_batch=0 (the default), or profile with cProfile")
    if _check_frequency("embeddings_freq", embeddings_freq):
        raise ValueError(f"TensorBoard(embeddings_freq={embeddings_freq!r}): lamina has no Embedding layer to "
                         "visualize; pass embeddings_freq=0 (the default)")
    if embeddings_metadata is not None:
        raise ValueError("TensorBoard(embeddings_metadata=...): lamina has no Embedding layer whose metadata "
                         "this could describe; pass embeddings_metadata=None (the default)")


class TensorBoard(Callback):
    """Write the training's scalars, weight histograms and model structure for TensorBoard
    (``tensorboard --logdir logs``), with Keras's arguments and tags.

    Args:
        log_dir: the folder; ``train/`` and ``validation/`` are made under it.
        histogram_freq: every how many epochs to write each weight's histogram (0: never).
        write_graph: write the model's structure (its JSON) for the graph tab. A subclassed
            model has no structure lamina can write; it gets a warning and no graph.
        write_images: write each weight as an image (with the histograms), as Keras does:
            a kernel with its longer side across, a bias as a column, pixel
            ``clip(255.5 * w, 0, 255)`` (so negative weights are black).
        write_steps_per_second: also write ``epoch_steps_per_second`` (and
            ``batch_steps_per_second`` with batch-level writing).
        update_freq: ``"epoch"``, ``"batch"`` (every batch) or N (every N batches): how often
            the batch scalars ``batch_loss``, ``batch_<metric>`` are written.
        profile_batch: not supported (lamina has no profiler): only 0 is accepted.
        embeddings_freq, embeddings_metadata: not supported (lamina has no Embedding layer):
            only 0 and None are accepted.

    Needs the ``tensorboard`` package (``pip install 'lamina[tensorboard]'``).

    >>> import lamina
    >>> callback = lamina.callbacks.TensorBoard(log_dir="logs", histogram_freq=1)
    >>> lamina.callbacks.TensorBoard(profile_batch=5)
    Traceback (most recent call last):
    ...
    ValueError: TensorBoard(profile_batch=5): lamina has no profiler, so it cannot profile batches; pass profile_batch=0 (the default), or profile with cProfile
    """  # noqa: E501  (a doctest's expected error message is one line)

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int | str | Sequence[int] = 0, embeddings_freq: int = 0,
                 embeddings_metadata: dict[str, str] | str | None = None):
        super().__init__()
        _require_tensorboard()  # the install line now, not at the end of the first epoch
        _check_unsupported(profile_batch, embeddings_freq, embeddings_metadata)
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _check_frequency("histogram_freq", histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = _check_update_freq(update_freq)
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict = {}
        self._global_train_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0
        if self.update_freq != "epoch" or self.write_steps_per_second:
            # Set on the instance, so that fit builds batch logs only when they are written
            # (CallbackList.wants_batch_logs looks for overridden hooks); mypy flags any method
            # assigned on an instance, which is the point here.
            self.on_train_batch_begin = self._train_batch_begin  # type: ignore[method-assign]
            self.on_train_batch_end = self._train_batch_end  # type: ignore[method-assign]

    # --- writers ---------------------------------------------------------------------------------
    def _writer(self, run: str) -> EventLog:
        """The event file of ``run`` (``train`` or ``validation``), made when first written."""
        if run not in self._writers:
            self._writers[run] = EventLog(os.path.join(self.log_dir, run), "lamina.callbacks.TensorBoard")
        return self._writers[run]

    def _write(self, run: str, summary, step: int) -> None:
        self._writer(run).write(summary, step)

    def _scalar(self, run: str, tag: str, value, step: int) -> None:
        self._writer(run).scalar(tag, value, step)

    def _flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # --- hooks -----------------------------------------------------------------------------------
    def set_model(self, model):
        """Keep the model; write its structure when ``write_graph`` (each fit or evaluate
        starts new event files, as Keras's does)."""
        super().set_model(model)
        self._close()
        if self.write_graph:
            self._write_model_structure()

    def _write_model_structure(self) -> None:
        if self.model._current_graph() is None:
            warnings.warn(f"TensorBoard(write_graph=True): '{self.model.name}' is a subclassed model, whose "
                          "structure lamina cannot write (only Sequential and Functional models have one); "
                          "pass write_graph=False to silence this", UserWarning, stacklevel=3)
            return
        summary_pb2 = require("tensorboard.compat.proto.summary_pb2", "lamina.callbacks.TensorBoard")
        tensor_util = require("tensorboard.util.tensor_util", "lamina.callbacks.TensorBoard")
        metadata = summary_pb2.SummaryMetadata()
        metadata.plugin_data.plugin_name = _PLUGIN_KERAS_MODEL
        metadata.plugin_data.content = b"1"  # the plugin's version, as Keras writes it
        try:
            structure = self.model.to_json()
        except (AttributeError, TypeError, ValueError, NotImplementedError) as error:  # as Keras: warn, go on
            warnings.warn(f"TensorBoard(write_graph=True): model '{self.model.name}' cannot be written as JSON, "
                          f"so it has no graph ({type(error).__name__}: {error})", UserWarning, stacklevel=3)
            return
        tensor = tensor_util.make_tensor_proto(np.array(structure.encode("utf-8"), dtype=object))
        summary = summary_pb2.Summary()
        summary.value.add(tag="keras", metadata=metadata, tensor=tensor)
        self._write("train", summary, 0)
        self._flush()

    def on_train_begin(self, logs=None):
        """Count the run's batches from the start (the batch scalars' step)."""
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        """Flush and close the event files."""
        self._close()

    def _train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start_time = time.perf_counter()

    def _train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.write_steps_per_second:
            elapsed = max(time.perf_counter() - self._batch_start_time, 1e-9)
            self._scalar("train", "batch_steps_per_second", 1.0 / elapsed, step)
        if self.update_freq != "epoch" and step % self.update_freq == 0:
            for name, value in (logs or {}).items():
                self._scalar("train", f"batch_{name}", value, step)

    def on_epoch_begin(self, epoch, logs=None):
        """Note the time and the iterations, for ``epoch_steps_per_second``."""
        self._epoch_start_time = time.perf_counter()
        self._epoch_start_iterations = self._iterations()

    def on_epoch_end(self, epoch, logs=None):
        """Write the epoch's scalars, and the weights every ``histogram_freq`` epochs."""
        logs = logs or {}
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        train_logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        if self.write_steps_per_second:
            elapsed = max(time.perf_counter() - self._epoch_start_time, 1e-9)
            train_logs["steps_per_second"] = (self._iterations() - self._epoch_start_iterations) / elapsed
        for name, value in train_logs.items():
            self._scalar("train", f"epoch_{name}", value, epoch)
        for name, value in logs.items():
            if name.startswith("val_"):
                self._scalar("validation", f"epoch_{name[4:]}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_weights(epoch)
        self._flush()

    def on_test_end(self, logs=None):
        """Write ``evaluation_<name>_vs_iterations`` (step: the optimizer's iterations), as Keras."""
        if getattr(self.model, "optimizer", None) is not None:
            for name, value in (logs or {}).items():
                self._scalar("validation", f"evaluation_{name}_vs_iterations", value, self._iterations())
        self._flush()

    def _iterations(self) -> int:
        return int(np.asarray(self.model.optimizer.iterations))

    def _write_weights(self, epoch: int) -> None:
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = np.asarray(weight)
                self._writer("train").histogram(f"{name}/histogram", values, epoch)
                if self.write_images:
                    self._write_image(f"{name}/image", values, epoch)

    def _write_image(self, tag: str, weight: np.ndarray, epoch: int) -> None:
        """A weight as a grey image, as Keras lays it out (a rank above 2 has no image)."""
        image = np.squeeze(weight)
        if image.ndim == 1:
            image = image.reshape(-1, 1)
        elif image.ndim == 2 and image.shape[0] > image.shape[1]:
            image = image.T
        if image.ndim != 2:
            return
        # tf.summary.image's float-to-uint8 conversion (convert_image_dtype, saturating)
        pixels = np.clip(np.asarray(image, np.float64) * 255.5, 0, 255).astype(np.uint8)
        summary_pb2 = require("tensorboard.compat.proto.summary_pb2", "lamina.callbacks.TensorBoard")
        image_metadata = require("tensorboard.plugins.image.metadata", "lamina.callbacks.TensorBoard")
        tensor_util = require("tensorboard.util.tensor_util", "lamina.callbacks.TensorBoard")
        height, width = pixels.shape
        content = np.array([str(width).encode(), str(height).encode(), _png(pixels)], dtype=object)
        summary = summary_pb2.Summary()
        summary.value.add(tag=tag, metadata=image_metadata.create_summary_metadata(display_name=None,
                                                                                   description=None),
                          tensor=tensor_util.make_tensor_proto(content))
        self._write("train", summary, epoch)


def _png(pixels: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG of ``pixels`` (rows of uint8); the format is four chunks."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    height, width = pixels.shape
    rows = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))  # filter 0 on each row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
