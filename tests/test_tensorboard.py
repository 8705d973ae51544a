"""TensorBoard: the event files read back with TensorBoard's own reader, checked against the
History, the weights and the logs the other callbacks saw."""
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import lamina

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util


def read_run(folder):
    """{tag: [(step, value array), ...]} of every tensor summary in ``folder``'s event files."""
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"]}


def metadata_of(folder, tag):
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator.SummaryMetadata(tag)


def classifier(seed=0):
    lamina.backend.clear_session()
    lamina.utils.set_random_seed(seed)
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(8, activation="relu"),
                               lamina.layers.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=lamina.optimizers.SGD(0.1),
                  metrics=["accuracy"])
    return model


def data(n=100):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    return x, (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)


def scalars(run, tag):
    return [(step, float(value)) for step, value in run[tag]]


def test_epoch_scalars_equal_the_history_in_keras_layout(tmp_path):
    model, (x, y) = classifier(), data()
    schedule = lamina.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=0,
                        callbacks=[schedule, lamina.callbacks.TensorBoard(tmp_path)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, validation = read_run(tmp_path / "train"), read_run(tmp_path / "validation")
    for name in ("loss", "accuracy"):
        assert [s for s, _ in scalars(train, f"epoch_{name}")] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in scalars(train, f"epoch_{name}")], history.history[name],
                                   rtol=1e-6)
        np.testing.assert_allclose([v for _, v in scalars(validation, f"epoch_{name}")],
                                   history.history[f"val_{name}"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in scalars(train, "epoch_learning_rate")], [0.1, 0.05, 0.1 / 3],
                               rtol=1e-6)
    assert not [tag for tag in train if tag.startswith("batch_")]  # update_freq="epoch"
    assert metadata_of(tmp_path / "train", "epoch_loss").plugin_data.plugin_name == "scalars"
    # after each validation, the validation logs against the optimizer's iterations (5 steps an epoch)
    assert [s for s, _ in scalars(validation, "evaluation_loss_vs_iterations")] == [5, 10, 15]
    np.testing.assert_allclose([v for _, v in scalars(validation, "evaluation_loss_vs_iterations")],
                               history.history["val_loss"], rtol=1e-6)


def test_update_freq_writes_batch_scalars_every_n_batches_counted_over_the_run(tmp_path):
    model, (x, y) = classifier(), data(80)
    seen = {}
    record = lamina.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.setdefault(
        len(seen) + 1, dict(logs)))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[lamina.callbacks.TensorBoard(tmp_path, update_freq=3), record])
    train = read_run(tmp_path / "train")
    assert [s for s, _ in scalars(train, "batch_loss")] == [3, 6, 9]  # 5 batches an epoch, 10 in all
    for step, value in scalars(train, "batch_loss"):
        assert value == pytest.approx(seen[step]["loss"], rel=1e-6)
    for step, value in scalars(train, "batch_accuracy"):
        assert value == pytest.approx(seen[step]["accuracy"], rel=1e-6)


def test_update_freq_batch_is_every_batch_and_steps_per_second_are_written(tmp_path):
    model, (x, y) = classifier(), data(64)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[
        lamina.callbacks.TensorBoard(tmp_path, update_freq="batch", write_steps_per_second=True)])
    train = read_run(tmp_path / "train")
    assert [s for s, _ in scalars(train, "batch_loss")] == [1, 2, 3, 4]
    assert [s for s, _ in scalars(train, "batch_steps_per_second")] == [1, 2, 3, 4]
    assert all(v > 0 for _, v in scalars(train, "epoch_steps_per_second"))
    # no callback put the rate in the logs: TensorBoard reads it from the optimizer, as Keras's
    assert scalars(train, "epoch_learning_rate") == [(0, pytest.approx(0.1))]


def test_epoch_level_writing_leaves_fit_without_batch_hooks(tmp_path):
    model = classifier()
    epoch_only = lamina.callbacks.CallbackList([lamina.callbacks.TensorBoard(tmp_path / "a")], model, {})
    batch = lamina.callbacks.CallbackList([lamina.callbacks.TensorBoard(tmp_path / "b", update_freq=5)], model, {})
    assert not epoch_only.wants_batch_logs("train") and batch.wants_batch_logs("train")


