"""The compiled step's fused groups (trainers/replay_fusion.py, replay_kernels.py): each pattern,
where it matches, trains to the eager step's numbers (1e-5), and each near miss is left to the
plain replay, still with the eager step's numbers."""
import numpy as np
import pytest

import lamina
from lamina import layers, ops
from lamina.optimizers import kernels as optimizer_kernels

from test_compiled_step import Linear, LinearMLP, _assert_same_training, _data, _replayed, _train_both


def _kernels(model) -> list:
    return [kernel for replay in model._compiled_step._replays.values() if replay is not None
            for kernel in replay.fused.kernels]


def _names(model) -> set:
    return {type(kernel).__name__ for kernel in _kernels(model)}


def _sparse(optimizer=lambda: lamina.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy"):
    return lambda: dict(optimizer=optimizer(), loss=loss, metrics=["accuracy"])


def _check(make, compile_kwargs, x, y, **fit_kwargs):
    compiled, eager = _train_both(make, compile_kwargs, dict(batch_size=16, epochs=3, **fit_kwargs), x, y)
    assert _replayed(compiled[0]), compiled[0]._compiled_step.refused
    _assert_same_training(compiled, eager)
    return compiled[0]


def test_every_pattern_fuses_on_the_user_linear_model_and_matches_eager():
    x, y = _data()
    model = _check(LinearMLP, _sparse(), x, y)
    assert _names(model) == {"Affine", "Relu", "SoftmaxCrossentropy", "MeanTail"}
    affine = [k for k in _kernels(model) if type(k).__name__ == "Affine"]
    # plain SGD: no gradient buffer for the weights, both updates inside the products
    assert all(k.fold_w is not None and k.fold_b is not None and k.grad_w is None for k in affine)
    relu = [k for k in _kernels(model) if type(k).__name__ == "Relu"]
    assert relu and all(k.owns_gradient for k in relu)  # its gradient comes from one Affine's buffer


def test_float64_models_fuse_too(float64):
    x, y = _data()
    model = _check(LinearMLP, _sparse(), x.astype(np.float64), y)
    assert _names(model) == {"Affine", "Relu", "SoftmaxCrossentropy", "MeanTail"}
    assert all(k.buffer.dtype == np.float64 for k in _kernels(model) if type(k).__name__ == "Affine")


def test_with_adam_the_fused_products_write_gradient_buffers_for_the_optimizer():
    x, y = _data()
    model = _check(LinearMLP, _sparse(lambda: lamina.optimizers.Adam(0.01)), x, y)
    affine = [k for k in _kernels(model) if type(k).__name__ == "Affine"]
    assert affine and all(k.fold_w is None and k.grad_w is not None and k.grad_b is not None for k in affine)
    packed = model._compiled_step._packed  # the weights in one array, updated in one pass
    assert all(np.shares_memory(k.grad_w, packed.grad) and np.shares_memory(k.grad_b, packed.grad) for k in affine)


class _SharedKernel(lamina.Model):
    """One kernel in two products: two contributions to its gradient, so neither writes it
    into the packed array in place (the second would overwrite the first)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.square = Linear(8)
        self.out = Linear(3)

    def call(self, inputs):
        h = ops.relu(self.square(inputs))
        return ops.softmax(self.out(ops.relu(ops.matmul(h, self.square.w) + self.square.b)))


def test_a_kernel_shared_by_two_products_sums_both_gradients():
    x, y = _data()
    model = _check(_SharedKernel, _sparse(lambda: lamina.optimizers.Adam(0.01)), x, y)
    packed = model._compiled_step._packed
    shared = [k for k in _kernels(model) if type(k).__name__ == "Affine" and k.grad_w.shape == (8, 8)]
    assert len(shared) == 4 and not any(np.shares_memory(k.grad_w, packed.grad) for k in shared)


def test_without_numba_kernels_the_head_is_not_fused_and_still_matches():
    x, y = _data()
    optimizer_kernels.use_compiled(False)
    try:
        model = _check(LinearMLP, _sparse(), x, y)
    finally:
        optimizer_kernels.use_compiled(True)
    assert "SoftmaxCrossentropy" not in _names(model) and "Affine" in _names(model)


class _Layer(layers.Layer):
    """A dense layer written in ops in one of several near-miss ways."""

    def __init__(self, units, how, **kwargs):
        super().__init__(**kwargs)
        self.units, self.how = units, how

    def build(self, input_shape):
        bias_shape = (1, self.units) if self.how == "row_bias" else (self.units,)
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=bias_shape, initializer="random_normal")

    def call(self, inputs):
        product = ops.matmul(inputs, self.w)
        if self.how == "bias_first":
            return self.b + product
        if self.how == "product_read_twice":
            return product + self.b + 0.5 * ops.tanh(product)
        return product + self.b


@pytest.mark.parametrize("how, fused", [("bias_first", True), ("row_bias", False), ("product_read_twice", False)])
def test_a_matmul_plus_bias_fuses_only_when_exactly_the_pattern(how, fused):
    x, y = _data()

    def make():
        return lamina.Sequential([lamina.Input((8,)), _Layer(5, how), layers.Activation("softmax")])

    model = _check(make, _sparse(), x, y)
    assert ("Affine" in _names(model)) is fused


class _FanOut(lamina.Model):
    """A relu output read by two layers: its gradient is a sum, never changed in place."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.left, self.right = Linear(6), Linear(3), Linear(3)

    def call(self, inputs):
        h = ops.relu(self.hidden(inputs))
        return ops.softmax(self.left(h) + self.right(h))


def test_a_relu_whose_output_fans_out_does_not_own_its_gradient():
    x, y = _data()
    model = _check(_FanOut, _sparse(), x, y)
    relu = [k for k in _kernels(model) if type(k).__name__ == "Relu"]
    assert relu and not any(k.owns_gradient for k in relu)


def _reads_probabilities_twice(y_true, y_pred):
    return lamina.losses.sparse_categorical_crossentropy(y_true, y_pred) + 0.1 * ops.mean(ops.square(y_pred), axis=-1)


@pytest.mark.parametrize("loss, one_hot, fused", [
    ("sparse_categorical_crossentropy", False, True),
    ("categorical_crossentropy", True, False),  # the user's one-hot labels: no one_hot in the program
    (_reads_probabilities_twice, False, False),  # the probabilities read by another op of the loss
])
def test_softmax_and_crossentropy_fuse_only_when_exactly_the_pattern(loss, one_hot, fused):
    x, y = _data()
    target = np.eye(3, dtype=np.float32)[y] if one_hot else y
    model = _check(LinearMLP, _sparse(loss=loss), x, target)
    assert ("SoftmaxCrossentropy" in _names(model)) is fused


def test_saturated_probabilities_match_the_eager_clip():
    """Large logits: many rows' label probability is below epsilon or above 1 - epsilon, where
    the clip stops the row's gradient; the others still move the weights."""
    x, y = _data()
    model = _check(LinearMLP, _sparse(), x * 30.0, y)
    assert "SoftmaxCrossentropy" in _names(model)
    p = model.predict(x * 30.0, verbose=0)[np.arange(len(y)), y]
    assert ((p < 1e-7) | (p > 1 - 1e-7)).sum() > 20
    assert len(set(model.history.history["loss"])) > 1


def test_labels_out_of_range_give_no_loss_and_no_gradient_as_eagerly():
    """A label equal to the class count: a zero one-hot row (loss 0, no gradient)."""
    x, y = _data()
    y = y.copy()
    y[::7] = 3
    model = _check(LinearMLP, _sparse(), x, y)
    assert "SoftmaxCrossentropy" in _names(model)


@pytest.mark.parametrize("reduction, fused", [("sum_over_batch_size", True), ("sum", False)])
def test_the_loss_mean_fuses_only_when_a_sum_is_divided_by_a_constant(reduction, fused):
    x, y = _data()
    loss = lambda: lamina.losses.SparseCategoricalCrossentropy(reduction=reduction)  # noqa: E731
    model = _check(LinearMLP, lambda: dict(optimizer=lamina.optimizers.SGD(0.01), loss=loss()), x, y)
    assert ("MeanTail" in _names(model)) is fused


def test_sample_weights_replay_through_the_fused_groups():
    x, y = _data()
    weights = np.random.default_rng(3).random(len(x)).astype(np.float32)
    compiled, eager = _train_both(LinearMLP, _sparse(), dict(batch_size=16, epochs=3, sample_weight=weights), x, y)
    assert _replayed(compiled[0])
    _assert_same_training(compiled, eager)
    assert "Affine" in _names(compiled[0])



class _TwoRelusAdded(lamina.Model):
    """``relu(a) + relu(b)``: the add's VJP hands both relus the same gradient array, so
    neither may change it in place."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.left, self.right, self.out = Linear(6), Linear(6), Linear(3)

    def call(self, inputs):
        return ops.softmax(self.out(ops.relu(self.left(inputs)) + ops.relu(self.right(inputs))))


def test_relus_sharing_one_gradient_array_do_not_change_it_in_place():
    x, y = _data()
    x = x - 0.5  # both signs, so the two relus mask different units
    model = _check(_TwoRelusAdded, _sparse(), x, y)
    relu = [k for k in _kernels(model) if type(k).__name__ == "Relu"]
    assert len(relu) == 4 and not any(k.owns_gradient for k in relu)


def _written_out(y_true, y_pred):
    """The sparse crossentropy written as the composite: one-hot, crossentropy, sum / 16."""
    per_row = ops.categorical_crossentropy(ops.one_hot(ops.cast(y_true, "int32"), 3), y_pred)
    return ops.divide_no_nan(ops.sum(per_row), 16.0)


def test_the_composite_forms_fuse_too():
    x, y = _data(96)  # whole batches of 16: the division by 16 is the mean
    model = _check(LinearMLP, _sparse(loss=_written_out), x, y)
    kernels = _kernels(model)
    assert {"SoftmaxCrossentropy", "MeanTail"} <= _names(model)
    tails = [k for k in kernels if type(k).__name__ == "MeanTail"]
    assert tails and all(k.wide for k in tails)  # the division's form (a scalar loss is not averaged again)
