"""Keras's callbacks: EarlyStopping, ModelCheckpoint, CSVLogger, LearningRateScheduler,
ReduceLROnPlateau, TerminateOnNaN, LambdaCallback (BackupAndRestore has its own file)."""
import math
import os

import numpy as np
import pytest

import lamina
from lamina.callbacks import (CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                              ReduceLROnPlateau, TerminateOnNaN)
from lamina.callbacks.callback import overrides


def linear_model(lr=0.1, optimizer=None):
    model = lamina.Sequential([lamina.layers.Dense(1, use_bias=False, kernel_initializer="zeros", input_shape=(1,))])
    model.compile(optimizer=optimizer or lamina.optimizers.SGD(lr), loss="mse")
    return model


def regression(n=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 1)).astype("float32")
    return x, 2.0 * x[:, 0]


def drive(callback, values, monitor="val_loss", model=None):
    """Run ``callback``'s epoch hooks on scripted monitor values; the epochs it saw."""
    model = model or linear_model()
    model.build((None, 1))
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    seen = []
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": 1.0, monitor: value})
        seen.append(epoch)
        if model.stop_training:
            break
    callback.on_train_end()
    return seen


# --- EarlyStopping -------------------------------------------------------------------------------
def test_early_stopping_restores_the_best_epochs_weights():
    x, y = regression()
    vx, vy = x, -2.0 * x[:, 0]  # fitting y = 2x makes the validation loss (y = -2x) rise each epoch
    model = linear_model()
    weights = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: weights.append(model.get_weights()))
    stop = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=10, batch_size=4, shuffle=False, validation_data=(vx, vy), verbose=0,
                        callbacks=[record, stop])
    losses = history.history["val_loss"]
    assert all(b > a for a, b in zip(losses, losses[1:]))
    assert (stop.best_epoch, stop.stopped_epoch, len(losses)) == (0, 2, 3)
    assert not np.array_equal(weights[-1][0], weights[0][0])
    assert np.array_equal(model.get_weights()[0], weights[0][0])


def test_early_stopping_restores_best_weights_even_without_stopping():
    x, y = regression()
    model = linear_model()
    weights = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: weights.append(model.get_weights()))
    stop = EarlyStopping(patience=10, restore_best_weights=True)
    model.fit(x, y, epochs=3, batch_size=4, validation_data=(x, -2.0 * x[:, 0]), verbose=0,
              callbacks=[record, stop])
    assert stop.stopped_epoch == 0
    assert np.array_equal(model.get_weights()[0], weights[0][0])


@pytest.mark.parametrize("kwargs, values, stopped, best_epoch", [
    ({"patience": 2}, [1.0, 0.9, 0.95, 0.96, 0.97], 3, 1),
    ({"patience": 0}, [1.0, 1.0], 1, 0),  # equal is no improvement
    ({"patience": 1, "min_delta": 0.2}, [1.0, 0.85, 0.7], 1, 0),  # 0.85 + 0.2 is not below 1.0
    ({"patience": 1, "min_delta": -0.2}, [1.0, 0.75, 0.7], 2, 1),  # min_delta is taken as |min_delta|
    ({"patience": 2, "baseline": 0.5}, [0.9, 0.95, 0.97], 1, 0),  # never beats the baseline
    ({"patience": 0, "start_from_epoch": 2}, [5.0, 6.0, 3.0, 3.5], 3, 2),
    ({"patience": 0, "mode": "max"}, [0.5, 0.6, 0.55], 2, 1),
])
def test_early_stopping_rules(kwargs, values, stopped, best_epoch):
    stop = EarlyStopping(**kwargs)
    seen = drive(stop, values)
    assert (stop.stopped_epoch, stop.best_epoch, seen[-1]) == (stopped, best_epoch, stopped)


@pytest.mark.parametrize("monitor, upward", [("val_accuracy", True), ("acc", True), ("val_auc", True),
                                             ("loss", False), ("val_mae", False)])
def test_auto_mode_reads_the_name(monitor, upward):
    stop = EarlyStopping(monitor=monitor, patience=0)
    drive(stop, [0.5, 0.6, 0.4], monitor=monitor)
    assert stop.stopped_epoch == (2 if upward else 1)


