"""Every bad input named in the foundation issue gets a clear error naming what was wrong."""
import numpy as np
import pytest

import lamina
from lamina import layers


def lesson_model(compiled=True):
    model = lamina.Sequential([layers.Flatten(input_shape=[28, 28]), layers.Dense(30, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    if compiled:
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_wrong_feature_shape_for_built_model():
    model = lesson_model()
    with pytest.raises(ValueError, match=r"Flatten 'flatten' of model 'sequential' expects inputs of shape "
                                         r"\(None, 28, 28\), got \(32, 28, 27\)"):
        model.fit(np.zeros((32, 28, 27)), np.zeros(32), verbose=0)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 28, 28\), got \(4, 784\)"):
        model.predict(np.zeros((4, 784)), verbose=0)


def test_dense_names_its_expected_last_dimension():
    layer = layers.Dense(3)
    layer(np.zeros((2, 784)))
    with pytest.raises(ValueError, match=r"Dense 'dense' expects inputs with last dimension 784, "
                                         r"got inputs of shape \(32, 28, 27\)"):
        layer(np.zeros((32, 28, 27)))


def test_x_and_y_lengths_differ():
    with pytest.raises(ValueError, match=r"x and y must have the same number of samples, got x with 10 and y with 9"):
        lesson_model().fit(np.zeros((10, 28, 28)), np.zeros(9), verbose=0)


def test_labels_out_of_range_for_sparse_crossentropy():
    with pytest.raises(ValueError, match=r"labels in y must be in \[0, 10\) for an output of 10 units, "
                                         r"got values from 0 to 10"):
        lesson_model().fit(np.zeros((3, 28, 28)), np.array([0, 10, 2]), verbose=0)
    with pytest.raises(ValueError, match=r"got values from -1 to 2"):
        lesson_model().evaluate(np.zeros((3, 28, 28)), np.array([0, -1, 2]), verbose=0)
    with pytest.raises(ValueError, match=r"must be integers"):
        lesson_model().fit(np.zeros((2, 28, 28)), np.array([0.5, 1.0]), verbose=0)


def test_non_numeric_features_and_labels():
    with pytest.raises(TypeError, match=r"Expected numeric data for x, got an array of dtype <U1"):
        lesson_model().fit(np.full((2, 28, 28), "a"), np.zeros(2), verbose=0)
    with pytest.raises(TypeError, match=r"Expected numeric data for y"):
        lesson_model().fit(np.zeros((2, 28, 28)), np.array(["cat", "dog"]), verbose=0)


def test_empty_x():
    with pytest.raises(ValueError, match=r"x is empty: expected at least one sample, got shape \(0, 28, 28\)"):
        lesson_model().fit(np.zeros((0, 28, 28)), np.zeros(0), verbose=0)


def test_fit_before_compile():
    with pytest.raises(ValueError, match=r"You must call compile\(\) before fit\(\)"):
        lesson_model(compiled=False).fit(np.zeros((2, 28, 28)), np.zeros(2), verbose=0)
    with pytest.raises(ValueError, match=r"before evaluate\(\)"):
        lesson_model(compiled=False).evaluate(np.zeros((2, 28, 28)), np.zeros(2), verbose=0)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown activation 'rellu'.( Did you mean 'relu'.)? "
                                         r"Valid names: .*relu.*softmax"):
        layers.Dense(3, activation="rellu")
    model = lesson_model(compiled=False)
    with pytest.raises(ValueError, match=r"Unknown optimizer 'sgdd'. Valid names: .*adam.*sgd"):
        model.compile(optimizer="sgdd", loss="mse")
    with pytest.raises(ValueError, match=r"Unknown loss 'mse2'. Valid names: .*mse"):
        model.compile(optimizer="sgd", loss="mse2")
    with pytest.raises(ValueError, match=r"Unknown metric 'acuracy'. Valid names: .*accuracy"):
        model.compile(optimizer="sgd", loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'. Valid names: .*glorot_uniform"):
        layers.Dense(3, kernel_initializer="glorot")


@pytest.mark.parametrize("split", [0.0 - 0.1, 1.0, 1.5])
def test_validation_split_outside_open_interval(split):
    with pytest.raises(ValueError, match=rf"validation_split must be in \(0, 1\), got {split}"):
        lesson_model().fit(np.zeros((10, 28, 28)), np.zeros(10), validation_split=split, verbose=0)


def test_validation_split_leaving_no_rows():
    with pytest.raises(ValueError, match=r"validation_split=0.1 leaves no rows for training out of 1 samples"):
        lesson_model().fit(np.zeros((1, 28, 28)), np.zeros(1), validation_split=0.1, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split=0.9 leaves no rows for training out of 3 samples"):
        lesson_model().fit(np.zeros((3, 28, 28)), np.zeros(3), validation_split=0.9, verbose=0)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_batch_size_below_one(batch_size):
    with pytest.raises(ValueError, match=r"batch_size must be a positive int"):
        lesson_model().fit(np.zeros((4, 28, 28)), np.zeros(4), batch_size=batch_size, verbose=0)


def test_dense_zero_or_bad_units():
    with pytest.raises(ValueError, match=r"Dense 'dense' expects units to be a positive int, got units=0"):
        layers.Dense(0)
    with pytest.raises(TypeError, match=r"expects units to be a positive int, got '3'"):
        layers.Dense("3")


def test_set_weights_wrong_count_and_shape():
    model = lesson_model()
    with pytest.raises(ValueError, match=r"Sequential 'sequential' expects 4 weight arrays, got 2"):
        model.set_weights([np.zeros((784, 30)), np.zeros(30)])
    with pytest.raises(ValueError, match=r"Dense 'dense' weight 'kernel' has shape \(784, 30\), "
                                         r"got an array of shape \(30, 784\)"):
        model.layers[1].set_weights([np.zeros((30, 784)), np.zeros(30)])


def test_unknown_layer_keyword():
    with pytest.raises(TypeError, match=r"Dense got unexpected keyword argument\(s\) \['unit'\]"):
        layers.Dense(3, unit=4)


def test_get_layer_errors():
    model = lesson_model()
    with pytest.raises(ValueError, match=r"No such layer: 'hidden'. "
                                         r"Existing layers are: \['flatten', 'dense', 'dense_1'\]"):
        model.get_layer("hidden")
    with pytest.raises(ValueError, match=r"index 7 is out of range: the model has 3 layers"):
        model.get_layer(index=7)


def test_bad_epochs():
    with pytest.raises(ValueError, match=r"epochs must be a non-negative int, got -1"):
        lesson_model().fit(np.zeros((4, 28, 28)), np.zeros(4), epochs=-1, verbose=0)


def test_targets_that_do_not_match_the_output_are_named():
    model = lesson_model()
    x = np.zeros((4, 28, 28))
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy expects integer class labels of shape "
                                         r"\(n,\) or \(n, 1\), got y of shape \(4, 10\) \(one-hot labels need "
                                         r"categorical_crossentropy\)"):
        model.fit(x, np.eye(10)[[0, 1, 2, 3]], verbose=0)
    with pytest.raises(ValueError, match=r"got y of shape \(4, 1, 1\)"):
        model.fit(x, np.zeros((4, 1, 1)), verbose=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"categorical_crossentropy compares y with the model's output of shape "
                                         r"\(None, 10\), got y of shape \(4,\) \(integer class labels need "
                                         r"sparse_categorical_crossentropy\)"):
        model.fit(x, np.arange(4), verbose=0)


def test_validation_data_lengths_differ():
    with pytest.raises(ValueError, match=r"validation x and validation y must have the same number of samples, "
                                         r"got validation x with 3 and validation y with 2"):
        lesson_model().fit(np.zeros((3, 28, 28)), np.zeros(3), validation_data=(np.zeros((3, 28, 28)), np.zeros(2)),
                           verbose=0)


def test_an_input_batch_shape_without_the_batch_size_is_refused_by_name():
    with pytest.raises(ValueError, match=r"InputLayer 'pixels' expects batch_shape to start with the batch size"):
        lamina.Input(batch_shape=(), name="pixels")
    assert lamina.Input(batch_shape=(None,)).shape == (None,)  # a batch of scalars is a shape
