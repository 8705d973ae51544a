import io

import numpy as np
import pytest

from lamina.utils.progbar import Progbar

BAR = "\u2501"
B, G, W, R = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def make(target=10, clock=None, dynamic=None, **kw):
    clock = clock or Clock()
    buf = io.StringIO()
    pb = Progbar(target, file=buf, time_fn=clock, dynamic_display=dynamic, **kw)
    return pb, buf, clock


def take(buf):
    text = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return text


LOGS = [("accuracy", 0.7684), ("loss", 0.7168),
        ("val_accuracy", 0.8232), ("val_loss", 0.5024)]
FINAL = ("1719/1719 " + BAR * 20 + " 5s 3ms/step - accuracy: 0.7684 - "
         "loss: 0.7168 - val_accuracy: 0.8232 - val_loss: 0.5024")


def run_epoch(pb, clock):
    """1719 steps: step 1 at +0.02 s, the rest 3 ms apart; fit's finalize."""
    clock.t = 1000.02
    pb.update(1, [("accuracy", 0.5), ("loss", 1.0)], finalize=False)
    for step in range(2, 1720):
        clock.t = 1000.02 + (step - 1) * 0.003
        pb.update(step, [("accuracy", 0.7), ("loss", 0.8)], finalize=False)
    pb.update(1719, LOGS, finalize=True)


def test_verbose1_final_line_plain_stream():
    pb, buf, clock = make(1719)
    run_epoch(pb, clock)
    # Not a terminal: no ANSI codes, no intermediate redraws, only the end.
    assert take(buf) == FINAL + "\n"


def test_verbose1_default_stream_is_stdout_at_call_time(capsys):
    clock = Clock()
    pb = Progbar(1719, time_fn=clock)
    run_epoch(pb, clock)
    assert capsys.readouterr().out == FINAL + "\n"


def test_verbose1_dynamic_intermediate_with_eta_then_final():
    pb, buf, clock = make(10, dynamic=True)
    clock.t = 1000.5
    pb.update(1, [("accuracy", 0.5), ("loss", 1.0)])
    info1 = " 500ms/step - accuracy: 0.5000 - loss: 1.0000"
    line1 = (f"\r{B} 1/10{R} {G}{BAR * 2}{R}{W}{BAR * 18}{R}"
             f" {B}4s{R}{info1}")
    assert take(buf) == line1
    width1 = len(" 1/10 ") + 20 + len(" 4s") + len(info1)

    clock.t = 1000.52  # within the 0.05 s interval: nothing drawn
    pb.update(2, [("accuracy", 0.6), ("loss", 0.9)])
    assert take(buf) == ""

    clock.t = 1000.5 + 2 * 600.0  # 600 s a step: ETA over an hour
    pb.update(3, [("accuracy", 0.7), ("loss", 0.8)])
    # the running values are averaged over the steps, as Keras does
    info3 = " 600s/step - accuracy: 0.6000 - loss: 0.9000"
    line3 = (f"{chr(8) * width1}\r{B} 3/10{R} {G}{BAR * 6}{R}{W}{BAR * 14}{R}"
             f" {B}1:10:00{R}{info3}")
    assert take(buf) == line3
    width3 = len(" 3/10 ") + 20 + len(" 1:10:00") + len(info3)

    clock.t = 1000.5 + 9 * 0.5
    pb._time_after_first_step = 1000.5  # keep the numbers small
    pb._start = 1000.0
    pb.update(10, [("accuracy", 0.75), ("loss", 0.7)])
    info = " 500ms/step - accuracy: 0.7500 - loss: 0.7000"
    # Keras writes the (empty) remaining part even when the bar is full
    body = f"{B}10/10{R} {G}{BAR * 20}{R}{W}{R} {B}5s{R}{info}"
    width = len("10/10 ") + 20 + len(" 5s") + len(info)
    assert width < width3
    assert take(buf) == (f"{chr(8) * width3}\r{body}"
                         + " " * (width3 - width) + "\n")


def test_verbose1_eta_minutes_and_hours():
    pb, buf, clock = make(1000, dynamic=True)
    clock.t = 1010.0
    pb.update(1)
    assert f" {B}2:46:30{R} 10s/step" in take(buf)  # 9990 s left
    pb, buf, clock = make(100, dynamic=True)
    clock.t = 1001.0
    pb.update(1)
    clock.t = 1001.0 + 0.9 * 9
    pb.update(10)
    assert f" {B}1:21{R} 900ms/step" in take(buf)  # 81 s left


