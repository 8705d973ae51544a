"""fit / evaluate / predict semantics, History, progress output, callbacks."""
import re

import numpy as np
import pytest

import lamina
from lamina import layers


def classifier(n_in=4, n_out=3):
    model = lamina.Sequential([layers.Dense(8, activation="relu", input_shape=(n_in,)),
                               layers.Dense(n_out, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=100, n_in=4, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in))
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)


def test_history_keys_params_epochs():
    x, y = data()
    model = classifier()
    history = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.2, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1, 2]
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 3}  # 80 rows / 32 -> 3 steps
    assert history.model is model and model.history is history
    assert all(isinstance(v, float) for vs in history.history.values() for v in vs)


def test_validation_split_takes_last_rows_before_shuffling():
    x, y = data(n=10)
    model = classifier()
    seen = []

    class Spy(lamina.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            seen.append(batch)

    history = model.fit(x, y, epochs=1, validation_split=0.3, verbose=0, callbacks=[Spy()])
    expected = model.evaluate(x[7:], y[7:], verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(expected["loss"], rel=1e-6)
    assert history.params["steps"] == 1 and seen == [0]


def test_epoch_loss_is_sample_weighted_mean_of_batch_losses():
    x, y = data(n=10)
    model = classifier()
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


def test_evaluate_return_forms():
    x, y = data()
    model = classifier()
    loss, acc = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float) and 0 <= acc <= 1
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"accuracy": acc, "loss": loss}
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_accuracy_matches_argmax_by_hand():
    x, y = data()
    model = classifier()
    proba = model.predict(x, verbose=0)
    _, acc = model.evaluate(x, y, verbose=0)
    assert acc == pytest.approx(np.mean(proba.argmax(1) == y), abs=1e-7)


def test_predict_shapes_batches_and_on_batch_methods():
    x, y = data(n=70)
    model = classifier()
    proba = model.predict(x, batch_size=32, verbose=0)
    assert proba.shape == (70, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(x), proba, rtol=1e-6)
    np.testing.assert_allclose(model(x), proba, rtol=1e-5)
    loss, acc = model.test_on_batch(x, y)
    assert loss == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-5)
    result = model.train_on_batch(x, y, return_dict=True)
    assert set(result) == {"loss", "accuracy"}


def test_accuracy_resolves_from_shapes():
    x, y = data()
    for target, expected in [(y, "SparseCategoricalAccuracy"), (y[:, None], "SparseCategoricalAccuracy"),
                             (np.eye(3)[y], "CategoricalAccuracy")]:
        model = classifier()
        if target.ndim == 2 and target.shape[1] == 3:
            model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, target, epochs=1, verbose=0)
        (metric,) = model.metrics[1].metrics  # inside compile_metrics, as in Keras
        assert type(metric).__name__ == expected and metric.name == "accuracy"
    binary = lamina.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    binary.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["acc"])
    binary.fit(x, (y > 0).astype(float), epochs=1, verbose=0)
    (metric,) = binary.metrics[1].metrics
    assert type(metric).__name__ == "BinaryAccuracy" and metric.name == "acc"
    assert binary.metrics_names == ["loss", "compile_metrics"]  # Keras's names


def test_compile_spellings_are_equivalent():
    x, y = data()
    results = []
    for kwargs in [dict(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"]),
                   dict(loss=lamina.losses.sparse_categorical_crossentropy, optimizer=lamina.optimizers.SGD(),
                        metrics=[lamina.metrics.sparse_categorical_accuracy]),
                   dict(loss=lamina.losses.SparseCategoricalCrossentropy(), optimizer="sgd",
                        metrics=[lamina.metrics.SparseCategoricalAccuracy()])]:
        lamina.backend.clear_session()
        lamina.random.set_seed(5)
        model = classifier()
        model.compile(**kwargs)
        logs = model.fit(x, y, epochs=2, verbose=0).history
        results.append([logs.pop("loss"), *logs.values()])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    np.testing.assert_allclose(results[0], results[2], rtol=1e-6)


def test_learns_a_separable_problem():
    x, y = data(n=600)
    model = classifier()
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_callback_hooks_order_and_stop_training():
    x, y = data(n=20)
    calls = []

    class Recorder(lamina.callbacks.Callback):
        def on_train_begin(self, logs=None): calls.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): calls.append(f"epoch_begin {epoch}")
        def on_train_batch_begin(self, batch, logs=None): calls.append(f"batch_begin {batch}")
        def on_train_batch_end(self, batch, logs=None): calls.append(f"batch_end {batch} {sorted(logs)}")
        def on_test_begin(self, logs=None): calls.append("test_begin")
        def on_test_end(self, logs=None): calls.append("test_end")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch} {sorted(logs)}")
            self.model.stop_training = epoch == 1

        def on_train_end(self, logs=None): calls.append("train_end")

    history = classifier().fit(x, y, batch_size=10, epochs=5, verbose=0, validation_data=(x, y),
                               callbacks=[Recorder()])
    assert calls[:8] == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0 ['accuracy', 'loss']",
                         "batch_begin 1", "batch_end 1 ['accuracy', 'loss']", "test_begin", "test_end"]
    assert calls[8] == "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']"
    assert calls[-1] == "train_end" and history.epoch == [0, 1]


def test_batch_hook_alias_on_batch_end():
    x, y = data(n=20)
    batches = []

    class Old(lamina.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            batches.append(batch)

    classifier().fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[Old()])
    assert batches == [0, 1]


