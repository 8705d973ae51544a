"""Layers with Keras's names and arguments.

>>> import lamina
>>> lamina.layers.Dense(10, activation="softmax").units
10
"""
from .dense import Dense
from .input_layer import Input, InputLayer
from .layer import Layer
from .reshaping import Flatten

__all__ = ["Layer", "InputLayer", "Input", "Dense", "Flatten"]
