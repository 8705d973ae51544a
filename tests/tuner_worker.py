"""One worker of a shared search, run as a subprocess by tests/test_tuner_workers.py.

usage: tuner_worker.py STORAGE_OR_- DIRECTORY LOG MAX_TRIALS SLEEP [READY_FILE OTHER_READY_FILE]

Each trial's fit appends "start <lr> <pid>" and "end <lr> <pid>" to LOG (one write per line, in
append mode, so lines of two processes do not mix) and returns a closed-form loss of lr.
"""
import math
import os
import sys
import time
from pathlib import Path

from lamina import tuner as kt

def note(word, lr):
    with open(sys.argv[3], "a") as file:
        file.write(f"{word} {lr!r} {os.getpid()}\n")


class Closed(kt.HyperModel):
    def build(self, hp):
        return hp.Float("lr", 1e-4, 1.0, sampling="log")

    def fit(self, hp, model, *args, **kwargs):
        note("start", model)
        time.sleep(float(sys.argv[5]))
        note("end", model)
        return {"loss": (math.log10(model) + 2.0) ** 2}


def main():
    storage, directory, _log, max_trials, _sleep = sys.argv[1:6]
    if len(sys.argv) > 6:  # a barrier: both workers start searching together
        Path(sys.argv[6]).touch()
        while not Path(sys.argv[7]).exists():
            time.sleep(0.05)
    tuner = kt.RandomSearch(Closed(), objective="loss", max_trials=int(max_trials), directory=directory,
                            project_name="shared", storage=None if storage == "-" else storage)
    tuner.search(verbose=0)
    print("best", tuner.get_best_hyperparameters()[0].values["lr"])


if __name__ == "__main__":  # pytest's --doctest-modules imports this file too
    main()
