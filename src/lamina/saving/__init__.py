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
from .._lazy import lazy_names

# loaded at first use: every Layer imports ``saving.limits``, and the rest (zipfile, json, the
# registries) would cost ~40 ms of every ``import`` that builds a model
__getattr__, __dir__ = lazy_names(__name__, {
    "ModelIO": "model_io", "CustomObjectScope": "object_registration", "custom_object_scope": "object_registration",
    "get_custom_objects": "object_registration", "get_registered_name": "object_registration",
    "get_registered_object": "object_registration", "register_keras_serializable": "object_registration",
    "load_model": "saving_lib", "load_weights": "saving_lib", "model_from_json": "saving_lib",
    "save_model": "saving_lib", "save_weights": "saving_lib", "deserialize_keras_object": "serialization_lib",
    "serialize_keras_object": "serialization_lib"})

__all__ = ["load_model", "save_model", "save_weights", "load_weights", "model_from_json",
           "register_keras_serializable", "serialize_keras_object", "deserialize_keras_object",
           "get_registered_object", "get_registered_name", "get_custom_objects", "custom_object_scope",
           "CustomObjectScope", "ModelIO"]
