"""Where a search lives (an Optuna study) and how workers share it.

A study sits in an Optuna storage: by default an SQLite file under ``directory/project_name``;
any Optuna storage URL (PostgreSQL, MySQL) or a journal file lets workers on many machines run the
same script against one search. Three rules make every trial run once:

- **Claiming.** A worker creates (``ask``) a trial, then keeps it only if fewer than ``max_trials``
  trials that did not fail are numbered below it. Trial numbers are handed out atomically by the
  storage, so of two workers racing for the last place the higher number always steps back (its
  trial is marked failed and flagged ``lamina_unclaimed`` before any hyperparameter is drawn).
- **Dead workers.** A RUNNING trial whose worker is gone is failed, and a copy with the same
  hyperparameters is queued (``WAITING``), once: the storage lets only one worker move a trial
  from RUNNING to FAIL. A worker on this machine is gone when its process is; one elsewhere when
  its heartbeat (RDB storages) stops for ``grace_period`` seconds.
- **Waiting.** A worker with nothing left to claim waits for the trials others still run, so that
  ``search`` returns on every worker with the whole search done.
"""
from __future__ import annotations

import contextlib
import datetime
import inspect
import os
import random
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

HEARTBEAT_INTERVAL = 20  # seconds between a running trial's heartbeats (RDB storages)
GRACE_PERIOD = 90  # seconds without a heartbeat after which a worker on another machine is gone
UNCLAIMED_AFTER = 300  # seconds after which a RUNNING trial no worker claimed is taken as dead
POLL_SECONDS = 0.5  # how often a worker with nothing to claim looks again
WORKER_ATTR, UNCLAIMED_ATTR = "lamina_worker", "lamina_unclaimed"
RUNNING_HERE: set[int] = set()  # the storage ids of the trials this process is running now


def open_storage(storage, directory: Path):
    """An Optuna storage from a URL, a journal file path, a storage object or ``None`` (SQLite)."""
    if storage is None:
        directory.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{(directory / 'study.db').resolve()}"
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise TypeError(f"storage must be an Optuna storage URL, a journal file path or an Optuna storage, "
                        f"got {storage!r}")
    if "://" not in storage:
        from optuna.storages.journal import JournalFileBackend
        return optuna.storages.JournalStorage(JournalFileBackend(storage))
    engine = {"connect_args": {"timeout": 60}} if storage.startswith("sqlite") else {"pool_pre_ping": True}
    for attempt in range(6):
        try:
            with heartbeats_allowed():
                rdb = optuna.storages.RDBStorage(storage, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_INTERVAL,
                                                  grace_period=GRACE_PERIOD,
                                                  **{_STALE_CALLBACK: retry_trial})  # type: ignore[arg-type]
            if storage.startswith("sqlite"):
                _write_ahead(rdb)
            return rdb
        except Exception as error:  # workers starting together race to create the tables: the loser retries
            if attempt == 5 or "sqlalchemy" not in type(error).__module__:
                raise
            time.sleep(0.2 + random.random() * attempt)


def _write_ahead(rdb) -> None:
    """SQLite in write-ahead mode, synced at checkpoints: a commit costs no fsync (a search
    commits a dozen times a trial), and a killed process still loses nothing it committed."""
    import sqlalchemy

    def pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sqlalchemy.event.listen(rdb.engine, "connect", pragmas)
    rdb.engine.dispose()  # the connections opened before the listener are closed


