import numpy as np
import pytest

from lamina.utils.summary import print_summary, readable_memory_size

# The expected tables are what Keras 3's print_summary makes rich draw for
# the same layers (checked against rich's own layout while writing these).


class Var:
    def __init__(self, shape, trainable=True, dtype="float32"):
        self.value = np.zeros(shape, dtype=dtype)
        self.trainable = trainable


class FakeLayer:
    def __init__(self, name, shape, weights=(), built=True, trainable=True):
        self.name = name
        self.output_shape = shape
        self.built = built
        self.trainable = trainable
        self.weights = list(weights)

    def count_params(self):
        return sum(w.value.size for w in self.weights)

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights
                if not (w.trainable and self.trainable)]


class Flatten(FakeLayer):
    pass


class Dense(FakeLayer):
    pass


class Dropout(FakeLayer):
    pass


class BatchNormalization(FakeLayer):
    pass


class Sequential(FakeLayer):
    def __init__(self, name, layers, built=True):
        shape = layers[-1].output_shape if layers else None
        super().__init__(name, shape, built=built)
        self.layers = layers

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @weights.setter
    def weights(self, value):
        pass

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)


def dense(name, n_in, n_out, dtype="float32"):
    return Dense(name, (None, n_out),
                 [Var((n_in, n_out), dtype=dtype), Var((n_out,), dtype=dtype)])


def lesson_model():
    return Sequential("sequential", [
        Flatten("flatten", (None, 784)),
        dense("dense", 784, 300),
        dense("dense_1", 300, 100),
        dense("dense_2", 100, 10),
    ])


def nested_model():
    inner = Sequential("sequential", [
        dense("dense", 4, 8),
        BatchNormalization("batch_normalization", (None, 8), [
            Var((8,)), Var((8,)), Var((8,), False), Var((8,), False)]),
    ])
    frozen = dense("frozen_dense_layer_with_a_long_name", 8, 3)
    frozen.trainable = False
    return Sequential("sequential_1",
                      [inner, Dropout("dropout", (None, 8)), frozen])


@pytest.fixture
def columns(monkeypatch):
    def set_columns(n):
        monkeypatch.setenv("COLUMNS", str(n))
    set_columns(80)
    return set_columns


def summary_text(model, **kwargs):
    out = []
    print_summary(model, print_fn=out.append, **kwargs)
    assert len(out) == 1  # Keras hands print_fn the whole summary at once
    return out[0]


LESSON_76 = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ flatten (Flatten)               │ (None, 784)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 300)            │       235,500 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 100)            │        30,100 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 10)             │         1,010 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 266,610 (1.02 MB)
 Trainable params: 266,610 (1.02 MB)
 Non-trainable params: 0 (0.00 B)
"""

LESSON_88 = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ flatten (Flatten)                    │ (None, 784)                 │               0 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense (Dense)                        │ (None, 300)                 │         235,500 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_1 (Dense)                      │ (None, 100)                 │          30,100 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_2 (Dense)                      │ (None, 10)                  │           1,010 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 266,610 (1.02 MB)
 Trainable params: 266,610 (1.02 MB)
 Non-trainable params: 0 (0.00 B)
"""

UNBUILT = """\
Model: "sequential_1"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ flatten (Flatten)               │ (None, 784)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ ?                      │   0 (unbuilt) │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 0 (0.00 B)
 Trainable params: 0 (0.00 B)
 Non-trainable params: 0 (0.00 B)
"""

NESTED_TRAINABLE = """\
Model: "sequential_1"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┓
┃ Layer (type)                ┃ Output Shape          ┃    Param # ┃ Trai… ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━┩
│ sequential (Sequential)     │ (None, 8)             │         72 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│    └ dense (Dense)          │ (None, 8)             │         40 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│    └ batch_normalization    │ (None, 8)             │         32 │   Y   │
│ (BatchNormalization)        │                       │            │       │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ dropout (Dropout)           │ (None, 8)             │          0 │   -   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ frozen_dense_layer_with_a_… │ (None, 3)             │         27 │   N   │
│ (Dense)                     │                       │            │       │
└─────────────────────────────┴───────────────────────┴────────────┴───────┘
 Total params: 99 (396.00 B)
 Trainable params: 56 (224.00 B)
 Non-trainable params: 43 (172.00 B)
"""

