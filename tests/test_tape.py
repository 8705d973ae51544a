"""GradientTape as TensorFlow's: what it records, what it returns, nesting, Jacobians, custom
gradients, and the errors a user meets."""
import numpy as np
import pytest

import lamina
from lamina import ops
from lamina.variables import Variable


def test_fan_out_sums_the_gradients():
    x = ops.convert_to_tensor(np.array([1.5, -2.0]))
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * x + ops.sin(x) * x + x)  # x used four times
    expected = 2 * x.numpy() + np.cos(x.numpy()) * x.numpy() + np.sin(x.numpy()) + 1
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected)


def test_ops_outside_the_tape_are_not_recorded():
    x = ops.convert_to_tensor(np.array([1.5]))
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    assert tape.gradient(ops.sum(y), x) is None  # the sum ran after the tape stopped, as in TensorFlow


def test_broadcasting_is_summed_back_in_both_directions():
    a = ops.convert_to_tensor(np.ones((3, 1)))
    b = ops.convert_to_tensor(np.arange(4.0))
    with lamina.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        c = a * b  # (3, 4)
    grad_a, grad_b = tape.gradient(c, [a, b])
    np.testing.assert_allclose(grad_a.numpy(), np.full((3, 1), 6.0))
    np.testing.assert_allclose(grad_b.numpy(), np.full(4, 3.0))


def test_trainable_variables_are_watched_and_others_not():
    w = Variable(np.array([2.0]), name="w")
    frozen = Variable(np.array([3.0]), name="frozen", trainable=False)
    with lamina.GradientTape() as tape:
        y = w * frozen
    assert tape.watched_variables() == (w,)
    grad_w, grad_frozen = tape.gradient(y, [w, frozen])
    assert float(grad_w) == 3.0 and grad_frozen is None


def test_watch_accessed_variables_false_records_only_what_is_watched():
    w = Variable(np.array([2.0]))
    x = ops.convert_to_tensor(np.array([5.0]))
    with lamina.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = w * x
    grad_w, grad_x = tape.gradient(y, [w, x])
    assert grad_w is None and float(grad_x) == 2.0


def test_nested_structures_and_unconnected_gradients():
    a, b, c = (Variable(np.array([v]), name=n) for v, n in ((1.0, "a"), (2.0, "b"), (3.0, "c")))
    with lamina.GradientTape(persistent=True) as tape:
        y = a * b
    grads = tape.gradient(y, {"x": [a, b], "y": c})
    assert float(grads["x"][0]) == 2.0 and float(grads["x"][1]) == 1.0 and grads["y"] is None
    zero = tape.gradient(y, c, unconnected_gradients="zero")
    assert zero.shape == (1,) and float(zero) == 0.0


def test_output_gradients_weight_the_target():
    x = ops.convert_to_tensor(np.array([1.0, 2.0]))
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = x * 3.0
    np.testing.assert_allclose(tape.gradient(y, x, output_gradients=np.array([10.0, -1.0])).numpy(), [30.0, -3.0])


def test_a_non_persistent_tape_answers_once():
    x = ops.convert_to_tensor(np.array([1.0]))
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="only be called once on a non-persistent tape.*persistent=True"):
        tape.gradient(y, x)


def test_persistent_tape_answers_many_times():
    x = ops.convert_to_tensor(np.array([3.0]))
    with lamina.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert float(tape.gradient(y, x)) == 6.0
    assert float(tape.gradient(z, x)) == 108.0


def test_stop_recording_and_stop_gradient_and_reset():
    x = ops.convert_to_tensor(np.array([2.0]))
    with lamina.GradientTape(persistent=True) as tape:
        tape.watch(x)
        with tape.stop_recording():
            hidden = x * x
        y = x * ops.stop_gradient(x * x) + hidden
    assert float(tape.gradient(y, x)) == 4.0  # only the first factor counts
    tape.reset()
    assert tape.gradient(y, x) is None


def test_integer_paths_give_no_gradient():
    x = ops.convert_to_tensor(np.array([1.5, 2.5]))
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.cast(ops.cast(x, "int32"), "float32") * 2.0 + ops.sum(x) * 0)
    grad = tape.gradient(y, x)
    np.testing.assert_array_equal(grad.numpy(), [0.0, 0.0])  # only the ``* 0`` path reaches x
    labels = ops.convert_to_tensor(np.array([1, 2]))
    with lamina.GradientTape() as tape:
        tape.watch(labels)
        out = ops.cast(labels, "float32") * 3.0
    assert tape.gradient(out, labels) is None  # TensorFlow's answer for an integer source


def test_second_order_through_nested_tapes():
    x = ops.convert_to_tensor(np.array([0.7, -1.2]))
    with lamina.GradientTape() as outer:
        outer.watch(x)
        with lamina.GradientTape() as inner:
            inner.watch(x)
            y = ops.sum(ops.sin(x) * x ** 3)
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    v = x.numpy()
    np.testing.assert_allclose(dy.numpy(), np.cos(v) * v ** 3 + 3 * v ** 2 * np.sin(v), rtol=1e-6)
    np.testing.assert_allclose(d2y.numpy(), -np.sin(v) * v ** 3 + 6 * v ** 2 * np.cos(v) + 6 * v * np.sin(v),
                               rtol=1e-5)


