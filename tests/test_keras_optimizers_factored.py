"""Lamb and Adafactor, whose updates are not elementwise (a trust ratio of whole-variable norms;
row and column means), against Keras 3 (tests/keras_oracle.py) and by hand: variables of rank 0
to 3 and of zero norm, fit on a Sequential model through the fused plan's per-variable path,
the state Keras keeps (names, shapes, order) and .keras files both ways.
tests/test_keras_optimizers.py holds the two to Keras with the base options too (weight decay,
schedules, clipping, EMA, accumulation)."""
import json

import numpy as np
import pytest
from keras_subprocess import NEEDS_KERAS, PYTHONS, run_keras

import lamina
from lamina import optimizers

# the oracle's variables: ranks 3, 2, 1 and 0, and a matrix of zeros (Lamb's trust ratio of 1,
# Adafactor's epsilon_2 floor) whose first gradient is zero too
RANKS = """
shapes = [(2, 3, 4), (4, 3), (3,), ()]
variables = [K.Variable(draw(shape, i), name=f"v{{i}}") for i, shape in enumerate(shapes)]
variables.append(K.Variable(np.zeros((3, 2), floatx), name="zeros"))
optimizer = {optimizer}
steps = []
for step in range(5):
    grads = [draw(shape, 10 * step + i, 1.0) for i, shape in enumerate(shapes)]
    grads.append(draw((3, 2), 10 * step + 9, 1.0) * (step > 0))
    optimizer.apply_gradients(zip(grads, variables))
    steps.append([numpy(v) for v in variables])
result = {{"steps": steps, "state": [numpy(v) for v in optimizer.variables],
          "state_names": [v.name for v in optimizer.variables]}}
"""

RANKED = {"lamb": "K.optimizers.Lamb(0.05)",
          "lamb_options": "K.optimizers.Lamb(0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01)",
          "adafactor": "K.optimizers.Adafactor(0.05)",
          "adafactor_clipped": "K.optimizers.Adafactor(0.5, clip_threshold=0.4, epsilon_2=0.2, beta_2_decay=-0.6)",
          "adafactor_rate_above_the_cap": "K.optimizers.Adafactor(3.0, relative_step=False)"}


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(RANKED))
def test_every_rank_and_a_zero_variable_match_keras(keras_oracle, name, floatx):
    # Keras's ops.mean reduces float64 in float32 (JAX backend): Adafactor agrees to float32's
    # rounding there, absolute too where w - alpha * u cancels (rank 0 at a rate of 1: exactly 0 in lamina)
    tol = {"rtol": 2e-6, "atol": 1e-7} if floatx == "float64" and name.startswith("adafactor") else {}
    keras_oracle.compare(RANKS.format(optimizer=RANKED[name]), floatx=floatx, **tol)


TINY = """
variables = [K.Variable(draw((3, 2), 0), name="kernel"), K.Variable(draw((2,), 1), name="bias")]
optimizer = K.optimizers.Adafactor(0.1, epsilon_1=1e-31)
for step in range(66):
    optimizer.apply_gradients(zip([draw((3, 2), 10 + step, 1e-17), draw((2,), 100 + step, 1e-17)], variables))
result = [numpy(v) for v in variables]
"""


def test_second_moments_at_epsilon_1_survive_the_64th_step_as_in_keras(keras_oracle):
    # g**2 (1e-34) is far below epsilon_1 (1e-31), itself below the base's flush of state under
    # 1e-30 every 64 steps: flushed, the 65th step's g / sqrt(v) would be ~5x Keras's
    keras_oracle.compare(TINY)


FIT = """
model = K.Sequential([K.Input((4,)), K.layers.Dense(5, activation="tanh"), K.layers.Dense(3, activation="softmax")])
model.compile(optimizer={optimizer}, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.set_weights([draw(w.shape, i) for i, w in enumerate(model.get_weights())])
history = model.fit(x, y, batch_size=6, epochs=3, shuffle=False, verbose=0)
result = {{"weights": model.get_weights(), "history": history.history,
          "state": [numpy(v) for v in model.optimizer.variables],
          "state_names": [v.name for v in model.optimizer.variables],
          "state_paths": [v.path for v in model.optimizer.variables]}}
"""


