"""lamina.tuner across processes and storages: a search resumed after a SIGKILL, two workers on
one SQLite file or one PostgreSQL database (``.ci/with-postgres.sh`` starts a throwaway server and
sets LAMINA_TEST_POSTGRES_URL), claiming, journal files, and importing without optuna."""
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from lamina import tuner as kt

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


# --- claiming, resuming and the storages, in one process ---------------------------------------
class Bowl(kt.HyperModel):
    """A closed-form objective, best at lr = 1e-2."""

    def build(self, hp):
        return {"lr": hp.Float("lr", 1e-5, 1.0, sampling="log")}

    def fit(self, hp, model, *args, **kwargs):
        return {"score": (math.log10(model["lr"]) + 2) ** 2}


def test_a_finished_search_resumes_and_overwrite_starts_anew(tmp_path):
    calls = []

    class Count(Bowl):
        def fit(self, hp, model, *args, **kwargs):
            calls.append(model["lr"])
            return super().fit(hp, model)

    def make(max_trials=3, **kwargs):
        return kt.RandomSearch(Count(), objective=kt.Objective("score", "min"), max_trials=max_trials,
                               directory=tmp_path, **kwargs)
    make().search(verbose=0)
    again = make()
    again.search(verbose=0)
    assert len(calls) == 3 and len(again.oracle.trials) == 3  # nothing ran twice
    make(max_trials=5).search(verbose=0)  # a larger max_trials continues the search
    assert len(calls) == 5
    make(overwrite=True).search(verbose=0)
    assert len(calls) == 8
    with pytest.raises(ValueError, match="holds another search"):
        kt.BayesianOptimization(Count(), objective=kt.Objective("score", "min"), max_trials=3, directory=tmp_path)


def test_a_journal_file_holds_a_search_that_resumes(tmp_path):
    journal = str(tmp_path / "journal.log")
    calls = []

    class Count(Bowl):
        def fit(self, hp, model, *args, **kwargs):
            calls.append(model["lr"])
            return super().fit(hp, model)

    for _ in range(2):
        tuner = kt.RandomSearch(Count(), objective=kt.Objective("score", "min"), max_trials=3, storage=journal,
                                directory=tmp_path)
        tuner.search(verbose=0)
    assert len(calls) == 3 and Path(journal).stat().st_size > 0
    assert not (tmp_path / "untitled_project" / "study.db").exists()
    study = optuna.load_study(study_name="untitled_project", storage=tuner.oracle.study._storage)
    assert sorted(t.params["lr"] for t in study.trials) == sorted(calls)


def test_the_extras_and_ci_bring_optuna_and_a_postgresql_server():
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["tuner"] == ["optuna>=4.0"]
    assert {"optuna>=4.0", "psycopg2-binary>=2.9"} <= set(extras["test"])
    run = (ROOT / ".ci" / "run").read_text()
    assert "export CI_REQUIRE_ALL=1" in run and "bash .ci/with-postgres.sh make test" in run
    assert "\nmake test" not in run


def test_without_a_postgresql_url_the_test_skips_but_fails_when_ci_requires_all(tmp_path):
    import os
    target = "tests/test_tuner_workers.py::test_two_workers_on_one_postgresql_study_share_max_trials"
    env = {k: v for k, v in os.environ.items() if k not in ("LAMINA_TEST_POSTGRES_URL", "CI_REQUIRE_ALL")}
    env["PYTHONPATH"] = str(ROOT / "src")
    def run(**extra):
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", target],
                              check=False, capture_output=True, text=True, cwd=ROOT, env={**env, **extra}, timeout=300)
    skipped = run()
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout
    assert "LAMINA_TEST_POSTGRES_URL is unset" in skipped.stdout
    required = run(CI_REQUIRE_ALL="1")
    assert required.returncode == 1 and "1 failed" in required.stdout
    assert "CI_REQUIRE_ALL=1 but LAMINA_TEST_POSTGRES_URL is unset" in required.stdout


