"""Why ``lamina.layers`` has no ``Conv2D``: the message for a Keras layer lamina leaves out.

A newcomer who runs a convolutional or recurrent tutorial under ``import lamina as tf`` should
learn at the first missing name that it is out of scope, not meet a bare ``AttributeError``.
"""
from __future__ import annotations

import re

# Keras 3's layer families that are not multilayer perceptrons (lamina's scope), by name
_OUT_OF_SCOPE = (
    (r"Conv|Convolution|Pool|Cropping|ZeroPadding|UpSampling|SpatialDropout", "convolutional"),
    (r"RNN|LSTM|GRU|Bidirectional|TimeDistributed|StackedRNNCells|^Masking$", "recurrent (sequence)"),
    (r"Attention", "attention"),
    (r"^Random|AugMix|AutoContrast|CutMix|MixUp|Equalization|Solarization|Resizing|CenterCrop|RandAugment|"
     r"BoundingBox|Spectrogram|TextVectorization", "image, audio or text preprocessing"),
    (r"^(JaxLayer|FlaxLayer|TorchModuleWrapper|TFSMLayer)$", "backend-specific"),
)


def missing_layer(name: str) -> AttributeError:
    """The error for ``lamina.layers.<name>``: why a Keras layer is absent, or that no such layer exists."""
    for pattern, family in _OUT_OF_SCOPE:
        if re.search(pattern, name):
            return AttributeError(f"lamina.layers has no {name}: lamina is Keras for multilayer perceptrons, and "
                                  f"{family} layers are out of its scope (README, 'What does not work yet')")
    return AttributeError(f"module 'lamina.layers' has no attribute {name!r} (README's 'What works' lists "
                          "lamina's layers, 'What does not work yet' the Keras layers it lacks)")
