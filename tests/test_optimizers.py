"""Optimizers: two steps against the closed form written out here, the base's common options,
Keras's state order, argument checks, and training a tiny model with every optimizer."""
import numpy as np
import pytest

import lamina
from lamina import optimizers
from lamina.optimizers import schedules

W0 = np.array([1.0, -2.0])
G1 = np.array([0.5, -1.0])
G2 = np.array([0.2, 0.3])


def two_steps(optimizer, w0=W0, grads=(G1, G2)):
    """Apply ``grads`` one by one to a float64 copy of ``w0``; return the weights after each."""
    w = lamina.Variable(np.array(w0, dtype=np.float64), name="w")
    seen = []
    for g in grads:
        optimizer.apply([np.array(g, dtype=np.float64)], [w])
        seen.append(w.numpy())
    return seen


def check(optimizer, expected1, expected2):
    w1, w2 = two_steps(optimizer)
    np.testing.assert_allclose(w1, expected1, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(w2, expected2, rtol=1e-6, atol=1e-12)


# --- update rules ------------------------------------------------------------------------------
def test_sgd_plain():
    lr = 0.1
    w1 = W0 - lr * G1
    check(optimizers.SGD(lr), w1, w1 - lr * G2)


def test_sgd_momentum_and_nesterov():
    lr, mom = 0.1, 0.9
    m1 = -lr * G1
    m2 = mom * m1 - lr * G2
    check(optimizers.SGD(lr, momentum=mom), W0 + m1, W0 + m1 + m2)
    w1 = W0 + mom * m1 - lr * G1
    check(optimizers.SGD(lr, momentum=mom, nesterov=True), w1, w1 + mom * m2 - lr * G2)


def adam_closed_form(lr, b1, b2, eps, amsgrad=False, decay=0.0):
    w, m, v, v_max = W0.copy(), np.zeros(2), np.zeros(2), np.zeros(2)
    out = []
    for t, g in ((1, G1), (2, G2)):
        w = w - w * decay * lr
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - alpha * m / (np.sqrt(v_max if amsgrad else v) + eps)
        out.append(w)
    return out


def test_adam():
    check(optimizers.Adam(0.01), *adam_closed_form(0.01, 0.9, 0.999, 1e-7))


def test_adam_amsgrad():
    # a large second gradient then a small one makes the running max differ from v
    grads = (np.array([3.0, 0.1]), np.array([0.1, 0.1]))
    w = lamina.Variable(W0.copy(), name="w")
    opt = optimizers.Adam(0.01, beta_2=0.5, amsgrad=True)
    for g in grads:
        opt.apply([g], [w])
    m, v, v_hat = np.zeros(2), np.zeros(2), np.zeros(2)
    expected = W0.copy()
    for t, g in ((1, grads[0]), (2, grads[1])):
        m = 0.9 * m + 0.1 * g
        v = 0.5 * v + 0.5 * g * g
        v_hat = np.maximum(v_hat, v)
        expected -= 0.01 * np.sqrt(1 - 0.5 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v_hat) + 1e-7)
    np.testing.assert_allclose(w.value, expected, rtol=1e-9)


def test_adamw_decays_before_the_adam_step():
    check(optimizers.AdamW(0.01), *adam_closed_form(0.01, 0.9, 0.999, 1e-7, decay=0.004))
    check(optimizers.AdamW(0.01, weight_decay=0.1), *adam_closed_form(0.01, 0.9, 0.999, 1e-7, decay=0.1))


