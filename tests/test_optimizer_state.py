"""Optimizer state as Keras keeps it (slot order and paths, initial accumulators), names, defaults,
config, and bad arguments."""
import numpy as np
import pytest

import lamina
from lamina import optimizers
from lamina.optimizers import schedules


# --- state order (optimizer/vars/<i> in a saved file) -------------------------------------------
def slot_names(optimizer):
    a = lamina.Variable(np.zeros(2), name="a")
    b = lamina.Variable(np.zeros(3), name="b")
    optimizer.build([a, b])
    return [v.name for v in optimizer.variables]


@pytest.mark.parametrize("optimizer,expected", [
    (optimizers.SGD(), []),
    (optimizers.SGD(momentum=0.9), ["a_momentum", "b_momentum"]),
    (optimizers.Adam(), ["a_momentum", "a_velocity", "b_momentum", "b_velocity"]),
    (optimizers.Adam(amsgrad=True),
     ["a_momentum", "a_velocity", "b_momentum", "b_velocity", "a_velocity_hat", "b_velocity_hat"]),
    (optimizers.AdamW(), ["a_momentum", "a_velocity", "b_momentum", "b_velocity"]),
    (optimizers.Nadam(), ["u_product", "a_momentum", "a_velocity", "b_momentum", "b_velocity"]),
    (optimizers.Adamax(), ["a_momentum", "a_norm", "b_momentum", "b_norm"]),
    (optimizers.RMSprop(momentum=0.5, centered=True),
     ["a_velocity", "b_velocity", "a_momentum", "b_momentum", "a_average_gradient", "b_average_gradient"]),
    (optimizers.Adagrad(), ["a_accumulator", "b_accumulator"]),
    (optimizers.Adadelta(), ["a_accumulated_grad", "a_accumulated_delta_var",
                             "b_accumulated_grad", "b_accumulated_delta_var"]),
    (optimizers.Lion(), ["a_momentum", "b_momentum"]),
    (optimizers.Ftrl(), ["a_accumulator", "a_linear", "b_accumulator", "b_linear"]),
    (optimizers.Lamb(), ["a_momentum", "a_velocity", "b_momentum", "b_velocity"]),
    # rank < 2: two int32 placeholders for the row and column statistics, named as the variable
    (optimizers.Adafactor(), ["a", "a", "a_velocity", "b", "b", "b_velocity"]),
    (optimizers.SGD(momentum=0.5, use_ema=True, gradient_accumulation_steps=2),
     ["a_average", "b_average", "a_gradient_accumulator", "b_gradient_accumulator", "a_momentum", "b_momentum"]),
])
def test_state_order_matches_keras(optimizer, expected):
    assert slot_names(optimizer) == ["iteration", "learning_rate"] + expected


ORDER = """
names = []
for make in (lambda: K.optimizers.SGD(momentum=0.5, use_ema=True, gradient_accumulation_steps=2),
             lambda: K.optimizers.Adam(amsgrad=True, use_ema=True),
             lambda: K.optimizers.RMSprop(centered=True, momentum=0.5, gradient_accumulation_steps=3)):
    optimizer = make()
    optimizer.build([K.Variable(np.zeros(2), name="a"), K.Variable(np.zeros(3), name="b")])
    names.append([v.name for v in optimizer.variables])
result = names
"""


def test_state_order_with_averages_and_accumulators_is_keras_s(keras_oracle):
    keras_oracle.compare("import numpy as np\n" + ORDER)


def test_adafactor_factors_the_last_two_axes_as_keras():
    kernel = lamina.Variable(np.zeros((2, 3, 4)), name="kernel")
    bias = lamina.Variable(np.zeros(4), name="bias")
    opt = optimizers.Adafactor()
    opt.build([kernel, bias])
    # what Keras 3.15 holds for the same variables
    assert [(v.name, v.path, v.shape, v.value.dtype.name) for v in opt.variables[2:]] == [
        ("kernel", "adafactor/kernel", (2, 3), "float64"), ("kernel", "adafactor/kernel", (2, 4), "float64"),
        ("kernel_velocity", "adafactor/kernel_velocity", (2, 3, 4), "float64"),
        ("bias", "bias", (), "int32"), ("bias", "bias", (), "int32"),
        ("bias_velocity", "adafactor/bias_velocity", (4,), "float64")]


