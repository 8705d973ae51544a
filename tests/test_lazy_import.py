"""``import lamina`` loads nothing of the package until it is used (issue 15: import time), and
the lazy names give exactly what eager imports gave. Fresh interpreters: the test process has
imported everything already."""
import subprocess
import sys

import lamina

# none of these may be imported by ``import lamina`` alone (the API loads at first use)
NOT_AT_IMPORT = ("numpy", "numba", "lamina.layers", "lamina.models", "lamina.ops", "lamina.activations",
                 "lamina.callbacks", "lamina.trainers", "lamina.tf", "lamina.keras", "lamina.saving",
                 "lamina.utils", "lamina.optimizers._numba_kernels", "lamina.datasets._loader", "urllib.request",
                 "http.client", "importlib.abc")
# nor by building a model, beyond what the model needs
NOT_AT_FIRST_MODEL = ("numba", "lamina.saving.saving_lib", "zipfile", "lamina.utils.plotting",
                      "lamina.callbacks.backup_and_restore", "lamina.callbacks.tensorboard",
                      "lamina.datasets._loader", "urllib.request")


def run(code: str) -> list:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().split("\n")


def loaded(names) -> str:
    return f"print(sorted(m for m in {tuple(names)!r} if m in sys.modules))"


def test_import_lamina_loads_none_of_the_api():
    assert run("import sys, lamina\n" + loaded(NOT_AT_IMPORT)) == ["[]"]


def test_a_first_model_loads_neither_saving_nor_pictures_nor_numba():
    code = ("import sys, lamina\n"
            "m = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2, activation='softmax')])\n"
            "m.compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
            + loaded(NOT_AT_FIRST_MODEL))
    assert run(code) == ["[]"]


def test_the_lazy_names_are_the_eager_ones():
    code = ("import sys, lamina, lamina.layers.dense, lamina.tf.math, lamina.models.sequential\n"
            "from lamina.math import reduce_sum\n"
            "from lamina.keras.layers import Dense\n"
            "from lamina import constant, Sequential\n"
            "import lamina as tf\n"
            "print(Dense is lamina.layers.dense.Dense is tf.keras.layers.Dense,"
            " reduce_sum is lamina.tf.math.reduce_sum,"
            " lamina.math is sys.modules['lamina.math'] is lamina.tf.math, lamina.tf.math.__spec__.name,"
            " Sequential is lamina.models.sequential.Sequential, constant is lamina.tf.constant)\n"
            "print(lamina.callbacks.EarlyStopping.__module__, lamina.saving.load_model.__module__,"
            " lamina.utils.plot_model.__module__)\n"
            "print(len(lamina.__all__), set(lamina.__all__) <= set(dir(lamina)), 'Dense' in dir(lamina.layers),"
            " 'EarlyStopping' in dir(lamina.callbacks))")
    out = run(code)
    assert out[0] == "True True True lamina.tf.math True True"
    assert out[1] == "lamina.callbacks.early_stopping lamina.saving.saving_lib lamina.utils.plot_model"
    assert out[2] == f"{len(lamina.__all__)} True True True"
    expected = {"Sequential", "Model", "Input", "constant", "reduce_mean", "keras", "nn", "__version__"}
    assert expected <= set(lamina.__all__)


def test_an_unknown_name_is_an_attribute_error():
    for module, name in ((lamina, "Sequentail"), (lamina, "_private"), (lamina.callbacks, "EarlyStoping"),
                         (lamina.saving, "load")):
        try:
            getattr(module, name)
        except AttributeError as error:
            assert name in str(error) and module.__name__ in str(error)
        else:
            raise AssertionError(f"{module.__name__}.{name} resolved")
