"""lamina.data (``tf.data`` under ``import lamina as tf``): each source and transformation
against hand-computed elements, TensorFlow's cardinality and length rules, and the errors."""
import numpy as np
import pytest

import lamina as tf
from lamina.data import structure

Dataset = tf.data.Dataset


def values(ds):
    """The elements as plain Python values (lists and numbers), tuples and dicts kept."""
    return [structure.map_structure(lambda leaf: leaf.tolist(), e) for e in ds._iterate()]


def test_range_batch_gives_the_exact_batches_and_drop_remainder_drops_the_last():
    assert values(Dataset.range(10).batch(3)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert values(Dataset.range(10).batch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(Dataset.range(10).batch(3)) == 4 and len(Dataset.range(10).batch(3, drop_remainder=True)) == 3
    assert values(Dataset.range(2, 11, 4)) == [2, 6, 10] and values(Dataset.range(5, 0, -2)) == [5, 3, 1]
    first = next(iter(Dataset.range(3)))
    assert isinstance(first, tf.Tensor) and first.dtype == "int64" and first.shape == ()


def test_from_tensor_slices_of_tuples_dicts_nested_and_lists():
    x = np.arange(6.0).reshape(3, 2)
    y = np.array([7, 8, 9])
    assert values(Dataset.from_tensor_slices((x, y))) == [([0.0, 1.0], 7), ([2.0, 3.0], 8), ([4.0, 5.0], 9)]
    nested = Dataset.from_tensor_slices({"a": x, "b": (y, [1.5, 2.5, 3.5])})
    assert values(nested)[1] == {"a": [2.0, 3.0], "b": (8, 2.5)}
    as_tensors = next(iter(nested))
    assert isinstance(as_tensors["b"][0], tf.Tensor)
    listed = Dataset.from_tensor_slices([[1, 2], [3, 4]])  # a list is one array, as in TensorFlow
    assert values(listed) == [[1, 2], [3, 4]]
    stacked = Dataset.from_tensor_slices([np.zeros((3, 2)), np.ones((3, 2))])  # a list of arrays: one array
    assert len(stacked) == 2 and stacked.element_spec.shape == (3, 2)
    spec = nested.element_spec
    assert spec["a"].shape == (2,) and spec["a"].dtype == "float64"  # NumPy's dtype is kept
    assert spec["b"][1].dtype == "float32" and listed.element_spec.dtype == "int32"  # Python data: TF's dtypes
    assert len(nested) == 3 and int(nested.cardinality()) == 3


def test_from_tensor_slices_refuses_different_lengths_naming_the_shapes():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(4,\)"):
        Dataset.from_tensor_slices((np.zeros((3, 2)), np.zeros(4)))
    with pytest.raises(ValueError, match="scalar"):
        Dataset.from_tensor_slices(np.float32(1.0))


def test_a_bare_dataset_says_how_to_make_one():
    with pytest.raises(TypeError, match=r"Dataset\(\) holds no elements: make a dataset with "
                                        r"Dataset.from_tensor_slices"):
        list(tf.data.Dataset())


def test_from_tensors_is_one_element_and_batch_of_its_rows_after_unbatch():
    ds = Dataset.from_tensors((np.arange(4), np.ones((4, 2))))
    assert len(ds) == 1 and values(ds)[0][0] == [0, 1, 2, 3]
    assert values(ds.unbatch().batch(3)) == [([0, 1, 2], [[1.0, 1.0]] * 3), ([3], [[1.0, 1.0]])]
    assert values(Dataset.range(7).batch(3).unbatch()) == list(range(7))
    assert len(ds.unbatch()) == 4 and len(Dataset.range(7).batch(3, drop_remainder=True).unbatch()) == 6
    assert int(Dataset.range(7).batch(3).unbatch().cardinality()) == tf.data.UNKNOWN_CARDINALITY


def test_repeat_take_skip():
    assert values(Dataset.range(3).repeat(2).take(5)) == [0, 1, 2, 0, 1]
    assert values(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert values(Dataset.range(5).skip(2)) == [2, 3, 4] and values(Dataset.range(5).skip(-1)) == []
    assert values(Dataset.range(5).take(-1)) == [0, 1, 2, 3, 4] and values(Dataset.range(5).take(0)) == []
    # a batch straddles the passes of a repeat, as in TensorFlow (rows read through the row plan)
    rows = Dataset.from_tensor_slices(np.arange(5)).repeat(2).batch(3)
    assert values(rows) == [[0, 1, 2], [3, 4, 0], [1, 2, 3], [4]]
    assert values(Dataset.from_tensor_slices(np.arange(10)).skip(3).take(4).batch(3)) == [[3, 4, 5], [6]]
    assert values(Dataset.range(0).repeat()) == []  # an empty dataset repeated forever is empty


def test_cardinality_and_len_follow_tensorflow():
    ds = Dataset.range(10)
    assert tf.data.INFINITE_CARDINALITY == -1 and tf.data.UNKNOWN_CARDINALITY == -2
    assert int(ds.repeat().cardinality()) == tf.data.INFINITE_CARDINALITY
    assert int(ds.filter(lambda x: x > 3).cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert int(ds.repeat(3).cardinality()) == 30 and int(ds.repeat().take(4).cardinality()) == 4
    assert int(ds.skip(4).cardinality()) == 6 and int(ds.skip(20).cardinality()) == 0
    assert int(ds.batch(4).repeat(2).cardinality()) == 6
    assert int(tf.data.experimental.cardinality(ds.shuffle(3))) == 10
    with pytest.raises(TypeError, match="infinite"):
        len(ds.repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(ds.filter(lambda x: x > 3))
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE == -1


def test_map_passes_a_tuple_as_arguments_and_a_dict_as_one():
    ds = Dataset.from_tensor_slices((np.array([1.0, 2.0]), np.array([10, 20])))
    assert values(ds.map(lambda x, y: x * 2)) == [2.0, 4.0]
    assert values(ds.map(lambda x, y: {"sum": x + tf.cast(y, "float64"), "y": y})) == [
        {"sum": 11.0, "y": 10}, {"sum": 22.0, "y": 20}]
    keyed = Dataset.from_tensor_slices({"a": np.array([1, 2]), "b": np.array([3, 4])})
    assert values(keyed.map(lambda d: d["a"] * d["b"])) == [3, 8]
    assert values(keyed.map(lambda d: [d["a"], d["b"]])) == [(1, 3), (2, 4)]  # a list of tensors: a tuple
    assert values(Dataset.range(3).map(lambda x: 1.5)) == [1.5, 1.5, 1.5]
    assert next(iter(Dataset.range(1).map(lambda x: 1.5))).dtype == "float32"
    assert values(ds.batch(2).map(lambda x, y: (x / 2, y))) == [([0.5, 1.0], [10, 20])]


def test_filter_enumerate_concatenate_zip():
    assert values(Dataset.range(10).filter(lambda x: x % 3 == 0)) == [0, 3, 6, 9]
    pairs = Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 10)).filter(lambda x, y: y > 25)
    assert values(pairs) == [(3, 30), (4, 40), (5, 50)]
    with pytest.raises(ValueError, match="scalar bool"):
        values(Dataset.range(3).filter(lambda x: x + 1))
    assert values(Dataset.range(3).enumerate(start=5)) == [(5, 0), (6, 1), (7, 2)]
    assert values(Dataset.range(2).concatenate(Dataset.range(5, 7))) == [0, 1, 5, 6]
    assert len(Dataset.range(2).concatenate(Dataset.range(5, 7))) == 4
    a, b = Dataset.range(3), Dataset.range(10, 20)
    assert values(Dataset.zip((a, b))) == [(0, 10), (1, 11), (2, 12)] == values(Dataset.zip(a, b))
    assert values(Dataset.zip({"x": a, "y": b}).take(1)) == [{"x": 0, "y": 10}]
    assert len(Dataset.zip((a, b))) == 3 and int(Dataset.zip((a.repeat(), b.repeat())).cardinality()) == -1
    assert Dataset.range(4).reduce(np.int64(0), lambda state, x: state + x).numpy() == 6


def test_as_numpy_iterator_gives_numpy_values():
    out = list(Dataset.from_tensor_slices((np.arange(2.0), np.arange(2))).as_numpy_iterator())
    assert isinstance(out[0][0], np.float64) and isinstance(out[0][1], np.int64)
    batch = next(Dataset.range(4).batch(2).as_numpy_iterator())
    assert isinstance(batch, np.ndarray) and batch.tolist() == [0, 1]


def test_element_spec_of_batches_and_maps():
    ds = Dataset.from_tensor_slices((np.zeros((10, 3), "float32"), np.zeros(10, "int64")))
    x_spec, y_spec = ds.batch(4).element_spec
    assert x_spec.shape == (None, 3) and x_spec.dtype == "float32" and y_spec.shape == (None,)
    assert ds.batch(4, drop_remainder=True).element_spec[0].shape == (4, 3)
    assert ds.map(lambda x, y: x).element_spec.shape == (3,)
    index_spec, _ = ds.enumerate().element_spec
    assert index_spec.shape == () and index_spec.dtype == "int64"


def test_batch_of_array_rows_is_read_by_one_index_per_array_not_element_by_element(monkeypatch):
    x = np.arange(40.0).reshape(20, 2)
    ds = Dataset.from_tensor_slices((x, np.arange(20)))
    first = next(iter(ds.batch(8)._iterate()))
    assert np.shares_memory(first[0], x)  # in order: a slice, a view of the user's array

    def refuse(elements):
        raise AssertionError("the rows went through Python elements")
    monkeypatch.setattr(structure, "stack", refuse)
    shuffled = list(ds.shuffle(20, seed=1).repeat(2).batch(8)._iterate())
    assert [len(b[1]) for b in shuffled] == [8, 8, 8, 8, 8]
    np.testing.assert_array_equal(shuffled[0][0], x[shuffled[0][1]])  # x and y rows stay paired


def test_datasets_are_lazy_descriptions():
    calls = []
    ds = Dataset.range(10**15).map(lambda x: calls.append(1) or x)  # never materialized
    assert calls == [] and values(ds.repeat().take(3)) == [0, 1, 2] and len(calls) == 3
    big = Dataset.from_tensor_slices(np.zeros((1000, 3))).repeat()
    assert len(values(big.batch(600).take(3))) == 3


def test_argument_errors():
    ds = Dataset.range(4)
    with pytest.raises(ValueError, match="batch_size"):
        ds.batch(0)
    with pytest.raises(TypeError, match="batch_size"):
        ds.batch("4")
    with pytest.raises(ValueError, match="buffer_size"):
        ds.shuffle(0)
    with pytest.raises(TypeError, match="datasets"):
        Dataset.zip((ds, [1, 2]))
    with pytest.raises(ValueError, match="different shapes"):
        values(Dataset.from_generator(lambda: iter([np.zeros(2), np.zeros(3)])).batch(2))
    assert ds.prefetch(tf.data.AUTOTUNE) is ds


def test_from_generator_calls_the_function_at_each_iteration_and_casts_to_the_signature():
    def rows():
        for i in range(3):
            yield np.full(2, i, np.float64), i
    signature = (tf.TensorSpec(shape=(2,), dtype=tf.float32), tf.TensorSpec(shape=(), dtype=tf.int32))
    ds = Dataset.from_generator(rows, output_signature=signature)
    assert values(ds.batch(2)) == [([[0.0, 0.0], [1.0, 1.0]], [0, 1]), ([[2.0, 2.0]], [2])]
    x, y = next(iter(ds))
    assert x.dtype == "float32" and y.dtype == "int32" and len(values(ds)) == 3
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY


def test_cache_replays_the_first_iteration():
    calls = []
    ds = Dataset.range(4).map(lambda x: calls.append(1) or x * 2).cache()
    assert values(ds) == values(ds) == [0, 2, 4, 6] and len(calls) == 4  # the map ran once
    frozen = Dataset.from_tensor_slices(np.arange(30)).shuffle(30).cache()  # row path: the order is kept
    assert values(frozen) == values(frozen) and sorted(values(frozen)) == list(range(30))
    fresh = Dataset.from_tensor_slices(np.arange(30)).shuffle(30, seed=3)
    assert values(fresh) != values(fresh)
