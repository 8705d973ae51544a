"""A search shared by processes: resumed after a SIGKILL, and two workers on one SQLite file or
one PostgreSQL database (``.ci/with-postgres.sh`` starts a throwaway server and sets
LAMINA_TEST_POSTGRES_URL)."""
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "tuner_worker.py"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def start_worker(storage, directory, log, max_trials, sleep, *barrier):
    return subprocess.Popen([sys.executable, str(WORKER), storage, str(directory), str(log), str(max_trials),
                             str(sleep), *map(str, barrier)], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_log(log):
    lines = [line.split() for line in Path(log).read_text().splitlines()] if Path(log).exists() else []
    return [(word, float(lr), int(pid)) for word, lr, pid in lines]


def finish(process, timeout=300):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


def completed_trials(storage_url, study_name="shared"):
    study = optuna.load_study(study_name=study_name, storage=storage_url)
    return [t for t in study.get_trials() if t.state == optuna.trial.TrialState.COMPLETE]


def test_a_search_killed_mid_trial_resumes_without_running_a_finished_trial_again(tmp_path):
    log, max_trials = tmp_path / "log", 6
    first = start_worker("-", tmp_path, log, max_trials, 0.4)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # kill it inside a trial, after two have finished
        entries = read_log(log)
        ended = sum(word == "end" for word, _, _ in entries)
        if ended >= 2 and entries[-1][0] == "start":
            break
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    before = read_log(log)
    done_before = [lr for word, lr, _ in before if word == "end"]
    interrupted = [lr for word, lr, _ in before if word == "start" and lr not in done_before]
    assert len(done_before) >= 2 and len(interrupted) == 1

    finish(start_worker("-", tmp_path, log, max_trials, 0.05))
    entries = read_log(log)
    ends = Counter(lr for word, lr, _ in entries if word == "end")
    assert len(ends) == max_trials and max(ends.values()) == 1  # max_trials trials, none run twice
    assert set(done_before) <= set(ends)  # the finished trials were kept
    assert interrupted[0] in ends  # the interrupted one ran again, with its hyperparameters
    starts = Counter(lr for word, lr, _ in entries if word == "start")
    assert starts[interrupted[0]] == 2 and all(starts[lr] == 1 for lr in done_before)
    storage = f"sqlite:///{tmp_path / 'shared' / 'study.db'}"
    assert sorted(t.params["lr"] for t in completed_trials(storage)) == sorted(ends)


def run_two_workers(storage, tmp_path, max_trials=8):
    log = tmp_path / "log"
    ready = [tmp_path / "ready0", tmp_path / "ready1"]
    workers = [start_worker(storage, tmp_path, log, max_trials, 0.3, ready[i], ready[1 - i]) for i in range(2)]
    outputs = [finish(w) for w in workers]
    entries = read_log(log)
    ends = Counter(lr for word, lr, _ in entries if word == "end")
    assert len(ends) == max_trials and max(ends.values()) == 1  # every trial claimed once
    assert Counter(lr for word, lr, _ in entries if word == "start") == ends
    assert len({pid for word, _, pid in entries}) == 2  # both workers ran trials
    best = min(ends, key=lambda lr: abs(math.log10(lr) + 2))  # the worker's loss
    assert outputs[0] == outputs[1] == f"best {best!r}\n"  # both see the whole search
    return ends


def test_two_workers_on_one_sqlite_study_share_max_trials(tmp_path):
    ends = run_two_workers("-", tmp_path)
    storage = f"sqlite:///{tmp_path / 'shared' / 'study.db'}"
    assert sorted(t.params["lr"] for t in completed_trials(storage)) == sorted(ends)


def postgres_url():
    url = os.environ.get("LAMINA_TEST_POSTGRES_URL")
    if url is None:
        if os.environ.get("CI_REQUIRE_ALL") == "1":
            pytest.fail("CI_REQUIRE_ALL=1 but LAMINA_TEST_POSTGRES_URL is unset: run the tests through "
                        "bash .ci/with-postgres.sh")
        pytest.skip("LAMINA_TEST_POSTGRES_URL is unset: no PostgreSQL server to test against "
                    "(bash .ci/with-postgres.sh <command> starts one; CI does)")
    return url


def test_two_workers_on_one_postgresql_study_share_max_trials(tmp_path):
    url = postgres_url()
    pytest.importorskip("psycopg2")
    study_name = "shared"
    try:
        optuna.delete_study(study_name=study_name, storage=url)
    except KeyError:
        pass
    ends = run_two_workers(url, tmp_path)
    assert sorted(t.params["lr"] for t in completed_trials(url, study_name)) == sorted(ends)
    optuna.delete_study(study_name=study_name, storage=url)
