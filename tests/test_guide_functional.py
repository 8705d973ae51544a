"""Keras 3's guide "The Functional API", its examples that use Dense-style layers, run as the
guide shows them (the data: Fashion-MNIST for the guide's MNIST, which needs a download)."""
import numpy as np
import pytest

import lamina as keras
from lamina import layers


def _mnist_model():
    inputs = keras.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def test_the_first_model_and_its_summary():
    model = _mnist_model()
    assert model.name == "mnist_model" and model.inputs[0].shape == (None, 784)
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "mnist_model"' in text and "Total params: 55,050" in text  # the guide's numbers


@pytest.mark.slow
def test_training_evaluation_and_saving_as_the_guide_does(fashion, tmp_path):
    (x_train, y_train), (x_test, y_test) = fashion
    x_train = x_train.reshape(60000, 784).astype("float32") / 255
    x_test = x_test.reshape(10000, 784).astype("float32") / 255
    model = _mnist_model()
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.82
    test_scores = model.evaluate(x_test, y_test, verbose=0)
    assert test_scores[1] > 0.8
    model.save(tmp_path / "my_model.keras")
    del model
    model = keras.models.load_model(tmp_path / "my_model.keras")
    np.testing.assert_allclose(model.evaluate(x_test, y_test, verbose=0), test_scores, rtol=1e-5)


def test_ensembling_averages_the_members_predictions():
    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1, model2, model3 = get_model(), get_model(), get_model()
    inputs = keras.Input(shape=(128,))
    y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    data = np.random.default_rng(0).normal(size=(8, 128)).astype("float32")
    expected = np.mean([m.predict(data, verbose=0) for m in (model1, model2, model3)], axis=0)
    np.testing.assert_allclose(ensemble_model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)


class CustomDense(layers.Layer):
    """The guide's custom layer."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_a_custom_layer_in_a_graph_trains():
    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(loss="mse", optimizer="sgd")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 4)), rng.normal(size=(64, 10))
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first


def test_wide_and_deep_trains_evaluates_per_output_and_predicts_two_arrays():
    rng = np.random.default_rng(2)
    x_wide, x_deep = rng.normal(size=(256, 5)), rng.normal(size=(256, 6))
    y = x_wide[:, :1] - 2 * np.tanh(x_deep[:, 1:2])
    input_wide, input_deep = keras.Input(shape=[5], name="wide"), keras.Input(shape=[6], name="deep")
    norm_wide, norm_deep = layers.Normalization(), layers.Normalization()
    norm_wide.adapt(x_wide)
    norm_deep.adapt(x_deep)
    hidden = layers.Dense(30, activation="relu")(norm_deep(input_deep))
    hidden = layers.Dense(30, activation="relu")(hidden)
    concat = layers.concatenate([norm_wide(input_wide), hidden])
    output = layers.Dense(1, name="output")(concat)
    aux_output = layers.Dense(1, name="aux_output")(hidden)
    model = keras.Model(inputs=[input_wide, input_deep], outputs=[output, aux_output])
    model.compile(loss=("mse", "mse"), loss_weights=(0.9, 0.1), optimizer=keras.optimizers.Adam(1e-3),
                  metrics=["RootMeanSquaredError", "RootMeanSquaredError"])
    history = model.fit((x_wide, x_deep), (y, y), epochs=20, validation_split=0.2, verbose=0)
    assert history.history["val_output_loss"][-1] < 0.5 * history.history["val_output_loss"][0]
    total, main_loss, aux_loss, aux_rmse, main_rmse = model.evaluate((x_wide, x_deep), (y, y), verbose=0)
    assert total == pytest.approx(0.9 * main_loss + 0.1 * aux_loss, rel=1e-5)
    assert main_rmse == pytest.approx(np.sqrt(main_loss), rel=1e-4)
    assert aux_rmse == pytest.approx(np.sqrt(aux_loss), rel=1e-4)
    y_pred_main, y_pred_aux = model.predict((x_wide[:3], x_deep[:3]), verbose=0)
    assert y_pred_main.shape == y_pred_aux.shape == (3, 1)
    as_dict = model.evaluate((x_wide, x_deep), (y, y), verbose=0, return_dict=True)
    assert list(as_dict) == ["aux_output_RootMeanSquaredError", "aux_output_loss", "loss",
                             "output_RootMeanSquaredError", "output_loss"]  # Keras 3.15's keys, in its order
