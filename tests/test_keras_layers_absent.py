"""Every Keras 3 layer lamina lacks is either out of scope (and says so by name when asked for) or
in README's list of what is not there yet."""
import pytest

import lamina

# README, "What does not work yet": the Keras layers for MLPs lamina does not have yet
NOT_YET = {"Discretization", "EinsumDense", "GroupNormalization", "HashedCrossing", "Hashing", "IntegerLookup",
           "Permute", "Pipeline", "RMSNormalization", "RepeatVector", "ReversibleEmbedding", "SpectralNormalization",
           "StringLookup", "Wrapper"}


def test_every_keras_layer_lamina_lacks_is_out_of_scope_or_listed(keras_oracle):
    keras_names = keras_oracle.run("result = sorted(n for n in dir(K.layers) if n[0].isupper())")
    missing = {name for name in keras_names if not hasattr(lamina.layers, name)}
    unexplained = set()
    for name in missing - NOT_YET:
        with pytest.raises(AttributeError) as caught:
            getattr(lamina.layers, name)
        if "out of its scope" not in str(caught.value):
            unexplained.add(name)
    assert not unexplained, f"Keras layers lamina neither has, nor calls out of scope, nor lists: {sorted(unexplained)}"


@pytest.mark.parametrize("name,family", [("Conv2D", "convolutional"), ("LSTM", "recurrent"),
                                         ("MultiHeadAttention", "attention"), ("RandomFlip", "image")])
def test_an_out_of_scope_layer_says_why(name, family):
    with pytest.raises(AttributeError, match=rf"lamina.layers has no {name}: .*multilayer perceptrons.*{family}"):
        getattr(lamina.layers, name)


def test_an_unknown_name_is_a_plain_attribute_error():
    assert not hasattr(lamina.layers, "NoSuchLayer")
    with pytest.raises(AttributeError, match="'NoSuchLayer'"):
        _ = lamina.layers.NoSuchLayer