def test_verbose1_unknown_target_and_add():
    pb, buf, clock = make(None, dynamic=True)
    clock.t = 1002.0
    pb.add(4, [("loss", 2.0)])
    assert take(buf) == f"\r      4/Unknown {B}2s{R} 500ms/step - loss: 2.0000"
    clock.t = 1003.0
    pb.update(5, [("loss", 1.0)], finalize=True)
    assert take(buf).endswith(f"\r      5/Unknown {B}3s{R} 600ms/step - loss: 1.0000\n")


def test_verbose2_prints_only_at_the_end():
    pb, buf, clock = make(1719, verbose=2)
    clock.t = 1000.02
    pb.update(1, [("accuracy", 0.1), ("loss", 1.0)])
    assert take(buf) == ""
    run_epoch(pb, clock)
    assert take(buf) == (
        "1719/1719 - 5s - 3ms/step - accuracy: 0.7684 - loss: 0.7168 - "
        "val_accuracy: 0.8232 - val_loss: 0.5024\n"
    )


def test_verbose0_prints_nothing():
    pb, buf, clock = make(3, verbose=0)
    for i in range(1, 4):
        clock.t += 1
        pb.update(i, [("loss", 1.0)])
    assert take(buf) == ""


@pytest.mark.parametrize(
    "seconds, text",
    [(0, " 0s/step"), (1.0, " 1s/step"), (2.4, " 2s/step"), (61.7, " 62s/step"),
     (0.999, " 999ms/step"), (0.003, " 3ms/step"), (0.001, " 1ms/step"),
     (0.000999, " 999us/step"), (0.000045, " 45us/step")],
)
def test_time_per_unit_formats(seconds, text):
    assert Progbar._format_time(seconds, "step") == text


def test_time_per_unit_in_line_us_and_sample_unit():
    pb, buf, clock = make(100000, unit_name="sample")
    clock.t = 1000.0 + 0.00002
    pb.update(1)
    clock.t = 1000.00002 + 99999 * 0.00002
    pb.update(100000)
    assert take(buf) == "100000/100000 " + BAR * 20 + " 2s 20us/sample\n"


def test_tiny_and_negative_values():
    pb, buf, clock = make(2)
    clock.t = 1001.0
    pb.update(1, [("a", 0.0005), ("b", -0.5), ("c", 0.0)])
    clock.t = 1002.0
    pb.update(2, [("a", 0.0005), ("b", -0.5), ("c", np.float32(2.0))])
    assert take(buf) == ("2/2 " + BAR * 20 + " 2s 1s/step - a: 5.0000e-04 - "
                         "b: -0.5000 - c: 2.0000\n")
    # verbose=2 compares the signed value (as Keras does)
    pb, buf, clock = make(1, verbose=2)
    clock.t = 1001.0
    pb.update(1, [("a", 0.0005), ("b", -0.5)])
    assert take(buf) == "1/1 - 1s - 1s/step - a: 5.0000e-04 - b: -5.0000e-01\n"


def test_partial_bar_and_stateful_metrics():
    pb, buf, clock = make(7, dynamic=True, stateful_metrics=["lr"])
    clock.t = 1001.0
    pb.update(1, [("lr", 0.1), ("loss", 4.0)])
    take(buf)
    clock.t = 1002.0
    pb.update(3, [("lr", 0.2), ("loss", 1.0)])
    out = take(buf)
    # int(20 * 3 / 7) == 8 done characters; loss averaged: (4*1 + 1*2) / 3
    assert f"{B}3/7{R} {G}{BAR * 8}{R}{W}{BAR * 12}{R} {B}2s{R}" in out
    assert out.endswith(" 500ms/step - lr: 0.2000 - loss: 2.0000")


def test_nothing_drawn_at_zero_progress_width():
    pb, buf, clock = make(100, dynamic=True)
    clock.t = 1001.0
    pb.update(1)
    assert take(buf) == f"\r{B}  1/100{R} {W}{BAR * 20}{R} {B}1:39{R} 1s/step"


def test_stateful_and_stateless_exclusive():
    with pytest.raises(ValueError):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_plain_stream_stays_plain_when_ipykernel_is_imported(monkeypatch):
    """Keras treats any process that imported ipykernel as a notebook; lamina looks at the stream."""
    monkeypatch.setitem(__import__("sys").modules, "ipykernel", object())
    pb, buf, clock = make(2)
    clock.t = 1001.0
    pb.update(1, [("loss", 0.5)])
    clock.t = 1002.0
    pb.update(2, [("loss", 0.5)])
    assert "\x1b" not in buf.getvalue() and "\r" not in buf.getvalue()
