"""``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` forms: the loops around the steps.

Each batch goes to ``train_step`` / ``test_step`` / ``predict_step``, or, for a chain of built-in
layers whose steps are not overridden, to the fused plan (same numbers, several times faster).
Logs are built only when something reads them (a callback's batch hook, the progress bar's
redraw), and evaluation and prediction run whole blocks of batches when nothing watches single
batches.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .._tracebacks import filter_traceback
from ..backend import run_config
from ..callbacks.callback import CallbackList
from ..callbacks.history import History
from ..callbacks.progbar_logger import ProgbarLogger
from . import data, prefetch, sources, structures, tracing


def log_value(result) -> float | np.ndarray:
    """A metric's result for the logs: a float, or an array for per-class metrics (F1Score)."""
    result = np.asarray(result)
    return float(result) if result.size == 1 else result


def flat_logs(logs: dict) -> dict:
    """A step's logs as the callbacks see them: names sorted, each value a float (or an array),
    and a dict value (``compile_metrics``' result, returned by a custom ``train_step`` as
    ``{m.name: m.result() for m in self.metrics}``) spread into its own names, as Keras does."""
    flat: dict = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            flat.update({inner: log_value(v) for inner, v in value.items()})
        else:
            flat[key] = log_value(value)
    return dict(sorted(flat.items()))


