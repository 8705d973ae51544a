"""``import lamina`` and lamina's first use, in fresh processes, interleaved (issue 15).

``python bench/import_time.py [--rounds 9] [--baseline REV]``

Each round runs, in turn, a fresh interpreter for every row: ``import numpy`` alone, ``import
lamina``, and a first use (``import lamina`` then the lesson's names: ``lamina.Sequential``,
``lamina.layers.Dense``, ``lamina.Input``, which import the models, layers, trainers and
callbacks), for this tree and, with ``--baseline``, for lamina at a git revision (``git
archive``). Each process times its own statement with ``time.perf_counter`` (interpreter start
excluded). The machine is shared: medians and minima over rounds, rows interleaved.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMED = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
STATEMENTS = {"import numpy": "import numpy", "import lamina": "import lamina",
              "first use": "import lamina; lamina.Sequential, lamina.layers.Dense, lamina.Input"}


def seconds(statement: str, src: str) -> float:
    """One fresh process's time for ``statement`` with ``src`` first on its path."""
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, "-c", TIMED.format(statement)], capture_output=True, text=True,
                         env=env, check=True).stdout
    return float(out)


def run(rounds: int, baseline: str | None) -> list[str]:
    """The table's lines."""
    from under_load import export_revision  # bench/ is this script's folder, first on sys.path

    with tempfile.TemporaryDirectory() as folder:
        sources = {"this tree": os.path.join(ROOT, "src")}
        if baseline:
            sources[baseline] = export_revision(baseline, folder)
        rows = [("import numpy", "", os.path.join(ROOT, "src"))]
        rows += [(what, name, src) for what in ("import lamina", "first use") for name, src in sources.items()]
        times: dict = {row[:2]: [] for row in rows}
        for _ in range(rounds):
            for what, name, src in rows:
                times[(what, name)].append(seconds(STATEMENTS[what], src))
    lines = [f"rounds: {rounds}",
             "| statement | lamina | median s | min s |", "|---|---|---|---|"]
    for (what, name), values in times.items():
        lines.append(f"| `{STATEMENTS[what]}` | {name} | {statistics.median(values):.3f} | {min(values):.3f} |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--baseline", help="also time lamina at this git revision, e.g. ec00ac4")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("\n".join(run(args.rounds, args.baseline)))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
