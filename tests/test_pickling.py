"""A model pickles as Keras's does (the bytes of its .keras file) and deep-copies with its own
optimizer state: both go on training exactly as the original does."""
import copy
import pickle

import numpy as np
import pytest

import lamina
from lamina import layers

X = np.random.default_rng(0).random((64, 4))
Y = np.arange(64) % 3


def trained(optimizer="adam", model=None):
    lamina.random.set_seed(1)
    model = model or lamina.Sequential([lamina.Input((4,)), layers.Dense(8, activation="relu"),
                                        layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=2, verbose=0)
    return model


def go_on(model):
    return model.fit(X, Y, epochs=2, verbose=0, shuffle=False).history


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "nadam", "rmsprop"])
def test_a_pickled_model_trains_on_as_the_original(optimizer):
    model = trained(optimizer)
    restored = pickle.loads(pickle.dumps(model))
    assert type(restored) is type(model) and restored is not model
    np.testing.assert_array_equal(restored.predict(X, verbose=0), model.predict(X, verbose=0))
    assert int(restored.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 4
    assert go_on(restored) == go_on(model)  # the optimizer's state came along


def test_a_functional_model_pickles_before_compile_too():
    inputs = lamina.Input((4,))
    model = lamina.Model(inputs, layers.Dense(2)(layers.Dense(5, activation="tanh")(inputs)))
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X, verbose=0), model.predict(X, verbose=0))
    assert not restored.compiled


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_deep_copy_has_its_own_weights_and_optimizer_state(optimizer):
    model = trained(optimizer)
    clone = copy.deepcopy(model)
    assert clone.optimizer is not model.optimizer and clone.layers[0].kernel is not model.layers[0].kernel
    assert go_on(clone) == go_on(model)  # the state found under the copied variables, not lost
    clone.fit(X, Y, epochs=1, verbose=0)
    assert not np.array_equal(clone.layers[0].kernel.numpy(), model.layers[0].kernel.numpy())  # separate arrays


def test_a_deep_copied_optimizer_keeps_its_weight_decay_exclusions():
    model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3)])
    optimizer = lamina.optimizers.AdamW(weight_decay=0.5)
    optimizer.exclude_from_weight_decay([model.layers[0].bias])
    model.compile(optimizer=optimizer, loss="mse")
    clone = copy.deepcopy(model)
    assert not clone.optimizer._decays(clone.layers[0].bias) and clone.optimizer._decays(clone.layers[0].kernel)


class Doubler(lamina.Model):  # no get_config: it cannot go through a .keras file
    def __init__(self, scale):
        super().__init__()
        self.scale = scale
        self.dense = layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.dense(x * self.scale)


def test_a_subclass_without_get_config_still_deep_copies():
    model = trained("sgd", Doubler(np.float32(2.0)))
    clone = copy.deepcopy(model)
    assert go_on(clone) == go_on(model)