def test_nadam():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7

    def u(t):
        return b1 * (1 - 0.5 * 0.96 ** t)

    w, m, v, product = W0.copy(), np.zeros(2), np.zeros(2), 1.0
    expected = []
    for t, g in ((1, G1), (2, G2)):
        product *= u(t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = u(t + 1) * m / (1 - product * u(t + 1)) + (1 - u(t)) * g / (1 - product)
        v_hat = v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        expected.append(w)
    check(optimizers.Nadam(lr), *expected)


def test_adamax():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    m1 = (1 - b1) * G1
    u1 = np.abs(G1)
    w1 = W0 - lr * m1 / ((1 - b1) * (u1 + eps))
    m2 = b1 * m1 + (1 - b1) * G2
    u2 = np.maximum(b2 * u1, np.abs(G2))
    w2 = w1 - lr * m2 / ((1 - b1 ** 2) * (u2 + eps))
    check(optimizers.Adamax(lr), w1, w2)


def test_rmsprop_plain_momentum_centered():
    lr, rho, eps = 0.01, 0.9, 1e-7
    v1 = (1 - rho) * G1 ** 2
    v2 = rho * v1 + (1 - rho) * G2 ** 2
    s1, s2 = lr * G1 / np.sqrt(v1 + eps), lr * G2 / np.sqrt(v2 + eps)
    check(optimizers.RMSprop(lr), W0 - s1, W0 - s1 - s2)
    check(optimizers.RMSprop(lr, momentum=0.5), W0 - s1, W0 - s1 - (0.5 * s1 + s2))
    a1 = (1 - rho) * G1
    a2 = rho * a1 + (1 - rho) * G2
    c1 = lr * G1 / np.sqrt(v1 - a1 ** 2 + eps)
    c2 = lr * G2 / np.sqrt(v2 - a2 ** 2 + eps)
    check(optimizers.RMSprop(lr, centered=True), W0 - c1, W0 - c1 - c2)


def test_adagrad():
    lr, eps = 0.1, 1e-7
    a1 = 0.1 + G1 ** 2
    a2 = a1 + G2 ** 2
    w1 = W0 - lr * G1 / np.sqrt(a1 + eps)
    check(optimizers.Adagrad(lr), w1, w1 - lr * G2 / np.sqrt(a2 + eps))


def test_adadelta():
    lr, rho, eps = 1.0, 0.95, 1e-7
    acc_g, acc_d, w = np.zeros(2), np.zeros(2), W0.copy()
    expected = []
    for g in (G1, G2):
        acc_g = rho * acc_g + (1 - rho) * g ** 2
        delta = -np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps) * g
        acc_d = rho * acc_d + (1 - rho) * delta ** 2
        w = w + lr * delta
        expected.append(w)
    check(optimizers.Adadelta(lr), *expected)


def test_lion():
    lr, b1, b2 = 0.01, 0.9, 0.99
    w1 = W0 - lr * np.sign((1 - b1) * G1)
    m1 = (1 - b2) * G1
    w2 = w1 - lr * np.sign(b1 * m1 + (1 - b1) * G2)
    check(optimizers.Lion(lr), w1, w2)


@pytest.mark.parametrize("l1,l2,shrink,beta", [(0.0, 0.0, 0.0, 0.0), (0.05, 0.2, 0.1, 0.5)])
def test_ftrl(l1, l2, shrink, beta):
    lr, p = 0.5, 0.5  # p = -learning_rate_power
    n, z, w = np.full(2, 0.1), np.zeros(2), W0.copy()
    expected = []
    for g in (G1, G2):
        l2_total = l2 + beta / (2 * lr)
        n_new = n + g ** 2
        z = z + (g + 2 * shrink * w) - (n_new ** p - n ** p) / lr * w
        w = (np.clip(z, -l1, l1) - z) / (n_new ** p / lr + 2 * l2_total)
        n = n_new
        expected.append(w)
    check(optimizers.Ftrl(lr, l1_regularization_strength=l1, l2_regularization_strength=l2,
                          l2_shrinkage_regularization_strength=shrink, beta=beta), *expected)


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


# --- state order (optimizer/vars/<i> in a saved file) -------------------------------------------
def slot_names(optimizer):
    a = lamina.Variable(np.zeros(2), name="a")
    b = lamina.Variable(np.zeros(3), name="b")
    optimizer.build([a, b])
    return [v.name for v in optimizer.variables]


@pytest.mark.parametrize("optimizer,expected", [
    (optimizers.SGD(), []),
    (optimizers.SGD(momentum=0.9), ["a_momentum", "b_momentum"]),
    (optimizers.Adam(), ["a_momentum", "a_velocity", "b_momentum", "b_velocity"]),
    (optimizers.Adam(amsgrad=True),
     ["a_momentum", "a_velocity", "b_momentum", "b_velocity", "a_velocity_hat", "b_velocity_hat"]),
    (optimizers.AdamW(), ["a_momentum", "a_velocity", "b_momentum", "b_velocity"]),
    (optimizers.Nadam(), ["u_product", "a_momentum", "a_velocity", "b_momentum", "b_velocity"]),
    (optimizers.Adamax(), ["a_momentum", "a_norm", "b_momentum", "b_norm"]),
    (optimizers.RMSprop(momentum=0.5, centered=True),
     ["a_velocity", "b_velocity", "a_momentum", "b_momentum", "a_average_gradient", "b_average_gradient"]),
    (optimizers.Adagrad(), ["a_accumulator", "b_accumulator"]),
    (optimizers.Adadelta(), ["a_accumulated_grad", "a_accumulated_delta_var",
                             "b_accumulated_grad", "b_accumulated_delta_var"]),
    (optimizers.Lion(), ["a_momentum", "b_momentum"]),
    (optimizers.Ftrl(), ["a_accumulator", "a_linear", "b_accumulator", "b_linear"]),
    (optimizers.SGD(momentum=0.5, use_ema=True, gradient_accumulation_steps=2),
     ["a_average", "a_gradient_accumulator", "b_average", "b_gradient_accumulator", "a_momentum", "b_momentum"]),
])
def test_state_order_matches_keras(optimizer, expected):
    assert slot_names(optimizer) == ["iteration", "learning_rate"] + expected


