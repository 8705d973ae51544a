"""``fit``/``evaluate``/``predict`` on a lamina.data.Dataset give the numbers of the same
batches given as arrays, by Keras's rules for datasets (epochs, steps_per_epoch, validation)."""
import warnings

import numpy as np
import pytest

import lamina as tf
from lamina import layers

Dataset = tf.data.Dataset
RNG = np.random.default_rng(0)
X = RNG.standard_normal((96, 4)).astype("float32")
Y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
W = RNG.uniform(0.5, 2.0, 96)


def model(kind="sequential"):
    tf.backend.clear_session()
    tf.random.set_seed(3)
    if kind == "sequential":  # the fused plan's model
        m = tf.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(3, activation="softmax")])
    else:  # a graph with a merge: fit's compiled step
        inputs = tf.Input((4,))
        hidden = layers.Dense(8, activation="relu")(inputs)
        merged = layers.Add()([hidden, layers.Dense(8)(inputs)])
        m = tf.Model(inputs, layers.Dense(3, activation="softmax")(merged))
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_fit_on_a_dataset_gives_exactly_the_weights_of_fit_on_the_arrays(kind):
    arrays = model(kind)
    ha = arrays.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_data=(X[:32], Y[:32]))
    ds = model(kind)
    train = Dataset.from_tensor_slices((X, Y)).batch(16)
    hd = ds.fit(train, epochs=3, verbose=0, validation_data=Dataset.from_tensor_slices((X[:32], Y[:32])).batch(32))
    same_weights(arrays, ds)
    assert ha.history == hd.history and hd.params["steps"] == 6


def test_batches_built_element_by_element_and_batches_straddling_a_repeat_train_as_the_arrays():
    arrays = model()
    arrays.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    mapped = model()  # map after batch: ready batches, each checked as a generator's are
    mapped.fit(Dataset.from_tensor_slices((X, Y)).batch(16).map(lambda x, y: (x, y)), epochs=2, verbose=0)
    same_weights(arrays, mapped)
    twice = model()
    twice.fit(np.concatenate([X, X]), np.concatenate([Y, Y]), batch_size=64, shuffle=False, verbose=0)
    straddled = model()  # the second batch is rows 64-95 then 0-31
    straddled.fit(Dataset.from_tensor_slices((X, Y)).repeat(2).batch(64), verbose=0)
    same_weights(twice, straddled)


def test_sample_weights_in_the_dataset_and_class_weight_match_the_arrays():
    arrays = model()
    arrays.fit(X, Y, sample_weight=W, batch_size=32, epochs=2, shuffle=False, verbose=0)
    ds = model()
    ds.fit(Dataset.from_tensor_slices((X, Y, W)).batch(32), epochs=2, verbose=0)
    same_weights(arrays, ds)
    weights = {0: 1.0, 1: 2.5, 2: 0.5}
    arrays = model()
    arrays.fit(X, Y, class_weight=weights, batch_size=32, epochs=2, shuffle=False, verbose=0)
    ds = model()
    ds.fit(Dataset.from_tensor_slices((X, Y)).batch(32), class_weight=weights, epochs=2, verbose=0)
    same_weights(arrays, ds)


def test_evaluate_and_predict_on_datasets_equal_their_array_results():
    m = model()
    m.fit(X, Y, epochs=1, verbose=0)
    expected = m.evaluate(X, Y, batch_size=32, verbose=0, return_dict=True)
    assert m.evaluate(Dataset.from_tensor_slices((X, Y)).batch(32), verbose=0, return_dict=True) == expected
    predicted = m.predict(X, batch_size=32, verbose=0)
    np.testing.assert_array_equal(m.predict(Dataset.from_tensor_slices(X).batch(32), verbose=0), predicted)
    # a dataset of (x, y) predicts from its x, as Keras does
    np.testing.assert_array_equal(m.predict(Dataset.from_tensor_slices((X, Y)).batch(32), verbose=0), predicted)
    few = m.evaluate(Dataset.from_tensor_slices((X, Y)).batch(32).repeat(), steps=2, verbose=0, return_dict=True)
    assert few == m.evaluate(X[:64], Y[:64], batch_size=32, verbose=0, return_dict=True)


