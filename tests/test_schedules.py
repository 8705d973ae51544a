"""Learning-rate schedules against Keras's formulas, computed here by hand."""
import math

import pytest

from lamina import optimizers
from lamina.optimizers import schedules


@pytest.mark.parametrize("step", [0, 1, 5, 10, 25])
def test_exponential_decay(step):
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(step) == pytest.approx(0.1 * 0.5 ** (step / 10))
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert s(step) == pytest.approx(0.1 * 0.5 ** (step // 10))


@pytest.mark.parametrize("step", [0, 3, 7, 20])
def test_inverse_time_decay(step):
    s = schedules.InverseTimeDecay(0.2, decay_steps=4, decay_rate=0.5)
    assert s(step) == pytest.approx(0.2 / (1 + 0.5 * step / 4))
    s = schedules.InverseTimeDecay(0.2, decay_steps=4, decay_rate=0.5, staircase=True)
    assert s(step) == pytest.approx(0.2 / (1 + 0.5 * (step // 4)))


def test_piecewise_constant_decay_boundaries_are_inclusive_on_the_left_piece():
    s = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [s(0), s(10), s(11), s(20), s(21), s(1000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def test_piecewise_constant_decay_checks_lengths():
    with pytest.raises(ValueError, match=r"len\(values\) == len\(boundaries\) \+ 1, got boundaries=\[10, 20\] "
                                         r"\(length 2\) and values=\[1.0, 0.5\] \(length 2\)"):
        schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5])


@pytest.mark.parametrize("step", [0, 2, 5, 10, 15])
def test_polynomial_decay(step):
    s = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, power=2.0)
    capped = min(step, 10)
    assert s(step) == pytest.approx((0.1 - 0.01) * (1 - capped / 10) ** 2 + 0.01)
    assert schedules.PolynomialDecay(0.1, 10)(10) == pytest.approx(0.0001)  # the default end rate


@pytest.mark.parametrize("step", [0, 5, 10, 15, 25])
def test_polynomial_decay_cycle(step):
    s = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0, cycle=True)
    horizon = 10 * (1 if step == 0 else math.ceil(step / 10))
    assert s(step) == pytest.approx(0.1 * (1 - step / horizon))


@pytest.mark.parametrize("step", [0, 25, 50, 100, 150])
def test_cosine_decay(step):
    s = schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1)
    capped = min(step, 100)
    assert s(step) == pytest.approx(0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * capped / 100)) + 0.1))


@pytest.mark.parametrize("step", [0, 5, 10, 60, 110, 500])
def test_cosine_decay_with_warmup(step):
    s = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.2, warmup_steps=10)
    if step < 10:
        expected = 0.2 * step / 10
    else:
        since = min(step, 110) - 10
        expected = 0.2 * 0.5 * (1 + math.cos(math.pi * since / 100))
    assert s(step) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("step", [0, 5, 10, 15, 29, 30, 45, 70])
def test_cosine_decay_restarts_geometric(step):
    # periods of 10, 20, 40 steps, each starting at half the previous peak
    s = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5, alpha=0.0)
    starts, length, restart = 0, 10, 0
    while step >= starts + length:
        starts, length, restart = starts + length, length * 2, restart + 1
    fraction = (step - starts) / length
    assert s(step) == pytest.approx(0.5 ** restart * 0.5 * (1 + math.cos(math.pi * fraction)), abs=1e-9)


@pytest.mark.parametrize("step", [0, 3, 4, 9])
def test_cosine_decay_restarts_constant_period(step):
    s = schedules.CosineDecayRestarts(0.1, first_decay_steps=4, t_mul=1.0, m_mul=1.0, alpha=0.2)
    fraction = step / 4 - step // 4
    assert s(step) == pytest.approx(0.1 * (0.8 * 0.5 * (1 + math.cos(math.pi * fraction)) + 0.2))


@pytest.mark.parametrize("cls,kwargs,arg", [
    (schedules.ExponentialDecay, {"decay_steps": 0, "decay_rate": 0.5}, "decay_steps"),
    (schedules.InverseTimeDecay, {"decay_steps": -1, "decay_rate": 0.5}, "decay_steps"),
    (schedules.PolynomialDecay, {"decay_steps": 0}, "decay_steps"),
    (schedules.CosineDecay, {"decay_steps": 0}, "decay_steps"),
    (schedules.CosineDecayRestarts, {"first_decay_steps": 0}, "first_decay_steps"),
])
def test_steps_must_be_positive(cls, kwargs, arg):
    with pytest.raises(ValueError, match=rf"{cls.__name__} expects {arg} > 0, got {arg}="):
        cls(0.1, **kwargs)


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
    schedules.InverseTimeDecay(0.1, 10, 0.5),
    schedules.PiecewiseConstantDecay([5], [0.1, 0.01]),
    schedules.PolynomialDecay(0.1, 10, cycle=True),
    schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=3),
    schedules.CosineDecayRestarts(0.1, 10, t_mul=3.0),
])
def test_serialize_round_trip(schedule):
    data = schedules.serialize(schedule)
    assert data["module"] == "keras.optimizers.schedules" and data["class_name"] == type(schedule).__name__
    clone = schedules.deserialize(data)
    assert clone.get_config() == schedule.get_config()
    assert [clone(s) for s in range(12)] == [schedule(s) for s in range(12)]


def test_keras_config_keys():
    assert set(schedules.CosineDecayRestarts(0.1, 10).get_config()) == {
        "initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha", "name"}
    assert schedules.CosineDecay(0.1, 10).get_config()["name"] == "CosineDecay"
    assert schedules.PiecewiseConstantDecay([1], [1.0, 0.5]).get_config()["name"] == "PiecewiseConstant"


def test_deserialize_rejects_unknown_classes():
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


def test_custom_schedule_drives_an_optimizer():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / 2 ** step

        def get_config(self):
            return {}

    opt = optimizers.SGD(Halving())
    assert opt.learning_rate == 1.0
    opt.iterations.assign_add(2)
    assert opt.learning_rate == 0.25


def test_base_class_requires_call():
    with pytest.raises(TypeError, match="must override __call__"):
        schedules.LearningRateSchedule()(0)