def test_state_paths_sit_under_the_optimizers_name_as_in_keras():
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)
    # what Keras 3.15 on JAX prints for the same program
    assert [(v.name, v.path) for v in model.optimizer.variables] == [
        ("iteration", "adam/iteration"), ("learning_rate", "adam/learning_rate"),
        ("sequential_dense_kernel_momentum", "adam/sequential_dense_kernel_momentum"),
        ("sequential_dense_kernel_velocity", "adam/sequential_dense_kernel_velocity"),
        ("sequential_dense_bias_momentum", "adam/sequential_dense_bias_momentum"),
        ("sequential_dense_bias_velocity", "adam/sequential_dense_bias_velocity")]
    nadam = optimizers.Nadam(name="mine")
    nadam.build([lamina.Variable(np.zeros(2), name="a")])
    assert {v.path.split("/")[0] for v in nadam.variables} == {"mine"}


def test_initial_accumulators():
    a = lamina.Variable(np.zeros(2), name="a")
    opt = optimizers.Ftrl(initial_accumulator_value=0.3)
    opt.build([a])
    np.testing.assert_array_equal(opt.slot(a, "accumulator").value, [0.3, 0.3])
    opt = optimizers.Adagrad()
    opt.build([a])
    np.testing.assert_array_equal(opt.slot(a, "accumulator").value, [0.1, 0.1])


# --- names, defaults, config -------------------------------------------------------------------
@pytest.mark.parametrize("name,cls,defaults", [
    ("sgd", optimizers.SGD, {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
    ("adam", optimizers.Adam, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    ("adamw", optimizers.AdamW, {"learning_rate": 0.001, "weight_decay": 0.004, "amsgrad": False}),
    ("nadam", optimizers.Nadam, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    ("adamax", optimizers.Adamax, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999}),
    ("rmsprop", optimizers.RMSprop, {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "centered": False}),
    ("adagrad", optimizers.Adagrad, {"learning_rate": 0.001, "initial_accumulator_value": 0.1}),
    ("adadelta", optimizers.Adadelta, {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}),
    ("lion", optimizers.Lion, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99}),
    ("ftrl", optimizers.Ftrl, {"learning_rate": 0.001, "learning_rate_power": -0.5,
                               "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.0,
                               "l2_regularization_strength": 0.0, "l2_shrinkage_regularization_strength": 0.0,
                               "beta": 0.0}),
])
def test_get_by_name_and_keras_defaults(name, cls, defaults):
    opt = optimizers.get(name)
    assert type(opt) is cls and opt.name.lower() == name
    config = opt.get_config()
    for key, value in defaults.items():
        assert config[key] == value
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert type(optimizers.get({"class_name": cls.__name__, "config": config})) is cls


def test_config_round_trips_a_schedule():
    opt = optimizers.SGD(schedules.CosineDecay(0.1, 100, alpha=0.1))
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    clone = optimizers.SGD.from_config(config)
    assert clone.learning_rate == pytest.approx(0.1)
    assert clone.get_config() == config


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'. Valid names: adadelta, adagrad, adam"):
        optimizers.get("adamm")


# --- bad arguments -----------------------------------------------------------------------------
@pytest.mark.parametrize("make,match", [
    (lambda: optimizers.SGD(learning_rate=-0.1), r"SGD expects learning_rate >= 0, got learning_rate=-0.1"),
    (lambda: optimizers.SGD(momentum=1.5), r"SGD expects momentum in \[0, 1\], got momentum=1.5"),
    (lambda: optimizers.Adam(beta_1=1.0), r"Adam expects beta_1 in \[0, 1\), got beta_1=1.0"),
    (lambda: optimizers.Adam(beta_2=-0.1), r"Adam expects beta_2 in \[0, 1\), got beta_2=-0.1"),
    (lambda: optimizers.Adam(epsilon=-1.0), r"Adam expects epsilon >= 0, got epsilon=-1.0"),
    (lambda: optimizers.AdamW(beta_1=2.0), r"AdamW expects beta_1 in \[0, 1\), got beta_1=2.0"),
    (lambda: optimizers.AdamW(weight_decay=None), r"AdamW expects weight_decay to be a float, got weight_decay=None"),
    (lambda: optimizers.Nadam(beta_2=1.0), r"Nadam expects beta_2 in \[0, 1\), got beta_2=1.0"),
    (lambda: optimizers.Adamax(beta_1=-0.5), r"Adamax expects beta_1 in \[0, 1\), got beta_1=-0.5"),
    (lambda: optimizers.RMSprop(rho=1.0), r"RMSprop expects rho in \[0, 1\), got rho=1.0"),
    (lambda: optimizers.RMSprop(momentum=-0.1), r"RMSprop expects momentum in \[0, 1\], got momentum=-0.1"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1.0),
     r"Adagrad expects initial_accumulator_value >= 0, got initial_accumulator_value=-1.0"),
    (lambda: optimizers.Adadelta(rho=1.5), r"Adadelta expects rho in \[0, 1\), got rho=1.5"),
    (lambda: optimizers.Lion(beta_1=0.0), r"Lion expects beta_1 in \(0, 1\], got beta_1=0.0"),
    (lambda: optimizers.Lion(beta_2=1.5), r"Lion expects beta_2 in \[0, 1\], got beta_2=1.5"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5),
     r"Ftrl expects learning_rate_power <= 0, got learning_rate_power=0.5"),
    (lambda: optimizers.Ftrl(l1_regularization_strength=-1.0),
     r"Ftrl expects l1_regularization_strength >= 0, got l1_regularization_strength=-1.0"),
    (lambda: optimizers.Ftrl(l2_shrinkage_regularization_strength=-1.0),
     r"Ftrl expects l2_shrinkage_regularization_strength >= 0"),
    (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=1.0), r"set at most one of clipnorm, clipvalue"),
    (lambda: optimizers.SGD(clipnorm=-1.0), r"SGD expects clipnorm >= 0, got clipnorm=-1.0"),
    (lambda: optimizers.SGD(weight_decay=-0.1), r"SGD expects weight_decay >= 0, got weight_decay=-0.1"),
    (lambda: optimizers.SGD(gradient_accumulation_steps=1),
     r"gradient_accumulation_steps to be an integer >= 2 or None, got gradient_accumulation_steps=1"),
    (lambda: optimizers.SGD(use_ema=True, ema_momentum=1.5), r"SGD expects ema_momentum in \[0, 1\], got"),
    (lambda: optimizers.SGD(use_ema=True, ema_overwrite_frequency=0.5),
     r"ema_overwrite_frequency to be an integer >= 1 or None, got ema_overwrite_frequency=0.5"),
    (lambda: optimizers.SGD(loss_scale_factor=0), r"loss_scale_factor > 0 or None"),
])
def test_bad_arguments_name_argument_and_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match=r"Adam got unexpected keyword argument\(s\) \['lr'\]"):
        optimizers.Adam(lr=0.1)


