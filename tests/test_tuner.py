"""lamina.tuner: KerasTuner's API on Optuna. The space's values and defaults, the sampling
(drawn through Optuna, counted), each tuner finding the best configuration of a known problem,
the best model's weights, the summaries, resuming and the refusals."""
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
import lamina
from lamina import tuner as kt


# --- the space -------------------------------------------------------------------------------
def test_defaults_outside_a_search_are_keras_tuners():
    hp = kt.HyperParameters()
    assert hp.Int("units", 32, 512, step=32) == 32
    assert hp.Int("layers", 1, 4, default=3) == 3
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 1e-4
    assert hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.2) == 0.2
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Choice("width", [64, 128], default=128) == 128
    assert hp.Boolean("bn") is False and hp.Boolean("bias", default=True) is True
    assert hp.Fixed("batch", 64) == 64
    assert hp.values == {"units": 32, "layers": 3, "lr": 1e-4, "dropout": 0.2, "act": "relu", "width": 128,
                         "bn": False, "bias": True, "batch": 64}
    assert hp["units"] == hp.get("units") == 32 and "lr" in hp
    assert [type(h).__name__ for h in hp.space] == ["Int", "Int", "Float", "Float", "Choice", "Choice",
                                                   "Boolean", "Boolean", "Fixed"]
    assert hp.Int("units", 32, 512, step=32) == 32  # asking again returns the same value
    assert len(hp.space) == 9


def test_conditional_scope_registers_but_only_the_active_branch_has_values():
    hp = kt.HyperParameters()
    kind = hp.Choice("model", ["mlp", "wide"])
    with hp.conditional_scope("model", ["mlp"]):
        depth = hp.Int("depth", 1, 3)
    with hp.conditional_scope("model", "wide"):
        width = hp.Int("width", 100, 200)
    assert (kind, depth, width) == ("mlp", 1, None)
    assert hp.values == {"model": "mlp", "depth": 1}
    assert [h.name for h in hp.space] == ["model", "depth", "width"]
    assert hp.is_active("depth") and not hp.is_active("width")
    with pytest.raises(ValueError, match="currently inactive"):
        hp.get("width")
    with pytest.raises(KeyError, match="no hyperparameter named 'nope'"):
        hp.get("nope")
    with pytest.raises(ValueError, match="no hyperparameter named 'missing' is defined yet"), \
            hp.conditional_scope("missing", [1]):
        pass
    assert hp.Int("extra", 0, 5, parent_name="model", parent_values=["wide"]) is None


def test_grid_values_are_keras_tuners():
    assert kt.Int("n", 6, 13, step=3).values_in_grid() == [6, 9, 12]
    assert kt.Int("n", 2, 32, step=2, sampling="log").values_in_grid() == [2, 4, 8, 16, 32]
    assert kt.Int("n", 1, 4).values_in_grid() == [1, 2, 3, 4]
    assert kt.Float("f", 0.0, 1.0, step=0.25).values_in_grid() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert kt.Float("f", 0.001, 10, step=10, sampling="log").values_in_grid() == pytest.approx(
        [0.001, 0.01, 0.1, 1.0, 10.0])
    ten = kt.Float("f", 1e-4, 1e-1, sampling="log").values_in_grid()  # no step: 10 values
    assert len(ten) == 10 and ten[0] == pytest.approx(1e-4) and ten[-1] == pytest.approx(1e-1)
    assert np.allclose(np.diff(np.log(ten)), np.log(10) / 3)