@pytest.mark.parametrize("optimizer", ["K.optimizers.Lamb(0.05)", "K.optimizers.Adafactor(0.1)", "'adafactor'"])
def test_fit_matches_keras_weight_by_weight(keras_oracle, optimizer, rng):
    x = rng.standard_normal((24, 4))
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    keras_oracle.compare(FIT.format(optimizer=optimizer), {"x": x, "y": y})


@pytest.mark.parametrize("make", [optimizers.Lamb, optimizers.Adafactor])
def test_the_fused_plan_gives_them_per_variable_gradients(make, rng):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(5, activation="tanh"),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=make(0.05), loss="sparse_categorical_crossentropy")
    model.fit(rng.standard_normal((12, 4)), rng.integers(0, 3, 12), batch_size=6, verbose=0)
    assert not model.optimizer.updates_elementwise()
    plan = model._fast_plan()
    assert plan is not None and plan.kind_of_update == "apply"


# --- by hand --------------------------------------------------------------------------------
def _first_step(optimizer, w0, g):
    w = lamina.Variable(np.array(w0, "float32"), name="w")
    optimizer.apply([np.array(g, "float32")], [w])
    return w.numpy()


def _rms(x):
    return np.sqrt(np.mean(x * x))


@pytest.mark.parametrize("learning_rate,clip_threshold", [(0.05, 1.0), (0.05, 0.5), (3.0, 1.0)])
def test_adafactor_first_step_by_hand(rng, learning_rate, clip_threshold):
    w0, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    step_size = max(1e-3, _rms(w0)) * min(learning_rate, 1.0)  # t = 1: the relative step caps lr at 1
    squared = g * g + 1e-30
    rows, columns = squared.mean(axis=1), squared.mean(axis=0)  # beta_2 = 1 - 1**-0.8 = 0: no history
    update = g / np.sqrt(np.outer(rows / rows.mean(), columns))
    update /= max(1.0, _rms(update) / clip_threshold)
    opt = optimizers.Adafactor(learning_rate, clip_threshold=clip_threshold)
    np.testing.assert_allclose(_first_step(opt, w0, g), w0 - step_size * update, rtol=1e-5, atol=1e-6)
    bias0, bias_grad = rng.standard_normal(3), rng.standard_normal(3)  # rank 1: v = g**2 + epsilon_1
    update = bias_grad / np.sqrt(bias_grad ** 2 + 1e-30)
    update /= max(1.0, _rms(update) / clip_threshold)
    expected = bias0 - max(1e-3, _rms(bias0)) * min(learning_rate, 1.0) * update
    np.testing.assert_allclose(_first_step(optimizers.Adafactor(learning_rate, clip_threshold=clip_threshold),
                                           bias0, bias_grad), expected, rtol=1e-5, atol=1e-6)


def test_lamb_first_step_by_hand(rng):
    w0, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    update = g / (np.abs(g) + 1e-7)  # the bias-corrected moments are g and g**2 at t = 1
    trust = np.linalg.norm(w0) / np.linalg.norm(update)
    np.testing.assert_allclose(_first_step(optimizers.Lamb(0.1), w0, g), w0 - trust * 0.1 * update, rtol=1e-5)
    zeros = _first_step(optimizers.Lamb(0.1), np.zeros((2, 2)), g[:2, :2])  # no norm: a ratio of 1
    np.testing.assert_allclose(zeros, -0.1 * g[:2, :2] / (np.abs(g[:2, :2]) + 1e-7), rtol=1e-5)


