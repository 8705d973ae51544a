"""``Dataset.shuffle`` held to TensorFlow's documented buffer semantics (TensorFlow itself is
not installed, and its orders come from another generator, so orders are not compared with it).

The bound tested: with a buffer of B, the element at input position i is emitted at output
position p >= i - B + 1 (the buffer has read only the first B + p elements when output p is
drawn), and the bound is reached: element B - 1 can come out first."""
import numpy as np
import pytest

import lamina as tf
from lamina.data.shuffle import buffer_shuffle

Dataset = tf.data.Dataset


def order(ds) -> list:
    return [int(e) for e in ds.as_numpy_iterator()]


def test_each_iteration_is_a_permutation_and_reshuffles():
    ds = Dataset.from_tensor_slices(np.arange(100)).shuffle(100, seed=7)
    first, second = order(ds), order(ds)
    assert sorted(first) == sorted(second) == list(range(100))
    assert first != second and first != list(range(100))


def test_a_seed_without_reshuffling_repeats_the_order():
    ds = Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=7, reshuffle_each_iteration=False)
    assert order(ds) == order(ds) != list(range(50))
    again = Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=7, reshuffle_each_iteration=False)
    assert order(again) == order(ds)
    unseeded = Dataset.from_tensor_slices(np.arange(50)).shuffle(50, reshuffle_each_iteration=False)
    assert order(unseeded) == order(unseeded)  # one order, drawn at the first iteration


def test_the_same_seed_gives_the_same_sequence_of_orders():
    def orders():
        ds = Dataset.range(30).shuffle(10, seed=11)
        return [order(ds) for _ in range(3)]
    assert orders() == orders()


def test_the_global_seed_makes_unseeded_shuffles_repeatable():
    def run():
        ds = Dataset.from_tensor_slices(np.arange(40)).shuffle(40)
        return order(ds), order(ds)
    tf.random.set_seed(5)
    a = run()
    tf.random.set_seed(5)
    assert run() == a and a[0] != a[1]
    tf.keras.utils.set_random_seed(5)
    assert run() == a
    assert run() != a  # not reseeded: the global generator has moved on


def test_a_buffer_of_one_keeps_the_order():
    assert order(Dataset.range(20).shuffle(1, seed=3)) == list(range(20))
    assert order(Dataset.from_tensor_slices(np.arange(20)).shuffle(1, seed=3)) == list(range(20))


def test_a_small_buffer_moves_elements_only_within_its_window():
    buffer_size, n = 4, 200
    earliest_gap = n
    for seed in range(20):
        out = order(Dataset.from_tensor_slices(np.arange(n)).shuffle(buffer_size, seed=seed))
        assert sorted(out) == list(range(n))
        position = {element: p for p, element in enumerate(out)}
        gaps = [position[i] - (i - buffer_size + 1) for i in range(n)]
        assert min(gaps) >= 0  # never before i - B + 1
        earliest_gap = min(earliest_gap, min(gaps))
    assert earliest_gap == 0  # the bound is reached
    first_outputs = {order(Dataset.range(n).shuffle(buffer_size, seed=s))[0] for s in range(40)}
    assert first_outputs == {0, 1, 2, 3}  # the first output is any of the first B elements


def test_a_buffer_at_least_the_dataset_gives_every_position_to_every_element():
    # a uniform permutation: over many seeds, element 0 lands in each of the 5 places
    places = {order(Dataset.range(5).shuffle(100, seed=s)).index(0) for s in range(60)}
    assert places == {0, 1, 2, 3, 4}


def test_rows_and_elements_shuffle_into_the_same_order():
    x = np.arange(300)
    rows = Dataset.from_tensor_slices(x).shuffle(37, seed=4)  # shuffles row numbers
    elements = Dataset.from_tensor_slices(x).map(lambda v: v).shuffle(37, seed=4)  # shuffles elements
    assert order(rows) == order(elements)
    batched = [b.tolist() for b in Dataset.from_tensor_slices(x).shuffle(37, seed=4).batch(64).as_numpy_iterator()]
    assert sum(batched, []) == order(Dataset.from_tensor_slices(x).shuffle(37, seed=4))


def test_shuffle_then_repeat_reshuffles_each_pass_and_repeat_then_shuffle_mixes_passes():
    passes = order(Dataset.range(20).shuffle(20, seed=2).repeat(2))
    assert sorted(passes[:20]) == sorted(passes[20:]) == list(range(20)) and passes[:20] != passes[20:]
    mixed = order(Dataset.from_tensor_slices(np.arange(20)).repeat(2).shuffle(40, seed=2))
    assert sorted(mixed) == sorted(list(range(20)) * 2) and sorted(mixed[:20]) != list(range(20))


def test_shuffle_keeps_only_its_buffer():
    pulled = []

    def source():
        for i in range(1000):
            pulled.append(i)
            yield i
    stream = buffer_shuffle(source(), 10, np.random.default_rng(0))
    next(stream)
    assert len(pulled) == 11  # the buffer's 10 and the one that takes the emitted element's place


@pytest.mark.parametrize("seed", [0, 1])
def test_shuffled_pairs_stay_paired(seed):
    ds = Dataset.from_tensor_slices((np.arange(50), np.arange(50) * 3)).shuffle(16, seed=seed).batch(7)
    for x, y in ds:
        np.testing.assert_array_equal(y.numpy(), x.numpy() * 3)
