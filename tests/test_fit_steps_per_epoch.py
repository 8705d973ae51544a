"""``steps_per_epoch`` below the data's batches, on arrays: each epoch goes on through the data
where the last stopped (Keras's epoch iterator), a pass that runs out ends its epoch early with a
warning, and the next pass starts over, in a new order when shuffling."""
import warnings

import numpy as np
import pytest

from lamina.trainers.sources import ArrayData

SCENARIO = """
import warnings

class BatchLosses(K.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.steps, self.total = 0, 0.0
        losses.append([])
    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        total = float(logs["loss"]) * self.steps  # logs hold the epoch's running mean
        losses[-1].append(total - self.total)
        self.total = total

losses = []
model = K.Sequential([K.Input((2,)), K.layers.Dense(1, kernel_initializer="ones")])
model.compile(K.optimizers.SGD(0.01), "mse")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    history = model.fit(x, y, batch_size=2, steps_per_epoch=3, epochs=4, shuffle=False, verbose=0,
                        callbacks=[BatchLosses()])
result = {"losses": losses, "epoch_loss": history.history["loss"], "kernel": numpy(model.layers[0].kernel),
          "ran_out": sum("ran out of data" in str(w.message) for w in caught) > 0}
"""


def test_epochs_continue_through_the_data_as_keras(keras_oracle):
    x = np.arange(20, dtype="float32").reshape(10, 2) / 10
    ours, _ = keras_oracle.compare(SCENARIO, {"x": x, "y": x[:, :1] * 0.5}, rtol=1e-5)
    assert [len(epoch) for epoch in ours["losses"]] == [3, 2, 3, 2] and ours["ran_out"]


@pytest.mark.parametrize("shuffle", [True, "batch", False])
def test_each_pass_over_shuffled_data_sees_every_row_once(shuffle):
    source = ArrayData(np.zeros((8, 1)), np.zeros((8, 1)), None, batch_size=2, shuffle=shuffle, steps=3)
    rng = np.random.default_rng(0)
    passes = []
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for _ in range(4):  # 3 + 1 batches, then 3 + 1 again
            passes.append(np.concatenate([np.arange(8)[rows] for _, _, rows, _ in source.epoch(rng)]))
    first, second = np.concatenate(passes[:2]), np.concatenate(passes[2:])
    assert sorted(first) == sorted(second) == list(range(8))
    if shuffle is True:
        assert list(first) != list(second)  # a new order for the new pass
