"""The small compiled model the saving tests save, and data to train it on."""
import numpy as np

import lamina
from lamina import layers


def small_model(optimizer="adam"):
    model = lamina.Sequential([
        lamina.Input((4,)),
        layers.Dense(5, activation="relu", name="hidden_a"),
        layers.Dense(3, activation="softmax", name="out"),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)


def trained(optimizer="adam"):
    model = small_model(optimizer)
    model.fit(*data(), epochs=1, batch_size=8, verbose=0)
    return model
