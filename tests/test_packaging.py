"""Packaging: what `pip install /path/to/lamina[...]` and `python -m build` give a user."""
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
NOT_SHIPPED = ("*.egg-info", "__pycache__", ".venv", "build", "dist", "runs", ".git", ".pytest_cache")


def requirement_names(requirements):
    return {r.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower() for r in requirements}


def test_license_is_an_spdx_string_and_the_file_ships():
    assert PROJECT["license"] == "Apache-2.0"  # a TOML table is deprecated (setuptools' banner)
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert any(c.startswith("Programming Language :: Python :: 3") for c in PROJECT["classifiers"])


def test_h5py_is_a_core_dependency_and_the_extras_exist():
    assert requirement_names(PROJECT["dependencies"]) == {"numpy", "h5py", "threadpoolctl"}
    extras = {name: requirement_names(reqs) for name, reqs in PROJECT["optional-dependencies"].items()}
    assert extras["plot"] == {"matplotlib"}
    assert {"matplotlib", "pandas", "notebook", "ipykernel", "mlxtend"} <= extras["notebook"]
    assert extras["files"] == set()  # still accepted, now empty
    # CI installs .[test]: every optional package a test imports is in it
    assert {"matplotlib", "pandas", "mlxtend", "nbclient", "ipykernel", "build", "keras"} <= extras["test"]


def test_contributing_says_how_to_add_things_and_run_the_checks():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    for topic in ["## Add a layer", "## Add a loss", "## Add an optimizer", "make test-fast", "ruff", "make bench"]:
        assert topic in text, topic


def test_the_wheel_builds_offline_installs_and_runs(tmp_path):
    """`python -m build` from a copy of the tree (nothing written into the repository)."""
    tree = tmp_path / "lamina"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                            str(tmp_path / "dist"), str(tree)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "deprecated" not in (built.stdout + built.stderr).lower()
    (wheel,) = (tmp_path / "dist").glob("lamina-*.whl")
    assert wheel.name == f"lamina-{PROJECT['version']}-py3-none-any.whl"  # the name the README gives
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith("dist-info/METADATA")))
                                     .decode())
        entry_points = archive.read(next(n for n in names if n.endswith("dist-info/entry_points.txt"))).decode()
    assert metadata["License-Expression"] == "Apache-2.0"
    assert any(n.endswith("dist-info/licenses/LICENSE") for n in names)
    assert "h5py>=3.8" in metadata.get_all("Requires-Dist")
    assert {"plot", "notebook", "test"} <= set(metadata.get_all("Provides-Extra"))
    assert "lamina = lamina.cli:main" in entry_points
    assert not any(n.startswith(("tests/", "examples/", "bench/")) for n in names)

    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                                "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([str(target / "bin" / "lamina"), "--version"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert run.returncode == 0 and run.stdout == f"lamina {PROJECT['version']}\n", run.stderr
