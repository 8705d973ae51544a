"""Functional architectures written once for both libraries: ``build(K)`` takes ``lamina`` or
``keras`` (the APIs are the same), so tests build the same graph in each and compare configs,
files, predictions and summaries. ``inputs(name, data)`` gives each its input batch from arrays."""
import numpy as np


def multi_io(K):
    """Dict inputs and outputs, a layer shared at two depths, ops, a nested Functional and Sequential."""
    L, ops = K.layers, K.ops
    a, b = K.Input((5,), name="a"), K.Input((6,), name="b")
    shared = L.Dense(4, name="d", activation="tanh")
    h1, h2 = shared(a), shared(L.Dense(5, name="e")(b))
    joined = ops.concatenate([h1, h2], axis=-1)
    summed = ops.add(h1, h2) * 2.0
    ix = K.Input((8,), name="ii")
    inner = K.Model(ix, L.Dense(2, name="inner_d")(ix), name="inner")
    seq = K.Sequential([L.Dense(3, name="sd", activation="relu")], name="seq")
    return K.Model({"a": a, "b": b}, {"o": inner(joined), "o2": seq(summed)}, name="outer")


def wide_deep(K):
    """Lists of inputs and outputs, as in Keras's guide (and the issue's speed target)."""
    L = K.layers
    wide, deep = K.Input((5,), name="wide"), K.Input((6,), name="deep")
    h = L.Dense(30, activation="relu", name="h1")(deep)
    h = L.Dense(30, activation="relu", name="h2")(h)
    joined = K.ops.concatenate([wide, h], axis=1)
    return K.Model([wide, deep], [L.Dense(1, name="main")(joined), L.Dense(1, name="aux")(h)], name="wide_deep")


def shared_depth(K):
    """One layer called twice on a chain (``d(e(d(x)))``) and reductions on its output."""
    L, ops = K.layers, K.ops
    x = K.Input((4,), name="x")
    shared, mid = L.Dense(4, name="shared", activation="tanh"), L.Dense(4, name="mid")
    y = shared(mid(shared(x)))
    return K.Model(x, [ops.relu(y), ops.mean(y, axis=-1, keepdims=True)], name="shared_depth")


def nested_twice(K):
    """A Functional model called twice: its second call's output is a model output."""
    L = K.layers
    x = K.Input((3,), name="x")
    inner = K.Model(x, L.Dense(3, name="id", activation="tanh")(x), name="inner")
    y = K.Input((3,), name="y")
    twice = inner(inner(y))
    return K.Model(y, [L.Dense(1, name="o")(twice), twice], name="twice")


def chain(K):
    """A plain chain written functionally, with its input and output in lists of one."""
    L = K.layers
    x = K.Input((4,), name="x")
    h = L.Dense(8, activation="relu", name="h")(x)
    return K.Model([x], [L.Dense(2, activation="softmax", name="out")(h)], name="chain")


def graph_in_sequential(K):
    """A Functional model as a layer of a Sequential."""
    L = K.layers
    x = K.Input((4,), name="gx")
    graph = K.Model(x, L.Dense(3, name="g_d", activation="sigmoid")(x), name="graph")
    return K.Sequential([K.Input((4,)), graph, L.Dense(2, name="after")], name="outer_seq")


def subclassed_classes(K):
    """A registered Model subclass (layers in attributes and in a list) and an unregistered one
    (loaded with ``custom_objects``), defined the same way for either library."""
    @K.saving.register_keras_serializable(package="lamina_tests")
    class Mlp(K.Model):
        def __init__(self, units=8, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = K.layers.Dense(units, activation="relu")
            self.out = K.layers.Dense(2)
            self.blocks = [K.layers.Dense(3, activation="tanh"), K.layers.Dense(units)]
            self._gate = K.layers.Dense(units, activation="sigmoid")  # private: Keras walks it last
            self.mixer = K.layers.Dense(units)  # after "layers" in the walk: saved under layers/
            self.extras = {"second": K.layers.Dense(units), "first": K.layers.Dense(units)}

        def call(self, x):
            h = self.hidden(x) * self._gate(x) + self.blocks[1](self.blocks[0](x))
            h = self.mixer(h) + self.extras["first"](x) - self.extras["second"](x)
            return self.out(h)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class Plain(K.Model):
        def __init__(self, width=4, **kwargs):
            super().__init__(**kwargs)
            self.width = width
            self.inner = K.layers.Dense(width, activation="tanh")
            self.head = K.layers.Dense(2)

        def call(self, x):
            return self.head(self.inner(x))

        def get_config(self):
            return {**super().get_config(), "width": self.width}
    @K.saving.register_keras_serializable(package="lamina_tests")
    class Wide(K.Model):
        """A subclass whose __init__ builds a graph: ``super().__init__(inputs, outputs)``."""
        def __init__(self, units=4, **kwargs):
            x = K.Input((3,), name="x")
            h = K.layers.Dense(units, activation="relu", name="h")(x)
            super().__init__(x, K.layers.Dense(2, name="o")(K.ops.concatenate([h, x], axis=1)), **kwargs)
            self.units = units

        def get_config(self):
            return {"units": self.units, "name": self.name}
    return Mlp, Plain, Wide


def merge_layers(K):
    """Keras's merging layers: a residual Add, Concatenate, Average, Subtract, Multiply, Dot."""
    L = K.layers
    x, y = K.Input((4,), name="x"), K.Input((4,), name="y")
    hx, hy = L.Dense(4, activation="tanh", name="hx")(x), L.Dense(4, name="hy")(y)
    residual = L.Add(name="residual")([hx, x])
    joined = L.concatenate([residual, L.Average(name="avg")([hx, hy])], name="joined")
    product = L.Multiply(name="mul")([L.Subtract(name="sub")([hx, hy]), hy])
    cosine = L.Dot(axes=1, normalize=True, name="cos")([hx, hy])
    return K.Model([x, y], [L.Dense(2, name="head")(joined), product, cosine], name="merge_layers")


ARCHITECTURES = {f.__name__: f for f in (multi_io, wide_deep, shared_depth, nested_twice, chain,
                                          graph_in_sequential, merge_layers)}
FUNCTIONAL = [name for name in ARCHITECTURES if name != "graph_in_sequential"]


def make_data(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    shapes = {"a": 5, "b": 6, "wide": 5, "deep": 6, "x4": 4, "x3": 3}
    data = {key: rng.normal(size=(16, n)).astype("float32") for key, n in shapes.items()}
    data["y_main"] = rng.normal(size=(16, 1)).astype("float32")
    data["y_aux"] = rng.normal(size=(16, 1)).astype("float32")
    data["y2"] = rng.normal(size=(16, 2)).astype("float32")
    return data


def inputs(name: str, data: dict):
    if name == "multi_io":
        return {"a": data["a"], "b": data["b"]}
    if name == "wide_deep":
        return [data["wide"], data["deep"]]
    if name == "nested_twice":
        return data["x3"]
    if name == "chain":
        return [data["x4"]]
    if name == "merge_layers":
        return [data["x4"], data["a"][:, :4]]
    return data["x4"]


def flat_predictions(predictions) -> list:
    """The arrays of a prediction: a dict's by sorted key, a list's in order."""
    if isinstance(predictions, dict):
        return [a for key in sorted(predictions) for a in flat_predictions(predictions[key])]
    if isinstance(predictions, (list, tuple)):
        return [a for item in predictions for a in flat_predictions(item)]
    return [np.asarray(predictions, dtype="float64")]


def as_lists(predictions) -> list:
    """A prediction's arrays as JSON-able nested lists."""
    return [a.tolist() for a in flat_predictions(predictions)]
