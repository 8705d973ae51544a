"""One folder's TensorBoard event file, written with TensorBoard's own package (no TensorFlow).

Shared by the ``TensorBoard`` callback (``callbacks/tensorboard.py``) and ``tf.summary``
(``tf/summary.py``): the writer is ``tensorboard.summary.writer.event_file_writer`` and the
summaries are built by TensorBoard's ``*_pb`` helpers, as TensorFlow's ``tf.summary`` builds them
(a float32 scalar tensor for ``scalars``, a ``[buckets, 3]`` tensor for ``histograms``, a string
tensor for ``text``), so TensorBoard reads them as it reads TensorFlow's.
"""
from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from ._optional import require


class EventLog:
    """The event file of ``folder`` (made, with the folder, at the first write); ``owner`` is the
    API named in the install hint when TensorBoard's package is missing."""

    def __init__(self, folder: str | os.PathLike, owner: str, filename_suffix: str = "",
                 max_queue: int = 10, flush_seconds: float = 120.0):
        self.folder, self.owner, self.filename_suffix = os.fspath(folder), owner, filename_suffix
        self.max_queue, self.flush_seconds = max_queue, flush_seconds
        self._writer: Any = None  # TensorBoard's EventFileWriter, made at the first write

    def _module(self, name: str):
        return require(name, self.owner)

    def write(self, summary, step: int) -> None:
        """Append one ``Summary`` proto at ``step``, stamped with the wall time."""
        if self._writer is None:
            writer_module = self._module("tensorboard.summary.writer.event_file_writer")
            self._writer = writer_module.EventFileWriter(self.folder, max_queue_size=self.max_queue,
                                                         flush_secs=self.flush_seconds,
                                                         filename_suffix=self.filename_suffix)
        event_pb2 = self._module("tensorboard.compat.proto.event_pb2")
        self._writer.add_event(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def scalar(self, tag: str, value, step: int, description: str | None = None) -> None:
        scalar = self._module("tensorboard.plugins.scalar.summary_v2")
        self.write(scalar.scalar_pb(tag, np.asarray(value, np.float64).reshape(()), description=description), step)

    def histogram(self, tag: str, values, step: int, buckets: int | None = None,
                  description: str | None = None) -> None:
        histogram = self._module("tensorboard.plugins.histogram.summary_v2")
        self.write(histogram.histogram_pb(tag, np.asarray(values), buckets=buckets, description=description), step)

    def text(self, tag: str, value, step: int, description: str | None = None) -> None:
        text = self._module("tensorboard.plugins.text.summary_v2")
        data = value if isinstance(value, (str, bytes)) else np.asarray(value)
        self.write(text.text_pb(tag, data, description=description), step)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
