"""Every config goes through one serializer and every argument through its module's ``get``
(issue 10, bug 6), and files Keras writes for a model compiled but never trained load with a
fresh optimizer, as Keras loads them (bug 5)."""
import io
import warnings
import zipfile

import numpy as np
import pytest

import lamina
import lamina.cli
from lamina import constraints, initializers, layers, regularizers
from lamina.saving import register_keras_serializable

h5py = pytest.importorskip("h5py")


# --- bug 6: one serializer, one get per module ---------------------------------------------------
def test_batch_normalization_regularizers_given_by_name_count_in_the_loss():
    x = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
    y = np.zeros((4, 3), "float32")
    losses = {}
    for name, regularizer in (("plain", None), ("l2", "l2")):
        lamina.random.set_seed(0)
        model = lamina.Sequential([lamina.Input((3,)), layers.BatchNormalization(gamma_regularizer=regularizer,
                                                                                 beta_regularizer=regularizer)])
        model.compile(optimizer="sgd", loss="mse")
        losses[name] = model.evaluate(x, y, verbose=0)
        model.fit(x, y, epochs=1, verbose=0)  # the first step used to fail on a string regularizer
        assert isinstance(model.layers[0].gamma_regularizer, (type(None), regularizers.L2))
    # gamma starts at ones (3 of them), beta at zeros: the L2 penalty is 0.01 * 3
    assert losses["l2"] - losses["plain"] == pytest.approx(0.03, rel=1e-6)


@pytest.mark.parametrize("cls", [layers.BatchNormalization, layers.LayerNormalization])
def test_normalization_regularizers_and_constraints_round_trip_through_files(tmp_path, cls):
    layer = cls(beta_regularizer=regularizers.L1(0.25), gamma_regularizer="l2",
                beta_constraint=constraints.MaxNorm(2.0), gamma_constraint="non_neg")
    model = lamina.Sequential([lamina.Input((3,)), layer])
    config = model.get_config()["layers"][1]["config"]
    assert config["beta_regularizer"] == {"module": "keras.regularizers", "class_name": "L1",
                                          "config": {"l1": 0.25}, "registered_name": None}
    assert config["gamma_constraint"]["module"] == "keras.constraints"
    model.save(tmp_path / "norm.keras")
    loaded = lamina.saving.load_model(tmp_path / "norm.keras").layers[0]
    assert isinstance(loaded.beta_regularizer, regularizers.L1) and loaded.beta_regularizer.l1 == 0.25
    assert isinstance(loaded.gamma_regularizer, regularizers.L2) and loaded.gamma_regularizer.l2 == 0.01
    assert isinstance(loaded.beta_constraint, constraints.MaxNorm) and loaded.beta_constraint.max_value == 2.0
    assert isinstance(loaded.gamma_constraint, constraints.NonNeg)


@register_keras_serializable(package="Tests")
class Halving(regularizers.Regularizer):
    def __init__(self, factor=0.5):
        self.factor = factor

    def __call__(self, x):
        return self.factor * float(np.sum(x))

    def grad(self, x):
        return np.full_like(x, self.factor)

    def get_config(self):
        return {"factor": self.factor}


@register_keras_serializable(package="Tests")
class Threes(initializers.Initializer):
    def __call__(self, shape, dtype=None):
        return np.full(shape, 3.0, dtype or "float32")