def test_histograms_every_histogram_freq_epochs_hold_the_weights(tmp_path):
    model, (x, y) = classifier(), data()
    kernels = []
    keep = lamina.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: kernels.append(
        np.array(model.layers[0].kernel)))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[keep, lamina.callbacks.TensorBoard(tmp_path, histogram_freq=2)])
    train = read_run(tmp_path / "train")
    tags = sorted(tag for tag in train if tag.endswith("/histogram"))
    # Keras names a tag by the weight's path, its Sequential included (sequential/dense/kernel)
    assert tags == sorted(f"{w.path}/histogram" for layer in model.layers for w in layer.weights)
    steps = [step for step, _ in train["sequential/dense/kernel/histogram"]]
    assert steps == [0, 2]
    for (_step, buckets), kernel in zip(train["sequential/dense/kernel/histogram"], [kernels[0], kernels[2]]):
        assert buckets.shape == (30, 3)  # tf.summary.histogram's default: 30 buckets of (left, right, count)
        assert buckets[:, 2].sum() == kernel.size
        assert buckets[0, 0] == pytest.approx(kernel.min()) and buckets[-1, 1] == pytest.approx(kernel.max())
        edges = np.linspace(kernel.min(), kernel.max(), 31)
        counts, _ = np.histogram(kernel, bins=edges)
        np.testing.assert_array_equal(buckets[:, 2], counts)
    assert metadata_of(tmp_path / "train", "sequential/dense/kernel/histogram").plugin_data.plugin_name == "histograms"


def test_write_images_writes_each_weight_as_a_png_keras_lays_out(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    model, (x, y) = classifier(), data()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[
        lamina.callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True)])
    train = read_run(tmp_path / "train")
    (_, content), = train["sequential/dense/kernel/image"]
    width, height, png = content
    kernel = np.array(model.layers[0].kernel)  # (4, 8): wider than tall, so not transposed
    assert (int(width), int(height)) == (8, 4)
    pixels = plt.imread(io.BytesIO(png), format="png")
    expected = np.clip(kernel * 255.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(np.round(pixels * 255).astype(np.uint8), expected)
    (_, bias_content), = train["sequential/dense/bias/image"]
    assert (int(bias_content[0]), int(bias_content[1])) == (1, 8)  # a bias is a column
    assert metadata_of(tmp_path / "train", "sequential/dense/kernel/image").plugin_data.plugin_name == "images"


def test_the_graph_is_the_model_json_that_tensorboard_draws(tmp_path):
    from tensorboard.plugins.graph import keras_util
    model, (x, y) = classifier(), data()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[lamina.callbacks.TensorBoard(tmp_path)])
    (step, structure), = read_run(tmp_path / "train")["keras"]
    assert step == 0 and json.loads(structure.item()) == json.loads(model.to_json())
    metadata = metadata_of(tmp_path / "train", "keras").plugin_data
    assert (metadata.plugin_name, metadata.content) == ("graph_keras_model", b"1")
    graph = keras_util.keras_model_to_graph_def(json.loads(structure.item()))
    assert [node.name.split("/")[-1] for node in graph.node] == ["input_layer", "dense", "dense_1"]


def test_a_functional_model_graph_has_its_branches(tmp_path):
    from tensorboard.plugins.graph import keras_util
    left, right = lamina.Input((4,), name="left"), lamina.Input((2,), name="right")
    joined = lamina.layers.Concatenate(name="joined")([lamina.layers.Dense(3, name="hidden")(left), right])
    model = lamina.Model([left, right], lamina.layers.Dense(1, name="out")(joined))
    model.compile(loss="mse", optimizer="sgd")
    x = np.ones((8, 4)), np.ones((8, 2))
    model.fit(list(x), np.ones((8, 1)), epochs=1, verbose=0, callbacks=[lamina.callbacks.TensorBoard(tmp_path)])
    (_, structure), = read_run(tmp_path / "train")["keras"]
    graph = keras_util.keras_model_to_graph_def(json.loads(structure.item()))
    inputs = {node.name.split("/")[-1]: sorted(i.split("/")[-1] for i in node.input) for node in graph.node}
    assert inputs == {"left": [], "right": [], "hidden": ["left"], "joined": ["hidden", "right"], "out": ["joined"]}


def test_write_graph_false_writes_no_graph_and_a_subclassed_model_warns(tmp_path):
    model, (x, y) = classifier(), data()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[lamina.callbacks.TensorBoard(tmp_path, write_graph=False)])
    assert "keras" not in read_run(tmp_path / "train")

    class Mlp(lamina.Model):
        def __init__(self):
            super().__init__()
            self.out = lamina.layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(inputs)
    sub = Mlp()
    sub.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    with pytest.warns(UserWarning, match="subclassed model.*write_graph=False"):
        sub.fit(x, y, epochs=1, verbose=0, callbacks=[lamina.callbacks.TensorBoard(tmp_path / "sub")])
    assert scalars(read_run(tmp_path / "sub" / "train"), "epoch_loss")


