"""``keras.config``'s settings beyond the float type, against Keras 3: the image data format,
interactive logging (off: fit's progress bar and ``model.summary()`` go to the ``logging``
module, not stdout), traceback filtering, the caps on fit's epochs and steps, and the dtype
policy (lamina's is ``floatx()``; mixed precision refused)."""
import logging
import subprocess
import sys
import traceback
import types
import warnings

import numpy as np
import pytest

import lamina
from lamina.backend import run_config


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    lamina.config.enable_interactive_logging()
    lamina.config.enable_traceback_filtering()
    lamina.config.set_max_epochs(None)
    lamina.config.set_max_steps_per_epoch(None)
    lamina.config.set_image_data_format("channels_last")
    lamina.backend.set_floatx("float32")


DEFAULTS = """
before = [K.config.image_data_format(), K.config.is_interactive_logging_enabled(),
          K.utils.is_interactive_logging_enabled(), K.config.is_traceback_filtering_enabled(),
          K.config.max_epochs(), K.config.max_steps_per_epoch()]
K.config.set_image_data_format("channels_first")
K.config.disable_interactive_logging()
K.config.disable_traceback_filtering()
K.config.set_max_epochs(3)
K.config.set_max_steps_per_epoch(4)
after = [K.config.image_data_format(), K.config.is_interactive_logging_enabled(),
         K.utils.is_interactive_logging_enabled(), K.config.is_traceback_filtering_enabled(),
         K.config.max_epochs(), K.config.max_steps_per_epoch()]
K.utils.enable_interactive_logging()
K.config.enable_traceback_filtering()
K.config.set_image_data_format("channels_last")
K.config.set_max_epochs(None)
K.config.set_max_steps_per_epoch(None)
result = {"before": before, "after": after, "restored": K.config.is_interactive_logging_enabled()}
"""


def test_settings_and_their_defaults_match_keras(keras_oracle):
    ours, _ = keras_oracle.compare(DEFAULTS)
    assert ours["before"][0] == "channels_last" and ours["after"][4] == 3


POLICY = """
policy = K.config.dtype_policy()
first = [policy.name, policy.compute_dtype, policy.variable_dtype, policy.get_config(), repr(policy)]
K.config.set_dtype_policy("float64")
policy = K.config.dtype_policy()
second = [policy.name, policy.compute_dtype, policy.variable_dtype, K.layers.Dense(2).dtype]
K.config.set_dtype_policy(first[0])
result = {"first": first, "second": second, "restored": K.config.dtype_policy().name}
"""


def test_dtype_policy_matches_keras(keras_oracle):
    ours, _ = keras_oracle.compare(POLICY)
    assert ours["second"] == ["float64", "float64", "float64", "float64"]


def test_set_dtype_policy_is_floatx_and_takes_a_policy_of_one_dtype():
    lamina.config.set_dtype_policy("float64")
    assert lamina.backend.floatx() == "float64" and lamina.config.dtype_policy().name == "float64"
    assert lamina.layers.Dense(2).dtype == "float64"
    lamina.config.set_dtype_policy(types.SimpleNamespace(compute_dtype="float32", variable_dtype="float32"))
    assert lamina.backend.floatx() == "float32"
    lamina.config.set_dtype_policy(run_config.DTypePolicy("float16"))
    assert lamina.backend.floatx() == "float16"
    assert run_config.DTypePolicy.from_config({"name": "float64"}) == run_config.DTypePolicy("float64")


@pytest.mark.parametrize("policy, words", [
    ("mixed_float16", "no mixed precision"), ("mixed_bfloat16", "no mixed precision"),
    (types.SimpleNamespace(compute_dtype="float16", variable_dtype="float32"), "computing in float16 with float32"),
    ("int32", "expects one of"), ("bfloat16", "expects one of"), (3, "of type int")])
def test_set_dtype_policy_refuses_what_lamina_cannot_compute_in(policy, words):
    with pytest.raises(ValueError, match=words):
        lamina.config.set_dtype_policy(policy)
    assert lamina.backend.floatx() == "float32"


# --- the caps on fit, evaluate and predict ----------------------------------------------------------
CAPS = """
class Count(K.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = {"train": 0, "test": 0, "predict": 0}
    def on_train_batch_end(self, batch, logs=None):
        self.seen["train"] += 1
    def on_test_batch_end(self, batch, logs=None):
        self.seen["test"] += 1
    def on_predict_batch_end(self, batch, logs=None):
        self.seen["predict"] += 1

model = K.Sequential([K.Input((3,)), K.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
K.config.set_max_epochs(MAX_EPOCHS)
K.config.set_max_steps_per_epoch(MAX_STEPS)
count = Count()
history = model.fit(x, y, batch_size=8, epochs=5, validation_data=(x, y), callbacks=[count], verbose=0)
fit_seen = dict(count.seen)
count.seen = {"train": 0, "test": 0, "predict": 0}
model.evaluate(x, y, batch_size=8, callbacks=[count], verbose=0)
rows = model.predict(x, batch_size=8, callbacks=[count], verbose=0).shape[0]
K.config.set_max_epochs(None)
K.config.set_max_steps_per_epoch(None)
result = {"epochs": len(history.history["loss"]), "fit": fit_seen, "after": count.seen, "rows": rows}
"""


