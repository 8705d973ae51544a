"""What ``fit`` hands to ``train_step`` (Keras's ``pack_x_y_sample_weight``: a bare ``x`` when
there are no targets), ``keras.utils``' pack/unpack against Keras's own, and a model of one input
called with ``(x,)``, as the keras.io variational autoencoder's ``train_step`` calls its encoder."""
import warnings

import numpy as np
import pytest

import lamina
from lamina import layers, ops

PACKING = """
a, b, w = x[:2], x[2:4], x[4, :2]
packs = [K.utils.pack_x_y_sample_weight(a), K.utils.pack_x_y_sample_weight([a, b]),
         K.utils.pack_x_y_sample_weight(a, b), K.utils.pack_x_y_sample_weight(a, b, w),
         K.utils.pack_x_y_sample_weight(a, None, w)]
result = {"kinds": [type(p).__name__ for p in packs],
          "lengths": [len(p) if isinstance(p, tuple) else -1 for p in packs],
          "absent": [[v is None for v in K.utils.unpack_x_y_sample_weight(d)]
                     for d in (a, (a,), [a, b], (a, b), (a, b, w))],
          "values": [K.utils.unpack_x_y_sample_weight([a, b])[1], K.utils.unpack_x_y_sample_weight((a, b, w))[2]]}
"""

ONE_INPUT_GIVEN_A_TUPLE = """
import warnings
inputs = K.Input((4,))
model = K.Model(inputs, K.layers.Dense(3, activation="tanh")(inputs))
model.set_weights([draw(v.shape, i) for i, v in enumerate(model.get_weights())])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    result = {"bare": numpy(model(x)), "tuple": numpy(model((x,))), "list": numpy(model([x]))}
"""


def data():
    return {"x": np.random.default_rng(4).standard_normal((6, 4))}


def test_pack_and_unpack_are_keras_s(keras_oracle):
    keras_oracle.compare(PACKING, data())


def test_unpack_refuses_a_tuple_of_four():
    with pytest.raises(ValueError, match=r"x, \(x,\), \(x, y\) or \(x, y, sample_weight\), got a tuple of 4"):
        lamina.utils.unpack_x_y_sample_weight((1, 2, 3, 4))


def test_a_model_of_one_input_called_with_a_tuple_of_one_is_keras_s(keras_oracle):
    ours, _ = keras_oracle.compare(ONE_INPUT_GIVEN_A_TUPLE, data())
    np.testing.assert_array_equal(ours["tuple"], ours["bare"])


def test_the_tuple_of_one_warns_naming_the_model():
    inputs = lamina.Input((2,))
    model = lamina.Model(inputs, layers.Dense(1)(inputs), name="single")
    with pytest.warns(UserWarning, match="Model 'single' has one input and was called with a tuple of one"):
        model((np.ones((3, 2)),))


class Recorder(lamina.Model):
    """Records what ``fit`` hands its ``train_step``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(1)
        self.seen = []

    def call(self, x):
        return self.dense(x[0] if isinstance(x, (list, tuple)) else x)

    def train_step(self, data):
        self.seen.append(type(data).__name__ if not isinstance(data, tuple)
                         else tuple(type(part).__name__ for part in data))
        return {}


@pytest.mark.parametrize("arguments,expected", [
    ({"y": None}, "Tensor"),
    ({"y": "targets"}, ("Tensor", "Tensor")),
    ({"y": "targets", "sample_weight": "weights"}, ("Tensor", "Tensor", "Tensor")),
], ids=["x only", "x and y", "x, y and weights"])
def test_fit_hands_train_step_what_keras_does(arguments, expected):
    x, y, w = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32"), np.ones(8, "float32")
    model = Recorder()
    model.compile(optimizer="sgd", loss="mse")
    chosen = {"targets": y, "weights": w, None: None}
    model.fit(x, **{name: chosen[value] for name, value in arguments.items()}, batch_size=4, epochs=1, verbose=0)
    assert model.seen == [expected, expected]


def test_fit_of_a_list_without_targets_hands_a_tuple_holding_the_list():
    model = Recorder()
    model.compile(optimizer="sgd", loss="mse")
    model.fit([np.ones((4, 3), "float32"), np.ones((4, 3), "float32")], batch_size=4, verbose=0)
    assert model.seen == [("list",)]


class Sampling(layers.Layer):
    """The keras.io example's reparameterization: ``mean + exp(log_var / 2) * noise``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = lamina.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        noise = lamina.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * noise


class VAE(lamina.Model):
    """keras.io's variational autoencoder, its ``train_step`` as written there (``data`` is x)."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.trackers = [lamina.metrics.Mean(name=n) for n in ("loss", "reconstruction_loss", "kl_loss")]

    @property
    def metrics(self):
        return self.trackers

    def train_step(self, data):
        with lamina.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(ops.sum(lamina.losses.binary_crossentropy(data, reconstruction), axis=-1))
            kl_loss = ops.mean(ops.sum(-0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var)), axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        for tracker, value in zip(self.trackers, (total_loss, reconstruction_loss, kl_loss)):
            tracker.update_state(value)
        return {tracker.name: tracker.result() for tracker in self.trackers}


def test_the_keras_io_variational_autoencoder_trains():
    lamina.random.set_seed(0)
    encoder_inputs = lamina.Input((16,))
    hidden = layers.Dense(8, activation="relu")(encoder_inputs)
    z_mean, z_log_var = layers.Dense(2)(hidden), layers.Dense(2)(hidden)
    encoder = lamina.Model(encoder_inputs, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])])
    latent = lamina.Input((2,))
    decoder = lamina.Model(latent, layers.Dense(16, activation="sigmoid")(layers.Dense(8, activation="relu")(latent)))
    vae = VAE(encoder, decoder)
    vae.compile(optimizer=lamina.optimizers.Adam(0.01))
    data = (np.random.default_rng(0).random((64, 16)) > 0.5).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the encoder is given the tensor itself: no tuple, no warning
        history = vae.fit(data, epochs=8, batch_size=16, verbose=0).history
    total = np.array(history["loss"])
    np.testing.assert_allclose(total, np.array(history["reconstruction_loss"]) + history["kl_loss"], rtol=1e-5)
    assert total[-1] < total[0] - 0.5  # it learns: 16 bits of noise cost ~11 nats at the start
