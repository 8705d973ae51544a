"""summary() on real lamina models (nested, frozen, with BatchNormalization, compiled and
trained) against Keras 3's own summary of the same model: every row's parameter count and
the footer's totals and byte sizes."""
import re

import numpy as np
import pytest

MODELS = {
    "nested_frozen_batchnorm": """
inner = K.Sequential([K.Input((6,)), K.layers.Dense(5, activation="relu"), K.layers.BatchNormalization()],
                     name="inner")
model = K.Sequential([K.Input((4,)), K.layers.Dense(6, name="first"), inner, K.layers.Dropout(0.2),
                      K.layers.Dense(3, use_bias=False, name="head")])
model.get_layer("first").trainable = False
""",
    "frozen_nested_model": """
inner = K.Sequential([K.Input((4,)), K.layers.Dense(8), K.layers.LayerNormalization()], name="body")
inner.trainable = False
model = K.Sequential([K.Input((4,)), inner, K.layers.Dense(2, activation="softmax")])
""",
    "functional_with_batchnorm": """
inputs = K.Input((7,))
hidden = K.layers.Dense(16, activation="relu")(inputs)
hidden = K.layers.BatchNormalization(center=False)(hidden)
outputs = K.layers.Dense(1, activation="sigmoid")(hidden)
model = K.Model(inputs, outputs, name="functional_bn")
""",
}

SUMMARY = """
{model}
model.compile(optimizer="adam", loss="mse")
if TRAIN:
    x = np.ones((4,) + tuple(model.inputs[0].shape[1:]), floatx)
    model.train_on_batch(x, model.predict(x, verbose=0) * 0.5)
printed = []
model.summary(print_fn=lambda line, *args, **kwargs: printed.append(line))
printed_expanded = []
model.summary(expand_nested=True, show_trainable=True,
              print_fn=lambda line, *args, **kwargs: printed_expanded.append(line))
result = {{"counts": [int(layer.count_params()) for layer in model.layers],
          "trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
          "non_trainable": int(sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)),
          "text": "\\n".join(printed), "expanded": "\\n".join(printed_expanded)}}
"""

FOOTER = re.compile(r"(Total|Trainable|Non-trainable|Optimizer) params: ([\d,]+) \(([\d.]+ [KMG]?B)\)")


def footer(text: str, iteration_bytes: int = 0) -> list:
    """The footer's (line, count, size); ``iteration_bytes`` taken off the optimizer's and the
    total's size: a difference on purpose, lamina's optimizer counts iterations in an int64 (as
    Keras on TensorFlow does) where Keras on JAX uses an int32, 4 bytes less."""
    rows = []
    for line, count, size in FOOTER.findall(text):
        if line in ("Total", "Optimizer") and iteration_bytes and size.endswith(" B"):
            size = f"{float(size[:-2]) - iteration_bytes:.2f} B"
        rows.append((line, count, size))
    return rows


def row_counts(text: str) -> list:
    """The Param # column: the last number on each table row (rows start with a box character)."""
    counts = []
    for line in text.splitlines():
        match = re.search(r"│\s+([\d,]+(?: \(unbuilt\))?)\s+│(?:\s+\S+\s+│)?\s*$", line)
        if match:
            counts.append(match.group(1))
    return counts


@pytest.mark.parametrize("train", [False, True], ids=["compiled", "trained"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_summary_numbers_match_keras(keras_oracle, name, train):
    code = SUMMARY.format(model=MODELS[name])
    theirs = keras_oracle.run(code, {"TRAIN": train})
    from keras_oracle import run_lamina
    ours = run_lamina(code, {"TRAIN": train})
    for key in ("counts", "trainable", "non_trainable"):
        assert ours[key] == theirs[key], key
    extra = 4 if train else 0  # the optimizer's iteration counter: int64 here, int32 in Keras on JAX
    assert footer(ours["text"], extra) == footer(theirs["text"]) and footer(theirs["text"])
    assert row_counts(ours["text"]) == row_counts(theirs["text"]) and row_counts(theirs["text"])
    assert footer(ours["expanded"], extra) == footer(theirs["expanded"])
    assert row_counts(ours["expanded"]) == row_counts(theirs["expanded"])
    assert np.sum(ours["counts"]) == ours["trainable"] + ours["non_trainable"]
