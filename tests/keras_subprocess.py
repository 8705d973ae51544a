"""A Keras 3 (JAX backend) script run in a Python of its own, its last stdout line read as JSON:
the interop tests save a file on one side and load it on the other."""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

_MISSING = [m for m in ("keras", "jax") if importlib.util.find_spec(m) is None]
# the Pythons the interop tests run Keras in: this one, and any in LAMINA_KERAS_PYTHONS
PYTHONS = [sys.executable] + [p for p in os.environ.get("LAMINA_KERAS_PYTHONS", "").split(os.pathsep) if p]
# the interop files' pytestmark: without keras and jax in any of those Pythons they skip (the test
# extra installs both, so CI runs them)
NEEDS_KERAS = pytest.mark.skipif(bool(_MISSING) and len(PYTHONS) == 1, reason=(
    f"Keras interop tests need {' and '.join(_MISSING)}: CI must install them "
    "(pip install 'keras>=3.8' jax, or the project's 'interop' extra)"))


def run_keras(python: str, script: str, *args: str, timeout: int = 300):
    """The JSON the last line of ``script``'s output holds; a Python without keras and jax skips
    (the interop tests' ``pytestmark`` makes CI fail on that instead)."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([python, "-c", textwrap.dedent(script), *args], capture_output=True, text=True,
                            env=env, timeout=timeout)
    if result.returncode != 0:
        if "No module named 'keras'" in result.stderr or "No module named 'jax'" in result.stderr:
            pytest.skip(f"{python} cannot import keras with jax: CI must install keras and jax")
        raise AssertionError(f"Keras subprocess failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
