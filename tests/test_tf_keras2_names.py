"""tf.keras 2's names under ``import lamina as tf``: ``tf.keras.losses.Reduction`` (held to the
tf.keras namespace Keras 3 ships, ``keras._tf_keras.keras``), taken by lamina's losses'
``reduction=`` (``AUTO`` as ``SUM_OVER_BATCH_SIZE``, as tf.keras 2 outside a distribution
strategy), and ``tf.keras.backend.int_shape`` (also as ``K.int_shape``)."""
import subprocess
import sys

import numpy as np
import pytest

import lamina
import lamina as tf

# the tf.keras namespace: Keras 3's own copy of it, and lamina.keras for lamina
TF_KERAS = "TK = K._tf_keras.keras if hasattr(K, '_tf_keras') else K.keras\n"

REDUCTION = TF_KERAS + """
R = TK.losses.Reduction
def validates(key):
    try:
        R.validate(key)
        return "ok"
    except ValueError:
        return "refused"
result = [R.AUTO, R.NONE, R.SUM, R.SUM_OVER_BATCH_SIZE, list(R.all()),
          [validates(k) for k in ("auto", "none", "sum", "sum_over_batch_size", "mean", "SUM", None)]]
"""


def test_reduction_matches_tf_keras(keras_oracle):
    ours, _ = keras_oracle.compare(REDUCTION)
    assert ours[:4] == ["auto", "none", "sum", "sum_over_batch_size"]


# Keras 3's losses refuse "auto": its values are held to Keras's with the reduction AUTO stands for
LOSSES = TF_KERAS + """
R = TK.losses.Reduction
lamina_side = not hasattr(K, "_tf_keras")
def made(cls, reduction):
    if reduction == R.AUTO and not lamina_side:
        reduction = R.SUM_OVER_BATCH_SIZE
    return cls(reduction=reduction)
result = {}
for name in ("MeanSquaredError", "BinaryCrossentropy", "CategoricalCrossentropy", "Huber"):
    cls = getattr(TK.losses, name)
    result[name] = [numpy(made(cls, r)(yt, yp, sample_weight=w)) for r in (R.AUTO, R.NONE, R.SUM,
                                                                          R.SUM_OVER_BATCH_SIZE)]
    result[name + "_config"] = made(cls, R.AUTO).get_config()["reduction"]
"""


def test_losses_take_the_reductions_as_tf_keras_did(keras_oracle):
    rng = np.random.default_rng(0)
    yt = rng.integers(0, 2, (6, 3)).astype("float32")
    yp = rng.uniform(0.05, 0.95, (6, 3))
    ours, _ = keras_oracle.compare(LOSSES, {"yt": yt, "yp": yp, "w": rng.uniform(0.5, 2, 6)}, rtol=1e-6)
    assert ours["MeanSquaredError_config"] == "sum_over_batch_size"
    assert np.shape(ours["MeanSquaredError"][1]) == (6,)


def test_auto_is_sum_over_batch_size_in_compile_and_fit():
    x, y = np.ones((8, 2)), np.zeros((8, 1))
    losses = []
    for reduction in (tf.keras.losses.Reduction.AUTO, tf.keras.losses.Reduction.SUM_OVER_BATCH_SIZE):
        lamina.random.set_seed(1)
        model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss=tf.keras.losses.MeanSquaredError(reduction=reduction))
        losses.append(model.fit(x, y, epochs=2, verbose=0).history["loss"])
    assert losses[0] == losses[1]
    with pytest.raises(ValueError, match="reduction must be one of"):
        tf.keras.losses.MeanSquaredError(reduction="AUTO")


INT_SHAPE = TF_KERAS + """
B = TK.backend
symbolic = TK.Input((3, 4))
result = [list(B.int_shape(np.ones((2, 5)))), list(B.int_shape(TK.ops.ones((4,)))), list(B.int_shape(symbolic)),
          list(B.int_shape(TK.layers.Dense(7)(symbolic))), list(B.int_shape(TK.Variable(np.zeros((3, 1))))),
          list(B.int_shape(np.float32(1.0)))]
"""


def test_int_shape_matches_tf_keras(keras_oracle):
    ours, _ = keras_oracle.compare(INT_SHAPE)
    assert ours[2] == [None, 3, 4] and ours[3] == [None, 3, 7]


def test_int_shape_returns_a_tuple_and_needs_a_shape():
    assert tf.keras.backend.int_shape(tf.constant([[1.0, 2.0]])) == (1, 2)
    with pytest.raises(AttributeError):
        tf.keras.backend.int_shape([1, 2])


def test_from_keras_import_backend_as_k():
    # tf.keras 2's ``from tensorflow.keras import backend as K``, with the one import changed
    code = ("from lamina.keras import backend as K\nfrom lamina.keras.losses import Reduction\nimport lamina\n"
            "print(K.int_shape(lamina.Input((5,))), Reduction.SUM, K is lamina.backend)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(None,", "5)", "sum", "True"]
