"""Safe mode: whether loading may run Python code stored in a file (a ``Lambda`` layer's
function, or any ``__lambda__`` in a config), as Keras 3 decides it.

Code in a file runs only when the user opts in: ``load_model(..., safe_mode=False)``,
``deserialize_keras_object(..., safe_mode=False)``, ``Lambda.from_config(config,
safe_mode=False)``, or ``lamina.config.enable_unsafe_deserialization()`` for the whole process.
Otherwise it is refused with a ValueError that says how to opt in. A function is stored as
Keras stores it: its bytecode (``marshal``, then base64), its defaults and its closure values.

>>> fn = load_function(*dump_function(lambda x, k=2: x * k), safe_mode=False)
>>> fn(3)
6
>>> load_function(*dump_function(lambda x: x))
Traceback (most recent call last):
...
ValueError: Refusing to load a Python lambda from a config: it would run code stored in the file. If you trust the file, pass safe_mode=False to load_model (or from_config), or call lamina.config.enable_unsafe_deserialization()
"""  # noqa: E501  (a doctest's expected error message is one line)
from __future__ import annotations

import base64
import binascii
import builtins
import contextlib
import marshal
import threading
import types

_STATE = threading.local()  # the innermost SafeModeScope's value, per thread
_UNSAFE_FOR_PROCESS = [False]  # set by enable_unsafe_deserialization()

REFUSAL = ("Refusing to load {what} from a config: it would run code stored in the file. If you trust the file, "
           "pass safe_mode=False to load_model (or from_config), or call "
           "lamina.config.enable_unsafe_deserialization()")


def enable_unsafe_deserialization() -> None:
    """Let every later load in this process run the Python functions files store (Lambda
    layers' lambdas), as ``keras.config.enable_unsafe_deserialization`` does. Only for files
    you trust: such a file can run any code."""
    _UNSAFE_FOR_PROCESS[0] = True


def in_safe_mode() -> bool | None:
    """The safe mode in force: False after ``enable_unsafe_deserialization``, else the
    innermost ``SafeModeScope``'s, else None (nobody said: callers treat it as safe)."""
    if _UNSAFE_FOR_PROCESS[0]:
        return False
    return getattr(_STATE, "safe_mode", None)


@contextlib.contextmanager
def SafeModeScope(safe_mode: bool = True):  # Keras's name for it
    """Loads inside the ``with`` block use ``safe_mode`` (nested loads see it too)."""
    saved = getattr(_STATE, "safe_mode", None)
    _STATE.safe_mode = bool(safe_mode)
    try:
        yield
    finally:
        _STATE.safe_mode = saved


def effective_safe_mode(safe_mode: bool | None) -> bool:
    """True unless the user opted out: the process-wide switch, else an explicit ``safe_mode``,
    else the enclosing scope; unset means safe."""
    if _UNSAFE_FOR_PROCESS[0]:
        return False
    if safe_mode is None:
        safe_mode = getattr(_STATE, "safe_mode", None)
    return safe_mode is not False


def dump_function(fn) -> tuple[str, tuple | None, tuple | None]:
    """``(code, defaults, closure)`` for a Python function: base64 of its marshalled bytecode,
    its default values and the values its closure holds (Keras's layout)."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    closure = tuple(cell.cell_contents for cell in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def _cell(value):
    return (lambda: value).__closure__[0]


def function_globals() -> dict:
    """What a loaded function's global names resolve to: the builtins, NumPy (``np``) and lamina
    under the names Keras programs use (``keras``, ``tf``, ``ops``)."""
    import numpy

    import lamina
    return {"__builtins__": builtins, "np": numpy, "numpy": numpy, "lamina": lamina, "keras": lamina, "tf": lamina,
            "ops": lamina.ops}


def load_function(code, defaults=None, closure=None, safe_mode: bool | None = None, what: str = "a Python lambda"):
    """The function ``dump_function`` stored, rebuilt only when safe mode is off (see
    :func:`effective_safe_mode`); refused with a ValueError otherwise, before anything is decoded."""
    if effective_safe_mode(safe_mode):
        raise ValueError(REFUSAL.format(what=what))
    if isinstance(code, (list, tuple)) and len(code) == 3 and defaults is None and closure is None:
        code, defaults, closure = code  # the generic __lambda__ layout: one [code, defaults, closure] value
    if not isinstance(code, str):
        raise ValueError(f"A stored function's code must be a base64 string, got {type(code).__name__}")
    try:
        compiled = marshal.loads(base64.b64decode(code.encode("ascii"), validate=False))
    except (binascii.Error, UnicodeEncodeError, ValueError, EOFError, TypeError) as error:
        raise ValueError(f"Cannot load the stored function: its bytecode does not decode ({error}); it was "
                         "probably saved by another Python version (Lambda layers only load in the Python "
                         "that saved them)") from None
    if not isinstance(compiled, types.CodeType):
        raise ValueError(f"A stored function's code must decode to Python bytecode, got {type(compiled).__name__}")
    if defaults is not None and not isinstance(defaults, (list, tuple)):
        raise ValueError(f"A stored function's defaults must be a list, got {type(defaults).__name__}")
    if closure is not None and not isinstance(closure, (list, tuple)):
        raise ValueError(f"A stored function's closure must be a list, got {type(closure).__name__}")
    cells = None if closure is None else tuple(_cell(value) for value in closure)
    if len(cells or ()) != len(compiled.co_freevars):
        raise ValueError(f"A stored function needs {len(compiled.co_freevars)} closure values, the file has "
                         f"{len(cells or ())}")
    return types.FunctionType(compiled, function_globals(), compiled.co_name,
                              None if defaults is None else tuple(defaults), cells)
