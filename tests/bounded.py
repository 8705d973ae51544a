"""Run a snippet in a fresh interpreter and measure what it cost.

``run(body)`` executes ``body`` (indented into a ``try`` block, after ``import numpy, h5py,
lamina``) in a child process and returns its outcome (``"ok"`` or the ``ValueError`` /
``OSError`` it raised) and the peak resident memory the snippet added (the high-water mark after the
snippet minus before it, read as ``VmHWM``: ``ru_maxrss`` would carry over the parent's
size across ``exec``). ``limit_mb`` also caps the child's address space (``ulimit -v``) at
that many MiB above what the imports left mapped, so an allocation the snippet asks for fails
with ``MemoryError`` (an error, not an outcome) even if it would never be touched. A snippet
that hangs fails the test at ``timeout`` seconds.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import lamina

_SRC = os.path.dirname(os.path.dirname(os.path.abspath(lamina.__file__)))

_CHILD = '''
import json, resource, sys
import numpy, h5py, lamina

def status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError("no " + field + " in /proc/self/status")

limit_mb = {limit_mb!r}
if limit_mb is not None:
    cap = status_kb("VmSize") * 1024 + limit_mb * (1 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
before = status_kb("VmHWM")
outcome = "ok"
try:
{body}
except (ValueError, OSError) as error:
    outcome = type(error).__name__ + ": " + str(error)
after = status_kb("VmHWM")
print(json.dumps({{"outcome": outcome, "added_mb": (after - before) / 1024}}))
'''


def run(body: str, limit_mb: int | None = None, timeout: float = 120, **values) -> dict:
    """``{"outcome": str, "added_mb": float}`` for ``body`` run in a child process.
    ``values`` are passed to the child as JSON, readable there as ``ARGS["name"]``."""
    prelude = f"ARGS = json.loads({json.dumps(json.dumps(values))})\n"
    code = _CHILD.format(limit_mb=limit_mb, body=textwrap.indent(prelude + textwrap.dedent(body), "    "))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([_SRC, os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise AssertionError(f"the child process failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