def test_a_trial_is_kept_only_when_fewer_than_max_trials_counted_trials_are_numbered_below_it(tmp_path):
    from lamina.tuner import study as study_lib
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    done = [study.ask() for _ in range(4)]
    study.tell(done[0], 1.0)
    study.tell(done[1], state=optuna.trial.TrialState.FAIL)  # a dead worker's: its place is free
    study._storage.set_trial_user_attr(done[2]._trial_id, "lamina_result", {"message": "ValueError: x"})
    study.tell(done[2], state=optuna.trial.TrialState.FAIL)  # a model that raised keeps its place
    study._storage.set_trial_system_attr(done[3]._trial_id, "grid_id", 5)
    study.tell(done[3], 2.0)
    mine = study.ask()  # number 4, with three counted trials below it
    assert study_lib._may_run(study, mine, budget=4, grid=False)
    assert not study_lib._may_run(study, mine, budget=3, grid=False)
    study._storage.set_trial_system_attr(mine._trial_id, "grid_id", 5)
    assert not study_lib._may_run(study, mine, budget=10, grid=True)  # grid point 5 is taken below
    study._storage.set_trial_system_attr(mine._trial_id, "grid_id", 6)
    assert study_lib._may_run(study, mine, budget=10, grid=True)


def test_the_last_trial_of_a_dead_worker_is_run_again_with_its_hyperparameters(tmp_path):
    import signal

    from lamina.tuner import study as study_lib
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    first = study.ask()
    first.suggest_float("lr", 0.0, 1.0)
    study.tell(first, 1.0)
    cut = study.ask()  # the budget's last trial, left RUNNING by a process that is gone
    lr = cut.suggest_float("lr", 0.0, 1.0)
    study._storage.set_trial_user_attr(cut._trial_id, "lamina_worker",
                                       {"host": study_lib._this_worker()["host"], "pid": int(dead)})
    def hung(*_):
        raise TimeoutError("claim_trial waited for the queued trial instead of taking it")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        again = study_lib.claim_trial(study, budget=2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert again is not None and again.number == 2 and again.suggest_float("lr", 0.0, 1.0) == lr
    assert study.trials[1].state == optuna.trial.TrialState.FAIL
    study.tell(again, 0.5)
    assert study_lib.claim_trial(study, budget=2) is None


# --- importing -------------------------------------------------------------------------------
def test_import_lamina_does_not_import_optuna():
    code = "import sys, lamina; import lamina as keras; keras.Sequential; print('optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout == "False\n"


def test_lamina_tuner_without_optuna_gives_the_pip_line():
    code = ("import sys; sys.modules['optuna'] = None\n"
            "try:\n    from lamina import tuner\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout == ("lamina.tuner needs optuna, which is not installed: pip install 'lamina[tuner]' "
                          "(or pip install optuna)\n")


def test_best_models_whose_weights_are_on_another_machine_are_refused_with_the_way_out(tmp_path):
    import lamina

    def build(hp):
        # the units are hidden: an output of 2 or 3 columns against y's 1 made the trial fail 2 times in 3
        model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(hp.Int("units", 1, 3)),
                                   lamina.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        return model

    tuner = kt.RandomSearch(build, objective="loss", max_trials=1, directory=tmp_path)
    x = np.ones((4, 2), "float32")
    tuner.search(x, x[:, :1], epochs=1, verbose=0)
    checkpoints = sorted((tmp_path / "untitled_project").glob("trial_*/checkpoint.weights.h5"))
    assert len(checkpoints) == 1, sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    checkpoints[0].unlink()  # as if the trial had run on another machine
    with pytest.raises(FileNotFoundError, match=r"trial \d+ ran on .*: share directory= between the machines, "
                                                "or rebuild and train the model from get_best_hyperparameters"):
        tuner.get_best_models()