@contextlib.contextmanager
def heartbeats_allowed() -> Iterator[None]:
    """Optuna calls its heartbeats "experimental" and warns when a trial made by ``ask`` has them
    (``study.optimize`` beats for its trials; a search beats for its own, see ``Heartbeat``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", "Heartbeat of storage is supposed to be used with Study.optimize")
        yield


# Optuna 4.9 renamed failed_trial_callback to heartbeat_stale_trial_callback
_STALE_CALLBACK = ("heartbeat_stale_trial_callback"
                   if "heartbeat_stale_trial_callback" in inspect.signature(optuna.storages.RDBStorage).parameters
                   else "failed_trial_callback")


def retry_trial(study: optuna.Study, trial) -> None:
    """Queue a copy of a trial whose worker died, with the same hyperparameters (KerasTuner
    retries an interrupted trial when a search resumes)."""
    if trial.user_attrs.get(UNCLAIMED_ATTR):
        return
    study.enqueue_trial(trial.params, user_attrs={"lamina_retry_of": trial.number})


def _this_worker() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def fail_dead_trials(study: optuna.Study) -> None:
    """Fail (and queue again) the RUNNING trials whose worker died: on this machine, those whose
    process is gone; elsewhere, those whose heartbeat stopped (Optuna's ``fail_stale_trials``)."""
    me = _this_worker()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get(WORKER_ATTR)
        if worker is None and _started_long_ago(trial):  # killed between ask and claim
            requeue(study, trial)
        if not worker or worker["host"] != me["host"]:
            continue
        if worker["pid"] == me["pid"] and trial._trial_id not in RUNNING_HERE or _process_is_gone(worker["pid"]):
            requeue(study, trial)
    with heartbeats_allowed():
        optuna.storages.fail_stale_trials(study)


def _started_long_ago(trial) -> bool:
    started = trial.datetime_start
    return started is not None and (datetime.datetime.now() - started).total_seconds() > UNCLAIMED_AFTER


def requeue(study: optuna.Study, trial) -> None:
    """Fail a trial that will not finish and queue its copy, unless another worker did first."""
    try:
        failed = study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:
        failed = False  # another worker failed it first: it queued the copy
    if failed:
        retry_trial(study, study._storage.get_trial(trial._trial_id))


def counted(trial) -> bool:
    """Whether a trial holds one of the ``max_trials`` places: every trial but those that did not
    finish (a dead worker's, queued again) or were never claimed. A trial whose model raised counts,
    as in KerasTuner."""
    return trial.state != TrialState.FAIL or "message" in trial.user_attrs.get("lamina_result", {})


def claim_trial(study: optuna.Study, budget: int, grid: bool = False) -> optuna.Trial | None:
    """A trial this worker may run, or ``None`` once ``budget`` trials are done (after waiting for
    the ones other workers still run)."""
    while True:
        fail_dead_trials(study)
        trials = study.get_trials(deepcopy=False)
        holding = [t for t in trials if counted(t)]
        queued = any(t.state == TrialState.WAITING for t in trials)  # a dead worker's trial, to run again
        if len(holding) >= budget and not queued:
            if any(t.state == TrialState.RUNNING for t in holding):
                time.sleep(POLL_SECONDS)
                continue
            return None
        with heartbeats_allowed():
            trial = study.ask()
        if _may_run(study, trial, budget, grid):
            study._storage.set_trial_user_attr(trial._trial_id, WORKER_ATTR, _this_worker())
            return trial
        study._storage.set_trial_user_attr(trial._trial_id, UNCLAIMED_ATTR, True)
        study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)


def _may_run(study: optuna.Study, trial: optuna.Trial, budget: int, grid: bool) -> bool:
    below = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number and counted(t)]
    if len(below) >= budget:
        return False
    if grid:  # two workers may draw one grid point at once: the lower number keeps it
        mine = study._storage.get_trial(trial._trial_id).system_attrs.get("grid_id")
        return mine is None or all(t.system_attrs.get("grid_id") != mine for t in below)
    return True


class Heartbeat:
    """Records a running trial's heartbeat every ``HEARTBEAT_INTERVAL`` seconds (what Optuna's
    ``study.optimize`` does; a search asks and tells, so it beats itself)."""

    def __init__(self, study: optuna.Study, trial: optuna.Trial):
        self._storage, self._trial_id = study._storage, trial._trial_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:  # noqa: PYI034 (typing.Self needs Python 3.11)
        if optuna.storages._heartbeat.is_heartbeat_enabled(self._storage):
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def _beat(self) -> None:
        interval = self._storage.get_heartbeat_interval()  # type: ignore[attr-defined]  # heartbeats are on: an RDB
        while True:
            self._storage.record_heartbeat(self._trial_id)  # type: ignore[attr-defined]
            if self._stop.wait(interval):
                return

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