class Loops:
    """The loops of ``Trainer`` (mixed into ``Model``)."""

    # what the loops use of the Model they are mixed into (declared for a type checker)
    dtype: Any
    metrics: Any
    output_shape: Any
    _compile_metrics: Any
    _loss_tracker: Any
    _plan: Any
    _plan_checked: bool
    _compiled_step: Any
    get_metrics_result: Any
    reset_metrics: Any
    test_step: Any

    def _steps_overridden(self, name: str) -> bool:
        from .trainer import Trainer
        return getattr(type(self), name) is not getattr(Trainer, name)

    def _fast_plan(self):
        if not self._plan_checked:
            from .fast_plan import FastPlan
            self._plan = None if self._steps_overridden("train_step") else FastPlan.for_model(self)
            self._plan_checked = True
        return self._plan

    def _output_units(self) -> int | None:
        shape = self.output_shape
        return shape[-1] if isinstance(shape, tuple) and shape else None

    def _logs(self) -> dict:
        return flat_logs(self.get_metrics_result())

    # --- one step ----------------------------------------------------------------------------
    def _train_batch(self, x, y, index, sample_weight):
        """Train on the rows ``index`` of ``x`` and ``y``; the step's logs, or None when the
        fused plan ran (its logs are read from the metrics when wanted)."""
        plan = self._plan if sample_weight is None else None
        if plan is not None:
            plan.train(x, y, index, self._loss_tracker, self._compile_metrics)
            return None
        batch = _batch(x, y, sample_weight, index, self.dtype)
        compiled = self._compiled_step
        if compiled is None:  # decided at the first batch: a generator's builds the model first
            from .compiled_step import CompiledStep
            compiled = self._compiled_step = CompiledStep.for_model(self) or False
        return compiled.train(batch) if compiled else self.train_step(batch)

    # --- fit -----------------------------------------------------------------------------------
    @filter_traceback
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` passes over ``(x, y)``; returns the ``History``.

        ``x`` may be arrays (with ``y``; lists or dicts of arrays for several inputs), or a
        generator / ``PyDataset`` / ``lamina.data.Dataset`` / sequence of batches
        ``(x, y[, sample_weight])`` (then ``steps_per_epoch`` for a generator).

        >>> import numpy as np, lamina
        >>> model = lamina.Sequential([lamina.layers.Dense(1, input_shape=(2,))])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(np.ones((8, 2)), np.ones(8), epochs=2, verbose=0)
        >>> len(history.history["loss"])
        2
        """
        self._require_compiled("fit")
        data.check_fit_arguments(validation_split, initial_epoch, validation_freq)
        sources.refuse_batch_size(x, batch_size)
        batch_size = data.check_batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
        # keras.config.set_max_epochs / set_max_steps_per_epoch (a quick trial run of a long script)
        epochs = run_config.capped_epochs(epochs)
        steps_per_epoch = run_config.capped_steps(steps_per_epoch)
        if validation_data is not None or validation_split:
            validation_steps = run_config.capped_steps(validation_steps)
        train, val = self._fit_sources(x, y, sample_weight, class_weight, batch_size, shuffle, steps_per_epoch,
                                       validation_split, validation_data, validation_steps,
                                       data.check_batch_size(validation_batch_size or batch_size,
                                                             "validation_batch_size"))
        verbose = data.verbosity(verbose)
        history = History()
        progbar = ProgbarLogger() if verbose else None
        # Keras's order: the user's callbacks, then History, then the progress bar (so an epoch's
        # line shows what the user's callbacks added to the logs, such as learning_rate)
        callback_list = CallbackList([*data.callback_list(callbacks), history, *([progbar] if progbar else [])], self,
                                     {"verbose": verbose, "epochs": epochs, "steps": train.steps})
        self._compiled_step = None  # a new fit traces its step afresh (new data, trainable flags)
        self._prepare_plan()
        self.stop_training = False
        callback_list.on_train_begin()
        for callback in callback_list.callbacks:
            if getattr(callback, "resume_epoch", None) is not None:  # BackupAndRestore found a backup
                initial_epoch = callback.resume_epoch
                callback.restore_history(history)
        logs = {}
        with data.StopOnInterrupt(self, initial_epoch) as interrupt, backend.threads.blas_threads(self, batch_size):
            logs = self._fit_epochs(train, val, initial_epoch, epochs, validation_freq, callback_list, progbar,
                                    interrupt)
        history.interrupted = interrupt.at
        self.optimizer.finalize_variable_values(self.trainable_weights)  # EMA weights, when asked
        callback_list.on_train_end(logs)
        self.history = history
        return history

    def _prepare_plan(self) -> None:
        tracing.build(self)
        plan = self._fast_plan()
        if plan is not None:
            plan.prepare()

    def _fit_sources(self, x, y, sample_weight, class_weight, batch_size, shuffle, steps_per_epoch,
                     validation_split, validation_data, validation_steps, validation_batch_size):
        """The training and validation data as ``ArrayData`` or ``BatchData``, checked."""
        if sources.is_batch_source(x):
            if y is not None or sample_weight is not None or (class_weight is not None and not sources.is_dataset(x)):
                raise ValueError("when x is a generator or dataset its batches carry the targets and weights: "
                                 "pass y=None, sample_weight=None and class_weight=None")
            if validation_split:
                raise ValueError("validation_split needs arrays; with a generator or dataset pass validation_data")
            # a Dataset may take class_weight, as in Keras: its batches are weighed as they come
            train = sources.batch_source(x, steps_per_epoch, self._prepare, "x", class_weight, self._output_units)
        else:
            x = data.features(x)
            n = structures.n_samples(x)
            y = None if y is None else data.targets(y, n)
            sample_weight = data.sample_weights(sample_weight, n)
            if class_weight is not None:
                self._prepare_features(x)  # built: class_weight's classes are the output's
                sample_weight = data.class_sample_weights(class_weight, y, sample_weight, self._output_units())
            if validation_split and validation_data is None:
                (x, y, sample_weight), validation_data = data.split_validation(x, y, sample_weight, validation_split)
            train = sources.ArrayData(x, self._prepare(x, y), sample_weight, batch_size, shuffle, steps_per_epoch)
        if validation_data is None:
            return train, None
        return train, self._evaluation_source(validation_data, None, None, validation_batch_size, validation_steps,
                                              "validation_data")

    def _evaluation_source(self, x, y, sample_weight, batch_size, steps, what):
        if isinstance(x, (tuple, list)) and what == "validation_data" and not sources.is_batch_source(x):
            x, y, sample_weight = data.unpack_validation_data(x)
        if sources.is_batch_source(x):
            return sources.batch_source(x, steps, self._prepare, what)
        prefix = "validation " if what == "validation_data" else ""
        x = data.features(x, f"{prefix}x")
        n = structures.n_samples(x)
        y = None if y is None else data.targets(y, n, f"{prefix}y", f"{prefix}x")
        return sources.ArrayData(x, self._prepare(x, y), data.sample_weights(sample_weight, n), batch_size,
                                 False, steps)

    def _fit_epochs(self, train, val, initial_epoch, epochs, validation_freq, callback_list, progbar,
                    interrupt) -> dict:
        batch_hooks = callback_list.wants_batch_logs("train")
        rng = backend.global_rng()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            with prefetch.feed(self._plan, train, rng) as batches:  # the next rows gathered ahead
                step_logs, done = self._train_epoch(batches, batch_hooks, callback_list, progbar)
            train.on_epoch_end()
            logs = self._logs() if step_logs is None else flat_logs(step_logs)
            cut_short = interrupt.stopped(epoch, done)  # Ctrl-C: the part epoch is not validated
            if val is not None and not cut_short and (epoch + 1) % validation_freq == 0:
                logs.update({f"val_{k}": v for k, v in self._evaluate_source(val, callback_list).items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        return logs

    def _train_epoch(self, batches, batch_hooks, callback_list, progbar) -> tuple[dict | None, int]:
        """Train on an epoch's ``batches``: the last step's logs (None from the fused plan) and the
        batches done."""
        step_logs, done = None, 0
        for step, (x, y, index, sample_weight) in enumerate(backend.threads.paced(batches)):
            if batch_hooks:
                callback_list.on_train_batch_begin(step)
            step_logs = self._train_batch(x, y, index, sample_weight)
            current = self._logs if step_logs is None else _frozen_logs(step_logs)
            if batch_hooks:
                callback_list.on_train_batch_end(step, current())
            if progbar is not None:
                progbar.update(step + 1, current)
            done = step + 1
            if self.stop_training:
                break
        return step_logs, done

    # --- evaluate and predict --------------------------------------------------------------------
    def _evaluate_source(self, source, callback_list, progbar=None) -> dict:
        self.reset_metrics()
        callback_list.on_test_begin()
        batch_hooks = callback_list.wants_batch_logs("test")
        custom = self._steps_overridden("test_step")
        plan = None if custom else self._fast_plan()
        step_logs = None
        with backend.threads.blas_threads(self, getattr(source, "batch_size", None)) as paced:
            for step, (done, x, y, rows, sample_weight) in enumerate(paced(source.inference(not (batch_hooks
                                                                                                 or custom)))):
                if batch_hooks:
                    callback_list.on_test_batch_begin(step)
                if plan is not None and sample_weight is None:
                    plan.test(x, y, rows, self._loss_tracker, self._compile_metrics)
                else:
                    step_logs = self.test_step(_batch(x, y, sample_weight, rows, self.dtype))
                current = self._logs if step_logs is None else _frozen_logs(step_logs)
                if batch_hooks:
                    callback_list.on_test_batch_end(step, current())
                if progbar is not None:
                    progbar.update(done, current)
        logs = self._logs() if step_logs is None else flat_logs(step_logs)
        callback_list.on_test_end(logs)
        return logs

    @filter_traceback
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """The loss and metrics on ``(x, y)``: a scalar without metrics, else ``[loss, ...]`` in
        Keras's order (or a dict with ``return_dict=True``). ``x`` may also be a source of batches."""
        self._require_compiled("evaluate")
        sources.refuse_batch_size(x, batch_size)
        batch_size = data.check_batch_size(batch_size)
        if sources.is_batch_source(x) and (y is not None or sample_weight is not None):
            raise ValueError("when x is a generator or dataset its batches carry the targets: pass y=None")
        source = self._evaluation_source(x, y, sample_weight, batch_size, run_config.capped_steps(steps), "x")
        verbose = data.verbosity(verbose)
        progbar = ProgbarLogger() if verbose else None
        callback_list = CallbackList([*([progbar] if progbar else []), *data.callback_list(callbacks)], self,
                                     {"verbose": verbose, "epochs": 1, "steps": source.steps})
        if progbar is not None:
            progbar.on_epoch_begin(0)
        logs = self._evaluate_source(source, callback_list, progbar)
        if progbar is not None:
            progbar.on_epoch_end(0, logs)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def _flatten_metrics_in_order(self, logs: dict):
        """Keras's order: the metrics' own order (compiled metrics by their names), then the
        other keys sorted; one value alone as a scalar."""
        names = []
        for metric in self.metrics:
            names += [m.name for m in metric.metrics] if metric is self._compile_metrics else [metric.name]
        values = [logs[name] for name in names if name in logs]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values

    @filter_traceback
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` (arrays or a source of batches), in batches of
        ``batch_size`` (default 32), as one array (a list or dict for several outputs)."""
        sources.refuse_batch_size(x, batch_size)
        batch_size = data.check_batch_size(batch_size)
        steps = run_config.capped_steps(steps)
        if sources.is_batch_source(x):
            source = sources.batch_source(x, steps, lambda xb, yb: self._prepare_features(xb), "x")
        else:
            x = data.features(x)
            self._prepare_features(x)
            source = sources.ArrayData(x, None, None, batch_size, False, steps)
        verbose = data.verbosity(verbose)
        progbar = ProgbarLogger() if verbose else None
        callback_list = CallbackList([*([progbar] if progbar else []), *data.callback_list(callbacks)], self,
                                     {"verbose": verbose, "epochs": 1, "steps": source.steps})
        batch_hooks = callback_list.wants_batch_logs("predict")
        custom = self._steps_overridden("predict_step")
        if progbar is not None:
            progbar.on_epoch_begin(0)
        callback_list.on_predict_begin()
        plan = None if custom else self._fast_plan()
        outputs = []
        with backend.threads.blas_threads(self, batch_size) as paced:
            for step, (done, x, _, rows, _) in enumerate(paced(source.inference(not (batch_hooks or custom)))):
                if batch_hooks:
                    callback_list.on_predict_batch_begin(step)
                if plan is not None:
                    y_pred = plan.predict(x, rows).copy()
                else:
                    y_pred = structures.map_leaves(_to_numpy,
                                                   self.predict_step(_batch(x, None, None, rows, self.dtype)))
                outputs.append(y_pred)
                if batch_hooks:
                    callback_list.on_predict_batch_end(step, {"outputs": y_pred})
                if progbar is not None:
                    progbar.update(done, dict)
        callback_list.on_predict_end()
        if progbar is not None:
            progbar.on_epoch_end(0, {})
        return structures.concatenate(outputs)

    # --- single batches ------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; returns the batch's loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x = data.features(x)
        n = structures.n_samples(x)
        y = None if y is None else self._prepare(x, data.targets(y, n))
        sample_weight = data.sample_weights(sample_weight, n)
        if class_weight is not None:
            sample_weight = data.class_sample_weights(class_weight, y, sample_weight, self._output_units())
        self.reset_metrics()
        self._prepare_plan()
        with backend.threads.blas_threads(self, n):
            step_logs = self._train_batch(x, y, slice(0, n), sample_weight)
        logs = self._logs() if step_logs is None else flat_logs(step_logs)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without training."""
        self._require_compiled("test_on_batch")
        x = data.features(x)
        n = structures.n_samples(x)
        y = None if y is None else self._prepare(x, data.targets(y, n))
        source = sources.ArrayData(x, y, data.sample_weights(sample_weight, n), n, False)
        logs = self._evaluate_source(source, CallbackList([], self, {}))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        """The outputs for one batch."""
        x = data.features(x)
        return self.predict(x, batch_size=structures.n_samples(x), verbose=0)


def _frozen_logs(step_logs: dict):
    return lambda: flat_logs(step_logs)


def _to_numpy(value):
    return getattr(value, "_value", value)


def _batch(x, y, sample_weight, rows, dtype) -> Any:
    """The batch ``rows`` as ``train_step`` takes it: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``
    (``structures.pack_x_y_sample_weight``: a bare ``x`` without targets, as in Keras)."""
    xb = structures.as_tensors(structures.take(x, rows, np.dtype(dtype)))
    if y is None:
        return structures.pack_x_y_sample_weight(xb)
    yb = structures.as_tensors(structures.take(y, rows))
    weights = None if sample_weight is None else structures.as_tensors(structures.take(sample_weight, rows))
    return structures.pack_x_y_sample_weight(xb, yb, weights)
