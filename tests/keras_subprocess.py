"""A Keras 3 (JAX backend) script run in a Python of its own, its last stdout line read as JSON:
the interop tests save a file on one side and load it on the other."""
import json
import os
import subprocess
import textwrap

import pytest


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