def test_state_paths_sit_under_the_optimizers_name_as_in_keras():
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)
    # what Keras 3.15 on JAX prints for the same program
    assert [(v.name, v.path) for v in model.optimizer.variables] == [
        ("iteration", "adam/iteration"), ("learning_rate", "adam/learning_rate"),
        ("sequential_dense_kernel_momentum", "adam/sequential_dense_kernel_momentum"),
        ("sequential_dense_kernel_velocity", "adam/sequential_dense_kernel_velocity"),
        ("sequential_dense_bias_momentum", "adam/sequential_dense_bias_momentum"),
        ("sequential_dense_bias_velocity", "adam/sequential_dense_bias_velocity")]
    nadam = optimizers.Nadam(name="mine")
    nadam.build([lamina.Variable(np.zeros(2), name="a")])
    assert {v.path.split("/")[0] for v in nadam.variables} == {"mine"}


def test_initial_accumulators():
    a = lamina.Variable(np.zeros(2), name="a")
    opt = optimizers.Ftrl(initial_accumulator_value=0.3)
    opt.build([a])
    np.testing.assert_array_equal(opt.slot(a, "accumulator").value, [0.3, 0.3])
    opt = optimizers.Adagrad()
    opt.build([a])
    np.testing.assert_array_equal(opt.slot(a, "accumulator").value, [0.1, 0.1])


