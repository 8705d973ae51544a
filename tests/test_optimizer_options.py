"""The optimizer base's common options: clipping, weight decay, schedules and callables as the rate,
EMA, gradient accumulation, loss scaling, constraints, skipped gradients."""
import numpy as np
import pytest

import lamina
from lamina import optimizers
from lamina.optimizers import schedules

from optimizer_steps import G1, G2, W0, two_steps


# --- the base's options ------------------------------------------------------------------------
def test_clipnorm_scales_each_gradient_to_the_norm():
    g = np.array([3.0, 4.0])  # norm 5
    (w1,) = two_steps(optimizers.SGD(1.0, clipnorm=1.0), grads=[g])
    np.testing.assert_allclose(w1, W0 - g / 5)
    (w1,) = two_steps(optimizers.SGD(1.0, clipnorm=10.0), grads=[g])
    np.testing.assert_allclose(w1, W0 - g)
    (w1,) = two_steps(optimizers.SGD(1.0, clipnorm=0.0), grads=[g])  # Keras: 0 means no clipping
    np.testing.assert_allclose(w1, W0 - g)


def test_clipvalue():
    (w1,) = two_steps(optimizers.SGD(1.0, clipvalue=0.5), grads=[np.array([3.0, -0.25])])
    np.testing.assert_allclose(w1, W0 - np.array([0.5, -0.25]))


def test_global_clipnorm_uses_the_norm_of_all_gradients():
    a = lamina.Variable(np.zeros(1), name="a")
    b = lamina.Variable(np.zeros(1), name="b")
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([np.array([3.0]), np.array([4.0])], [a, b])
    np.testing.assert_allclose([a.value[0], b.value[0]], [-0.6, -0.8])


def test_weight_decay_is_decoupled_and_excludable():
    lr, wd = 0.1, 0.5
    (w1,) = two_steps(optimizers.SGD(lr, weight_decay=wd), grads=[G1])
    np.testing.assert_allclose(w1, W0 - W0 * wd * lr - lr * G1)
    opt = optimizers.SGD(lr, weight_decay=wd)
    opt.exclude_from_weight_decay(var_names=["bias"])
    kernel = lamina.Variable(W0.copy(), name="kernel")
    bias = lamina.Variable(W0.copy(), name="bias")
    opt.apply([G1, G1], [kernel, bias])
    np.testing.assert_allclose(kernel.value, W0 - W0 * wd * lr - lr * G1)
    np.testing.assert_allclose(bias.value, W0 - lr * G1)
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["kernel"])


def test_schedule_as_learning_rate_is_read_at_each_step():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(schedule)
    w1, w2 = two_steps(opt)
    np.testing.assert_allclose(w1, W0 - 0.1 * G1)
    np.testing.assert_allclose(w2, w1 - 0.05 * G2)
    assert opt.learning_rate == pytest.approx(0.025)
    assert [v.name for v in opt.variables] == ["iteration"]  # no learning_rate variable with a schedule


def test_plain_callable_is_called_without_arguments():
    opt = optimizers.SGD(lambda: 0.25)
    assert opt.learning_rate == 0.25


def test_learning_rate_setter():
    opt = optimizers.Adam(0.01)
    assert [v.name for v in opt.variables] == ["iteration", "learning_rate"]
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    assert opt.variables[1].value == np.float32(0.5)
    opt.variables[1].assign(0.25)  # what loading a saved optimizer does
    assert opt.learning_rate == 0.25
    with pytest.raises(ValueError, match=r"learning_rate >= 0, got learning_rate=-1.0"):
        opt.learning_rate = -1.0
    with pytest.raises(TypeError, match="learning_rate to be a float or a schedule, got 'fast'"):
        opt.learning_rate = "fast"
    opt.learning_rate = schedules.PiecewiseConstantDecay([1], [0.3, 0.1])
    assert opt.learning_rate == 0.3
    assert [v.name for v in opt.variables] == ["iteration"]
    with pytest.raises(TypeError, match="created with a learning-rate schedule"):
        opt.learning_rate = 0.1


def test_use_ema_keeps_an_average_and_finalize_swaps_it_in():
    lr, mom = 0.1, 0.9
    opt = optimizers.SGD(lr, use_ema=True, ema_momentum=mom)
    w = lamina.Variable(W0.copy(), name="w")
    opt.apply([G1], [w])
    opt.apply([G2], [w])
    w1 = W0 - lr * G1
    w2 = w1 - lr * G2
    average = mom * w1 + (1 - mom) * w2  # the first average is the weights themselves
    np.testing.assert_allclose(w.value, w2)
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.value, average)


def test_ema_overwrite_frequency_writes_the_average_every_n_steps():
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    w = lamina.Variable(W0.copy(), name="w")
    opt.apply([G1], [w])
    w1 = W0 - 0.1 * G1
    np.testing.assert_allclose(w.value, w1)
    opt.apply([G2], [w])
    np.testing.assert_allclose(w.value, 0.5 * w1 + 0.5 * (w1 - 0.1 * G2))


def test_gradient_accumulation_applies_the_mean_every_n_steps():
    opt = optimizers.SGD(0.1, gradient_accumulation_steps=2)
    w1, w2 = two_steps(opt)
    np.testing.assert_allclose(w1, W0)
    np.testing.assert_allclose(w2, W0 - 0.1 * (G1 + G2) / 2)
    assert int(opt.iterations.value) == 2 and opt.updates_applied == 1
    # Adam's bias correction counts updates, not micro-steps
    adam = optimizers.Adam(0.01, gradient_accumulation_steps=2)
    _, w2 = two_steps(adam)
    g = (G1 + G2) / 2
    m, v = 0.1 * g, 0.001 * g * g
    np.testing.assert_allclose(w2, W0 - 0.01 * np.sqrt(0.001) / 0.1 * m / (np.sqrt(v) + 1e-7), rtol=1e-9)


def test_loss_scale_factor_is_divided_out():
    (w1,) = two_steps(optimizers.SGD(0.1, loss_scale_factor=4.0), grads=[4 * G1])
    np.testing.assert_allclose(w1, W0 - 0.1 * G1)
    assert optimizers.SGD(loss_scale_factor=4.0).scale_loss(2.0) == 8.0


def test_constraint_applies_after_the_update():
    w = lamina.Variable(W0.copy(), name="w", constraint=lambda x: np.clip(x, -1.5, 1.5))
    optimizers.SGD(0.1).apply([G1], [w])
    np.testing.assert_allclose(w.value, np.clip(W0 - 0.1 * G1, -1.5, 1.5))


def test_none_gradients_are_skipped_and_iterations_count():
    opt = optimizers.SGD(0.1)
    a = lamina.Variable(W0.copy(), name="a")
    b = lamina.Variable(W0.copy(), name="b")
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['a'\]"):  # as Keras warns
        opt.apply([None, G1], [a, b])
    np.testing.assert_allclose(a.value, W0)
    np.testing.assert_allclose(b.value, W0 - 0.1 * G1)
    assert int(opt.iterations.value) == 1


def test_apply_rejects_unknown_variables():
    opt = optimizers.Adam()
    opt.apply([G1], [lamina.Variable(W0.copy(), name="a")])
    with pytest.raises(ValueError, match=r"does not know \['b'\]"):
        opt.apply([G1], [lamina.Variable(W0.copy(), name="b")])
