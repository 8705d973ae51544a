"""Properties of fit that a loop could silently lose: shuffling (the batch order and the trained
weights it gives, repeatable from the seed) and class_weight times sample_weight."""
import numpy as np
import pytest

import lamina
from lamina import layers


def classifier(seed=5):
    lamina.backend.clear_session()
    lamina.random.set_seed(seed)
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(8, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4))
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)


def batch_rows(model, **fit_kwargs):
    """The rows of each training batch, in the order fit trains on them (fit's own loop)."""
    seen = []
    train_batch = model._train_batch

    def spy(x, y, index, sample_weight):
        seen.append(np.arange(len(x))[index].tolist())
        return train_batch(x, y, index, sample_weight)
    model._train_batch = spy
    x, y = data()
    model.fit(x, y, verbose=0, **fit_kwargs)
    return seen


def trained(shuffle, seed=5, fit_seed=7, epochs=3, fast=True):
    model = classifier(seed)
    if not fast:
        model._plan_checked = True  # the general path (layer by layer)
    lamina.random.set_seed(fit_seed)
    x, y = data()
    model.fit(x, y, epochs=epochs, batch_size=8, shuffle=shuffle, verbose=0)
    return model.get_weights()


def same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


def test_shuffle_false_trains_on_the_rows_in_order():
    order = batch_rows(classifier(), epochs=2, batch_size=16, shuffle=False)
    expected = [list(range(16)), list(range(16, 32)), list(range(32, 40))]
    assert order == expected * 2


def test_shuffle_true_draws_a_fresh_permutation_each_epoch():
    order = batch_rows(classifier(), epochs=3, batch_size=16, shuffle=True)
    epochs = [[row for batch in order[i:i + 3] for row in batch] for i in range(0, 9, 3)]
    assert all(sorted(rows) == list(range(40)) for rows in epochs)  # every row once per epoch
    assert all(rows != list(range(40)) for rows in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    assert [len(b) for b in order] == [16, 16, 8] * 3


def test_shuffle_batch_permutes_within_batches_only():
    order = batch_rows(classifier(), epochs=1, batch_size=16, shuffle="batch")
    assert [sorted(b) for b in order] == [list(range(16)), list(range(16, 32)), list(range(32, 40))]
    assert order[0] != list(range(16))


def test_the_same_seed_gives_the_same_order_another_seed_another():
    model = classifier()
    lamina.random.set_seed(3)
    first = batch_rows(model, epochs=1, batch_size=8)
    model = classifier()
    lamina.random.set_seed(3)
    again = batch_rows(model, epochs=1, batch_size=8)
    model = classifier()
    lamina.random.set_seed(4)
    other = batch_rows(model, epochs=1, batch_size=8)
    assert first == again and first != other


@pytest.mark.parametrize("fast", [True, False], ids=["fused_plan", "general_path"])
def test_shuffling_changes_the_trained_weights_and_the_seed_repeats_them_bit_for_bit(fast):
    shuffled, repeated = trained(True, fast=fast), trained(True, fast=fast)
    other_seed = trained(True, fit_seed=8, fast=fast)
    in_order = trained(False, fast=fast)
    assert same(shuffled, repeated)
    assert not same(shuffled, other_seed) and not same(shuffled, in_order)
    assert same(in_order, trained(False, fit_seed=8, fast=fast))  # no shuffling: the seed does not matter


def test_shuffle_false_equals_train_on_batch_over_consecutive_slices():
    fitted = trained(False, epochs=2)
    model = classifier()
    x, y = data()
    for _ in range(2):
        for start in range(0, 40, 8):
            model.train_on_batch(x[start:start + 8], y[start:start + 8])
    assert same(fitted, model.get_weights())


@pytest.mark.parametrize("fast", [True, False], ids=["fused_plan", "general_path"])
def test_class_weight_with_sample_weight_weighs_each_sample_by_their_product(fast):
    x, y = data()
    class_weight = {0: 0.5, 1: 2.0, 2: 1.5}
    sample_weight = np.random.default_rng(1).uniform(0.1, 3.0, len(y))

    def fit(**weights):
        model = classifier()
        if not fast:
            model._plan_checked = True
        history = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, **weights)
        return model.get_weights(), history.history["loss"]
    both, both_loss = fit(class_weight=class_weight, sample_weight=sample_weight)
    product = np.array([class_weight[c] for c in y]) * sample_weight
    by_product, product_loss = fit(sample_weight=product)
    for a, b in zip(both, by_product):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(both_loss, product_loss, rtol=1e-6)
    class_only, _ = fit(class_weight=class_weight)
    sample_only, _ = fit(sample_weight=sample_weight)
    assert not np.allclose(both[0], class_only[0]) and not np.allclose(both[0], sample_only[0])


def test_train_on_batch_multiplies_class_weight_and_sample_weight():
    x, y = data(8)
    class_weight, sample_weight = {0: 0.5, 1: 2.0, 2: 1.5}, np.linspace(0.5, 2.0, 8)
    a, b = classifier(), classifier()
    loss_both = a.train_on_batch(x, y, sample_weight=sample_weight, class_weight=class_weight)
    loss_product = b.train_on_batch(x, y, sample_weight=np.array([class_weight[c] for c in y]) * sample_weight)
    np.testing.assert_allclose(loss_both, loss_product, rtol=1e-6)
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("n, split, n_train", [(10, 0.25, 7), (7, 0.5, 3), (9, 0.34, 5)])
def test_validation_split_takes_the_floor_of_the_training_share(n, split, n_train):
    """Keras's split_at = floor(n * (1 - validation_split)): 10 rows at 0.25 train on 7 (not 8)
    and validate on the last 3."""
    x, y = data(n)
    model = classifier()
    sizes = []
    train_batch = model._train_batch

    def spy(xb, yb, index, sample_weight):
        sizes.append(len(np.arange(len(xb))[index]))
        return train_batch(xb, yb, index, sample_weight)
    model._train_batch = spy
    history = model.fit(x, y, epochs=1, batch_size=64, validation_split=split, verbose=0)
    assert sizes == [n_train]
    np.testing.assert_allclose(history.history["val_loss"][0],
                               model.evaluate(x[n_train:], y[n_train:], verbose=0)[0], rtol=1e-6)