# --- saving -----------------------------------------------------------------------------------
MAKERS = {"lamb": lambda: optimizers.Lamb(0.05), "adafactor": lambda: optimizers.Adafactor(0.1),
          "adafactor_ema": lambda: optimizers.Adafactor(0.1, use_ema=True, clip_threshold=0.5)}


def _trained(make, rng):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(5, activation="relu"), lamina.layers.Dense(2)])
    model.compile(optimizer=make(), loss="mse")
    model.fit(rng.standard_normal((16, 4)), rng.standard_normal((16, 2)), batch_size=4, verbose=0)
    return model


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_saved_and_loaded_with_optimizer_state(tmp_path, name, rng):
    model = _trained(MAKERS[name], rng)
    model.save(tmp_path / "m.keras")
    restored = lamina.saving.load_model(tmp_path / "m.keras")
    assert type(restored.optimizer) is type(model.optimizer)
    assert restored.optimizer.get_config() == model.optimizer.get_config()
    pairs = list(zip(restored.optimizer.variables, model.optimizer.variables, strict=True))
    for a, b in pairs:
        assert (a.name, a.shape, a.value.dtype) == (b.name, b.shape, b.value.dtype)
        np.testing.assert_array_equal(a.value, b.value)
    assert int(restored.optimizer.iterations.value) == 4
    x, y = rng.standard_normal((4, 4)), rng.standard_normal((4, 2))
    model.train_on_batch(x, y)
    restored.train_on_batch(x, y)
    for a, b in zip(restored.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


_BOTH_WAYS = """
    import json, sys, numpy as np, keras
    spec, folder = json.load(open(sys.argv[1])), sys.argv[2]
    results = {}
    for name, path in spec.items():
        model = keras.saving.load_model(path)
        saved = np.load(path + ".npz")
        mine = [np.asarray(v) for v in model.optimizer.variables]
        results[name] = {"optimizer": type(model.optimizer).__name__, "count": [len(saved.files), len(mine)],
                         "error": max(float(np.max(np.abs(saved[f"arr_{i}"] - v), initial=0))
                                      for i, v in enumerate(mine))}
    rng = np.random.default_rng(0)
    for name, optimizer in (("lamb", keras.optimizers.Lamb(0.05)), ("adafactor", keras.optimizers.Adafactor(0.1))):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(2)])
        model.compile(optimizer=optimizer, loss="mse")
        model.fit(rng.standard_normal((16, 4)), rng.standard_normal((16, 2)), batch_size=4, verbose=0)
        model.save(f"{folder}/keras_{name}.keras")
        np.savez(f"{folder}/keras_{name}.npz", *[np.asarray(v) for v in model.optimizer.variables])
    print(json.dumps(results))
"""


@NEEDS_KERAS
@pytest.mark.parametrize("python", PYTHONS)
def test_keras_files_and_lamina_files_keep_the_optimizer_state_both_ways(tmp_path, python, rng):
    spec = {}
    for name, make in MAKERS.items():
        model, path = _trained(make, rng), str(tmp_path / f"{name}.keras")
        model.save(path)
        np.savez(path + ".npz", *[v.value for v in model.optimizer.variables])
        spec[name] = path
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    results = run_keras(python, _BOTH_WAYS, str(tmp_path / "spec.json"), str(tmp_path))
    for name, make in MAKERS.items():
        r = results[name]
        assert r["optimizer"] == type(make()).__name__ and r["count"][0] == r["count"][1], (name, r)
        assert r["error"] <= 1e-7, (name, r)
    for name, cls in (("lamb", optimizers.Lamb), ("adafactor", optimizers.Adafactor)):
        restored = lamina.saving.load_model(tmp_path / f"keras_{name}.keras")
        saved = np.load(tmp_path / f"keras_{name}.npz")
        assert type(restored.optimizer) is cls and len(saved.files) == len(restored.optimizer.variables)
        for i, variable in enumerate(restored.optimizer.variables):
            np.testing.assert_allclose(variable.value, saved[f"arr_{i}"], rtol=0, atol=1e-7)
