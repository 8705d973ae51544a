"""``lamina.backend``: the global state Keras keeps in ``keras.backend`` (float type, epsilon,
layer names, seeding), and behind it the array namespace, the BLAS binding of the hot loop and
the choice of its BLAS threads (``threads``).

>>> import lamina
>>> lamina.backend.floatx()
'float32'
"""
from . import threads
from .config import (clear_session, epsilon, floatx, global_rng, make_rng, set_epsilon, set_floatx, set_seed,
                     snake_case, standardize_dtype, unique_name)

__all__ = ["clear_session", "epsilon", "floatx", "global_rng", "make_rng", "set_epsilon", "set_floatx", "set_seed",
           "snake_case", "standardize_dtype", "unique_name"]