def test_evaluate_writes_the_evaluation_scalars_at_the_iterations(tmp_path):
    model, (x, y) = classifier(), data()
    model.fit(x, y, epochs=1, batch_size=25, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0, callbacks=[lamina.callbacks.TensorBoard(tmp_path)])
    validation = read_run(tmp_path / "validation")
    assert scalars(validation, "evaluation_loss_vs_iterations") == [(4, pytest.approx(loss, rel=1e-6))]
    assert scalars(validation, "evaluation_accuracy_vs_iterations") == [(4, pytest.approx(accuracy, rel=1e-6))]


@pytest.mark.parametrize("arguments, message", [
    ({"profile_batch": 5}, "profile_batch=5.*no profiler"),
    ({"profile_batch": (2, 4)}, r"profile_batch=\(2, 4\)"),
    ({"profile_batch": "10,20"}, "profile_batch='10,20'"),
    ({"embeddings_freq": 1}, "embeddings_freq=1.*no Embedding layer"),
    ({"embeddings_metadata": {"embedding": "meta.tsv"}}, "embeddings_metadata"),
    ({"update_freq": 0}, "update_freq=0"),
    ({"update_freq": "step"}, "update_freq='step'"),
    ({"histogram_freq": -1}, "histogram_freq=-1"),
    ({"histogram_freq": 1.5}, "histogram_freq=1.5"),
])
def test_what_lamina_cannot_honour_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        lamina.callbacks.TensorBoard("logs", **arguments)


def test_the_off_values_of_profiling_and_embeddings_are_accepted():
    callback = lamina.callbacks.TensorBoard("logs", profile_batch=0, embeddings_freq=0, embeddings_metadata=None)
    assert callback.update_freq == "epoch" and callback.histogram_freq == 0


def test_without_tensorboard_the_error_gives_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install 'lamina\[tensorboard\]'"):
        lamina.callbacks.TensorBoard("logs")


def test_import_lamina_imports_none_of_the_optional_tools():
    """In a fresh interpreter: `import lamina` (and its tool modules) loads no optional package."""
    code = ("import sys, lamina, lamina.callbacks, lamina.wrappers, lamina.export; "
            "print(sorted(m for m in ('tensorboard', 'onnx', 'onnxruntime', 'sklearn', 'scipy', 'google.protobuf')"
            " if m in sys.modules))")
    source = os.path.join(os.path.dirname(__file__), os.pardir, "src")
    env = {**os.environ, "PYTHONPATH": os.path.abspath(source)}
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_each_tool_extra_brings_only_what_the_tool_needs():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    root = os.path.join(os.path.dirname(__file__), os.pardir)
    with open(os.path.join(root, "pyproject.toml"), "rb") as file:
        extras = tomllib.load(file)["project"]["optional-dependencies"]

    def names(requirements):
        return {r.split(">")[0].split("=")[0].strip() for r in requirements}
    assert names(extras["tensorboard"]) == {"tensorboard"}
    assert names(extras["onnx"]) == {"onnx"}
    assert names(extras["sklearn"]) == {"scikit-learn"}
    assert {"tensorboard", "onnx", "onnxruntime", "scikit-learn"} <= names(extras["test"])  # CI runs every test


KERAS_SIGNATURES = """
import inspect, json, keras
def parameters(fn):
    return [[p.name, repr(p.default) if p.default is not inspect.Parameter.empty else None, p.kind.name]
            for p in inspect.signature(fn).parameters.values()]
print(json.dumps({"TensorBoard": parameters(keras.callbacks.TensorBoard.__init__),
                  "export": parameters(keras.Model.export),
                  **{name: parameters(getattr(keras.wrappers, name).__init__)
                     for name in ("SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer")}}))
"""


def test_the_tools_take_keras_arguments_with_keras_defaults():
    """TensorBoard, Model.export and the wrappers against the installed Keras's signatures."""
    import importlib.util
    import inspect
    import json
    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", KERAS_SIGNATURES], check=False, capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    keras_signatures = json.loads(result.stdout.strip().splitlines()[-1])

    def parameters(fn):
        return [[p.name, repr(p.default) if p.default is not inspect.Parameter.empty else None, p.kind.name]
                for p in inspect.signature(fn).parameters.values()]
    from lamina import wrappers
    ours = {"TensorBoard": parameters(lamina.callbacks.TensorBoard.__init__), "export": parameters(lamina.Model.export),
            **{name: parameters(getattr(wrappers, name).__init__)
               for name in ("SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer")}}
    assert ours == keras_signatures
