"""``keras.utils.pad_sequences`` against Keras 3 (every argument, the errors), and
``keras.utils.timeseries_dataset_from_array``: Keras builds it on TensorFlow or Grain, neither
of which the Keras oracle has, so it is held to Keras's documented examples, to the rule its
code follows (window ``i`` is ``data[start + p_i + k * sampling_rate]``, its target
``targets[start + p_i]``, the starts ``p_i`` every ``sequence_stride`` steps, shuffled by
``np.random.RandomState(seed)``) and to its argument checks."""
import numpy as np
import pytest

import lamina
from lamina.utils import pad_sequences, timeseries_dataset_from_array

PAD = """
def attempt(call):
    try:
        out = call()
        return {"values": out, "dtype": str(out.dtype), "shape": list(out.shape)}
    except (ValueError, TypeError) as error:
        return "raised " + type(error).__name__
seqs = [[1], [2, 3], [4, 5, 6], []]
steps = [np.arange(6.0).reshape(3, 2), np.arange(2.0).reshape(1, 2)]
result = [attempt(lambda: K.utils.pad_sequences(seqs)),
          attempt(lambda: K.utils.pad_sequences(seqs, value=-1)),
          attempt(lambda: K.utils.pad_sequences(seqs, padding="post")),
          attempt(lambda: K.utils.pad_sequences(seqs, maxlen=2)),
          attempt(lambda: K.utils.pad_sequences(seqs, maxlen=2, truncating="post")),
          attempt(lambda: K.utils.pad_sequences(seqs, maxlen=5, padding="post", truncating="post", value=9)),
          attempt(lambda: K.utils.pad_sequences(seqs, dtype="float64", value=0.5)),
          attempt(lambda: K.utils.pad_sequences([[1.7, 2.2]], maxlen=3)),
          attempt(lambda: K.utils.pad_sequences([[1.7, 2.2]], maxlen=3, dtype="float32", value=np.nan)),
          attempt(lambda: K.utils.pad_sequences(steps, maxlen=2)),
          attempt(lambda: K.utils.pad_sequences(steps, padding="post", value=-2.0, dtype="float32")),
          attempt(lambda: K.utils.pad_sequences((np.array([3, 4]), (5,)), maxlen=3)),
          attempt(lambda: K.utils.pad_sequences(seqs, padding="middle")),
          attempt(lambda: K.utils.pad_sequences(seqs[:3], truncating="end", maxlen=1)),
          attempt(lambda: K.utils.pad_sequences([1, 2])),
          attempt(lambda: K.utils.pad_sequences(5)),
          attempt(lambda: K.utils.pad_sequences(seqs, value="x")),
          attempt(lambda: K.utils.pad_sequences([np.ones((2, 2)), np.ones((2, 3))])),
          attempt(lambda: K.utils.pad_sequences([[1, 2], []], maxlen=1))]
"""


def test_pad_sequences_matches_keras(keras_oracle):
    ours, _ = keras_oracle.compare(PAD)
    assert ours[0]["values"].tolist() == [[0, 0, 1], [0, 2, 3], [4, 5, 6], [0, 0, 0]]


def test_pad_sequences_keeps_strings_with_dtype_object():
    padded = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert padded.tolist() == [["a", "b"], ["<pad>", "c"]]


def test_pad_sequences_refuses_a_bad_maxlen_and_nothing_to_measure():
    with pytest.raises(ValueError, match="maxlen must be None or a non-negative int"):
        pad_sequences([[1]], maxlen=-1)
    with pytest.raises(ValueError, match="no sequences and no maxlen"):
        pad_sequences([])
    assert pad_sequences([], maxlen=3).shape == (0, 3)
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)  # Keras fails to broadcast here


# --- timeseries_dataset_from_array --------------------------------------------------------------------
def windows(dataset) -> list:
    return [np.asarray(w).tolist() for batch in dataset for w in (batch[0] if isinstance(batch, tuple) else batch)]


def reference(data, targets, length, stride=1, rate=1, start=None, end=None):
    """The windows and targets by the rule of Keras's code, in order."""
    start, end = start or 0, len(data) if end is None else end
    count = end - start - (length - 1) * rate
    if targets is not None:
        count = min(count, len(targets))
    starts = range(0, max(count, 0), stride)
    cut = [data[start + p + np.arange(length) * rate].tolist() for p in starts]
    return cut, None if targets is None else [np.asarray(targets)[start + p].tolist() for p in starts]


def test_keras_documented_example_1():
    dataset = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2,
                                            sequence_stride=3)
    got = windows(dataset)
    assert got[0] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18] and got[1] == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert got[2] == [6, 8, 10, 12, 14, 16, 18, 20, 22, 24] and got[-1] == [78, 80, 82, 84, 86, 88, 90, 92, 94, 96]


