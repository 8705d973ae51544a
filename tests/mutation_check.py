"""Does the suite catch a bug? Apply small deliberate bugs to src/lamina one at a time, run the
tests chosen for each (a subset, so the whole check takes minutes), restore the file, and report
which test caught each mutation (or that none did: a hole in the suite).

    PYTHONPATH=src python tests/mutation_check.py            # all mutations, a table on stdout
    PYTHONPATH=src python tests/mutation_check.py --write    # and into tests/MUTATIONS.md
    PYTHONPATH=src python tests/mutation_check.py adam_bias  # only the named ones

Each mutation replaces one exact piece of text (found exactly once, else the mutation is reported
stale: the code moved and the mutation must follow it). The file is restored in a ``finally``.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src", "lamina")


class Mutation(NamedTuple):
    name: str
    what: str
    path: str
    old: str
    new: str
    tests: tuple


_CHECKPOINT = ("tests/test_tf_checkpoint.py", "tests/test_tf_checkpoint_manager.py")
MUTATIONS = [
    Mutation("dense_backward_sign", "Dense's kernel gradient negated (a sign in a backward pass)",
             "layers/dense.py", "kernel_grad = x.reshape(-1, x.shape[-1]).T @ dz2",
             "kernel_grad = -(x.reshape(-1, x.shape[-1]).T @ dz2)",
             ("tests/test_keras_layers.py::test_layer_training_and_inference_match_keras", "tests/test_fused_vjp.py")),
    Mutation("adam_bias_correction", "Adam without the first moment's bias correction",
             "optimizers/adam.py", "np.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)",
             "np.sqrt(1 - self.beta_2 ** t)",
             ("tests/test_keras_optimizers.py", "tests/test_optimizers.py")),
    Mutation("resume_epoch", "fit ignores BackupAndRestore's resume epoch",
             "trainers/loops.py", "                initial_epoch = callback.resume_epoch\n",
             "                pass\n", ("tests/test_backup_and_restore.py",)),
    Mutation("no_shuffle", "shuffle=True never shuffles",
             "trainers/sources.py", "return rng.permutation(n) if shuffle else None", "return None",
             ("tests/test_fit_behaviour.py",)),
    Mutation("class_weight_drops_sample_weight", "class_weight replaces sample_weight instead of multiplying",
             "trainers/data.py", "return weights if sample_weight is None else weights * sample_weight",
             "return weights", ("tests/test_fit_behaviour.py",)),
    Mutation("keras_file_weight_order", "the .keras weights written non-trainable first",
             "saving/weights_store.py",
             "return [v for v in variables if v.trainable] + [v for v in variables if not v.trainable]",
             "return [v for v in variables if not v.trainable] + [v for v in variables if v.trainable]",
             ("tests/test_saving.py", "tests/test_saving_interop.py")),
    Mutation("legacy_h5_weight_order", "the legacy .h5 weights written and read non-trainable first",
             "saving/legacy_h5_store.py", "return list(layer.trainable_weights) + list(layer.non_trainable_weights)",
             "return list(layer.non_trainable_weights) + list(layer.trainable_weights)",
             ("tests/test_saving_legacy_h5.py",)),
    Mutation("legacy_h5_optimizer_state_dropped", "load_model of an .h5 file leaves the optimizer fresh",
             "saving/legacy_h5.py", "    legacy_h5_store.assign(pairs, [])", "    pass",
             ("tests/test_saving_legacy_h5.py",)),
    Mutation("legacy_h5_config_keeps_module", "the .h5 model_config written in the native layout",
             "saving/legacy_h5_config.py", '    return {"class_name": name, "config": config}\n', "    return entry\n",
             ("tests/test_saving_legacy_h5.py",)),
    Mutation("legacy_h5_arrays_unchecked", "the arrays of an .h5 file read without h5_checks",
             "saving/legacy_h5_store.py", '        h5_checks.walk(self.file, "", self.fail)\n', "",
             ("tests/test_saving_legacy_h5_hostile.py",)),
    Mutation("legacy_h5_unbounded", "an .h5 file's config may build any number of weights",
             "saving/legacy_h5_store.py", '        return h5_checks.walk(group, "", self.fail)',
             '        return 10**12 + h5_checks.walk(group, "", self.fail)',
             ("tests/test_saving_legacy_h5_hostile.py",)),
    Mutation("legacy_h5_keras2_initializers", "initializers without a module (tf.keras 2 files) left unresolved",
             "saving/legacy_h5_config.py", '    if not (_is_entry(value) and "module" not in value):',
             '    if not (_is_entry(value) and value.get(_PASSIVE) and "module" not in value):',
             ("tests/test_saving_legacy_h5.py::test_a_tf_keras_2_file_loads_as_keras_3_loads_it",)),
    Mutation("legacy_h5_by_name_ignored", "load_weights(.h5, by_name=True) matches layers by position",
             "saving/legacy_h5.py",
             "read = legacy_h5_store.read_weights_by_name if by_name else legacy_h5_store.read_model_weights",
             "read = legacy_h5_store.read_model_weights",
             ("tests/test_saving_legacy_h5.py::test_load_weights_by_name_and_skip_mismatch_as_in_keras",)),
    Mutation("legacy_h5_skip_mismatch_ignored", "load_weights(.h5, skip_mismatch=True) still refuses a shape",
             "saving/legacy_h5_store.py", "            if not skip_mismatch:\n", "            if True:\n",
             ("tests/test_saving_legacy_h5.py::test_load_weights_by_name_and_skip_mismatch_as_in_keras",)),
    Mutation("legacy_h5_not_atomic", "an .h5 file written in place",
             "saving/legacy_h5.py", "    with atomic_write(path) as file:", '    with open(path, "wb") as file:',
             ("tests/test_saving_legacy_h5_hostile.py",)),
    Mutation("mean_metric_reset", "Mean.reset_state keeps the count",
             "metrics/metric.py", "        self.total = 0.0\n        self.count = 0.0\n\n    def update_state",
             "        self.total = 0.0\n\n    def update_state",
             ("tests/test_keras_metrics.py", "tests/test_metrics.py")),
    Mutation("validation_split_rounding", "validation_split rounds the split point up",
             "trainers/data.py", "split_at = int(math.floor(n * (1 - validation_split)))",
             "split_at = int(math.ceil(n * (1 - validation_split)))",
             ("tests/test_fit_behaviour.py", "tests/test_fit.py", "tests/test_fit_arguments.py")),
    Mutation("dropout_scale", "Dropout scales the kept inputs by 1 - rate instead of 1 / (1 - rate)",
             "layers/regularization.py", "return keep * np.asarray(1.0 / (1.0 - self.rate), dtype)",
             "return keep * np.asarray(1.0 - self.rate, dtype)",
             ("tests/test_keras_layers.py::test_layer_called_with_training_matches_keras",
              "tests/test_layers_regularization.py")),
    Mutation("batchnorm_moving_mean", "BatchNormalization's moving statistics weighted the wrong way round",
             "layers/normalization.py",
             "                moving._value *= m\n                moving._value += (1.0 - m) * batch",
             "                moving._value *= 1.0 - m\n                moving._value += m * batch",
             ("tests/test_keras_layers.py::test_layer_called_with_training_matches_keras",
              "tests/test_layers_normalization.py")),
    Mutation("tape_fan_out_overwrites", "the tape keeps the last gradient of a value that fans out instead of the sum",
             "ops/backprop.py", "grads[key] = g if existing is None else F.add(existing, g)", "grads[key] = g",
             ("tests/test_tape.py", "tests/test_ops_grad.py")),
    Mutation("multiply_vjp", "multiply's VJP gives g * a to both inputs",
             "ops/math_ops.py", "lambda F, g, out, a, b: (g * b, g * a)", "lambda F, g, out, a, b: (g * a, g * a)",
             ("tests/test_tape.py", "tests/test_ops_grad.py")),
    Mutation("fused_softmax_link", "the fused plan's crossentropy gradient is y - p",
             "losses/links.py", "        p *= y.sum(axis=1, keepdims=True)\n        p -= y\n",
             "        p *= y.sum(axis=1, keepdims=True)\n        p -= y\n        p *= -1\n",
             ("tests/test_fast_plan.py",
              "tests/test_keras_losses.py::test_train_on_batch_with_each_loss_matches_keras")),
    Mutation("dense_3d_fused", "the fused plan takes Dense on 3-D inputs (Flatten forgotten) as rows",
             "trainers/fast_plan.py", "        if _feeds_more_than_rows(layers, dense[0]):\n            return None",
             "        pass",
             ("tests/test_keras_layers.py::test_dense_applies_to_the_last_axis_of_3d_inputs_like_keras",)),
    Mutation("metric_float32", "metrics return float32 under floatx float64",
             "metrics/metric.py", "return np.asarray(value, self.dtype)[()]", "return np.asarray(value, 'float32')[()]",
             ("tests/test_keras_metrics.py::test_metrics_compute_in_float64_under_float64",)),
    Mutation("recall_extra_variable", "Recall keeps a third count (Keras has two)",
             "metrics/confusion_metrics.py", 'counts = ("tp", "fn")', 'counts = ("tp", "fp", "fn")',
             ("tests/test_keras_metrics.py::test_metric_updates_results_and_reset_match_keras",)),
    Mutation("ftrl_l2_shrinkage", "Ftrl ignores l2_shrinkage_regularization_strength",
             "optimizers/ftrl.py", "shrunk_grad = grad + (2 * self.l2_shrinkage_regularization_strength) * w",
             "shrunk_grad = grad",
             ("tests/test_keras_optimizers.py",)),
    Mutation("count_at_threshold", "a confusion count takes predictions at the threshold as positive (>= for >)",
             "metrics/_confusion.py", "above = y_pred[None] > thresholds[:, None, None]",
             "above = y_pred[None] >= thresholds[:, None, None]",
             ("tests/test_keras_confusion_counts.py::test_confusion_counts_match_keras",)),
    Mutation("count_result_aliases_state", "TruePositives' result is a view of its variable (the next update edits it)",
             "metrics/threshold_metrics.py", "values = np.array(self.accumulator._value, self.dtype)",
             "values = np.asarray(self.accumulator._value, self.dtype)",
             ("tests/test_keras_confusion_counts.py::test_confusion_counts_match_keras",)),
    Mutation("rate_target_strict", "the rates at a target need the constrained rate strictly above the target",
             "metrics/threshold_metrics.py", "feasible = rates[constrained] >= self.value",
             "feasible = rates[constrained] > self.value",
             ("tests/test_keras_confusion_counts.py::test_rates_at_a_target_match_keras",)),
    Mutation("rate_grid_epsilon", "the rates' grid of thresholds starts just below 0 (AUC's) instead of at 0",
             "metrics/threshold_metrics.py", "self.thresholds, self._evenly = [0.0] + inner + [1.0], True",
             "self.thresholds, self._evenly = [-1e-7] + inner + [1.0 + 1e-7], True",
             ("tests/test_keras_confusion_counts.py::test_rates_at_a_target_match_keras",)),
    Mutation("concordance_no_bias_term", "concordance_correlation leaves the squared difference of means out",
             "metrics/correlation_metrics.py", "spread = true_var + pred_var + ops.square(true_mean - pred_mean)",
             "spread = true_var + pred_var",
             ("tests/test_keras_api_names.py::test_correlation_metrics_match_keras",)),
    Mutation("pearson_by_variance", "pearson_correlation divides y_true by its variance, not its deviation",
             "metrics/correlation_metrics.py", "t = t / ops.std(t, axis=axis, keepdims=True)",
             "t = t / ops.var(t, axis=axis, keepdims=True)",
             ("tests/test_keras_api_names.py::test_correlation_metrics_match_keras",)),
    Mutation("source_inputs_repeat", "get_source_inputs lists an input once per path to it",
             "utils/keras_utils.py", "            if not any(found is s for s in sources):\n                sources",
             "            if True:\n                sources",
             ("tests/test_keras_api_names.py::test_source_inputs_and_dtypes_match_keras",)),
    Mutation("optimizer_class_case", "optimizers.deserialize takes a built-in's class name only in its own case",
             "saving/kind_configs.py", "builtin = optimizers._REGISTRY.get(config[\"class_name\"].lower())",
             "builtin = None",
             ("tests/test_keras_api_names.py::test_deserialize_resolves_names_as_keras_does",)),
    Mutation("initializer_by_name", "initializers.deserialize refuses a name",
             "saving/kind_configs.py", "        return initializers.get(config)\n",
             "        raise ValueError(config)\n",
             ("tests/test_keras_api_names.py::test_deserialize_resolves_names_as_keras_does",)),
    Mutation("top_level_name_missing", "lamina.KerasTensor no longer resolves",
             "__init__.py", '"KerasTensor": "backend.keras_tensor",', "",
             ("tests/test_keras_api_names.py::test_every_listed_keras_name_resolves_in_lamina",)),
    Mutation("tf_data_shuffle_window", "Dataset.shuffle fills one element more than its buffer",
             "data/shuffle.py", "buffer = list(itertools.islice(items, buffer_size))",
             "buffer = list(itertools.islice(items, buffer_size + 1))", ("tests/test_tf_data_shuffle.py",)),
    Mutation("tf_data_steps_restart", "fit restarts a Dataset every epoch despite steps_per_epoch",
             "trainers/sources.py", "        if self.iterator is None or self.given_steps is None:\n",
             "        if True:\n", ("tests/test_fit_tf_data.py",)),
    Mutation("tf_data_batch_straddle", "a batch of dataset rows never spans two passes of a repeat",
             "data/rows.py", "            if count == batch_size:\n",
             "            if count == batch_size or start == size:\n", ("tests/test_tf_data.py",)),
    Mutation("dice_smoothing", "dice smooths its ratio by 1 instead of epsilon",
             "losses/functions.py", "return 1.0 - 2.0 * overlap / (total + _eps())",
             "return 1.0 - 2.0 * overlap / (total + 1.0)",
             ("tests/test_keras_losses.py::test_loss_values_and_reductions_match_keras",)),
    Mutation("tversky_weights_swapped", "Tversky's alpha weighs the added positives, beta the missed ones",
             "losses/functions.py", "hits + alpha * missed + beta * added", "hits + alpha * added + beta * missed",
             ("tests/test_keras_losses.py::test_loss_values_and_reductions_match_keras",)),
    Mutation("circle_unmasked", "Circle's samples without a pair count in the mean (its output mask dropped)",
             "losses/functions.py", "OUTPUT_MASKS[circle] = circle_mask\n", "\n",
             ("tests/test_keras_losses_segmentation.py",)),
    Mutation("iou_ignore_class_on_predictions", "the IoU metrics leave out predictions of ignore_class, not labels",
             "metrics/iou_metrics.py", "counted &= labels != np.asarray", "counted &= predicted != np.asarray",
             ("tests/test_keras_iou_metrics.py",)),
    Mutation("iou_union_axis", "an IoU's union adds the predicted totals twice (one sum on the wrong axis)",
             "metrics/iou_metrics.py", "matrix.sum(axis=0) + matrix.sum(axis=1) - hits",
             "matrix.sum(axis=0) + matrix.sum(axis=0) - hits", ("tests/test_keras_iou_metrics.py",)),
    Mutation("adafactor_decay_default", "Adafactor's beta_2_decay defaults to -0.5 (Keras: -0.8)",
             "optimizers/adafactor.py", "beta_2_decay: float = -0.8,", "beta_2_decay: float = -0.5,",
             ("tests/test_keras_optimizers_factored.py", "tests/test_optimizer_state.py")),
    Mutation("adafactor_clip_threshold", "Adafactor clips its update at rms(u) * clip_threshold, not rms(u) / it",
             "optimizers/adafactor.py", "_rms(update) / dtype(self.clip_threshold)",
             "_rms(update) * dtype(self.clip_threshold)",
             ("tests/test_keras_optimizers_factored.py", "tests/test_keras_optimizers.py")),
    Mutation("lamb_trust_ratio", "Lamb's trust ratio inverted: the update's norm over the weights'",
             "optimizers/lamb.py", "ratio = weight_norm / update_norm if", "ratio = update_norm / weight_norm if",
             ("tests/test_keras_optimizers_factored.py", "tests/test_keras_optimizers.py")),
    Mutation("max_epochs_ignored", "keras.config.set_max_epochs does not cap fit",
             "backend/run_config.py", "    if cap is not None and cap < epochs:\n",
             "    if cap is not None and cap < 0:\n", ("tests/test_keras_config.py",)),
    Mutation("logging_still_prints", "the progress bar prints to stdout with interactive logging disabled",
             "utils/progbar.py", "        return self.file is None and not io_utils.is_interactive_logging_enabled()",
             "        return False", ("tests/test_keras_config.py",)),
    Mutation("input_spec_axes_unchecked", "InputSpec's axes sizes are not checked",
             "layers/input_spec.py", "        if shape[axis] is not None and shape[axis] != size:",
             "        if False:", ("tests/test_input_spec.py",)),
    Mutation("tree_dict_insertion_order", "keras.tree flattens a dict in its insertion order, not by sorted key",
             "tree.py", "        return sorted(mapping)\n", "        return list(mapping)\n",
             ("tests/test_keras_tree.py",)),
    Mutation("pad_truncates_wrong_end", "pad_sequences' truncating='pre' keeps the first steps",
             "utils/sequence_utils.py", 'sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]',
             'sequence[:maxlen] if truncating == "pre" else sequence[-maxlen:]', ("tests/test_utils_sequences.py",)),
    Mutation("get_file_extracts_escaping_members", "get_file extracts a tar member that lands outside its folder",
             "utils/file_utils.py", "    if escaping:\n        raise", "    if False:\n        raise",
             ("tests/test_get_file.py",)),
    Mutation("auto_reduction_refused", "losses refuse tf.keras 2's Reduction.AUTO",
             "losses/loss.py", '        if reduction == "auto":', '        if reduction == "AUTO":',
             ("tests/test_tf_keras2_names.py",)),
    Mutation("checkpoint_skips_slots", "tf.train.Checkpoint saves no optimizer slots",
             "tf/checkpoint_graph.py", "    for optimizer_path, optimizer in optimizers:",
             "    for optimizer_path, optimizer in optimizers[:0]:", _CHECKPOINT),
    Mutation("checkpoint_skips_iterations", "tf.train.Checkpoint saves no optimizer step count",
             "tf/checkpoint_graph.py", "        found.append((name, variable))\n    return found\n",
             "        found.append((name, variable))\n    return found[1:]\n", _CHECKPOINT),
    Mutation("checkpoint_counter_stuck", "Checkpoint.save does not advance save_counter",
             "tf/checkpoint.py", "        number = int(counter._value) + 1\n        counter.assign(number)\n",
             "        number = int(counter._value) + 1\n", _CHECKPOINT),
    Mutation("manager_keeps_one_more", "CheckpointManager keeps max_to_keep + 1 checkpoints",
             "tf/checkpoint_manager.py", "while len(self._kept) > self._max_to_keep:",
             "while len(self._kept) > self._max_to_keep + 1:", _CHECKPOINT),
    Mutation("checkpoint_no_deferred_restore", "a restore into unbuilt layers and optimizers is dropped",
             "tf/checkpoint.py", "                _build_hooks.wait(obj, self.apply)", "                pass",
             _CHECKPOINT),
    Mutation("checkpoint_not_atomic", "a checkpoint written in place",
             "tf/checkpoint_file.py", "    with atomic_write(data_path(prefix)) as file:",
             '    with open(data_path(prefix), "wb") as file:', _CHECKPOINT),
    Mutation("checkpoint_reads_tensorflow", "a TensorFlow checkpoint is not told apart from a missing one",
             "tf/checkpoint_file.py", "    _refuse_tensorflow(path)\n    if os.path.isdir", "    if os.path.isdir",
             _CHECKPOINT),
    Mutation("checkpoint_shapes_unchecked", "a restore writes values without checking their shapes first",
             "tf/checkpoint.py", "            _check_fits(key, variable, self.values[key], self.path)",
             "            pass", _CHECKPOINT),
]


def run_tests(tests: tuple) -> tuple[bool, str, float]:
    """Run ``tests``; (caught, the first failing test or error, seconds)."""
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    seconds = time.monotonic() - start
    if result.returncode == 0:
        return False, "", seconds
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", result.stdout, re.MULTILINE)
    return True, failed.group(1) if failed else f"pytest exit {result.returncode}", seconds


def apply(mutation: Mutation) -> tuple[str, str, float]:
    """Mutate, test, restore: (status, the catching test, seconds)."""
    path = os.path.join(SRC, mutation.path)
    with open(path, encoding="utf-8") as file:
        original = file.read()
    if original.count(mutation.old) != 1:
        return "stale", f"text found {original.count(mutation.old)} times in {mutation.path}", 0.0
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(original.replace(mutation.old, mutation.new))
        caught, test, seconds = run_tests(mutation.tests)
    finally:
        with open(path, "w", encoding="utf-8") as file:
            file.write(original)
    return ("caught" if caught else "MISSED"), test, seconds


def main(argv: list[str]) -> int:
    write = "--write" in argv
    chosen = [a for a in argv if not a.startswith("--")]
    rows = []
    for mutation in MUTATIONS:
        if chosen and mutation.name not in chosen:
            continue
        status, test, seconds = apply(mutation)
        rows.append(f"| {mutation.name} | {mutation.what} | {status} | `{test}` | {seconds:.0f} s |")
        print(rows[-1], flush=True)
    table = "\n".join(["| mutation | the bug | result | caught by | time |", "| --- | --- | --- | --- | --- |", *rows])
    if write:
        with open(os.path.join(ROOT, "tests", "MUTATIONS.md"), "w", encoding="utf-8") as file:
            file.write("# Mutation check\n\nMade by `PYTHONPATH=src python tests/mutation_check.py --write`: each "
                       "deliberate bug is applied alone, the tests listed for it in tests/mutation_check.py run "
                       "(`-x`), and the file is restored. `caught by` is the first test that failed.\n\n"
                       + table + "\n")
    return 1 if any("| MISSED |" in row or "| stale |" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
