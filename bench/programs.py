"""Benchmark rows: the same Keras program in lamina and in Keras 3 on JAX (issues 11 and 12).

``python bench/programs.py [--rounds 5] [--only seq,subclassed,...]``

Each program is the lesson's MLP (784-300-100-10, SGD 0.01, batch 32, 55,000 random float32
rows) written another way, or the wide-and-deep regression model of issue 12; each runs in its own
long-lived worker process (built and warmed up by one epoch: Keras's functions compiled), and
each round times one epoch of every worker in turn, so the machine's other load falls on all of
them alike. The table gives medians over rounds, and the median of each round's ratios (a
program over the Sequential of the same library; lamina over Keras on the same program).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

DATA = """
import sys, time, numpy as np
rng = np.random.default_rng(0)
x = rng.random((55000, 784), dtype=np.float32); y = rng.integers(0, 10, 55000)
"""
LOOP = """
fit()
print("ready", flush=True)
for line in sys.stdin:
    start = time.perf_counter(); fit(); print(time.perf_counter() - start, flush=True)
"""
# Each program below is written once for both libraries: K is lamina or keras.
SEQUENTIAL = """
model = K.Sequential([K.Input((784,)), K.layers.Dense(300, activation="relu"),
                      K.layers.Dense(100, activation="relu"), K.layers.Dense(10, activation="softmax")])