def test_early_stopping_warns_once_listing_the_logs():
    stop = EarlyStopping(monitor="val_acc")
    with pytest.warns(UserWarning, match=r"metric `val_acc` which is not available. Available metrics are: "
                                         r"loss,val_loss") as caught:
        drive(stop, [1.0, 1.0, 1.0])
    assert len(caught) == 1


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match="EarlyStopping mode 'maximum' is unknown, fallback to auto mode"):
        stop = EarlyStopping(mode="maximum")
    assert stop.mode == "auto"


def test_early_stopping_is_reusable():
    stop = EarlyStopping(patience=0)
    drive(stop, [1.0, 2.0])
    assert stop.stopped_epoch == 1
    drive(stop, [5.0, 4.0, 3.0])
    assert (stop.stopped_epoch, stop.best) == (0, 3.0)


# --- ModelCheckpoint -----------------------------------------------------------------------------
def fake_saves(model, saved):
    """Stand-in writers: the checkpoint logic under test, not the file format."""
    def save(filepath):
        saved.append(os.path.basename(filepath))
        with open(filepath, "wb") as file:
            file.write(b"x")
    model.save = model.save_weights = save


def test_checkpoint_names_are_formatted_from_epoch_and_logs(tmp_path):
    model, saved = linear_model(), []
    fake_saves(model, saved)
    path = tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.2f}.keras"
    drive(ModelCheckpoint(path), [0.5, 0.25], model=model)
    assert saved == ["01-0.50.keras", "02-0.25.keras"]
    assert sorted(os.listdir(tmp_path / "ckpt")) == saved


def test_checkpoint_save_best_only_keeps_the_best_file(tmp_path):
    model, saved = linear_model(), []
    fake_saves(model, saved)
    drive(ModelCheckpoint(tmp_path / "best.weights.h5", save_best_only=True, save_weights_only=True),
          [0.5, 0.7, 0.3, 0.4], model=model)
    assert saved == ["best.weights.h5", "best.weights.h5"]  # epochs 1 and 3 only


def test_checkpoint_best_in_max_mode_and_threshold(tmp_path):
    model, saved = linear_model(), []
    fake_saves(model, saved)
    checkpoint = ModelCheckpoint(tmp_path / "{epoch}.keras", monitor="val_accuracy", save_best_only=True,
                                 initial_value_threshold=0.6)
    drive(checkpoint, [0.5, 0.7, 0.65, 0.9], monitor="val_accuracy", model=model)
    assert saved == ["2.keras", "4.keras"] and checkpoint.best == 0.9


def test_checkpoint_without_the_monitor_warns_and_saves(tmp_path):
    model, saved = linear_model(), []
    fake_saves(model, saved)
    with pytest.warns(UserWarning, match="Can save best model only with val_auc available"):
        drive(ModelCheckpoint(tmp_path / "m.keras", monitor="val_auc", save_best_only=True), [0.1], model=model)
    assert saved == ["m.keras"]


def test_checkpoint_missing_format_field(tmp_path):
    model = linear_model()
    fake_saves(model, [])
    with pytest.raises(KeyError, match=r"Failed to format this callback filepath.*val_acc.* is not in the logs "
                                       r"\(available: epoch, loss, val_loss\)"):
        drive(ModelCheckpoint(tmp_path / "{val_acc:.2f}.keras"), [0.1], model=model)


def test_checkpoint_int_save_freq_counts_batches(tmp_path):
    x, y = regression(10)
    model, saved = linear_model(), []
    fake_saves(model, saved)
    checkpoint = ModelCheckpoint(tmp_path / "{epoch:02d}-{batch:02d}.keras", save_freq=3)
    model.fit(x, y, epochs=2, batch_size=2, verbose=0, callbacks=[checkpoint])  # 5 batches an epoch
    assert saved == ["01-03.keras", "02-01.keras", "02-04.keras"]


def test_checkpoint_epoch_save_freq_needs_no_batch_logs():
    assert not overrides(ModelCheckpoint("m.keras"), "on_train_batch_end")


@pytest.mark.parametrize("kwargs, message", [
    ({"filepath": "m.h5", "save_weights_only": True}, r"must end in `.weights.h5`.*Received: filepath=m.h5"),
    ({"filepath": "m.weights"}, r"must end in `.keras`.*Received: filepath=m.weights"),
    ({"filepath": "m.keras", "save_freq": "batch"}, "unrecognized save_freq='batch'"),
    ({"filepath": "m.keras", "save_freq": -2}, "unrecognized save_freq=-2"),
])
def test_checkpoint_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelCheckpoint(**kwargs)


