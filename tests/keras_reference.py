"""Run a script in real Keras 3 (JAX backend, a subprocess) on arrays from the test; get arrays
and JSON values back. One call per test module keeps Keras's start-up cost to one process.

The script sees ``keras``, ``np``, ``inputs`` (a dict of the arrays passed) and fills ``out``
(a dict of arrays, numbers, strings, lists or dicts). Model code shared by both sides can be
written once as a function of ``keras`` and run with ``lamina`` in the test and ``keras`` here.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap

import pytest

_RUNNER = """
import json, os, pickle, sys, warnings
import numpy as np
import keras
warnings.simplefilter("ignore")
with open(sys.argv[1], "rb") as f:
    inputs = pickle.load(f)
out = {}
exec(compile(open(sys.argv[2]).read(), "keras_script", "exec"), {"keras": keras, "np": np, "inputs": inputs,
                                                                 "out": out})
with open(sys.argv[3], "wb") as f:
    pickle.dump(out, f)
"""


def keras_available() -> None:
    """Skip (only) when Keras or JAX is not installed; CI installs both."""
    missing = [m for m in ("keras", "jax") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (pip install keras jax): CI installs them")


def run_keras(script: str, timeout: float = 600, **inputs) -> dict:
    """``out`` as the script left it, after running it in Keras on ``inputs``."""
    keras_available()
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, name) for name in ("in.pkl", "script.py", "out.pkl")]
        with open(paths[0], "wb") as f:
            pickle.dump(inputs, f)
        with open(paths[1], "w") as f:
            f.write(textwrap.dedent(script))
        result = subprocess.run([sys.executable, "-c", _RUNNER, *paths], capture_output=True, text=True, env=env,
                                timeout=timeout, cwd=folder)
        if result.returncode != 0:
            raise AssertionError(f"Keras script failed:\n{result.stderr[-4000:]}")
        with open(paths[2], "rb") as f:
            return pickle.load(f)


def as_json(value) -> str:
    return json.dumps(value)
