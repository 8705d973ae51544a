"""to_categorical, normalize and split_dataset."""
import numpy as np
import pytest

import lamina
from lamina.utils import normalize, split_dataset, to_categorical


def test_to_categorical_infers_the_class_count():
    expected = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=float)
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), expected)
    assert to_categorical([0, 2, 1]).dtype == np.float64  # as Keras for NumPy input


def test_to_categorical_squeezes_a_trailing_one_and_keeps_other_axes():
    assert to_categorical(np.array([[1], [0]]), num_classes=3).shape == (2, 3)
    out = to_categorical(np.array([[0, 1], [2, 1]]), num_classes=4)
    assert out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out[1, 0], [0, 0, 1, 0])
    assert to_categorical(np.array([1]), num_classes=2).shape == (1, 2)  # 1-D (1,) is not squeezed
    assert to_categorical(2, num_classes=3).tolist() == [0, 0, 1]


def test_to_categorical_bad_labels():
    with pytest.raises(ValueError, match=r"got label 3, which does not fit num_classes=3"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match=r"labels >= 0, got -1"):
        to_categorical([0, -1])
    with pytest.raises(ValueError, match=r"integer class labels, got values such as \[0.5\]"):
        to_categorical([0, 0.5])


def test_normalize_l2_and_l1_along_an_axis():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0, 0], [1 / np.sqrt(2), -1 / np.sqrt(2)]])
    np.testing.assert_allclose(normalize(x, axis=-1, order=1), [[3 / 7, 4 / 7], [0, 0], [0.5, -0.5]])
    col = normalize(x, axis=0)
    np.testing.assert_allclose(col[:, 0], np.array([3.0, 0.0, 1.0]) / np.sqrt(10))
    with pytest.raises(ValueError, match=r"normalize got axis=2 for an array of shape \(3, 2\)"):
        normalize(x, axis=2)


def _rows(dataset):
    """A dataset's samples back as an array, or a tuple of arrays for tuple samples."""
    samples = list(dataset.as_numpy_iterator())
    return tuple(np.stack(part) for part in zip(*samples)) if isinstance(samples[0], tuple) else np.stack(samples)


def test_split_dataset_array_fraction_and_count():
    data = np.arange(20).reshape(10, 2)
    left, right = split_dataset(data, left_size=0.8)
    assert isinstance(left, lamina.data.Dataset) and isinstance(right, lamina.data.Dataset)  # as Keras's
    np.testing.assert_array_equal(_rows(left), data[:8])
    np.testing.assert_array_equal(_rows(right), data[8:])
    left, right = split_dataset(data, right_size=3)
    assert len(_rows(left)) == 7 and len(_rows(right)) == 3
    left, right = split_dataset(data, left_size=2, right_size=3)  # the middle is left out, as in Keras
    np.testing.assert_array_equal(_rows(left), data[:2])
    np.testing.assert_array_equal(_rows(right), data[7:])


def test_split_dataset_tuple_keeps_pairs_together_when_shuffled():
    x = np.arange(10)
    y = x * 10
    left, right = split_dataset((x, y), left_size=0.6, shuffle=True, seed=1)
    (x_left, y_left), (x_right, y_right) = _rows(left), _rows(right)
    assert len(x_left) == 6 and len(x_right) == 4
    np.testing.assert_array_equal(y_left, x_left * 10)
    np.testing.assert_array_equal(y_right, x_right * 10)
    assert sorted(np.concatenate([x_left, x_right]).tolist()) == list(range(10))
    again = split_dataset((x, y), left_size=0.6, shuffle=True, seed=1)
    np.testing.assert_array_equal(_rows(again[0])[0], x_left)


def test_split_dataset_takes_a_dataset_and_its_halves_batch_for_fit():
    x, y = np.arange(20, dtype="float32").reshape(10, 2), np.arange(10, dtype="float32")
    train, validation = split_dataset(lamina.data.Dataset.from_tensor_slices((x, y)), right_size=0.2)
    np.testing.assert_array_equal(_rows(validation)[1], y[8:])
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(train.batch(4), validation_data=validation.batch(4), epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "val_loss"]


@pytest.mark.parametrize("kwargs,error,match", [
    ({}, ValueError, r"needs left_size or right_size"),
    ({"left_size": 1.5}, ValueError, r"float left_size in \(0, 1\), got left_size=1.5"),
    ({"right_size": 10}, ValueError, r"int right_size in \(0, 10\) for 10 samples, got right_size=10"),
    ({"left_size": 0.7, "right_size": 0.5}, ValueError, r"left_size \+ right_size = 12 exceeds the 10 samples"),
    ({"left_size": "half"}, TypeError, r"left_size to be an int, a float or None, got 'half'"),
    ({"left_size": 0.01}, ValueError, r"leave the left split empty"),
])
def test_split_dataset_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        split_dataset(np.arange(10), **kwargs)


def test_split_dataset_bad_datasets():
    with pytest.raises(TypeError, match=r"tuple/list of NumPy arrays or a lamina.data.Dataset, got dict"):
        split_dataset({"x": np.arange(3)}, left_size=1)
    with pytest.raises(ValueError, match=r"same number of samples, got shapes \[\(3,\), \(4,\)\]"):
        split_dataset((np.arange(3), np.arange(4)), left_size=1)


def test_exported_from_lamina_utils():
    assert lamina.utils.to_categorical is to_categorical
    assert lamina.keras.utils.split_dataset is split_dataset