def test_checkpoint_folder_that_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("")
    x, y = regression()
    path = tmp_path / "file" / "ckpt" / "m.keras"
    with pytest.raises(OSError, match="ModelCheckpoint cannot create the folder .*file/ckpt"):
        linear_model().fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path)])


def test_checkpoint_with_the_real_writers(tmp_path):
    model = linear_model()
    x, y = regression()
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[
        ModelCheckpoint(tmp_path / "w-{epoch}.weights.h5", save_weights_only=True),
        ModelCheckpoint(tmp_path / "m-{epoch}.keras")])
    assert sorted(os.listdir(tmp_path)) == ["m-1.keras", "m-2.keras", "w-1.weights.h5", "w-2.weights.h5"]


# --- CSVLogger -----------------------------------------------------------------------------------
def test_csv_logger_writes_keras_columns(tmp_path):
    x, y = regression()
    path = tmp_path / "log.csv"
    history = linear_model().fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[CSVLogger(path)])
    lines = path.read_bytes().decode().split("\r\n")
    assert lines[0] == "epoch,loss,val_loss" and lines[-1] == "" and len(lines) == 4
    for epoch in (0, 1):
        row = lines[epoch + 1].split(",")
        assert int(row[0]) == epoch
        assert float(row[1]) == history.history["loss"][epoch]
        assert float(row[2]) == history.history["val_loss"][epoch]
    assert os.listdir(tmp_path) == ["log.csv"]  # no temporary file left


def test_csv_logger_appends_and_overwrites(tmp_path):
    x, y = regression()
    path = tmp_path / "log.tsv"
    linear_model().fit(x, y, epochs=2, verbose=0, callbacks=[CSVLogger(path, separator="\t")])
    linear_model().fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator="\t", append=True)])
    rows = path.read_text().splitlines()
    assert [r.split("\t")[0] for r in rows] == ["epoch", "0", "1", "0"]
    linear_model().fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator="\t")])
    assert [r.split("\t")[0] for r in path.read_text().splitlines()] == ["epoch", "0"]


def test_csv_logger_append_to_a_new_file_writes_the_header(tmp_path):
    path = tmp_path / "log.csv"
    x, y = regression()
    linear_model().fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, append=True)])
    assert path.read_text().splitlines()[0] == "epoch,loss"


def test_csv_logger_missing_folder(tmp_path):
    x, y = regression()
    with pytest.raises(FileNotFoundError, match="CSVLogger cannot write filename=.*the folder .*nowhere"):
        linear_model().fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(tmp_path / "nowhere" / "log.csv")])


# --- LearningRateScheduler -----------------------------------------------------------------------
def test_scheduler_sets_the_rate_each_epoch_and_logs_it():
    x, y = regression(4)
    model = linear_model(lr=1.0)
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, shuffle=False,
                        callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)])
    # the rate is a float32 Variable, as in Keras: the logs show its float32 value
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.025], rtol=1e-7)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.025)
    # full-batch SGD on mse, from w = 0: w -= lr * 2 * mean(x * (x w - y))
    w = 0.0
    for lr in (0.1, 0.05, 0.025):
        w -= lr * 2 * np.mean(x[:, 0].astype(np.float64) * (x[:, 0] * w - y))
    np.testing.assert_allclose(model.get_weights()[0][0, 0], w, rtol=1e-5)


def test_scheduler_passes_the_current_rate_and_accepts_one_argument():
    seen = []

    def halve(epoch, lr):
        seen.append((epoch, lr))
        return lr / 2
    model = linear_model(lr=0.8)
    drive(LearningRateScheduler(halve), [1.0, 1.0, 1.0], model=model)
    # the rate as Keras passes it: the float32 Variable's value
    assert [epoch for epoch, _ in seen] == [0, 1, 2]
    np.testing.assert_allclose([lr for _, lr in seen], [0.8, 0.4, 0.2], rtol=1e-7)
    drive(LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1)), [1.0, 1.0], model=model)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)