def test_second_order_through_a_fused_dense_layer(float64):
    """A Dense call is one fused node; a recording outer tape differentiates its composite."""
    layer = lamina.layers.Dense(3, activation="tanh")
    x = ops.convert_to_tensor(np.random.default_rng(0).standard_normal((2, 4)))
    layer(x)
    with lamina.GradientTape() as outer:
        outer.watch(x)
        with lamina.GradientTape() as inner:
            inner.watch(x)
            y = ops.sum(layer(x) ** 2)
        dy = inner.gradient(y, x)
        penalty = ops.sum(dy ** 2)
    got = outer.gradient(penalty, layer.kernel).numpy()

    def penalty_of(kernel):
        z = np.tanh(x.numpy() @ kernel + layer.bias.numpy())
        dx = (2 * z * (1 - z ** 2)) @ kernel.T
        return float(np.sum(dx ** 2))
    kernel = layer.kernel.numpy()
    numeric = np.zeros_like(kernel)
    for idx in np.ndindex(kernel.shape):
        up, down = kernel.copy(), kernel.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        numeric[idx] = (penalty_of(up) - penalty_of(down)) / 2e-6
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-8)


def test_jacobian_and_batch_jacobian():
    x = ops.convert_to_tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with lamina.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x ** 2  # element i, j depends on x[i, j] only
    jac = tape.jacobian(y, x).numpy()
    assert jac.shape == (2, 2, 2, 2)
    for i, j in np.ndindex(2, 2):
        expected = np.zeros((2, 2))
        expected[i, j] = 2 * x.numpy()[i, j]
        np.testing.assert_allclose(jac[i, j], expected)
    batch = tape.batch_jacobian(y, x).numpy()
    assert batch.shape == (2, 2, 2)
    np.testing.assert_allclose(batch[1], np.diag(2 * x.numpy()[1]))


def test_custom_gradient_replaces_the_ops_gradient():
    @ops.custom_gradient
    def clipped_identity(x):
        def grad(upstream):
            return ops.clip(upstream, -1.0, 1.0)
        return x * 1.0, grad

    x = ops.convert_to_tensor(np.array([1.0, 2.0]))
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = clipped_identity(x) * 5.0
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [1.0, 1.0])


def test_custom_gradient_with_variables_needs_them_in_grad_fn():
    w = Variable(np.array([3.0]), name="w")

    @ops.custom_gradient
    def scaled(x):
        def grad(upstream, variables=None):
            return upstream * w, [upstream * x * 10]  # a deliberately scaled variable gradient
        return x * w, grad

    x = ops.convert_to_tensor(np.array([2.0]))
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    grad_x, grad_w = tape.gradient(y, [x, w])
    assert float(grad_x) == 3.0 and float(grad_w) == 20.0

    @ops.custom_gradient
    def forgets(x):
        return x * w, lambda upstream: upstream
    with lamina.GradientTape() as tape:
        y = forgets(ops.convert_to_tensor(np.array([1.0])))
    with pytest.raises(TypeError, match="read the Variables \\['w'\\]: its grad_fn must accept variables="):
        tape.gradient(y, w)


def test_a_variable_changed_after_the_forward_pass_is_refused():
    w = Variable(np.array([1.0, 2.0]), name="w")
    with lamina.GradientTape() as tape:
        y = ops.sum(w * w)
    w.assign([5.0, 5.0])
    with pytest.raises(ValueError, match="Variable 'w' was changed after it was read inside the GradientTape"):
        tape.gradient(y, w)


def test_jvp_is_the_jacobian_times_the_tangent():
    x = np.array([0.3, -0.8])
    t = np.array([1.0, 2.0])
    out, tangent = ops.jvp(lambda v: ops.sin(v) * v, (x,), (t,))
    np.testing.assert_allclose(out.numpy(), np.sin(x) * x)
    np.testing.assert_allclose(tangent.numpy(), (np.cos(x) * x + np.sin(x)) * t, rtol=1e-6)


def test_optimizer_apply_gradients_skips_none():
    a, b = Variable(np.array([1.0], "float32"), name="a"), Variable(np.array([1.0], "float32"), name="b")
    opt = lamina.optimizers.SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b'\]"):
        opt.apply_gradients(zip([np.array([1.0], "float32"), None], [a, b]))
    assert float(a.numpy()[0]) == 0.5 and float(b.numpy()[0]) == 1.0


def test_a_custom_gradient_returning_its_input_counts_the_gradient_once():
    @lamina.ops.custom_gradient
    def passthrough(x):
        return x, lambda upstream: upstream * 3.0

    x = lamina.ops.convert_to_tensor([1.0, 2.0])
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = passthrough(x)
    assert tape.gradient(y, x).numpy().tolist() == [3.0, 3.0]
