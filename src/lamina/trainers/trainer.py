"""``compile`` / ``fit`` / ``evaluate`` / ``predict``: the training loop of a model.

One training step is kept apart from the loop: ``_train_batch`` runs the general path (each
layer's ``forward`` and ``backward``), or the fused fast path of ``fast_plan.FastPlan`` when the
model is a stack it covers. Both give the same weights (tests hold them to float32 rounding).
"""
from __future__ import annotations

import numpy as np

from .. import backend, losses, optimizers
from .. import metrics as metrics_module
from ..callbacks.callback import CallbackList
from ..callbacks.history import History
from ..callbacks.progbar_logger import ProgbarLogger
from . import data, sources
from .fast_plan import FastPlan


class Trainer:
    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._metric_ids: list = []
        self._metrics: list | None = None  # resolved once the label and output shapes are known
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._plan: FastPlan | None = None
        self._plan_checked = False

    def _invalidate(self) -> None:
        """The layers changed: rebuild the fast plan and re-resolve the metrics."""
        self._plan, self._plan_checked, self._metrics = None, False, None

    # --- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss and the metrics (names, functions or objects).

        >>> import lamina
        >>> model = lamina.Sequential([lamina.layers.Dense(1, input_shape=(3,))])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        """
        self.optimizer = optimizers.get(optimizer)
        self.loss = None if loss is None else losses.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, dict):
            raise TypeError("metrics given as a dict need a multi-output model; a Sequential has one "
                            "output: pass a list such as metrics=['accuracy']")
        elif not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        for metric in metrics:  # unknown names fail now, not at the first batch
            if isinstance(metric, str) and metric not in ("accuracy", "acc"):
                metrics_module.get(metric)
        self._metric_ids = list(metrics)
        self._compile_args = {"optimizer": optimizer, "loss": loss, "metrics": list(metrics),
                              "loss_weights": loss_weights, "weighted_metrics": weighted_metrics}
        self.compiled = True
        self._invalidate()

    @property
    def metrics(self) -> list:
        return [self._loss_tracker, *(self._metrics or [])]

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def _require_compiled(self, what: str) -> None:
        if not self.compiled or self.loss is None:
            raise ValueError(f"You must call compile() with a loss before {what}(): "
                             "e.g. model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')")

    def _prepare(self, x, y) -> np.ndarray:
        """Build for ``x``, check ``x`` and ``y`` against the model, resolve 'accuracy'; return
        ``y`` ready for the loss (sparse labels as integers, a trailing 1 squeezed)."""
        self._prepare_features(x)
        if y is None:
            return None
        out_shape = self.output_shape
        if self._metrics is None:
            self._metrics = [metrics_module.get(m, y.shape, (len(y), *out_shape[1:])) for m in self._metric_ids]
        sparse = isinstance(self.loss, losses.SparseCategoricalCrossentropy)
        if not isinstance(self.loss, losses.CustomLoss):  # a user's function decides its own shapes
            data.check_target_shape(y, out_shape, sparse, self.loss.name)
        if sparse and out_shape[-1] is not None:
            losses.check_sparse_labels(y, out_shape[-1], ignore_class=self.loss.ignore_class)
            if y.ndim == len(out_shape) and y.shape[-1] == 1:
                y = y[..., 0]
            y = y.astype(np.intp, copy=False)
        return y

    def _check_features(self, x) -> None:
        expected = self.input_spec_shape
        if x.ndim != len(expected) + 1 or any(e is not None and e != d for e, d in zip(expected, x.shape[1:])):
            first = self.layers[0]
            raise ValueError(f"{type(first).__name__} '{first.name}' of model '{self.name}' expects inputs of "
                             f"shape {(None, *expected)}, got {x.shape}")

    def _fast_plan(self) -> FastPlan | None:
        if not self._plan_checked:
            self._plan = FastPlan.for_model(self)
            self._plan_checked = True
        return self._plan

    # --- one step ----------------------------------------------------------------------------
    def _train_batch(self, x, y, index, sample_weight=None) -> None:
        """Train on the rows ``index`` (a slice or an index array) of ``x`` and ``y``."""
        plan = self._plan if sample_weight is None else None
        if plan is not None:
            plan.train(x, y, index, self._loss_tracker, self._metrics)
            return
        xb = np.asarray(x[index], dtype=self.dtype)
        yb = y[index]
        swb = None if sample_weight is None else sample_weight[index]
        y_pred, contexts = self.forward(xb, training=True)
        fused = self._fused_loss()
        loss_value = float(self.loss(yb, y_pred, swb)) + self._regularization_loss(contexts)
        dy = self.loss.gradient(yb, y_pred, swb, fused=fused)
        _, grads = self.backward(contexts, dy, skip_activation=fused)
        variables = self.trainable_weights
        grads = [g if v.regularizer is None else g + v.regularizer.grad(v.value) for g, v in zip(grads, variables)]
        if self.optimizer.loss_scale_factor:  # Keras scales the loss; the optimizer unscales
            grads = [g * self.optimizer.loss_scale_factor for g in grads]
        self.optimizer.apply(grads, variables)
        self._loss_tracker.add(loss_value * len(yb), len(yb))
        for metric in self._metrics:
            metric.update_state(yb, y_pred, swb)

    def _fused_loss(self) -> bool:
        """Whether the loss's gradient can skip the output activation (softmax + crossentropy)."""
        last = self.layers[-1]
        activation = getattr(getattr(last, "activation", None), "name", None)
        return (activation is not None and activation == self.loss.fused_activation and hasattr(last, "units")
                and getattr(last, "activity_regularizer", None) is None)

    def _regularization_loss(self, contexts=None) -> float:
        """The weight penalties (``kernel_regularizer`` ...) plus the layers' activity penalties,
        added to the loss as Keras adds them; their gradients join in ``backward`` and above."""
        total = sum(float(v.regularizer(v.value)) for v in self.trainable_weights if v.regularizer is not None)
        if contexts is not None:
            total += self.activity_penalty(contexts)
        return total

    def _logs(self) -> dict:
        logs = {m.name: _log_value(m.result()) for m in self.metrics}
        return dict(sorted(logs.items()))

    def _reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    # --- fit -----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` passes over ``(x, y)``; returns the ``History``.

        ``x`` may be arrays (with ``y``), or a generator / ``PyDataset`` / sequence of batches
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
        batch_size = data.check_batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
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
        plan = self._fast_plan()
        if plan is not None:
            plan.prepare()
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

    def _fit_sources(self, x, y, sample_weight, class_weight, batch_size, shuffle, steps_per_epoch,
                     validation_split, validation_data, validation_steps, validation_batch_size):
        """The training and validation data as ``ArrayData`` or ``BatchData``, checked."""
        if sources.is_batch_source(x):
            if y is not None or sample_weight is not None or class_weight is not None:
                raise ValueError("when x is a generator or dataset its batches carry the targets and weights: "
                                 "pass y=None, sample_weight=None and class_weight=None")
            if validation_split:
                raise ValueError("validation_split needs arrays; with a generator or dataset pass validation_data")
            train = sources.BatchData(x, steps_per_epoch, self._prepare, "x")
        else:
            x = data.features(x)
            y = data.targets(y, len(x))
            sample_weight = data.sample_weights(sample_weight, len(x))
            if class_weight is not None:
                self._prepare_features(x)  # built: class_weight's classes are the output's
                sample_weight = data.class_sample_weights(class_weight, y, sample_weight, self.output_shape[-1])
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
            return sources.BatchData(x, steps, self._prepare, what)
        prefix = "validation " if what == "validation_data" else ""
        x = data.features(x, f"{prefix}x")
        y = data.targets(y, len(x), f"{prefix}y", f"{prefix}x")
        return sources.ArrayData(x, self._prepare(x, y), data.sample_weights(sample_weight, len(x)), batch_size,
                                 False, steps)

    def _fit_epochs(self, train, val, initial_epoch, epochs, validation_freq, callback_list, progbar,
                    interrupt) -> dict:
        batch_hooks = callback_list.wants_batch_logs("train")
        rng = backend.global_rng()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            callback_list.on_epoch_begin(epoch)
            done = 0
            for step, (x, y, index, sample_weight) in enumerate(backend.threads.paced(train.epoch(rng))):
                if batch_hooks:
                    callback_list.on_train_batch_begin(step)
                self._train_batch(x, y, index, sample_weight)
                if batch_hooks:
                    callback_list.on_train_batch_end(step, self._logs())
                if progbar is not None:
                    progbar.update(step + 1, self._logs)
                done = step + 1
                if self.stop_training:
                    break
            train.on_epoch_end()
            logs = self._logs()
            cut_short = interrupt.stopped(epoch, done)  # Ctrl-C: the part epoch is not validated
            if val is not None and not cut_short and (epoch + 1) % validation_freq == 0:
                logs.update({f"val_{k}": v for k, v in self._evaluate_source(val, callback_list).items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        return logs

    # --- evaluate and predict --------------------------------------------------------------------
    def _evaluate_source(self, source, callback_list, progbar=None) -> dict:
        self._reset_metrics()
        callback_list.on_test_begin()
        batch_hooks = callback_list.wants_batch_logs("test")
        plan = self._fast_plan()
        with backend.threads.blas_threads(self, getattr(source, "batch_size", None)) as paced:
            for step, (done, x, y, rows, sample_weight) in enumerate(paced(source.inference(not batch_hooks))):
                if batch_hooks:
                    callback_list.on_test_batch_begin(step)
                if plan is not None and sample_weight is None:
                    plan.test(x, y, rows, self._loss_tracker, self._metrics)
                else:
                    xb, yb = np.asarray(x[rows], dtype=self.dtype), y[rows]
                    swb = None if sample_weight is None else sample_weight[rows]
                    y_pred, contexts = self.forward(xb, training=False)  # Keras counts penalties here too
                    loss_value = float(self.loss(yb, y_pred, swb)) + self._regularization_loss(contexts)
                    self._loss_tracker.add(loss_value * len(yb), len(yb))
                    for metric in self._metrics:
                        metric.update_state(yb, y_pred, swb)
                if batch_hooks:
                    callback_list.on_test_batch_end(step, self._logs())
                if progbar is not None:
                    progbar.update(done, self._logs)
        logs = self._logs()
        callback_list.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """The loss and metrics on ``(x, y)``: a scalar without metrics, else ``[loss, *metrics]``
        (or a dict with ``return_dict=True``). ``x`` may also be a source of batches."""
        self._require_compiled("evaluate")
        batch_size = data.check_batch_size(batch_size)
        if sources.is_batch_source(x) and (y is not None or sample_weight is not None):
            raise ValueError("when x is a generator or dataset its batches carry the targets: pass y=None")
        source = self._evaluation_source(x, y, sample_weight, batch_size, steps, "x")
        verbose = data.verbosity(verbose)
        progbar = ProgbarLogger() if verbose else None
        callback_list = CallbackList([*([progbar] if progbar else []), *data.callback_list(callbacks)], self,
                                     {"verbose": verbose, "epochs": 1, "steps": source.steps})
        if progbar is not None:
            progbar.on_epoch_begin(0)
        logs = self._evaluate_source(source, callback_list, progbar)
        if progbar is not None:
            progbar.on_epoch_end(0, logs)
        if return_dict:
            return logs
        values = [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None) -> np.ndarray:
        """The model's outputs for ``x`` (arrays or a source of batches), in batches of
        ``batch_size`` (default 32), as one array."""
        self._check_buildable()
        batch_size = data.check_batch_size(batch_size)
        if sources.is_batch_source(x):
            source = sources.BatchData(x, steps, lambda xb, yb: self._prepare_features(xb), "x")
        else:
            x = data.features(x)
            self._prepare_features(x)
            source = sources.ArrayData(x, None, None, batch_size, False, steps)
        verbose = data.verbosity(verbose)
        progbar = ProgbarLogger() if verbose else None
        callback_list = CallbackList([*([progbar] if progbar else []), *data.callback_list(callbacks)], self,
                                     {"verbose": verbose, "epochs": 1, "steps": source.steps})
        batch_hooks = callback_list.wants_batch_logs("predict")
        if progbar is not None:
            progbar.on_epoch_begin(0)
        callback_list.on_predict_begin()
        plan = self._fast_plan()
        outputs = []
        with backend.threads.blas_threads(self, batch_size) as paced:
            for step, (done, x, _, rows, _) in enumerate(paced(source.inference(not batch_hooks))):
                if batch_hooks:
                    callback_list.on_predict_batch_begin(step)
                if plan is not None:
                    y_pred = plan.predict(x, rows).copy()
                else:
                    y_pred = self.call(np.asarray(x[rows], dtype=self.dtype), training=False)
                outputs.append(y_pred)
                if batch_hooks:
                    callback_list.on_predict_batch_end(step, {"outputs": y_pred})
                if progbar is not None:
                    progbar.update(done, dict)
        callback_list.on_predict_end()
        if progbar is not None:
            progbar.on_epoch_end(0, {})
        return np.concatenate(outputs) if len(outputs) > 1 else outputs[0]

    def _prepare_features(self, x) -> None:
        self._check_buildable()
        if self.input_spec_shape is None:
            self.build_for(x.shape[1:])
        self._check_features(x)

    # --- single batches ------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; returns the batch's loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x = data.features(x)
        y = self._prepare(x, data.targets(y, len(x)))
        self._reset_metrics()
        plan = self._fast_plan()
        if plan is not None:
            plan.prepare()
        with backend.threads.blas_threads(self, len(x)):
            self._train_batch(x, y, slice(0, len(x)), data.sample_weights(sample_weight, len(x)))
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without training."""
        self._require_compiled("test_on_batch")
        x = data.features(x)
        y = self._prepare(x, data.targets(y, len(x)))
        source = sources.ArrayData(x, y, data.sample_weights(sample_weight, len(x)), len(x), False)
        self._evaluate_source(source, CallbackList([], self, {}))
        return self._batch_result(return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        """The outputs for one batch."""
        return self.predict(x, batch_size=len(data.features(x)), verbose=0)

    def _batch_result(self, return_dict):
        logs = {m.name: _log_value(m.result()) for m in self.metrics}
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values


def _log_value(result):
    """A metric's result for the logs: a float, or an array for per-class metrics (F1Score)."""
    result = np.asarray(result)
    return float(result) if result.size == 1 else result