# --- every optimizer trains a model ------------------------------------------------------------
RATES = {"sgd": 0.05, "adam": 0.05, "adamw": 0.05, "nadam": 0.05, "adamax": 0.05, "rmsprop": 0.01,
         "adagrad": 0.3, "adadelta": 1.0, "lion": 0.01, "ftrl": 0.5}


@pytest.mark.parametrize("name", sorted(RATES))
def test_every_optimizer_trains_a_dense_regression(name, rng):
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    model = lamina.Sequential([lamina.layers.Dense(8, activation="tanh", input_shape=(3,)),
                               lamina.layers.Dense(1)])
    model.compile(optimizer=name, loss="mse")
    assert type(model.optimizer) is type(optimizers.get(name))
    model.optimizer.learning_rate = RATES[name]
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=16, epochs=20, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.7 * before, (name, before, after)
    assert all(w.value.dtype == np.float32 for w in model.weights + model.optimizer.variables[2:])


def test_state_that_decays_is_flushed_before_it_turns_subnormal():
    """A weight whose gradient is always 0 (a kernel row for an always-black pixel) has momentum
    that decays forever; below 1e-30 it is zeroed every 64 steps, so float32 never goes subnormal
    (slow on x86), as TensorFlow and JAX flush subnormals to zero."""
    w = lamina.Variable(np.zeros(2, "float32"), name="w")
    opt = lamina.optimizers.SGD(0.1, momentum=0.5)
    opt.apply([np.ones(2, "float32")], [w])
    for _ in range(126):
        opt.apply([np.zeros(2, "float32")], [w])
    momentum = opt.slot(w, "momentum")._value  # 0.1 * 0.5**126: a subnormal float32
    assert (momentum != 0).all() and (np.abs(momentum) < np.finfo(np.float32).tiny).all()
    opt.apply([np.zeros(2, "float32")], [w])  # step 128: the flush
    assert (momentum == 0).all() and opt.iterations.value == 128


def test_assigning_the_rate_variable_changes_the_rate_used():
    w = lamina.Variable(np.array([1.0], "float32"), name="w")
    opt = optimizers.SGD(learning_rate=0.01)
    assert opt.current_learning_rate() == 0.01  # the float as written, not float32's 0.0099999998
    opt.learning_rate.assign(0.5)  # as Keras code (and loading a file) writes it
    opt.apply([np.array([1.0], "float32")], [w])
    np.testing.assert_allclose(w.numpy(), [0.5])
    assert opt.current_learning_rate() == 0.5
