"""What the fast eager path reuses must never show through: gradient arrays recycled from step to
step (only once nobody holds them), and the gradients' container (no reference cycle that keeps
old steps alive)."""
import gc
import weakref

import numpy as np

import lamina
from lamina.ops.buffers import Recycler


def _model():
    lamina.random.set_seed(3)
    return lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(4, activation="relu"),
                              lamina.layers.Dense(3, activation="softmax")])


def _step(model, x, y):
    loss_fn = lamina.losses.SparseCategoricalCrossentropy()
    with lamina.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    return tape.gradient(loss, model.trainable_weights)


def test_a_kept_gradient_keeps_its_values_after_later_steps():
    model = _model()
    rng = np.random.default_rng(0)
    x1, x2 = rng.random((8, 5), dtype=np.float32), rng.random((8, 5), dtype=np.float32)
    y1, y2 = np.arange(8) % 3, (np.arange(8) + 1) % 3
    first = _step(model, x1, y1)
    kept = [g.numpy() for g in first]
    for _ in range(6):  # more steps than the pool keeps arrays, some results dropped at once
        _step(model, x2, y2)
    for g, copy in zip(first, kept):
        np.testing.assert_array_equal(g.numpy(), copy)
    again = _step(model, x1, y1)  # the weights did not move: the same step gives the same gradients
    for g, copy in zip(again, kept):
        np.testing.assert_allclose(g.numpy(), copy, rtol=1e-6)


def test_a_view_or_a_raw_array_of_a_gradient_is_kept_too():
    model = _model()
    x, y = np.ones((4, 5), np.float32), np.arange(4) % 3
    kernel_grad = _step(model, x, y)[0]
    raw, view = np.asarray(kernel_grad), np.asarray(kernel_grad)[1:]
    expected_raw, expected_view = raw.copy(), view.copy()
    del kernel_grad
    for i in range(5):
        _step(model, x * (i + 2), y)
    np.testing.assert_array_equal(raw, expected_raw)
    np.testing.assert_array_equal(view, expected_view)


def test_dropped_gradients_are_freed_without_the_garbage_collector():
    model = _model()
    x, y = np.ones((4, 5), np.float32), np.arange(4) % 3
    gc.disable()
    try:
        grads = _step(model, x, y)
        ref = weakref.ref(grads[0])
        del grads
        assert ref() is None  # no reference cycle keeps a step's gradients alive
    finally:
        gc.enable()


def test_gradients_come_back_in_the_sources_structure():
    model = _model()
    model(np.ones((1, 5), np.float32))
    kernel, bias = model.layers[0].kernel, model.layers[0].bias
    with lamina.GradientTape() as tape:
        loss = lamina.ops.sum(model(np.ones((2, 5), np.float32)))
    grads = tape.gradient(loss, {"b": (kernel, bias), "a": [bias]})
    assert isinstance(grads["b"], tuple) and isinstance(grads["a"], list)
    np.testing.assert_array_equal(grads["b"][1].numpy(), grads["a"][0].numpy())


def test_the_recycler_hands_out_only_unheld_arrays():
    pool, dtype = Recycler(), np.dtype("float32")
    held = [pool.take((3,), dtype) for _ in range(4)]
    assert len({id(a) for a in held}) == 4  # all held: four different arrays
    first = id(held[0])
    del held[:]
    again = pool.take((3,), dtype)
    assert id(again) == first  # nobody holds it any more (the pool still does): reused
    assert pool.take((3,), dtype) is not again
    resized = pool.take((2, 2), dtype)
    assert resized.shape == (2, 2) and resized.dtype == dtype