def test_scheduler_bad_input():
    with pytest.raises(ValueError, match="The output of the `schedule` function should be a float. Got: 1"):
        drive(LearningRateScheduler(lambda epoch, lr: 1), [1.0])
    with pytest.raises(TypeError, match="expects schedule to be a function"):
        LearningRateScheduler(0.1)


# --- ReduceLROnPlateau ---------------------------------------------------------------------------
def test_reduce_lr_patience_cooldown_and_floor():
    model = linear_model(lr=1.0)
    rates, logged = [], []
    reduce = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: rates.append(float(model.optimizer.learning_rate)))
    model.build((None, 1))
    for cb in (reduce, record):
        cb.set_model(model)
        cb.on_train_begin()
    for epoch in range(9):
        logs = {"val_loss": 1.0}
        reduce.on_epoch_end(epoch, logs)
        record.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    np.testing.assert_allclose(rates, [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2], rtol=1e-7)
    np.testing.assert_allclose(logged, [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2], rtol=1e-7)  # as run


def test_reduce_lr_min_delta_and_max_mode():
    model = linear_model(lr=1.0)
    drive(ReduceLROnPlateau(patience=1, min_delta=0.1), [1.0, 0.95, 0.8], model=model)
    assert model.optimizer.learning_rate == pytest.approx(0.1)  # 0.95 is not 0.1 better than 1.0
    model = linear_model(lr=1.0)
    drive(ReduceLROnPlateau(monitor="val_accuracy", patience=1, factor=0.5), [0.5, 0.6, 0.7],
          monitor="val_accuracy", model=model)
    assert model.optimizer.learning_rate == 1.0


def test_reduce_lr_factor_must_be_below_one():
    with pytest.raises(ValueError, match="does not support a factor >= 1.0. Received factor=1.5"):
        ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_warns_once_for_a_missing_monitor():
    with pytest.warns(UserWarning, match="Learning rate reduction .*`val_acc`.*Available metrics are: loss,val_loss,"
                                         "learning_rate") as caught:
        drive(ReduceLROnPlateau(monitor="val_acc"), [1.0, 1.0])
    assert len(caught) == 1


# --- TerminateOnNaN ------------------------------------------------------------------------------
def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    x, y = regression(16)
    y[9] = np.nan  # in the third batch of 4
    model = linear_model()
    history = model.fit(x, y, epochs=5, batch_size=4, shuffle=False, verbose=0, callbacks=[TerminateOnNaN()])
    assert int(model.optimizer.iterations.value) == 3
    assert len(history.epoch) == 1 and math.isnan(history.history["loss"][0])
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_inf_can_raise():
    x, y = regression(8)
    y[0] = np.inf
    with np.errstate(all="ignore"), pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        linear_model().fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0,
                           callbacks=[TerminateOnNaN(raise_error=True)])


# --- LambdaCallback ------------------------------------------------------------------------------
def test_lambda_callback_calls_what_it_is_given():
    x, y = regression(8)
    calls = []
    callback = LambdaCallback(on_train_begin=lambda logs: calls.append("begin"),
                              on_epoch_end=lambda epoch, logs: calls.append((epoch, sorted(logs))),
                              on_train_end=lambda logs: calls.append("end"))
    assert not any(overrides(callback, hook) for hook in ("on_train_batch_begin", "on_train_batch_end",
                                                          "on_batch_begin", "on_batch_end"))
    linear_model().fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert calls == ["begin", (0, ["loss"]), (1, ["loss"]), "end"]


def test_lambda_callback_batch_hooks_run_in_fit():
    x, y = regression(8)
    batches = []
    callback = LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append((batch, sorted(logs))),
                              on_test_end=lambda logs: batches.append("test"))
    linear_model().fit(x, y, epochs=2, batch_size=4, verbose=0, validation_data=(x, y), callbacks=[callback])
    assert batches == [(0, ["loss"]), (1, ["loss"]), "test"] * 2


def test_lambda_callback_bad_input():
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="expects on_epoch_end to be a function, got 3"):
        LambdaCallback(on_epoch_end=3)


def test_callbacks_are_exported_for_keras_scripts():
    import lamina as tf
    assert tf.keras.callbacks.EarlyStopping is EarlyStopping
    assert tf.keras.callbacks.BackupAndRestore is lamina.callbacks.BackupAndRestore
