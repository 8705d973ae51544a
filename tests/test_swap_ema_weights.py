"""SwapEMAWeights against Keras 3 (tests/keras_oracle.py): validation and evaluation on the
optimizer's moving averages, the weights callbacks after it see at each epoch's end with
``swap_on_epoch``, what the model holds once fit ends; and predict, which swaps back (Keras 3.15
leaves the averages in the model: README, "Where lamina differs from Keras on purpose")."""
import numpy as np
import pytest

import lamina

MODEL = """
model = K.Sequential([K.Input((4,)), K.layers.Dense(5, activation="tanh"), K.layers.Dense(3, activation="softmax")])
model.compile(optimizer={optimizer}, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
seen = []
class Record(K.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        seen.append(self.model.get_weights())
"""

FIT = MODEL + """
history = model.fit(x, y, batch_size=6, epochs=3, shuffle=False, verbose=0, validation_data=(x[:12], y[:12]),
                    callbacks=[K.callbacks.SwapEMAWeights(swap_on_epoch={swap}), Record()])
result = {{"history": history.history, "seen": seen, "weights": model.get_weights(),
          "averages": [numpy(v) for v in model.optimizer.variables if v.name.endswith("_average")]}}
"""

OPTIMIZERS = ["K.optimizers.SGD(0.3, use_ema=True, ema_momentum=0.5)",
              "K.optimizers.Adafactor(0.3, use_ema=True, ema_momentum=0.7)",
              "K.optimizers.Lamb(0.05, use_ema=True, ema_momentum=0.6, ema_overwrite_frequency=3)"]


def _data(rng):
    x = rng.standard_normal((24, 4))
    return {"x": x, "y": (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)}


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_fit_validates_on_the_averages_as_keras(keras_oracle, optimizer, swap, rng):
    # with the swap left out, val_loss (both) and the weights seen at epoch ends (swap_on_epoch) differ from Keras's
    keras_oracle.compare(FIT.format(optimizer=optimizer, swap=swap), _data(rng))


TRAINED = MODEL + """
for i in range(4):  # no fit: its end writes the averages into the model (and Keras on JAX then shares their buffers)
    model.train_on_batch(x[i * 6:(i + 1) * 6], y[i * 6:(i + 1) * 6])
trained = model.get_weights()
plain = model.evaluate(x, y, verbose=0, return_dict=True)
swapped = model.evaluate(x, y, verbose=0, return_dict=True, callbacks=[K.callbacks.SwapEMAWeights()])
after_evaluate = model.get_weights()
predicted = model.predict(x, verbose=0, callbacks=[K.callbacks.SwapEMAWeights()])
result = {{"trained": trained, "plain": plain, "swapped": swapped, "after_evaluate": after_evaluate,
          "predicted": predicted}}
"""


def test_evaluate_and_predict_swap_as_keras(keras_oracle, rng):
    ours, _ = keras_oracle.compare(TRAINED.format(optimizer=OPTIMIZERS[0]), _data(rng))
    assert ours["plain"]["loss"] != pytest.approx(ours["swapped"]["loss"])
    for a, b in zip(ours["after_evaluate"], ours["trained"]):
        np.testing.assert_array_equal(a, b)  # evaluate swaps back


def test_predict_on_the_averages_swaps_the_trained_weights_back(rng):
    data = _data(rng)
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=lamina.optimizers.SGD(0.3, use_ema=True, ema_momentum=0.5),
                  loss="sparse_categorical_crossentropy")
    for i in range(3):
        model.train_on_batch(data["x"][i * 6:(i + 1) * 6], data["y"][i * 6:(i + 1) * 6])
    trained = model.get_weights()
    on_averages = model.predict(data["x"], verbose=0, callbacks=[lamina.callbacks.SwapEMAWeights()])
    assert not np.allclose(on_averages, model.predict(data["x"], verbose=0))  # it did predict on the averages
    for a, b in zip(model.get_weights(), trained):
        np.testing.assert_array_equal(a, b)


def test_an_optimizer_without_ema_is_refused():
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"SwapEMAWeights must be used when `use_ema=True` is set on the "
                                         r"optimizer. Received: use_ema=False"):
        model.fit(np.ones((4, 2)), np.ones(4), validation_data=(np.ones((2, 2)), np.ones(2)), verbose=0,
                  callbacks=[lamina.callbacks.SwapEMAWeights()])
