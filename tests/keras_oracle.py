"""Keras 3 (JAX backend) as an oracle, in one helper process per test session.

A differential test writes its scenario once, as code over a module ``K``, and runs it twice:
here with ``K = lamina`` and in the helper with ``K = keras``. Both get the same inputs (NumPy
arrays, numbers) and the same helpers (``draw`` for weights, ``numpy`` to read a tensor), and
each leaves its answer in ``result``. The helper speaks pickle over a pipe: one request
``(code, inputs, floatx)`` per frame, one ``("ok", result)`` or ``("error", traceback)`` back,
so JAX never loads into the test process and Keras starts once (a few seconds) per session.
Keras's answers are cached on disk by the scenario's code, inputs, floatx and the installed
Keras version (``LAMINA_ORACLE_CACHE``, default ``~/.cache/lamina/keras-oracle``; ``off`` turns
it off): a rerun, or the mutation check, starts Keras only for scenarios it has not seen. The
cache holds Keras's numbers only, never lamina's, so it cannot hide a lamina regression.

Run as ``python keras_oracle.py`` it is the helper: it reads requests on stdin and answers
on a private copy of stdout (Keras's own prints go to stderr).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import struct
import subprocess
import sys
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def draw(shape, index: int, scale: float = 0.5) -> np.ndarray:
    """The ``index``-th weight of a scenario: the same numbers on both sides (float64)."""
    return np.random.default_rng(1000 + index).standard_normal(shape) * scale


def _write_frame(stream, value) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def _read_frame(stream):
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError("the Keras oracle process closed its pipe")
    (size,) = struct.unpack("<Q", header)
    return pickle.loads(stream.read(size))


def _plain(value, to_numpy):
    """``value`` with every tensor (lamina's or JAX's) turned into a NumPy array."""
    if isinstance(value, dict):
        return {k: _plain(v, to_numpy) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v, to_numpy) for v in value)
    if isinstance(value, (str, bytes, bool, int, float, type(None), np.ndarray, np.generic)):
        return value
    return np.asarray(to_numpy(value))


def run_scenario(module, code: str, inputs: dict, floatx: str, to_numpy, clear_session, set_floatx):
    """Run ``code`` with ``K = module``; return its ``result`` as plain NumPy and Python values."""
    set_floatx(floatx)
    clear_session()
    def draw_floatx(shape, index: int, scale: float = 0.5) -> np.ndarray:
        return draw(shape, index, scale).astype(floatx)
    inputs = {k: v.astype(floatx) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
              for k, v in inputs.items()}
    namespace = {"K": module, "np": np, "draw": draw_floatx, "numpy": to_numpy, "floatx": floatx, **inputs}
    exec(compile(code, "<scenario>", "exec"), namespace)  # noqa: S102  (the test's own scenario code)
    return _plain(namespace["result"], to_numpy)


def run_lamina(code: str, inputs: dict | None = None, floatx: str = "float32"):
    """The scenario with ``K = lamina`` in this process."""
    import lamina

    def to_numpy(value):
        return np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    try:
        return run_scenario(lamina, code, dict(inputs or {}), floatx, to_numpy,
                            lamina.backend.clear_session, lamina.backend.set_floatx)
    finally:
        lamina.backend.set_floatx("float32")


def tolerance(floatx: str) -> dict:
    """The agreement the issue asks for: 1e-5 relative in float32, 1e-10 in float64. Relative to
    each array's largest value, as well as elementwise: an entry that cancels to near zero
    (w - lr * update) keeps the rounding of the values it came from."""
    return {"rtol": 1e-5} if floatx == "float32" else {"rtol": 1e-10}


def assert_same(ours, theirs, floatx: str = "float32", where: str = "result", **tol) -> None:
    """``ours`` (lamina) agrees with ``theirs`` (Keras): the same structure, numbers within
    ``tolerance(floatx)`` (or ``tol``)."""
    tol = tol or tolerance(floatx)
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), f"{where}: keys {ours} != {theirs}"
        for key in theirs:
            assert_same(ours[key], theirs[key], floatx, f"{where}[{key!r}]", **tol)
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items where Keras has {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, floatx, f"{where}[{i}]", **tol)
    elif isinstance(theirs, str) or theirs is None:
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"
    else:
        a, b = np.asarray(ours), np.asarray(theirs)
        assert a.shape == b.shape, f"{where}: shape {a.shape} where Keras has {b.shape}"
        b64 = b.astype(np.float64)
        scale = float(np.max(np.abs(b64[np.isfinite(b64)]), initial=0.0))
        np.testing.assert_allclose(a.astype(np.float64), b64, err_msg=where,
                                   **{"atol": tol["rtol"] * scale, **tol})


def _cache_dir() -> str | None:
    where = os.environ.get("LAMINA_ORACLE_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "lamina",
                                                               "keras-oracle"))
    return None if where == "off" else where


def _keras_version() -> str:
    from importlib.metadata import version
    return version("keras")


class KerasOracle:
    """Keras's answers: ``run(code, inputs, floatx)`` gives the scenario's ``result`` under Keras,
    from the cache or from the helper process (started at the first miss)."""

    def __init__(self, python: str = sys.executable):
        self.python, self.process, self.keras_version = python, None, _keras_version()
        self.cache = _cache_dir()

    def run(self, code: str, inputs: dict | None = None, floatx: str = "float32"):
        request = (code, dict(sorted((inputs or {}).items())), floatx)
        key = hashlib.sha256(pickle.dumps((self.keras_version, request), protocol=4)).hexdigest()
        path = os.path.join(self.cache, key[:2], key + ".pkl") if self.cache else None
        if path and os.path.exists(path):
            with open(path, "rb") as file:
                return pickle.load(file)
        value = self._ask(request)
        if path:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = f"{path}.{os.getpid()}"
            with open(temporary, "wb") as file:
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        return value

    def _ask(self, request):
        if self.process is None:
            self._start()
        _write_frame(self.process.stdin, request)
        status, value = _read_frame(self.process.stdout)
        if status != "ok":
            raise AssertionError(f"the scenario failed under Keras:\n{value}")
        return value

    def _start(self) -> None:
        env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "JAX_ENABLE_X64": "1",
               "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
        self.process = subprocess.Popen([self.python, os.path.join(HERE, "keras_oracle.py")], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        status, detail = _read_frame(self.process.stdout)
        if status != "ready":
            raise RuntimeError(f"the Keras oracle did not start: {detail}")

    def compare(self, code: str, inputs: dict | None = None, floatx: str = "float32", **tol):
        """Run the scenario under lamina and Keras and assert that they agree; return both results."""
        theirs = self.run(code, inputs, floatx)
        ours = run_lamina(code, inputs, floatx)
        assert_same(ours, theirs, floatx, **tol)
        return ours, theirs

    def close(self) -> None:
        if self.process is not None:
            self.process.stdin.close()  # the helper's read sees EOF and it exits
            self.process.wait(timeout=30)
            self.process.stdout.close()


def keras_available() -> str | None:
    """None when keras and jax import, else what is missing (for the skip message)."""
    import importlib.util
    missing = [name for name in ("keras", "jax") if importlib.util.find_spec(name) is None]
    return " and ".join(missing) or None


def _serve() -> None:
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever Keras prints must not corrupt the frames
    requests = sys.stdin.buffer
    try:
        import keras
        to_numpy = keras.ops.convert_to_numpy
    except Exception:  # noqa: BLE001  (reported to the test process)
        _write_frame(answers, ("failed", traceback.format_exc()))
        return
    _write_frame(answers, ("ready", keras.__version__))
    while True:
        try:
            code, inputs, floatx = _read_frame(requests)
        except EOFError:
            return
        try:
            value = run_scenario(keras, code, inputs, floatx, to_numpy, keras.utils.clear_session,
                                 keras.config.set_floatx)
            _write_frame(answers, ("ok", value))
        except Exception:  # noqa: BLE001  (the test shows Keras's traceback)
            _write_frame(answers, ("error", traceback.format_exc()))


if __name__ == "__main__":
    _serve()