@register_keras_serializable(package="Tests")
class Clip(constraints.Constraint):
    def __init__(self, limit=1.0):
        self.limit = limit

    def __call__(self, w):
        return np.clip(w, -self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


def test_registered_regularizers_initializers_and_constraints_reload(tmp_path):
    dense = layers.Dense(2, kernel_initializer=Threes(), kernel_regularizer=Halving(0.25),
                         kernel_constraint=Clip(0.5), activity_regularizer=Halving(0.125))
    model = lamina.Sequential([lamina.Input((3,)), dense])
    config = model.get_config()["layers"][1]["config"]
    assert config["kernel_regularizer"]["registered_name"] == "Tests>Halving"
    assert config["kernel_initializer"]["registered_name"] == "Tests>Threes"
    assert config["kernel_constraint"]["registered_name"] == "Tests>Clip"
    model.save(tmp_path / "custom.keras")
    loaded = lamina.saving.load_model(tmp_path / "custom.keras").layers[0]
    assert isinstance(loaded.kernel_regularizer, Halving) and loaded.kernel_regularizer.factor == 0.25
    assert isinstance(loaded.activity_regularizer, Halving) and loaded.activity_regularizer.factor == 0.125
    assert isinstance(loaded.kernel_constraint, Clip) and loaded.kernel_constraint.limit == 0.5
    assert isinstance(loaded.kernel_initializer, Threes)
    rebuilt = lamina.models.model_from_json(model.to_json())  # fresh weights from the initializer
    np.testing.assert_array_equal(rebuilt.layers[0].kernel.value, np.full((3, 2), 3.0))


@pytest.mark.parametrize("module, obj", [(initializers, initializers.HeNormal(seed=3)),
                                         (regularizers, regularizers.L1L2(l1=0.5, l2=0.25)),
                                         (constraints, constraints.MinMaxNorm(0.5, 2.0)),
                                         (regularizers, Halving(0.25))])
def test_each_module_serializes_as_serialize_keras_object_does(module, obj):
    assert module.serialize(obj) == lamina.saving.serialize_keras_object(obj)
    assert type(module.get(module.serialize(obj))) is type(obj)


# --- bug 5: Keras's files of a model compiled but never trained ------------------------------------
def _edit_weights(path, edit) -> None:
    with zipfile.ZipFile(path) as zf:
        contents = {name: zf.read(name) for name in zf.namelist()}
    buffer = io.BytesIO(contents["model.weights.h5"])
    with h5py.File(buffer, "a") as f:
        edit(f)
    contents["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)


def _untrained_keras_layout(path):
    """A lamina file edited to Keras's layout for a compiled model never trained: the optimizer
    state holds only the iteration count and the learning rate."""
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="mse")
    model.save(path)

    def drop_slots(f):
        for name in ("2", "3", "4", "5"):
            del f["optimizer/vars"][name]

    _edit_weights(path, drop_slots)
    return model


def _three_arrays(path):
    """Optimizer state of neither size: three arrays where Adam keeps two or six."""
    _untrained_keras_layout(path)
    _edit_weights(path, lambda f: f["optimizer/vars"].create_dataset("2", data=np.zeros((3, 2), "float32")))


def test_a_file_whose_optimizer_never_stepped_loads_with_a_fresh_optimizer(tmp_path):
    original = _untrained_keras_layout(tmp_path / "untrained.keras")
    with pytest.warns(UserWarning, match=r"Skipping variable loading for optimizer 'adam', because it has 6 "
                                         r"variables whereas the saved optimizer has 2 variables"):
        loaded = lamina.saving.load_model(tmp_path / "untrained.keras")
    np.testing.assert_array_equal(loaded.layers[0].kernel.value, original.layers[0].kernel.value)
    assert loaded.compiled and int(loaded.optimizer.iterations.value) == 0
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations.value) == 1


def test_other_optimizer_state_mismatches_are_still_refused(tmp_path):
    _three_arrays(tmp_path / "three.keras")
    with pytest.raises(ValueError, match=r"optimizer 'adam' has 6 weights .* holds 3 arrays"):
        lamina.saving.load_model(tmp_path / "three.keras")


def test_lamina_summary_reads_a_file_without_building_its_optimizer(tmp_path, monkeypatch, capsys):
    _three_arrays(tmp_path / "three.keras")  # its optimizer state cannot be loaded
    built = []
    monkeypatch.setattr(lamina.optimizers.Optimizer, "build", lambda self, variables: built.append(self))
    assert lamina.cli.main(["summary", str(tmp_path / "three.keras")]) == 0
    assert "Total params: 8" in capsys.readouterr().out
    assert built == []