def draw(make, n=3000, seed=0):
    """n values of a hyperparameter drawn by Optuna's RandomSampler through HyperParameters."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    values = []
    for _ in range(n):
        trial = study.ask()
        hp = kt.HyperParameters()
        hp._choose = lambda h, trial=trial: h.suggest(trial)
        values.append(make(hp))
        study.tell(trial, 0.0)
    return np.array(values)


def test_sampling_draws_the_distributions_keras_tuner_describes():
    linear = draw(lambda hp: hp.Float("f", 2.0, 6.0))
    assert linear.min() >= 2 and linear.max() <= 6 and abs(linear.mean() - 4.0) < 0.1
    log = draw(lambda hp: hp.Float("lr", 1e-4, 1e-1, sampling="log"))
    # log-uniform: log10 uniform on [-4, -1]; a quarter of the draws below 10**-3.25
    assert abs(np.mean(np.log10(log)) + 2.5) < 0.05 and abs(np.mean(log < 10 ** -3.25) - 0.25) < 0.03
    reverse = draw(lambda hp: hp.Float("r", 1.0, 100.0, sampling="reverse_log"))
    mirrored = 101.0 - reverse  # the mirror image is log-uniform on [1, 100]
    assert reverse.max() <= 100 and abs(np.mean(np.log10(mirrored)) - 1.0) < 0.05
    stepped = draw(lambda hp: hp.Int("units", 32, 256, step=32))
    assert set(stepped) == {32, 64, 96, 128, 160, 192, 224, 256}
    assert max(Counter(stepped).values()) / min(Counter(stepped).values()) < 1.3  # uniform
    geometric = draw(lambda hp: hp.Int("batch", 2, 32, step=2, sampling="log"))
    assert set(geometric) == {2, 4, 8, 16, 32} and geometric.dtype.kind == "i"
    assert set(draw(lambda hp: hp.Float("d", 0.0, 0.5, step=0.25), n=300)) == {0.0, 0.25, 0.5}
    assert set(draw(lambda hp: hp.Choice("a", ["x", "y", "z"]), n=300)) == {"x", "y", "z"}
    assert set(draw(lambda hp: hp.Boolean("b"), n=100)) == {False, True}
    assert set(draw(lambda hp: hp.Fixed("k", 7), n=20)) == {7}


def test_invalid_hyperparameters_are_refused_by_name():
    hp = kt.HyperParameters()
    with pytest.raises(ValueError, match="'units': min_value 10 is above max_value 5"):
        hp.Int("units", 10, 5)
    with pytest.raises(ValueError, match="'lr': sampling='log' needs min_value > 0"):
        hp.Float("lr", 0.0, 1.0, sampling="log")
    with pytest.raises(ValueError, match="'n': step must be an int"):
        hp.Int("n", 1, 10, step=1.5)
    with pytest.raises(ValueError, match="sampling must be one of"):
        hp.Float("x", 1, 2, sampling="exp")
    with pytest.raises(ValueError, match="default 'c' is not one of"):
        hp.Choice("a", ["x", "y"], default="c")
    with pytest.raises(ValueError, match="default 11 is outside"):
        hp.Int("z", 0, 10, default=11)


# --- objectives ------------------------------------------------------------------------------
def test_objective_directions_are_inferred_from_names_as_keras_tuner_does():
    from lamina.tuner.objective import create_objective
    assert create_objective("val_loss").direction == "min"
    assert create_objective("loss").direction == "min"
    for name in ("val_accuracy", "accuracy", "acc", "val_acc", "binary_accuracy", "val_auc", "precision",
                 "recall", "top_k_categorical_accuracy", "val_r2_score", "f1_score"):
        assert create_objective(name).direction == "max", name
    for name in ("mae", "val_mse", "val_mean_squared_error", "huber", "val_binary_crossentropy"):
        assert create_objective(name).direction == "min", name
    assert create_objective(kt.Objective("score", "max")) == kt.Objective("score", "max")
    with pytest.raises(ValueError, match=r'kt.Objective\("val_f00", direction="min"\)'):
        create_objective("val_f00")
    with pytest.raises(ValueError, match="direction must be 'min' or 'max'"):
        kt.Objective("x", "down")


# --- searching a known problem ---------------------------------------------------------------
class Bowl(kt.HyperModel):
    """A closed-form objective with one best point: lr = 1e-2, units = 48 (fit overridden and
    returning a dict, as KerasTuner allows)."""

    def build(self, hp):
        return {"lr": hp.Float("lr", 1e-5, 1.0, sampling="log"), "units": hp.Int("units", 16, 128, step=16)}

    def fit(self, hp, model, *args, **kwargs):
        return {"score": (math.log10(model["lr"]) + 2) ** 2 + ((model["units"] - 48) / 16) ** 2}


def bowl_score(values):
    return (math.log10(values["lr"]) + 2) ** 2 + ((values["units"] - 48) / 16) ** 2


@pytest.mark.parametrize("tuner_class, trials, tolerance", [(kt.RandomSearch, 30, 1.0),
                                                          (kt.BayesianOptimization, 30, 0.3)])
def test_random_and_bayesian_search_find_the_bowls_bottom(tmp_path, tuner_class, trials, tolerance):
    objective = kt.Objective("score", "min")
    tuner = tuner_class(Bowl(), objective=objective, max_trials=trials, seed=3, directory=tmp_path)
    tuner.search(verbose=0)
    trials_done = tuner.oracle.get_best_trials(100)
    assert len(trials_done) == trials
    scores = [t.score for t in trials_done]
    assert scores == sorted(scores)  # best first
    best = tuner.get_best_hyperparameters()[0].values
    assert bowl_score(best) == pytest.approx(scores[0])
    assert scores[0] < tolerance
    assert trials_done[0].metrics.get_last_value("score") == pytest.approx(scores[0])


@pytest.mark.slow
def test_bayesian_optimization_beats_random_search_on_the_bowl(tmp_path):
    results = {}
    for tuner_class in (kt.RandomSearch, kt.BayesianOptimization):
        best = []
        for seed in range(3):
            tuner = tuner_class(Bowl(), objective=kt.Objective("score", "min"), max_trials=25, seed=seed,
                                directory=tmp_path, project_name=f"{tuner_class.__name__}{seed}")
            tuner.search(verbose=0)
            best.append(tuner.oracle.get_best_trials(1)[0].score)
        results[tuner_class.__name__] = np.mean(best)
    assert results["BayesianOptimization"] < results["RandomSearch"]


def test_grid_search_tries_every_combination_once_and_finds_the_best(tmp_path):
    class Grid(kt.HyperModel):
        def build(self, hp):
            return (hp.Choice("lr", [1e-3, 1e-2, 1e-1]), hp.Int("units", 16, 80, step=32), hp.Fixed("k", 1))

        def fit(self, hp, model, *args, **kwargs):
            return bowl_score({"lr": model[0], "units": model[1]})

    tuner = kt.GridSearch(Grid(), objective="loss", directory=tmp_path)  # a number is "loss"'s value
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    seen = sorted((t.hyperparameters.values["lr"], t.hyperparameters.values["units"]) for t in trials)
    assert seen == sorted((lr, u) for lr in (1e-3, 1e-2, 1e-1) for u in (16, 48, 80))  # 9, none twice
    assert tuner.get_best_hyperparameters()[0].values == {"lr": 1e-2, "units": 48, "k": 1}
    capped = kt.GridSearch(Grid(), objective="loss", max_trials=4, directory=tmp_path, project_name="capped")
    capped.search(verbose=0)
    assert len(capped.oracle.trials) == 4


def regression_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], "float32"))[:, None]
    return x, y


def build_regressor(hp):
    model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(hp.Int("units", 4, 16, step=12)),
                               lamina.layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(hp.Choice("learning_rate", [1e-5, 0.05])), loss="mse",
                  metrics=["mae"])
    return model


def test_search_trains_real_models_and_the_best_model_has_its_best_epochs_weights(tmp_path, capsys):
    x, y = regression_data()
    xv, yv = regression_data(64, seed=1)
    stopper = lamina.callbacks.EarlyStopping(monitor="val_loss", patience=50)
    tuner = kt.GridSearch(build_regressor, objective="val_loss", directory=tmp_path, project_name="p")
    tuner.search(x, y, epochs=6, batch_size=32, validation_data=(xv, yv), callbacks=[stopper], verbose=0)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    assert best_trial.hyperparameters.values["learning_rate"] == 0.05
    assert len(tuner.oracle.trials) == 4
    model = tuner.get_best_models(1)[0]
    loss, mae = model.evaluate(xv, yv, verbose=0)
    assert loss == pytest.approx(best_trial.score, rel=1e-5)  # the checkpoint of the best epoch
    assert mae == pytest.approx(best_trial.metrics.get_last_value("val_mae"), rel=1e-5)
    assert best_trial.score < 1.0 < tuner.oracle.get_best_trials(4)[-1].score
    assert stopper.model is None  # the user's callback was copied for each trial, as in KerasTuner
    capsys.readouterr()
    best_trial.summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Trial {best_trial.trial_id} summary" and lines[1] == "Hyperparameters:"
    assert "learning_rate: 0.05" in lines and lines[-1] == f"Score: {best_trial.score}"
    tuner.results_summary(2)
    out = capsys.readouterr().out
    assert out.startswith(f"Results summary\nResults in {tmp_path / 'p'}\nShowing 2 best trials\n"
                          'Objective(name="val_loss", direction="min")\n')
    assert out.count("summary\nHyperparameters:") == 2
    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert out.startswith("Search space summary\nDefault search space size: 2\nunits (Int)\n")
    assert "learning_rate (Choice)" in out


def test_search_prints_keras_tuners_trial_lines(tmp_path, capsys):
    tuner = kt.RandomSearch(Bowl(), objective=kt.Objective("score", "min"), max_trials=2, directory=tmp_path)
    tuner.search()
    out = capsys.readouterr().out
    assert "Search: Running Trial #1" in out and "Search: Running Trial #2" in out
    assert "Trial 2 Complete [" in out and "Best score So Far: " in out


def test_hyperband_runs_keras_tuners_budget_and_stops_losing_trials_at_rungs(tmp_path):
    x, y = regression_data()
    tuner = kt.Hyperband(build_regressor, objective="val_loss", max_epochs=9, factor=3, seed=0,
                         directory=tmp_path)
    # KerasTuner's brackets for max_epochs=9, factor=3: 9 + 5 + 3 configurations
    assert tuner.oracle.max_trials == 17
    tuner.search(x, y, epochs=100, validation_data=(x, y), verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 17 and all(t.status == "COMPLETED" for t in trials)
    epochs = Counter(t.hyperparameters.values["tuner/epochs"] for t in trials)
    assert set(epochs) <= {1, 3, 9} and epochs[9] >= 1 and epochs[1] + epochs[3] >= 1  # rungs at 1, 3, 9
    study = tuner.oracle.study
    pruned = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.PRUNED]
    assert len(pruned) == epochs[1] + epochs[3]
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.hyperparameters.values["learning_rate"] == 0.05
    assert tuner.get_best_models()[0].evaluate(x, y, verbose=0)[0] == pytest.approx(best.score, rel=1e-5)


def test_executions_per_trial_average_the_best_epochs(tmp_path):
    runs = []

    class Noisy(kt.HyperModel):
        def build(self, hp):
            return hp.Int("k", 1, 3)

        def fit(self, hp, model, *args, **kwargs):
            runs.append(model)
            return {"loss": float(len(runs)), "other": 10.0 * len(runs)}

    tuner = kt.RandomSearch(Noisy(), objective="loss", max_trials=1, executions_per_trial=3, directory=tmp_path)
    tuner.search(verbose=0)
    trial = tuner.oracle.get_best_trials(1)[0]
    assert len(runs) == 3 and len(set(runs)) == 1  # one configuration, three models
    assert trial.score == 2.0 and trial.metrics.get_last_value("other") == 20.0


def test_trials_whose_model_raises_are_recorded_and_three_in_a_row_stop_the_search(tmp_path):
    class Broken(kt.HyperModel):
        def build(self, hp):
            return hp.Int("k", 1, 3)

        def fit(self, hp, model, *args, **kwargs):
            raise RuntimeError("no model today")

    tuner = kt.RandomSearch(Broken(), objective="loss", max_trials=5, directory=tmp_path)
    with pytest.raises(RuntimeError, match="3 trials in a row failed; the last one: no model today"):
        tuner.search(verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["FAILED"] * 3


def test_arguments_lamina_cannot_honour_are_refused(tmp_path):
    with pytest.raises(ValueError, match="alpha and beta at their defaults"):
        kt.BayesianOptimization(Bowl(), objective="loss", alpha=1e-3, directory=tmp_path)
    with pytest.raises(ValueError, match="executions_per_trial must be 1"):
        kt.Hyperband(Bowl(), objective="loss", max_epochs=9, executions_per_trial=2, directory=tmp_path)
    with pytest.raises(ValueError, match="factor must be an int >= 2"):
        kt.Hyperband(Bowl(), objective="loss", max_epochs=9, factor=1, directory=tmp_path)
    with pytest.raises(ValueError, match="max_retries_per_trial=2"):
        kt.RandomSearch(Bowl(), objective="loss", max_retries_per_trial=2, directory=tmp_path)
    with pytest.raises(ValueError, match=r"does not take \['loss', 'optimizer'\]"):
        kt.RandomSearch(Bowl(), objective="loss", optimizer="adam", loss="mse", directory=tmp_path)
    with pytest.raises(ValueError, match="max_trials must be a positive int"):
        kt.RandomSearch(Bowl(), objective="loss", max_trials=0, directory=tmp_path)
    with pytest.raises(TypeError, match="hypermodel must be a kt.HyperModel or a function"):
        kt.RandomSearch(42, objective="loss", directory=tmp_path)


def test_fit_without_the_objective_says_which_metrics_there_are(tmp_path):
    x, y = regression_data(32)
    tuner = kt.RandomSearch(build_regressor, objective="val_accuracy", max_trials=1, directory=tmp_path)
    tuner.search(x, y, epochs=1, verbose=0)
    trial = next(iter(tuner.oracle.trials.values()))
    assert trial.status == "FAILED"
    assert "objective 'val_accuracy' is not among the logged metrics ['loss', 'mae']" in trial.message


def test_conditional_hyperparameters_in_a_search_take_values_only_when_active(tmp_path):
    class Branches(kt.HyperModel):
        def build(self, hp):
            kind = hp.Choice("kind", ["a", "b"])
            with hp.conditional_scope("kind", ["a"]):
                a = hp.Int("a_units", 1, 5)
            with hp.conditional_scope("kind", ["b"]):
                b = hp.Float("b_rate", 0.0, 1.0)
            return kind, a, b

        def fit(self, hp, model, *args, **kwargs):
            kind, a, b = model
            return (a - 3) ** 2 if kind == "a" else 1.0 + b

    tuner = kt.RandomSearch(Branches(), objective="loss", max_trials=20, seed=0, directory=tmp_path)
    assert [h.name for h in tuner.oracle.hyperparameters.space] == ["kind", "a_units", "b_rate"]
    tuner.search(verbose=0)
    for trial in tuner.oracle.trials.values():
        values = trial.hyperparameters.values
        assert set(values) == ({"kind", "a_units"} if values["kind"] == "a" else {"kind", "b_rate"})
    assert tuner.get_best_hyperparameters()[0].values == {"kind": "a", "a_units": 3}


def test_hyperparameters_argument_fixes_and_restricts_the_space(tmp_path):
    given = kt.HyperParameters()
    given.Fixed("units", 48)
    tuner = kt.RandomSearch(Bowl(), objective=kt.Objective("score", "min"), max_trials=4, hyperparameters=given,
                            tune_new_entries=False, directory=tmp_path)
    tuner.search(verbose=0)
    for trial in tuner.oracle.trials.values():
        assert trial.hyperparameters.values == {"lr": 1e-5, "units": 48}  # lr not tuned: its default


def test_the_checkpoint_is_the_best_epochs_not_the_last():
    from lamina.tuner.tuner import SaveBestEpoch
    saved = []

    class Model:
        def save_weights(self, path):
            saved.append((path, epoch))

    callback = SaveBestEpoch(kt.Objective("val_loss", "min"), Path("ckpt.weights.h5"))
    callback.set_model(Model())
    for epoch, value in enumerate([3.0, 1.0, 2.0, 1.5]):
        callback.on_epoch_end(epoch, {"val_loss": value})
    assert [e for _, e in saved] == [0, 1]
    upward = SaveBestEpoch(kt.Objective("acc", "max"), Path("c.weights.h5"))
    upward.set_model(Model())
    saved.clear()
    for epoch, value in enumerate([0.5, 0.4, 0.9]):
        upward.on_epoch_end(epoch, {"acc": value})
    assert [e for _, e in saved] == [0, 2]


def test_a_model_built_on_its_first_data_comes_back_from_get_best_models(tmp_path):
    x, y = regression_data(64)

    def build(hp):  # no Input: the model is built when fit first sees x
        model = lamina.Sequential([lamina.layers.Dense(hp.Int("units", 2, 4)), lamina.layers.Dense(1)])
        model.compile(optimizer=lamina.optimizers.SGD(0.01), loss="mse")
        return model

    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=2, seed=0, directory=tmp_path)
    tuner.search(x, y, epochs=3, validation_split=0.25, verbose=0)
    model = tuner.get_best_models()[0]
    assert model.evaluate(x[48:], y[48:], verbose=0) == pytest.approx(tuner.oracle.get_best_trials()[0].score,
                                                                      rel=1e-5)
