"""The callbacks of Keras's guide "Writing your own callbacks", run under lamina and Keras 3: the
logs every hook receives (a dict, empty when there is nothing to log), a callback that stops
training and restores the best weights, and one that sets the optimizer's rate each epoch."""
import numpy as np

GUIDE = """
seen = []

class Logged(K.callbacks.Callback):
    def on_train_begin(self, logs=None):
        seen.append(["train_begin", list(logs.keys())])
    def on_epoch_begin(self, epoch, logs=None):
        seen.append(["epoch_begin", epoch, list(logs.keys())])
    def on_epoch_end(self, epoch, logs=None):
        seen.append(["epoch_end", epoch, sorted(logs.keys())])
    def on_test_begin(self, logs=None):
        seen.append(["test_begin", list(logs.keys())])
    def on_predict_begin(self, logs=None):
        seen.append(["predict_begin", list(logs.keys())])
    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            seen.append(["train_batch_begin", list(logs.keys())])
    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            seen.append(["train_batch_end", sorted(logs.keys())])
    def on_predict_batch_end(self, batch, logs=None):
        if batch == 0:
            seen.append(["predict_batch_end", sorted(logs.keys())])
    def on_train_end(self, logs=None):
        seen.append(["train_end", sorted(logs.keys())])


class EarlyStoppingAtMinLoss(K.callbacks.Callback):
    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights = 0, 0, float("inf"), None
    def on_epoch_end(self, epoch, logs=None):
        if logs["loss"] < self.best:
            self.best, self.wait, self.best_weights = logs["loss"], 0, self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)


class RateSchedule(K.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        rate = float(numpy(self.model.optimizer.learning_rate))
        self.model.optimizer.learning_rate = {1: 0.05, 2: 0.01}.get(epoch, rate)
        rates.append(float(numpy(self.model.optimizer.learning_rate)))


def build():
    model = K.Sequential([K.Input((4,)), K.layers.Dense(1)])
    model.compile(optimizer=K.optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])
    model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
    return model

model = build()
model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_split=0.5, shuffle=False, callbacks=[Logged()])
model.predict(x, batch_size=8, verbose=0, callbacks=[Logged()])
stopper = EarlyStoppingAtMinLoss(patience=1)
model = build()
model.fit(x, y, batch_size=16, epochs=30, verbose=0, shuffle=False, callbacks=[stopper])
rates = []
model = build()
model.fit(x, y, batch_size=8, epochs=4, verbose=0, shuffle=False, callbacks=[RateSchedule()])
result = {"seen": seen, "stopped_epoch": stopper.stopped_epoch, "best": stopper.best,
          "best_weights": stopper.best_weights, "rates": rates}
"""


def test_the_guide_s_callbacks_see_what_keras_s_see(keras_oracle):
    rng = np.random.default_rng(2)
    ours, _ = keras_oracle.compare(GUIDE, {"x": rng.standard_normal((32, 4)), "y": rng.standard_normal((32, 1))})
    assert ["train_begin", []] in ours["seen"] and ours["stopped_epoch"] > 0
    np.testing.assert_allclose(ours["rates"], [0.1, 0.05, 0.01, 0.01], rtol=1e-7)
