"""Progress you can follow: lines off a terminal at least every 10 s, and Ctrl-C's batch."""
import io
import os
import re
import signal

import numpy as np
import pytest

import lamina
from lamina.utils import progbar as progbar_module
from lamina.utils.progbar import Progbar

BAR = "\u2501"


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_off_a_terminal_a_plain_line_every_ten_seconds():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(100, file=out, time_fn=clock)
    for step in range(1, 101):
        clock.t = 1000.0 + step * 0.75  # 0.75 s a step: 75 s for the epoch
        if step == 1 or bar.due():
            bar.update(step, [("loss", 1.0 / step)], finalize=False)
    bar.update(100, [("loss", 0.01)], finalize=True)
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text and "\b" not in text
    lines = text.splitlines()
    steps = [int(re.match(r"\s*(\d+)/100 ", line).group(1)) for line in lines]
    assert steps == [14, 28, 42, 56, 70, 84, 98, 100]  # the first at 10.5 s, then each >= 10 s later
    times = [1000.0 + s * 0.75 for s in steps[:-1]]
    assert all(b - a >= progbar_module.LOG_INTERVAL for a, b in zip(times, times[1:]))
    # Keras's format: count, bar, ETA, time per step, the running values
    assert lines[0] == " 14/100 " + BAR * 2 + BAR * 18 + " 1:04 750ms/step - loss: 0.1378"
    assert lines[-1] == "100/100 " + BAR * 20 + " 75s 750ms/step - loss: 0.0100"


def test_a_short_epoch_off_a_terminal_still_writes_one_line():
    clock, out = Clock(), io.StringIO()
    bar = Progbar(5, file=out, time_fn=clock)
    for step in range(1, 6):
        clock.t += 0.1
        bar.update(step, [("loss", 0.5)], finalize=step == 5)
    assert out.getvalue().count("\n") == 1 and out.getvalue().startswith("5/5 ")


def data(n=100):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    return x, (x[:, 0] > 0).astype(int)


def classifier():
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(8, activation="relu"),
                               lamina.layers.Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    return model


class CtrlC(lamina.callbacks.Callback):
    """Presses Ctrl-C (a real SIGINT) after batch ``batch`` of epoch ``epoch`` (0-based)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_ends_the_bar_at_the_batch_reached_and_skips_validation(capsys):
    x, y = data()
    history = classifier().fit(x, y, batch_size=10, epochs=5, validation_data=data(20), verbose=1,
                               callbacks=[CtrlC(epoch=1, batch=3)])
    out = capsys.readouterr().out
    assert history.interrupted == (2, 4)  # epoch 2 (from 1), 4 batches done
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2
    assert len(history.history["val_loss"]) == 1  # the cut epoch was not validated
    epoch2 = out.split("Epoch 2/5\n")[1]
    assert "Epoch 3/5" not in epoch2 and "Interrupted: stopping after this batch" in epoch2
    last = epoch2.strip().splitlines()[-1]
    assert re.fullmatch(r" 4/10 " + BAR * 8 + BAR * 12 + r" \d+s \S+/step - accuracy: [\d.]+ - loss: [\d.]+", last)
    assert "10/10" not in epoch2 and "val_loss" not in epoch2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_validation_finishes_that_epoch():
    x, y = data()

    class CtrlCInValidation(lamina.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            if batch == 0:  # once: a second Ctrl-C would abort at once
                os.kill(os.getpid(), signal.SIGINT)

    history = classifier().fit(x, y, batch_size=10, epochs=3, validation_data=data(20), verbose=0,
                               callbacks=[CtrlCInValidation()])
    assert history.interrupted == (1, 10) and history.epoch == [0]
    assert len(history.history["val_loss"]) == 1


def test_a_run_not_interrupted_says_so():
    x, y = data()
    history = classifier().fit(x, y, batch_size=10, epochs=2, verbose=0)
    assert history.interrupted is None


@pytest.mark.parametrize("verbose", [1, 2])
def test_a_callback_stopping_mid_epoch_also_ends_the_bar_where_it_stopped(verbose, capsys):
    class Stop(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    x, y = data()
    classifier().fit(x, y, batch_size=10, epochs=1, verbose=verbose, callbacks=[Stop()])
    assert capsys.readouterr().out.startswith(" 3/10 ")
