"""``lamina.random.set_seed``, for scripts written as ``tf.random.set_seed(42)``."""
from .backend import set_seed

__all__ = ["set_seed"]