def test_an_infinite_dataset_needs_steps_per_epoch():
    m = model()
    endless = Dataset.from_tensor_slices((X, Y)).batch(16).repeat()
    with pytest.raises(ValueError, match="infinite dataset.*steps_per_epoch"):
        m.fit(endless, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_steps"):
        m.fit(X, Y, epochs=1, verbose=0, validation_data=endless)
    history = m.fit(endless, epochs=2, steps_per_epoch=4, verbose=0, validation_data=endless, validation_steps=2)
    assert int(m.optimizer.iterations.numpy()) == 8 and len(history.history["val_loss"]) == 2


def test_steps_per_epoch_continues_one_iteration_across_epochs_as_keras():
    # 6 batches of 16; steps_per_epoch=3 for 2 epochs reads batches 0-5 once: one array epoch
    arrays = model()
    arrays.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for train in (Dataset.from_tensor_slices((X, Y)).batch(16), Dataset.from_tensor_slices((X, Y)).batch(16).repeat()):
        ds = model()
        ds.fit(train, epochs=2, steps_per_epoch=3, verbose=0)
        same_weights(arrays, ds)


def test_an_epoch_that_meets_the_end_of_a_finite_dataset_stops_there_with_a_warning():
    m = model()
    four = Dataset.from_tensor_slices((X[:64], Y[:64])).batch(16)  # 4 batches; 3 asked per epoch
    with pytest.warns(UserWarning, match="ran out of data after 1 of this epoch's 3"):
        m.fit(four, epochs=3, steps_per_epoch=3, verbose=0)
    assert int(m.optimizer.iterations.numpy()) == 3 + 1 + 3  # the third epoch starts it again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model().fit(four, epochs=2, steps_per_epoch=2, verbose=0)  # ends exactly at the end: no warning


def test_a_dataset_of_unknown_length_trains_to_its_end_each_epoch():
    m = model()
    kept = Dataset.from_tensor_slices((X, Y)).filter(lambda x, y: y > 0)
    n = int((Y > 0).sum())
    history = m.fit(kept.batch(10), epochs=2, verbose=0)
    assert int(m.optimizer.iterations.numpy()) == 2 * -(-n // 10) and history.params["steps"] is None


def test_batch_size_with_a_dataset_is_an_error():
    m = model()
    ds = Dataset.from_tensor_slices((X, Y)).batch(16)
    for call in (lambda: m.fit(ds, batch_size=16, verbose=0), lambda: m.evaluate(ds, batch_size=16, verbose=0),
                 lambda: m.predict(ds, batch_size=16, verbose=0)):
        with pytest.raises(ValueError, match="batch_size=16 was given with a lamina.data.Dataset"):
            call()
    with pytest.raises(ValueError, match="batches carry the targets"):
        m.fit(ds, Y, verbose=0)
    with pytest.raises(ValueError, match=r"single rows, not of batches: call \.batch"):
        m.fit(Dataset.from_tensor_slices((X, Y)), verbose=0)


def test_a_shuffled_dataset_reshuffles_each_epoch_repeatably_under_the_global_seed():
    def run():
        m = model()
        tf.random.set_seed(9)
        m.fit(Dataset.from_tensor_slices((X, Y)).shuffle(96).batch(16), epochs=2, verbose=0)
        return m
    a, b = run(), run()
    same_weights(a, b)
    unshuffled = model()
    unshuffled.fit(Dataset.from_tensor_slices((X, Y)).batch(16), epochs=2, verbose=0)
    assert not np.array_equal(a.get_weights()[0], unshuffled.get_weights()[0])


def test_the_guides_gradient_tape_loop_over_a_dataset_matches_the_loop_over_arrays():
    def train(batches):
        m = model()
        optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)
        loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
        losses = []
        for _epoch in range(2):
            for _step, (x_batch, y_batch) in enumerate(batches()):
                with tf.GradientTape() as tape:
                    loss = loss_fn(y_batch, m(x_batch, training=True))
                grads = tape.gradient(loss, m.trainable_weights)
                optimizer.apply_gradients(zip(grads, m.trainable_weights))
                losses.append(float(loss))
        return m, losses
    dataset = Dataset.from_tensor_slices((X, Y)).batch(32)
    by_dataset, losses = train(lambda: dataset)
    by_arrays, expected = train(lambda: ((X[i:i + 32], Y[i:i + 32]) for i in range(0, 96, 32)))
    same_weights(by_dataset, by_arrays)
    assert losses == expected and len(losses) == 6


@pytest.mark.parametrize("shuffled", [True, False])
def test_gathering_ahead_on_a_second_thread_gives_the_same_numbers_for_a_dataset(monkeypatch, shuffled):
    from lamina.backend import threads
    from lamina.trainers import prefetch

    def run():
        m = model()
        tf.random.set_seed(4)
        rows = Dataset.from_tensor_slices((X, Y))
        m.fit((rows.shuffle(40) if shuffled else rows).batch(16), epochs=2, verbose=0)
        return m
    plain = run()
    gathered = []
    original = prefetch.Gather.run
    monkeypatch.setattr(threads, "spare_core", lambda now=None: True)
    monkeypatch.setattr(prefetch, "MIN_VALUES", 1)
    monkeypatch.setattr(prefetch.Gather, "run", lambda job: gathered.append(1) or original(job))
    same_weights(plain, run())  # unshuffled: contiguous slices, which the prefetcher leaves to the plan
    assert bool(gathered) == shuffled  # shuffled batches did go through the prefetcher
    arrays = model()
    arrays.fit(X, Y, batch_size=16, shuffle=False, epochs=1, verbose=0)  # slices: crashed on len(slice)


def test_the_guides_tf_function_step_over_a_shuffled_batched_prefetched_dataset():
    # "Writing a training loop from scratch": a tf.function step fed by tf.data, then validation
    m = model()  # seeds lamina's global generator, from which the shuffle draws
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.5)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()
    train_acc, val_acc = tf.keras.metrics.SparseCategoricalAccuracy(), tf.keras.metrics.SparseCategoricalAccuracy()
    train_dataset = Dataset.from_tensor_slices((X, Y)).shuffle(buffer_size=1024).batch(20).prefetch(tf.data.AUTOTUNE)
    val_dataset = Dataset.from_tensor_slices((X, Y)).batch(32)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = m(x, training=True)
            loss_value = loss_fn(y, logits)
        grads = tape.gradient(loss_value, m.trainable_weights)
        optimizer.apply_gradients(zip(grads, m.trainable_weights))
        train_acc.update_state(y, logits)
        return loss_value

    accuracy = []
    for _ in range(15):
        steps = sum(1 for x_batch, y_batch in train_dataset if train_step(x_batch, y_batch) is not None)
        train_acc.reset_state()
        for x_batch, y_batch in val_dataset:
            val_acc.update_state(y_batch, m(x_batch, training=False))
        accuracy.append(float(val_acc.result()))
        val_acc.reset_state()
    assert steps == 5 and accuracy[-1] > accuracy[0] + 0.2  # 96 rows: 4 batches of 20 and one of 16
    assert accuracy[-1] == pytest.approx(m.evaluate(val_dataset, verbose=0)[1])