def test_keras_documented_examples_2_and_3():
    data = np.random.default_rng(0).standard_normal(50)
    inputs, targets = next(iter(timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)))
    assert np.array_equal(inputs[0].numpy(), data[:10]) and np.array_equal(targets[0].numpy(), data[10])
    x, y = np.arange(100), np.arange(100) * 2
    inputs = timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20)
    outputs = timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20)
    first_in, first_out = next(iter(inputs)), next(iter(outputs))
    assert np.array_equal(first_in[0].numpy(), x[:20]) and np.array_equal(first_out[1].numpy(), y[20:40])


@pytest.mark.parametrize("arguments", [
    {"length": 5}, {"length": 4, "stride": 3, "rate": 2}, {"length": 3, "start": 4, "end": 30},
    {"length": 6, "rate": 3, "start": 2}, {"length": 2, "end": 9}, {"length": 40}, {"length": 3, "targets": 12},
])
@pytest.mark.parametrize("batch_size", [None, 1, 7, 128])
def test_windows_and_targets_follow_keras_rule(arguments, batch_size):
    data = np.arange(40.0 * 3).reshape(40, 3)
    targets = np.arange(100, 100 + arguments.get("targets", 40))
    expected, expected_targets = reference(data, targets, arguments["length"], arguments.get("stride", 1),
                                           arguments.get("rate", 1), arguments.get("start"), arguments.get("end"))
    dataset = timeseries_dataset_from_array(data, targets, arguments["length"], arguments.get("stride", 1),
                                            arguments.get("rate", 1), batch_size, start_index=arguments.get("start"),
                                            end_index=arguments.get("end"))
    batches = list(dataset)
    got = [w.tolist() for x, _ in batches for w in (x.numpy() if batch_size else [x.numpy()])]
    got_targets = [t for _, y in batches for t in (y.numpy().tolist() if batch_size else [y.numpy().tolist()])]
    assert got == expected and got_targets == expected_targets
    if batch_size:
        assert [len(x) for x, _ in batches] == [min(batch_size, len(expected) - i)
                                                for i in range(0, len(expected), batch_size)]
        assert all(x.dtype == "float64" and y.dtype == "int64" for x, y in batches)


def test_shuffle_draws_every_window_once_with_its_target_repeatably_by_seed():
    data, targets = np.arange(200), np.arange(200) * 10
    def drawn(seed):
        dataset = timeseries_dataset_from_array(data, targets, 4, batch_size=16, shuffle=True, seed=seed)
        return [(w.tolist(), int(t)) for x, y in dataset for w, t in zip(x.numpy(), y.numpy())]
    first = drawn(3)
    assert sorted(first) == [(list(range(i, i + 4)), 10 * i) for i in range(197)]
    assert first == drawn(3) and first != drawn(4) and [w[0] for w, _ in first] != list(range(197))
    lamina.random.set_seed(5)
    unseeded = timeseries_dataset_from_array(data, None, 4, batch_size=None, shuffle=True)
    assert sorted(windows(unseeded.batch(8))) == [list(range(i, i + 4)) for i in range(197)]


def test_the_dataset_trains_a_model():
    series = np.sin(np.arange(300) / 10.0).astype("float32")
    dataset = timeseries_dataset_from_array(series[:-8], series[8:], sequence_length=8, batch_size=32)
    model = lamina.Sequential([lamina.Input((8,)), lamina.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert model.predict(dataset, verbose=0).shape == (292 - 7, 1)


@pytest.mark.parametrize("arguments, words", [
    ({"start_index": -1}, "start_index must be at least 0"), ({"start_index": 20}, "start_index must be"),
    ({"start_index": 5, "end_index": 5}, "end_index must be above start_index"),
    ({"end_index": 20}, "end_index must be above 0 and below"), ({"end_index": -2}, "end_index must be above 0"),
    ({"sampling_rate": 0}, "sampling_rate must be an int of at least 1"),
    ({"sampling_rate": 20}, "sampling_rate must be below the length"),
    ({"sequence_stride": 0}, "sequence_stride must be an int of at least 1"),
    ({"sequence_stride": 25}, "sequence_stride must be below"), ({"batch_size": 0}, "batch_size must be None or"),
    ({"sequence_length": 0}, "sequence_length must be an int"),
])
def test_arguments_keras_refuses_are_refused(arguments, words):
    call = {"sequence_length": 3, **arguments}
    with pytest.raises(ValueError, match=words):
        timeseries_dataset_from_array(np.arange(20), None, **call)
