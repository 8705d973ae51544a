"""Optimizers: two steps against the closed form written out here, and training a tiny model with
every optimizer (the base's options: test_optimizer_options.py; state and arguments:
test_optimizer_state.py)."""
import numpy as np
import pytest

import lamina
from lamina import optimizers

from optimizer_steps import G1, G2, W0, check


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