NARROW_50 = """\
Model: "sequential_1"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape   ┃ Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━┩
│ sequential          │ (None, 8)      │      72 │
│ (Sequential)        │                │         │
├─────────────────────┼────────────────┼─────────┤
│ dropout (Dropout)   │ (None, 8)      │       0 │
├─────────────────────┼────────────────┼─────────┤
│ frozen_dense_layer… │ (None, 3)      │      27 │
│ (Dense)             │                │         │
└─────────────────────┴────────────────┴─────────┘
 Total params: 99 (396.00 B)
 Trainable params: 56 (224.00 B)
 Non-trainable params: 43 (172.00 B)
"""

def test_lesson_model_in_80_column_terminal(columns):
    assert summary_text(lesson_model()) == LESSON_76


def test_lesson_model_printed_to_stdout(columns, capsys):
    print_summary(lesson_model())
    out = capsys.readouterr().out
    assert out == LESSON_76
    assert "\x1b[" not in out


def test_lesson_model_wide_terminal_uses_88_columns(columns):
    columns(200)
    text = summary_text(lesson_model())
    assert text == LESSON_88
    assert {len(line) for line in text.splitlines()[1:-3]} == {88}


def test_explicit_line_length_ignores_terminal(columns):
    columns(200)
    assert summary_text(nested_model(), line_length=50) == NARROW_50


def test_unbuilt_layer_row(columns):
    model = Sequential("sequential_1", [
        Flatten("flatten", (None, 784)),
        Dense("dense", None, built=False),
    ], built=False)
    text = summary_text(model)
    assert text == UNBUILT
    assert "│ dense (Dense)                   │ ?                      │   0 (unbuilt) │" in text


def test_nested_expanded_with_trainable_column(columns):
    text = summary_text(nested_model(), expand_nested=True, show_trainable=True)
    assert text == NESTED_TRAINABLE


def test_layer_range(columns):
    text = summary_text(lesson_model(), layer_range=["dense", "dense_1"])
    assert "flatten (Flatten)" not in text
    assert "dense_2 (Dense)" not in text
    assert "│ dense (Dense)  " in text and "│ dense_1 (Dense)  " in text
    # the footer still counts the whole model
    assert " Total params: 266,610 (1.02 MB)\n" in text
    with pytest.raises(ValueError):
        summary_text(lesson_model(), layer_range=["nope", "dense"])


def test_too_narrow_raises(columns):
    with pytest.raises(ValueError, match="Insufficient console width"):
        summary_text(lesson_model(), line_length=8)


def test_footer_byte_sizes(columns):
    model = Sequential("small", [dense("dense", 100, 10)])
    assert summary_text(model).endswith(
        " Total params: 1,010 (3.95 KB)\n"
        " Trainable params: 1,010 (3.95 KB)\n"
        " Non-trainable params: 0 (0.00 B)\n"
    )
    model64 = Sequential("wide", [dense("dense", 100, 10, dtype="float64")])
    assert " Total params: 1,010 (7.89 KB)\n" in summary_text(model64)


def test_optimizer_params_line(columns):
    class Optimizer:
        built = True
        variables = [Var((), dtype="int64"), Var(())] + [Var((10,))] * 2

    model = Sequential("sequential", [dense("dense", 4, 2)])
    model.compiled = True
    model.optimizer = Optimizer()
    text = summary_text(model)
    # the repeated variable is counted once: 1 + 1 + 10 params
    assert text.endswith(
        " Total params: 22 (92.00 B)\n"
        " Trainable params: 10 (40.00 B)\n"
        " Non-trainable params: 0 (0.00 B)\n"
        " Optimizer params: 12 (52.00 B)\n"
    )


@pytest.mark.parametrize("size, text", [
    (0, "0.00 B"), (396, "396.00 B"), (1023, "1023.00 B"), (1024, "1.00 KB"),
    (4040, "3.95 KB"), (266610 * 4, "1.02 MB"), (1024 ** 2, "1.00 MB"),
    (3 * 1024 ** 3 // 2, "1.50 GB"), (1024 ** 4, "1.00 TB"),
])
def test_readable_memory_size(size, text):
    assert readable_memory_size(size) == text
