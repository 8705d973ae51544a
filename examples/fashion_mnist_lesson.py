"""The Keras MLP lesson on Fashion-MNIST, run on lamina with one changed import.

Every code cell of the lesson, in order (the plots are written to files instead of shown,
so the script runs anywhere). ``LAMINA_LESSON_EPOCHS`` shortens training for quick checks.

    python examples/fashion_mnist_lesson.py
"""
import os
import sys

import numpy as np

import lamina as tf

EPOCHS = int(os.environ.get("LAMINA_LESSON_EPOCHS", "30"))
OUT = os.environ.get("LAMINA_LESSON_OUT", "runs/lesson")

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

X_new = X_test[:3]
y_proba = model.predict(X_new)
print(y_proba.round(2))
y_pred = y_proba.argmax(axis=-1)
print("y_pred:", y_pred)
print(np.array(class_names)[y_pred])
print("y_new:", y_test[:3])

try:  # the lesson's pictures, when matplotlib is installed
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("(matplotlib is not installed: skipping the plots)", file=sys.stderr)
else:
    os.makedirs(OUT, exist_ok=True)
    plt.figure(figsize=(8, 5))
    for key, style in zip(sorted(history.history), ["r--", "r--.", "b-", "b-*"]):
        plt.plot(history.epoch, history.history[key], style, label=key)
    plt.xlim(0, max(EPOCHS - 1, 1))
    plt.ylim(0, 1)
    plt.grid(True)
    plt.xlabel("Epoch")
    plt.legend(loc="lower left")
    plt.savefig(os.path.join(OUT, "learning_curves.png"))
    plt.close()
    print("Learning curves written to", os.path.join(OUT, "learning_curves.png"))

print(f"Test accuracy: {test_acc:.4f}")
