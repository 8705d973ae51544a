"""Saving and loading models in Keras 3's native formats, as ``keras.saving`` does.

``model.save("m.keras")`` writes a zip that lamina and Keras (3.8 on) both load;
``load_model`` reads lamina's and Keras's files, treating them as untrusted: only lamina's own
classes and those the user registers or passes in ``custom_objects`` are ever built.

>>> import os, tempfile, lamina
>>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> model.save(path)
>>> lamina.saving.load_model(path).output_shape
(None, 2)
"""
from .model_io import ModelIO
from .object_registration import (
                                  CustomObjectScope,
                                  custom_object_scope,
                                  get_custom_objects,
                                  get_registered_name,
                                  get_registered_object,
                                  register_keras_serializable,
)
from .saving_lib import (
                                  load_model,
                                  load_weights,
                                  model_from_json,
                                  save_model,
                                  save_weights,
)
from .serialization_lib import deserialize_keras_object, serialize_keras_object

__all__ = ["load_model", "save_model", "save_weights", "load_weights", "model_from_json",
           "register_keras_serializable", "serialize_keras_object", "deserialize_keras_object",
           "get_registered_object", "get_registered_name", "get_custom_objects", "custom_object_scope",
           "CustomObjectScope", "ModelIO"]
