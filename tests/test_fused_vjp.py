"""Every hand-written backward pass held to the automatic gradient of the same computation
written in ops: the fused layer nodes (Dense with every activation, BatchNormalization,
LayerNormalization) against their ``composite``, and the fused crossentropies against theirs."""
import numpy as np
import pytest

import lamina
from lamina import layers, ops
from lamina.ops.nn import KERNELS


def _grads(fn, sources):
    with lamina.GradientTape(persistent=True) as tape:
        tape.watch([s for s in sources if not getattr(s, "_is_variable", False)])
        value = fn()
    return [g.numpy() for g in tape.gradient(value, sources)]


def _fused_against_composite(layer, x, training):
    x = ops.convert_to_tensor(x)
    layer(x)  # build
    r = np.random.default_rng(3).standard_normal(layer(x, training=training).shape)
    sources = [x, *layer.trainable_weights]
    fused = _grads(lambda: ops.sum(layer(x, training=training) * r), sources)
    composite = _grads(lambda: ops.sum(layer.composite(x, training) * r), sources)
    assert len(fused) == len(sources)
    for got, expected, source in zip(fused, composite, sources):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=getattr(source, "path", "input"))


DENSE_ACTIVATIONS = sorted(name for name in lamina.activations._REGISTRY
                           if name is not None and lamina.activations.get(name).kernel is not None)


@pytest.mark.parametrize("activation", DENSE_ACTIVATIONS)
def test_dense_backward_is_the_gradient_of_its_composite(activation, float64):
    x = np.random.default_rng(0).uniform(-2.5, 2.5, (4, 5))
    layer = layers.Dense(3, activation=activation)
    assert layer.fused
    _fused_against_composite(layer, x, training=True)


def test_every_kernel_is_reachable_from_a_dense_activation():
    assert {lamina.activations.get(name).kernel.name for name in DENSE_ACTIVATIONS} >= set(KERNELS) - {
        "leaky_relu", "elu", "gelu", "softmax", "log_softmax"} | {"leaky_relu", "elu", "gelu", "softmax", "log_softmax"}


def test_dense_on_three_dimensional_input_applies_to_the_last_axis(float64):
    layer = layers.Dense(2, activation="tanh")
    _fused_against_composite(layer, np.random.default_rng(1).standard_normal((3, 4, 5)), training=False)
    assert layer(np.ones((3, 4, 5))).shape == (3, 4, 2)


def test_dense_without_bias(float64):
    _fused_against_composite(layers.Dense(2, use_bias=False, activation="relu"),
                             np.random.default_rng(2).uniform(0.1, 2, (3, 4)), training=False)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("options", [{}, {"center": False}, {"scale": False}, {"axis": 1}])
def test_batch_normalization_backward_is_the_gradient_of_its_composite(training, options, float64):
    layer = layers.BatchNormalization(**options)
    x = np.random.default_rng(4).standard_normal((6, 3, 2)) * 2 + 1
    layer(x)
    layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.3))
    layer.moving_variance.assign(np.full(layer.moving_variance.shape, 1.7))
    _fused_against_composite(layer, x, training)


@pytest.mark.parametrize("options", [{}, {"rms_scaling": True}, {"center": False}, {"axis": [1, 2]}])
def test_layer_normalization_backward_is_the_gradient_of_its_composite(options, float64):
    _fused_against_composite(layers.LayerNormalization(**options),
                             np.random.default_rng(5).standard_normal((4, 3, 2)), training=False)


@pytest.mark.parametrize("name,target,from_logits", [
    ("binary_crossentropy", "binary", False), ("binary_crossentropy", "binary", True),
    ("categorical_crossentropy", "onehot", False), ("categorical_crossentropy", "onehot", True),
])
def test_fused_crossentropies_are_the_gradient_of_their_composite(name, target, from_logits, float64):
    from lamina.ops import nn_composite
    rng = np.random.default_rng(6)
    raw = rng.uniform(0.05, 0.95, (5, 4)) if not from_logits else rng.standard_normal((5, 4))
    labels = (rng.uniform(size=(5, 4)) > 0.5).astype(float) if target == "binary" else np.eye(4)[[0, 3, 1, 2, 2]]
    output = ops.convert_to_tensor(raw)
    seed = rng.standard_normal(5 if target == "onehot" else (5, 4))
    prim = nn_composite._BCE if name == "binary_crossentropy" else nn_composite._CCE
    fused = _grads(lambda: ops.sum(prim(labels, output, from_logits=from_logits) * seed), [output])
    composite = _grads(lambda: ops.sum(prim.composite(labels, output, from_logits=from_logits) * seed), [output])
    np.testing.assert_allclose(fused[0], composite[0], rtol=1e-9, atol=1e-12)