def test_verbose2_output_format(capsys):
    x, y = data()
    classifier().fit(x, y, epochs=2, batch_size=32, verbose=2, validation_split=0.2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    pattern = (r"^3/3 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - "
               r"val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$")
    assert re.match(pattern, lines[1]), lines[1]


def test_verbose1_output_format(capsys):
    x, y = data()
    classifier().fit(x, y, epochs=1, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch" not in out  # one epoch: no epoch header, as in Keras
    assert re.search(r"4/4 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", out), out


def test_evaluate_verbose2_format(capsys):
    x, y = data()
    classifier().evaluate(x, y, verbose=2)
    assert re.match(r"^4/4 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$",
                    capsys.readouterr().out.strip())


def test_inputs_of_any_dtype_and_pandas():
    pd = pytest.importorskip("pandas")
    x, y = data()
    model = classifier()
    model.fit((x * 10).astype(np.uint8), y, epochs=1, verbose=0)
    model.fit(x.astype(np.float16), y, epochs=1, verbose=0)
    model.fit(pd.DataFrame(x), pd.Series(y), epochs=1, verbose=0)
    model.fit(x.tolist(), y.tolist(), epochs=1, verbose=0)
    assert model.predict(pd.DataFrame(x), verbose=0).shape == (100, 3)


def test_shuffle_batch_and_no_shuffle_run():
    x, y = data()
    for shuffle in (False, "batch"):
        history = classifier().fit(x, y, epochs=1, shuffle=shuffle, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def test_initial_epoch_and_validation_freq():
    x, y = data()
    history = classifier().fit(x, y, epochs=4, initial_epoch=1, validation_data=(x, y), validation_freq=2,
                               verbose=0)
    assert history.epoch == [1, 2, 3]
    assert len(history.history["val_loss"]) == 2  # after epochs 2 and 4 (1-based)


def test_nan_inputs_give_nan_loss_not_silence():
    x, y = data()
    x[3, 0] = np.nan
    history = classifier().fit(x, y, epochs=1, shuffle=False, verbose=0)
    assert np.isnan(history.history["loss"][0])


def test_class_weight_equals_matching_sample_weight():
    x, y = data()
    a = classifier()
    lamina.random.set_seed(9)
    ha = a.fit(x, y, epochs=2, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, verbose=0, shuffle=False)
    lamina.backend.clear_session()
    lamina.random.set_seed(1234)
    b = classifier()
    hb = b.fit(x, y, epochs=2, sample_weight=np.array([1.0, 2.0, 0.5])[y], verbose=0, shuffle=False)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)
    with pytest.raises(ValueError, match=r"class_weight has no weight for class\(es\) \[2\]"):
        classifier().fit(x, y, class_weight={0: 1.0, 1: 1.0}, verbose=0)


def test_sample_weight_zero_rows_do_not_train():
    x, y = data(n=8)
    model = classifier()
    before = model.get_weights()
    model.fit(x, y, sample_weight=np.zeros(8), epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_stops_after_the_batch_and_keeps_history():
    import os
    import signal

    x, y = data(n=100)

    class Interrupt(lamina.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1 and self.params and len(seen) == 1:
                os.kill(os.getpid(), signal.SIGINT)

        def on_epoch_begin(self, epoch, logs=None):
            seen.append(epoch)

    seen = []
    history = classifier().fit(x, y, batch_size=10, epochs=5, verbose=0, callbacks=[Interrupt()])
    assert seen == [0] and history.epoch == [0]  # epoch 0 ended after batch 1, its logs kept
    assert len(history.history["loss"]) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("fast", [True, False])
def test_loss_scale_factor_does_not_change_training(fast):
    x, y = data()
    weights = []
    for factor in (None, 128.0):
        lamina.backend.clear_session()
        lamina.random.set_seed(2)
        model = classifier()
        model.compile(optimizer=lamina.optimizers.Adam(loss_scale_factor=factor),
                      loss="sparse_categorical_crossentropy")
        model._plan_checked = not fast
        model.fit(x, y, epochs=2, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_ignore_class_labels_and_per_class_metrics_in_fit():
    x, y = data()
    y = y.copy()
    y[:5] = -1
    model = classifier()
    model.compile(optimizer="sgd", loss=lamina.losses.SparseCategoricalCrossentropy(ignore_class=-1))
    assert model._fast_plan() is None  # the fused plan does not cover ignore_class
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0).history["loss"][0])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=[lamina.metrics.F1Score()])
    history = model.fit(x, np.eye(3)[np.abs(y)], epochs=1, verbose=0)
    assert history.history["f1_score"][0].shape == (3,)


def test_from_logits_behind_softmax_takes_the_general_path():
    model = classifier()
    model.compile(optimizer="sgd", loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert model._fast_plan() is None


def test_blocked_inference_equals_batch_by_batch():
    x, y = data(n=2500)
    model = classifier()
    steps = []

    class Watch(lamina.callbacks.Callback):  # observing batches forces batch-by-batch evaluation
        def on_test_batch_end(self, batch, logs=None):
            steps.append(batch)

        def on_predict_batch_end(self, batch, logs=None):
            steps.append(batch)

    blocked = model.evaluate(x, y, verbose=0)
    single = model.evaluate(x, y, verbose=0, callbacks=[Watch()])
    assert len(steps) == 79
    np.testing.assert_allclose(blocked, single, rtol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x, verbose=0, callbacks=[Watch()]),
                               rtol=1e-6)


def test_epoch_line_shows_what_callbacks_add_to_the_logs(capsys):
    x, y = data()
    schedule = lamina.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    classifier().fit(x, y, epochs=2, verbose=2, callbacks=[schedule])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("learning_rate: 0.0050") and lines[3].endswith("learning_rate: 0.0025"), lines