"""
FUNCTIONAL = """
inputs = K.Input((784,))
hidden1 = K.layers.Dense(300, activation="relu")(inputs)
hidden2 = K.layers.Dense(100, activation="relu")(hidden1)
model = K.Model(inputs, K.layers.Dense(10, activation="softmax")(hidden2))
"""
SUBCLASSED = """
class MLP(K.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden1 = K.layers.Dense(300, activation="relu")
        self.hidden2 = K.layers.Dense(100, activation="relu")
        self.out = K.layers.Dense(10, activation="softmax")

    def call(self, inputs):
        return self.out(self.hidden2(self.hidden1(inputs)))

model = MLP()
"""
LINEAR = """
class Linear(K.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return K.ops.matmul(inputs, self.w) + self.b

class MLP(K.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden1, self.hidden2, self.out = Linear(300), Linear(100), Linear(10)

    def call(self, inputs):
        h = K.ops.relu(self.hidden1(inputs))
        return K.ops.softmax(self.out(K.ops.relu(self.hidden2(h))))

model = MLP()
"""
COMPILE_FIT = """
model.compile(optimizer=K.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
fit = lambda: model.fit(x, y, batch_size=32, epochs=1, verbose=0)
"""
TAPE_LAMINA = SEQUENTIAL + """
optimizer = K.optimizers.SGD(0.01)
loss_fn = K.losses.SparseCategoricalCrossentropy()
accuracy = K.metrics.SparseCategoricalAccuracy()

def fit():
    order = rng.permutation(len(x))
    for start in range(0, len(x), 32):
        rows = order[start:start + 32]
        xb, yb = x[rows], y[rows]
        with K.GradientTape() as tape:
            probabilities = model(xb, training=True)
            loss = loss_fn(yb, probabilities)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        accuracy.update_state(yb, probabilities)
    accuracy.reset_state()
"""
TAPE_FUNCTION_LAMINA = SEQUENTIAL + """
optimizer = K.optimizers.SGD(0.01)
loss_fn = K.losses.SparseCategoricalCrossentropy()
accuracy = K.metrics.SparseCategoricalAccuracy()

@K.function  # the TensorFlow guide's train_step, as `import lamina as tf` runs it
def train_step(xb, yb):
    with K.GradientTape() as tape:
        probabilities = model(xb, training=True)
        loss = loss_fn(yb, probabilities)
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
    accuracy.update_state(yb, probabilities)
    return loss

def fit():
    order = rng.permutation(len(x))
    for start in range(0, len(x), 32):
        rows = order[start:start + 32]
        train_step(x[rows], y[rows])
    accuracy.reset_state()
"""
TAPE_JAX = SEQUENTIAL + """
import jax
optimizer = K.optimizers.SGD(0.01)
loss_fn = K.losses.SparseCategoricalCrossentropy()
accuracy = K.metrics.SparseCategoricalAccuracy()
optimizer.build(model.trainable_variables)

def loss_and_updates(trainable, non_trainable, xb, yb):
    probabilities, non_trainable = model.stateless_call(trainable, non_trainable, xb, training=True)
    return loss_fn(yb, probabilities), (probabilities, non_trainable)

grad_fn = jax.value_and_grad(loss_and_updates, has_aux=True)

@jax.jit
def train_step(state, xb, yb):
    trainable, non_trainable, opt_vars, metric_vars = state
    (loss, (probabilities, non_trainable)), grads = grad_fn(trainable, non_trainable, xb, yb)
    trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
    metric_vars = accuracy.stateless_update_state(metric_vars, yb, probabilities)
    return loss, (trainable, non_trainable, opt_vars, metric_vars)

def fit():
    state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables], [v.value for v in accuracy.variables])
    order = rng.permutation(len(x))
    for start in range(0, len(x) - 31, 32):  # whole batches: one compiled shape
        rows = order[start:start + 32]
        loss, state = train_step(state, x[rows], y[rows])
    for variable, value in zip(model.trainable_variables, state[0]):
        variable.assign(value)
"""
WIDE_DEEP = """
rng = np.random.default_rng(0)
x_all = rng.standard_normal((11610, 8)).astype("float32") * 3 + 1
y_all = (x_all @ rng.standard_normal(8) + 0.1 * rng.standard_normal(11610)).astype("float32")
x_wide, x_deep = x_all[:, :5], x_all[:, 2:]
input_wide, input_deep = K.Input(shape=[5]), K.Input(shape=[6])
norm_wide, norm_deep = K.layers.Normalization(), K.layers.Normalization()
norm_wide.adapt(x_wide); norm_deep.adapt(x_deep)
hidden1 = K.layers.Dense(30, activation="relu")(norm_deep(input_deep))
hidden2 = K.layers.Dense(30, activation="relu")(hidden1)
concat = CONCATENATE([norm_wide(input_wide), hidden2]AXIS)
output = K.layers.Dense(1)(concat)
aux_output = K.layers.Dense(1)(hidden2)
model = K.Model(inputs=[input_wide, input_deep], outputs=[output, aux_output])
model.compile(loss=("mse", "mse"), loss_weights=(0.9, 0.1), optimizer=K.optimizers.Adam(1e-3),
              metrics=[["RootMeanSquaredError"], ["RootMeanSquaredError"]])
fit = lambda: model.fit((x_wide, x_deep), (y_all, y_all), batch_size=32, epochs=1, verbose=0)
"""
LAMINA = DATA + "import lamina as K\nK.random.set_seed(0)\n"
KERAS = DATA + "import keras as K\nK.utils.set_random_seed(0)\n"
PROGRAMS = {  # name: (lamina's code, Keras's code, target against the Sequential, what it shows)
    "seq": (SEQUENTIAL + COMPILE_FIT, SEQUENTIAL + COMPILE_FIT, None, "Sequential, fit"),
    "functional": (FUNCTIONAL + COMPILE_FIT, FUNCTIONAL + COMPILE_FIT, 1.05, "Functional, fit"),
    "subclassed": (SUBCLASSED + COMPILE_FIT, SUBCLASSED + COMPILE_FIT, 1.3, "subclassed Model of Dense, fit"),
    "linear": (LINEAR + COMPILE_FIT, LINEAR + COMPILE_FIT, 2.0, "subclassed Model of a user's Linear, fit"),
    "tape": (TAPE_LAMINA, TAPE_JAX, 2.0, "GradientTape loop (JAX: value_and_grad + jit)"),
    "tape_function": (TAPE_FUNCTION_LAMINA, TAPE_JAX, 2.0,
                      "GradientTape loop, train_step in tf.function (JAX: value_and_grad + jit)"),
    "wide_deep": (WIDE_DEEP.replace("CONCATENATE", "K.ops.concatenate").replace("AXIS", ", axis=-1"),
                  WIDE_DEEP.replace("CONCATENATE", "K.layers.concatenate").replace("AXIS", ""), None,
                  "wide and deep regression, 11,610 rows, Adam"),
}


def main(argv=None) -> None:
    from under_load import Worker

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(PROGRAMS))
    args = parser.parse_args(argv)
    names = args.only.split(",")
    env_lamina = {"PYTHONPATH": os.path.join(ROOT, "src")}
    env_keras = {"KERAS_BACKEND": "jax"}
    workers = {}
    for name in names:
        lamina_code, keras_code = PROGRAMS[name][:2]
        workers[name, "lamina"] = Worker(f"lamina {name}", LAMINA + lamina_code + LOOP, env_lamina)
        workers[name, "keras"] = Worker(f"keras {name}", KERAS + keras_code + LOOP, env_keras)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    times = {key: [] for key in workers}
    for _ in range(args.rounds):
        for key, worker in workers.items():
            times[key].append(worker.run())
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print()
    print("| program | lamina s/epoch | x lamina's Sequential (target) | Keras/JAX s/epoch | x Keras's Sequential |"
          " lamina / Keras |")
    print("|---|---|---|---|---|---|")
    for name in names:
        target, what = PROGRAMS[name][2:]
        lam, ker = times[name, "lamina"], times[name, "keras"]
        cells = [f"{what}", f"{statistics.median(lam):.3f}"]
        if "seq" in names and name not in ("seq", "wide_deep"):
            ratio = statistics.median(a / s for a, s in zip(lam, times["seq", "lamina"]))
            cells.append(f"{ratio:.2f} (<= {target})")
            cells += [f"{statistics.median(ker):.3f}",
                      f"{statistics.median(a / s for a, s in zip(ker, times['seq', 'keras'])):.2f}"]
        else:
            cells += ["", f"{statistics.median(ker):.3f}", ""]
        cells.append(f"{statistics.median(a / b for a, b in zip(lam, ker)):.2f}")
        print("| " + " | ".join(cells) + " |")
    for worker in workers.values():
        worker.close()


if __name__ == "__main__":
    main()
