"""``lamina.backend``: the global state Keras keeps in ``keras.backend`` (float type, epsilon,
layer names, seeding), and behind it the array namespace, the BLAS binding of the hot loop and
the choice of its BLAS threads (``threads``).

>>> import lamina
>>> lamina.backend.floatx()
'float32'
"""
from . import threads  # noqa: F401  (lamina.backend.threads without a separate import)
from .config import (clear_session, epsilon, floatx, global_rng, make_rng, set_epsilon, set_floatx, set_seed,
                     snake_case, standardize_dtype, unique_name)
from .keras_names import (backend, batch_get_value, batch_set_value, get_uid, get_value, image_data_format,
                          int_shape, is_float_dtype, is_int_dtype, is_keras_tensor, result_type, set_image_data_format,
                          set_value)

__all__ = ["backend", "batch_get_value", "batch_set_value", "clear_session", "epsilon", "floatx", "get_uid",
           "get_value", "global_rng", "image_data_format", "int_shape", "is_float_dtype", "is_int_dtype",
           "is_keras_tensor", "make_rng", "result_type", "set_epsilon", "set_floatx", "set_image_data_format",
           "set_seed", "set_value", "snake_case", "standardize_dtype", "unique_name"]