# 48 rows, 6 batches: caps that divide 6, since on arrays Keras's steps_per_epoch goes on across
# epochs where lamina's starts each epoch at the first batch (the same batches when the cap divides)
@pytest.mark.parametrize("max_epochs, max_steps", [(2, 3), (9, None), (None, 2), (0, 0), (1, 9), (3, 1)])
def test_fit_evaluate_and_predict_honour_the_caps_as_keras(keras_oracle, max_epochs, max_steps):
    rng = np.random.default_rng(0)
    inputs = {"x": rng.standard_normal((48, 3)), "y": rng.standard_normal((48, 1)),
              "MAX_EPOCHS": max_epochs, "MAX_STEPS": max_steps}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, _ = keras_oracle.compare(CAPS, inputs)
    assert ours["epochs"] == (max_epochs if max_epochs and max_epochs < 5 else 5)


def test_a_cap_warns_as_keras_does():
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    lamina.config.set_max_epochs(2)
    lamina.config.set_max_steps_per_epoch(1)
    with pytest.warns(UserWarning) as caught:
        history = model.fit(np.ones((40, 3)), np.ones(40), epochs=4, verbose=0)
    assert {str(w.message) for w in caught} == {"Limiting epochs to 2", "Limiting steps_per_epoch to 1"}
    assert history.history["loss"] and len(history.history["loss"]) == 2


@pytest.mark.parametrize("value", [-1, 1.5, "2", True])
def test_a_cap_that_is_not_a_count_is_refused(value):
    with pytest.raises(ValueError, match="non-negative int"):
        lamina.config.set_max_epochs(value)
    with pytest.raises(ValueError, match="non-negative int"):
        lamina.config.set_max_steps_per_epoch(value)


def test_the_caps_come_from_keras_environment_variables():
    code = "import lamina; print(lamina.config.max_epochs(), lamina.config.max_steps_per_epoch())"
    env = {"KERAS_MAX_EPOCHS": "3", "KERAS_MAX_STEPS_PER_EPOCH": "7", "PYTHONPATH": ":".join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["3", "7"]


# --- interactive logging ----------------------------------------------------------------------------
def _trained_model():
    model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2, name="out")])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.parametrize("verbose", [1, 2])
def test_disabled_interactive_logging_sends_fit_and_summary_to_logging(capsys, caplog, verbose):
    model = _trained_model()
    lamina.utils.disable_interactive_logging()
    assert not lamina.config.is_interactive_logging_enabled()
    with caplog.at_level(logging.INFO, logger="lamina"):
        model.fit(np.ones((16, 3)), np.ones((16, 2)), batch_size=8, epochs=2, verbose=verbose)
        model.evaluate(np.ones((16, 3)), np.ones((16, 2)), verbose=verbose)
        model.summary()
    assert capsys.readouterr().out == ""
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name == "lamina")
    assert "2/2" in logged and "loss:" in logged and "Total params: 8" in logged and "out (Dense)" in logged
    assert "Epoch 2/2" in logged
    assert "\r" not in logged and "\x1b[" not in logged


def test_enabled_interactive_logging_prints_to_stdout(capsys, caplog):
    model = _trained_model()
    lamina.config.disable_interactive_logging()
    lamina.config.enable_interactive_logging()
    with caplog.at_level(logging.INFO, logger="lamina"):
        model.fit(np.ones((16, 3)), np.ones((16, 2)), batch_size=8, epochs=1, verbose=2)
        model.summary()
    out = capsys.readouterr().out
    assert "2/2" in out and "Total params: 8" in out
    assert not [record for record in caplog.records if record.name == "lamina"]


def test_a_print_fn_still_gets_the_summary_with_logging_disabled(capsys):
    lines = []
    lamina.config.disable_interactive_logging()
    _trained_model().summary(print_fn=lines.append)
    assert "Total params: 8" in "".join(lines) and capsys.readouterr().out == ""


# --- traceback filtering ----------------------------------------------------------------------------
def _fit_error() -> BaseException:
    model = _trained_model()
    try:
        model.fit(np.ones((4, 5)), np.ones((4, 2)), verbose=0)
    except ValueError as error:
        return error
    raise AssertionError("fit on inputs of the wrong width did not raise")


def _lamina_frames(error) -> list:
    return [f.filename for f in traceback.extract_tb(error.__traceback__) if "/src/lamina/" in f.filename]


def test_filtering_leaves_lamina_frames_out_of_tracebacks_until_disabled():
    filtered = _fit_error()
    assert lamina.config.is_traceback_filtering_enabled()
    assert "expects inputs of shape (None, 3)" in str(filtered)
    assert traceback.extract_tb(filtered.__traceback__)[0].filename == __file__
    assert len(_lamina_frames(filtered)) <= 2  # the filter's own frame, and where the error was raised
    lamina.config.disable_traceback_filtering()
    full = _fit_error()
    assert not lamina.config.is_traceback_filtering_enabled()
    assert type(full) is type(filtered) and len(_lamina_frames(full)) > len(_lamina_frames(filtered)) + 2


def test_a_layer_call_error_is_filtered_too():
    layer = lamina.layers.Dense(2)
    layer(np.ones((1, 3)))
    with pytest.raises(ValueError) as caught:
        layer(np.ones((1, 4)))
    assert len(_lamina_frames(caught.value)) <= 2


def test_the_callbacks_messages_follow_interactive_logging(capsys, caplog):
    model = _trained_model()
    lamina.config.disable_interactive_logging()
    stop = lamina.callbacks.EarlyStopping(monitor="loss", patience=0, verbose=1, min_delta=1e9)
    with caplog.at_level(logging.INFO, logger="lamina"):
        model.fit(np.ones((16, 3)), np.ones((16, 2)), batch_size=8, epochs=3, verbose=0, callbacks=[stop])
    assert capsys.readouterr().out == ""
    assert "Epoch 2: early stopping" in "\n".join(record.getMessage() for record in caplog.records)