# --- names, defaults, config -------------------------------------------------------------------
@pytest.mark.parametrize("name,cls,defaults", [
    ("sgd", optimizers.SGD, {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
    ("adam", optimizers.Adam, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    ("adamw", optimizers.AdamW, {"learning_rate": 0.001, "weight_decay": 0.004, "amsgrad": False}),
    ("nadam", optimizers.Nadam, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    ("adamax", optimizers.Adamax, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999}),
    ("rmsprop", optimizers.RMSprop, {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "centered": False}),
    ("adagrad", optimizers.Adagrad, {"learning_rate": 0.001, "initial_accumulator_value": 0.1}),
    ("adadelta", optimizers.Adadelta, {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}),
    ("lion", optimizers.Lion, {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99}),
    ("ftrl", optimizers.Ftrl, {"learning_rate": 0.001, "learning_rate_power": -0.5,
                               "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.0,
                               "l2_regularization_strength": 0.0, "l2_shrinkage_regularization_strength": 0.0,
                               "beta": 0.0}),
    ("adafactor", optimizers.Adafactor, {"learning_rate": 0.001, "beta_2_decay": -0.8, "epsilon_1": 1e-30,
                                         "epsilon_2": 1e-3, "clip_threshold": 1.0, "relative_step": True}),
])
def test_get_by_name_and_keras_defaults(name, cls, defaults):
    opt = optimizers.get(name)
    assert type(opt) is cls and opt.name.lower() == name
    config = opt.get_config()
    for key, value in defaults.items():
        assert config[key] == value
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert type(optimizers.get({"class_name": cls.__name__, "config": config})) is cls


def test_lamb_has_keras_defaults_but_no_name_as_in_keras():
    config = optimizers.Lamb().get_config()
    assert {k: config[k] for k in ("name", "learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay")} == {
        "name": "lamb", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "weight_decay": None}
    assert optimizers.Lamb.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="Unknown optimizer 'lamb'"):  # Keras's get("lamb") refuses it too
        optimizers.get("lamb")
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    model.compile(optimizer=optimizers.Lamb(), loss="mse")
    assert type(optimizers.deserialize(optimizers.serialize(model.optimizer))) is optimizers.Lamb


def test_config_round_trips_a_schedule():
    opt = optimizers.SGD(schedules.CosineDecay(0.1, 100, alpha=0.1))
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    clone = optimizers.SGD.from_config(config)
    assert clone.learning_rate == pytest.approx(0.1)
    assert clone.get_config() == config


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'. Valid names: adadelta, adafactor, adagrad, adam"):
        optimizers.get("adamm")


# --- bad arguments -----------------------------------------------------------------------------
@pytest.mark.parametrize("make,match", [
    (lambda: optimizers.SGD(learning_rate=-0.1), r"SGD expects learning_rate >= 0, got learning_rate=-0.1"),
    (lambda: optimizers.SGD(momentum=1.5), r"SGD expects momentum in \[0, 1\], got momentum=1.5"),
    (lambda: optimizers.Adam(beta_1=1.0), r"Adam expects beta_1 in \[0, 1\), got beta_1=1.0"),
    (lambda: optimizers.Adam(beta_2=-0.1), r"Adam expects beta_2 in \[0, 1\), got beta_2=-0.1"),
    (lambda: optimizers.Adam(epsilon=-1.0), r"Adam expects epsilon >= 0, got epsilon=-1.0"),
    (lambda: optimizers.AdamW(beta_1=2.0), r"AdamW expects beta_1 in \[0, 1\), got beta_1=2.0"),
    (lambda: optimizers.AdamW(weight_decay=None), r"AdamW expects weight_decay to be a float, got weight_decay=None"),
    (lambda: optimizers.Nadam(beta_2=1.0), r"Nadam expects beta_2 in \[0, 1\), got beta_2=1.0"),
    (lambda: optimizers.Adamax(beta_1=-0.5), r"Adamax expects beta_1 in \[0, 1\), got beta_1=-0.5"),
    (lambda: optimizers.RMSprop(rho=1.0), r"RMSprop expects rho in \[0, 1\), got rho=1.0"),
    (lambda: optimizers.RMSprop(momentum=-0.1), r"RMSprop expects momentum in \[0, 1\], got momentum=-0.1"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1.0),
     r"Adagrad expects initial_accumulator_value >= 0, got initial_accumulator_value=-1.0"),
    (lambda: optimizers.Adadelta(rho=1.5), r"Adadelta expects rho in \[0, 1\), got rho=1.5"),
    (lambda: optimizers.Lion(beta_1=0.0), r"Lion expects beta_1 in \(0, 1\], got beta_1=0.0"),
    (lambda: optimizers.Lion(beta_2=1.5), r"Lion expects beta_2 in \[0, 1\], got beta_2=1.5"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5),
     r"Ftrl expects learning_rate_power <= 0, got learning_rate_power=0.5"),
    (lambda: optimizers.Ftrl(l1_regularization_strength=-1.0),
     r"Ftrl expects l1_regularization_strength >= 0, got l1_regularization_strength=-1.0"),
    (lambda: optimizers.Ftrl(l2_shrinkage_regularization_strength=-1.0),
     r"Ftrl expects l2_shrinkage_regularization_strength >= 0"),
    (lambda: optimizers.Lamb(beta_2=1.0), r"Lamb expects beta_2 in \[0, 1\), got beta_2=1.0"),
    (lambda: optimizers.Lamb(epsilon=-1.0), r"Lamb expects epsilon >= 0, got epsilon=-1.0"),
    (lambda: optimizers.Adafactor(epsilon_1=-1.0), r"Adafactor expects epsilon_1 >= 0, got epsilon_1=-1.0"),
    (lambda: optimizers.Adafactor(epsilon_2=-1.0), r"Adafactor expects epsilon_2 >= 0, got epsilon_2=-1.0"),
    (lambda: optimizers.Adafactor(clip_threshold=0.0), r"Adafactor expects clip_threshold > 0, got clip_threshold=0.0"),
    (lambda: optimizers.Adafactor(beta_2_decay=0.5), r"Adafactor expects beta_2_decay <= 0, got beta_2_decay=0.5"),
    (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=1.0), r"set at most one of clipnorm, clipvalue"),
    (lambda: optimizers.SGD(clipnorm=-1.0), r"SGD expects clipnorm >= 0, got clipnorm=-1.0"),
    (lambda: optimizers.SGD(weight_decay=-0.1), r"SGD expects weight_decay >= 0, got weight_decay=-0.1"),
    (lambda: optimizers.SGD(gradient_accumulation_steps=1),
     r"gradient_accumulation_steps to be an integer >= 2 or None, got gradient_accumulation_steps=1"),
    (lambda: optimizers.SGD(use_ema=True, ema_momentum=1.5), r"SGD expects ema_momentum in \[0, 1\], got"),
    (lambda: optimizers.SGD(use_ema=True, ema_overwrite_frequency=0.5),
     r"ema_overwrite_frequency to be an integer >= 1 or None, got ema_overwrite_frequency=0.5"),
    (lambda: optimizers.SGD(loss_scale_factor=0), r"loss_scale_factor > 0 or None"),
])
def test_bad_arguments_name_argument_and_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match=r"Adam got unexpected keyword argument\(s\) \['lr'\]"):
        optimizers.Adam(lr=0.1)
