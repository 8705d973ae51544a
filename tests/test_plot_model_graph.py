"""plot_model on Functional graphs: the same boxes, labels and edges as Keras's ``model_to_dot``
(run in Keras 3 in one subprocess for the module, through a stand-in for pydot, so no Graphviz is
needed), checked on the geometry of the SVG lamina writes: every edge runs from its source box to
its target box along ``rankdir``, no two boxes overlap, a nested model's frame holds its boxes and
no other."""
import inspect
import re
import xml.etree.ElementTree as ElementTree
from itertools import pairwise

import pytest
from keras_reference import run_keras

import lamina
from lamina.utils import plot_model
from lamina.utils.graph_layout import layered_layout

mpimg = pytest.importorskip("matplotlib.image")

DIRECTIONS = {"TB": (1, +1), "BT": (1, -1), "LR": (0, +1), "RL": (0, -1)}  # (axis, sign) of every edge step
NAMES_AND_SHAPES = dict(show_shapes=True, show_layer_names=True)
EVERYTHING = dict(NAMES_AND_SHAPES, show_dtype=True, show_layer_activations=True, show_trainable=True)
EXPANDED = dict(NAMES_AND_SHAPES, expand_nested=True)


@pytest.fixture(autouse=True)
def _agg_backend(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


# --- the models, written once for both libraries ------------------------------------------------
def wide_and_deep(lib):
    wide, deep = lib.Input(shape=(5,), name="wide"), lib.Input(shape=(6,), name="deep")
    hidden = lib.layers.Dense(30, activation="relu", name="hidden1")(deep)
    hidden = lib.layers.Dense(30, activation="relu", name="hidden2")(hidden)
    merged = lib.ops.concatenate([wide, hidden], axis=-1)
    main = lib.layers.Dense(1, name="main")(merged)
    aux = lib.layers.Dense(1, name="aux")(hidden)
    return lib.Model([wide, deep], [main, aux], name="wide_deep")


def residual(lib):
    x = lib.Input(shape=(8,), name="x")
    h = lib.layers.Dense(8, activation="relu", name="inner1")(x)
    h = lib.layers.Dense(8, name="inner2")(h)
    h = lib.ops.add(h, x)  # the skip connection spans three layers
    return lib.Model(x, lib.layers.Dense(2, name="out")(h), name="resnet")


def shared(lib):
    left, right = lib.Input(shape=(4,), name="left"), lib.Input(shape=(4,), name="right")
    encoder = lib.layers.Dense(3, activation="tanh", name="encoder")
    distance = lib.ops.subtract(encoder(left), encoder(right))  # one box, an edge from each input
    return lib.Model([left, right], lib.layers.Dense(1, name="score")(distance), name="siamese")


def nested(lib):
    inner_in = lib.Input(shape=(6,), name="inner_in")
    inner = lib.layers.Dense(4, activation="relu", name="inner_a")(inner_in)
    block = lib.Model(inner_in, lib.layers.Dense(4, name="inner_b")(inner), name="block")
    tail = lib.Sequential([lib.layers.Dense(3, name="tail_a"), lib.layers.Dense(2, name="tail_b")], name="tail")
    x = lib.Input(shape=(6,), name="features")
    side = lib.layers.Dense(4, name="side")(x)
    joined = lib.ops.add(block(x), side)
    return lib.Model(x, tail(lib.layers.Dense(5, name="head")(joined)), name="outer")


def merge_layers(lib):
    a, b = lib.Input(shape=(4,), name="a"), lib.Input(shape=(4,), name="b")
    total = lib.layers.Add(name="sum")([lib.layers.Dense(4, name="from_a")(a), lib.layers.Dense(4, name="from_b")(b)])
    joined = lib.layers.Concatenate(name="joined")([total, a])
    return lib.Model([a, b], lib.layers.Dense(1, name="out")(joined), name="merged")


def twice(lib):
    x = lib.Input(shape=(3,), name="x")
    square = lib.layers.Dense(3, name="square")
    y = square(square(x))
    return lib.Model(x, lib.ops.multiply(y, y))  # two inputs from one layer: one edge


def subclassed(lib):
    class Mlp(lib.Model):
        def __init__(self):
            super().__init__(name="mlp")
            self.hidden, self.out = lib.layers.Dense(4, name="hidden"), lib.layers.Dense(1, name="last")

        def call(self, x):
            return self.out(self.hidden(x))
    model = Mlp()
    model(lib.ops.ones((2, 3)))
    return model


GRAPHS = [wide_and_deep, residual, shared, nested, merge_layers]
KERAS_CASES = {**{(f.__name__, "everything"): (f.__name__, EVERYTHING) for f in GRAPHS},
               ("nested", "expanded"): ("nested", EXPANDED), ("nested", "folded"): ("nested", NAMES_AND_SHAPES),
               ("twice", "names"): ("twice", dict(show_layer_names=True)),
               ("subclassed", "names"): ("subclassed", NAMES_AND_SHAPES)}


def built(builder):
    lamina.backend.clear_session()  # the same automatic names as on Keras's side
    return builder(lamina)


# --- what Keras draws: model_to_dot with a recording stand-in for pydot --------------------------
class _Dot:
    def __init__(self, *args, **kwargs):
        self.name, self.nodes, self.edges, self.subgraphs = kwargs.get("graph_name"), [], [], []

    def set(self, *args):
        pass

    def set_node_defaults(self, **kwargs):
        pass

    def add_node(self, node):
        self.nodes.append(node)

    def add_subgraph(self, subgraph):
        self.subgraphs.append(subgraph)

    def get_edge(self, source, target):
        return [edge for edge in self.edges if edge == (source, target)]

    def add_edge(self, edge):
        self.edges.append(edge)


class _Item(tuple):
    def __new__(cls, first, second=None, label=None):
        return tuple.__new__(cls, (first, label if second is None else second))

    def set(self, *args):
        pass


class _Pydot:
    Dot = Cluster = _Dot
    Node = Edge = _Item


def keras_drawing(model, options):
    """Keras's boxes ({name: label lines}), edges ([(source, target)]) and frames ({name: members})."""
    from keras.src.utils import model_visualization

    model_visualization.pydot = _Pydot
    dot = model_visualization.model_to_dot(model, **options)
    names, labels, edges, clusters = {}, {}, [], {}

    def walk(graph):
        members = []
        for node_id, label in graph.nodes:
            lines = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", label)]
            names[node_id] = lines[0].split(" (")[0]
            labels[names[node_id]] = lines
            members.append(names[node_id])
        for subgraph in graph.subgraphs:
            clusters[subgraph.name] = walk(subgraph)
            members += clusters[subgraph.name]
        edges.extend(graph.edges)
        return members
    walk(dot)
    return labels, [(names[a], names[b]) for a, b in edges], clusters


_KERAS_LOOP = """
for key, (builder, options) in inputs["cases"].items():
    keras.backend.clear_session()
    out[key] = keras_drawing(globals()[builder](keras), options)
"""


@pytest.fixture(scope="module")
def keras_drawings():
    """Every case of ``KERAS_CASES`` drawn by Keras, in one Keras process."""
    pieces = [_Dot, _Item, _Pydot, keras_drawing, *GRAPHS, twice, subclassed]
    script = "import re\n" + "\n\n".join(inspect.getsource(piece) for piece in pieces) + _KERAS_LOOP
    return run_keras(script, cases=KERAS_CASES)


# --- what lamina drew: the geometry of its SVG ----------------------------------------------------
def read_svg(text):
    """Boxes {header name: (rect, text lines)}, edges as point lists, frames {title: rect}."""
    root = ElementTree.fromstring(text)
    elements = list(root.iter())
    texts = [(float(e.get("x")), float(e.get("y")), e.text) for e in elements if e.tag.endswith("}text")]
    boxes, edges, clusters = {}, [], {}
    for element in elements:
        kind = element.get("class")
        if kind == "box":
            rect = tuple(float(element.get(k)) for k in ("x", "y", "width", "height"))
            lines = [t for x, y, t in texts if rect[0] <= x <= rect[0] + rect[2] and rect[1] <= y <= rect[1] + rect[3]]
            assert lines[0].split(" (")[0] not in boxes, f"two boxes for {lines[0]}"
            boxes[lines[0].split(" (")[0]] = (rect, lines)
        elif kind == "cluster":
            rect = tuple(float(element.get(k)) for k in ("x", "y", "width", "height"))
            title = next(t for x, y, t in texts if rect[0] < x < rect[0] + rect[2] and rect[1] < y < rect[1] + 20)
            clusters[title] = rect
        elif kind == "edge":
            if element.tag.endswith("}line"):
                edges.append([(float(element.get("x1")), float(element.get("y1"))),
                              (float(element.get("x2")), float(element.get("y2")))])
            elif element.tag.endswith("}polyline"):
                edges.append([tuple(map(float, p.split(","))) for p in element.get("points").split()])
            else:
                numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", element.get("d"))]
                edges.append(list(zip(numbers[::2], numbers[1::2])))
    return boxes, edges, clusters


def on_border(point, rect, tolerance=0.2):
    (px, py), (x, y, w, h) = point, rect
    inside = x - tolerance <= px <= x + w + tolerance and y - tolerance <= py <= y + h + tolerance
    return inside and min(abs(px - x), abs(px - x - w), abs(py - y), abs(py - y - h)) <= tolerance


def passes_through(points, rect, samples=64):
    x, y, w, h = rect
    for (px, py), (qx, qy) in pairwise(points):
        for k in range(samples + 1):
            t = k / samples
            if x + 1 < px + t * (qx - px) < x + w - 1 and y + 1 < py + t * (qy - py) < y + h - 1:
                return True
    return False


def overlap(a, b):
    across = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    along = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return across > 0.1 and along > 0.1


def check_drawing(text, expected_edges, rankdir="TB", expected_clusters=None):
    """The SVG draws exactly ``expected_edges`` (by box name) and is well laid out; returns its boxes."""
    boxes, edges, clusters = read_svg(text)
    width, height = (float(v) for v in ElementTree.fromstring(text).get("viewBox").split()[2:])
    assert all(0 < x < width and 0 < y < height for points in edges for x, y in points)  # all in the picture
    assert all(0 < x and x + w < width and 0 < y and y + h < height for (x, y, w, h), _ in boxes.values())
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not overlap(boxes[a][0], boxes[b][0]), f"boxes {a} and {b} overlap"
    unmatched = list(edges)
    for source, target in expected_edges:
        match = next((e for e in unmatched if on_border(e[0], boxes[source][0]) and on_border(e[-1], boxes[target][0])),
                     None)
        assert match is not None, f"no edge drawn from {source} to {target}"
        unmatched.remove(match)
        axis, sign = DIRECTIONS[rankdir]
        if source != target:  # a self-loop is a curve out of the box and back
            assert all(sign * (q[axis] - p[axis]) > 0 for p, q in pairwise(match)), (source, target, match)
            # out of the source's side facing the flow, into the target's side facing back
            (source_rect, _), (target_rect, _) = boxes[source], boxes[target]
            leaving = source_rect[axis] + (source_rect[axis + 2] if sign > 0 else 0.0)
            entering = target_rect[axis] + (0.0 if sign > 0 else target_rect[axis + 2])
            assert abs(match[0][axis] - leaving) < 0.2 and abs(match[-1][axis] - entering) < 0.2, (source, target)
    assert unmatched == [], f"edges drawn that the model does not have: {unmatched}"
    assert not any(crossing(a, b) for i, a in enumerate(edges) for b in edges[i + 1:])  # these graphs are planar
    for points in edges:  # around the boxes in between, never through them
        for name, (rect, _) in boxes.items():
            if not (on_border(points[0], rect) or on_border(points[-1], rect)):
                assert not passes_through(points, rect), f"an edge passes through box {name}"
    assert set(clusters) == set(expected_clusters or {})
    for title, members in (expected_clusters or {}).items():
        for name, (rect, _) in boxes.items():
            x, y, w, h = rect
            cx, cy, cw, ch = clusters[title]
            inside = cx < x and cy < y and x + w < cx + cw and y + h < cy + ch
            assert inside == (name in members), f"box {name} {'outside' if name in members else 'inside'} frame {title}"
    return boxes


def lamina_svg(builder, tmp_path, **options):
    path = tmp_path / "model.svg"
    plot_model(built(builder), to_file=str(path), **options)
    return path.read_text()


# --- the tests ---------------------------------------------------------------------------------
@pytest.mark.parametrize("builder", GRAPHS)
@pytest.mark.parametrize("rankdir", ["TB", "LR", "BT", "RL"])
def test_same_boxes_labels_and_edges_as_keras(builder, rankdir, tmp_path, keras_drawings):
    labels, edges, _ = keras_drawings[builder.__name__, "everything"]
    boxes = check_drawing(lamina_svg(builder, tmp_path, rankdir=rankdir, **EVERYTHING), edges, rankdir)
    assert {name: lines for name, (_, lines) in boxes.items()} == labels


@pytest.mark.parametrize("rankdir", ["TB", "LR", "BT"])
def test_nested_models_expanded_as_frames(rankdir, tmp_path, keras_drawings):
    labels, edges, clusters = keras_drawings["nested", "expanded"]
    assert clusters == {"block": ["inner_in", "inner_a", "inner_b"], "tail": ["tail_a", "tail_b"]}
    assert ("features", "inner_in") in edges and ("inner_b", "add") in edges and ("head", "tail_a") in edges
    boxes = check_drawing(lamina_svg(nested, tmp_path, rankdir=rankdir, **EXPANDED), edges, rankdir, clusters)
    assert {name: lines for name, (_, lines) in boxes.items()} == labels


def test_nested_models_folded_are_one_box_each(tmp_path, keras_drawings):
    labels, edges, clusters = keras_drawings["nested", "folded"]
    assert clusters == {} and labels["block"][0] == "block (Functional)" and labels["tail"][0] == "tail (Sequential)"
    boxes = check_drawing(lamina_svg(nested, tmp_path, **NAMES_AND_SHAPES), edges)
    assert boxes["block"][1] == ["block (Functional)", "Input shape: (None, 6)", "Output shape: (None, 4)"]


def test_branches_side_by_side_and_merges_below(tmp_path):
    boxes, edges, _ = read_svg(lamina_svg(wide_and_deep, tmp_path, show_layer_names=True))
    (wx, wy, ww, wh), (dx, dy, dw, _) = boxes["wide"][0], boxes["deep"][0]
    assert wy == dy and (wx + ww < dx or dx + dw < wx)  # both inputs on the first row, apart
    concat, hidden2 = boxes["concatenate"][0], boxes["hidden2"][0]
    assert concat[1] > hidden2[1] + hidden2[3] and concat[1] > wy + wh
    assert boxes["main"][0][1] > concat[1] + concat[3] and boxes["aux"][0][1] > hidden2[1] + hidden2[3]


def crossing(first, second):
    """Whether two polylines cross anywhere but at a shared end."""
    def ccw(a, b, c):
        return (c[1] - a[1]) * (b[0] - a[0]) - (b[1] - a[1]) * (c[0] - a[0])
    for p, q in pairwise(first):
        for r, s in pairwise(second):
            if ccw(p, q, r) * ccw(p, q, s) < -1e-6 and ccw(r, s, p) * ccw(r, s, q) < -1e-6:
                return True
    return False


def test_the_skip_connection_goes_around_the_block(tmp_path):
    boxes, edges, _ = read_svg(lamina_svg(residual, tmp_path, show_layer_names=True))
    skip = next(e for e in edges if on_border(e[0], boxes["x"][0]) and on_border(e[-1], boxes["add"][0]))
    assert len(skip) == 6  # straight down beside inner1, then beside inner2
    for name, (top, bottom) in zip(("inner1", "inner2"), (skip[1:3], skip[3:5])):
        x, y, w, h = boxes[name][0]
        assert top[0] == bottom[0] and (top[0] > x + w or top[0] < x) and top[1] <= y and bottom[1] >= y + h


def test_a_layer_called_on_its_own_output(tmp_path, keras_drawings):
    _, edges, _ = keras_drawings["twice", "names"]
    assert sorted(edges) == [("square", "multiply"), ("square", "square"), ("x", "square")]
    check_drawing(lamina_svg(twice, tmp_path, show_layer_names=True), edges)


def test_subclassed_model_is_one_box_as_in_keras(tmp_path, keras_drawings):
    labels, edges, _ = keras_drawings["subclassed", "names"]
    boxes = check_drawing(lamina_svg(subclassed, tmp_path, **NAMES_AND_SHAPES), edges)
    assert {name: lines for name, (_, lines) in boxes.items()} == labels == {
        "mlp": ["mlp (Mlp)", "Input shape: ?", "Output shape: ?"]}


@pytest.mark.parametrize("dpi", [50, 96])
def test_png_has_the_size_of_the_svg_at_dpi(dpi, tmp_path):
    for expand in (False, True):
        svg = plot_model(built(nested), to_file=None, format="svg", expand_nested=expand,
                         show_shapes=True).data.decode()
        width, height = (float(v) for v in ElementTree.fromstring(svg).get("viewBox").split()[2:])
        picture = plot_model(built(nested), to_file=str(tmp_path / "m.png"), expand_nested=expand,
                             show_shapes=True, dpi=dpi)
        image = mpimg.imread(picture.filename)
        assert abs(image.shape[0] - height * dpi / 72) <= 1 and abs(image.shape[1] - width * dpi / 72) <= 1
        assert image[..., :3].min() < 0.2 and image[..., :3].max() > 0.9  # ink on a white page
    for suffix, magic in ((".jpg", b"\xff\xd8\xff"), (".pdf", b"%PDF")):
        path = tmp_path / f"m{suffix}"
        plot_model(built(wide_and_deep), to_file=str(path), expand_nested=True, dpi=dpi)
        assert path.read_bytes().startswith(magic)


def test_layout_of_a_diamond_and_a_cycle():
    placement = layered_layout([(40, 20)] * 4, [(0, 1), (0, 2), (1, 3), (2, 3)], gap_along=10, gap_across=20)
    assert placement.layers == [0, 1, 1, 2] and placement.reversed == [False] * 4
    (a, _), (b, _), (c, _), (d, _) = placement.centers
    assert abs(b - c) == 60 and a == d == (b + c) / 2  # the branches side by side, the ends centred on them
    looped = layered_layout([(40, 20)] * 3, [(0, 1), (1, 2), (2, 1)])
    assert looped.reversed == [False, False, True] and looped.layers == [0, 1, 2]


def test_crossing_reduction_untangles_what_the_first_order_crosses():
    # the first downward ordering of the first graph has a crossing, which the sweeps remove; the
    # barycenters of the second keep one, which swapping neighbours (transpose) removes
    for count, edges in [(6, [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 4)]),
                         (8, [(0, 1), (0, 2), (0, 6), (0, 7), (1, 2), (1, 4), (1, 5), (1, 6), (2, 3), (3, 5), (4, 5),
                              (6, 7)])]:
        placement = layered_layout([(40, 20)] * count, edges)
        lines = [[placement.centers[u], *route, placement.centers[v]] for (u, v), route in zip(edges, placement.routes)]
        assert not any(crossing(a, b) for i, a in enumerate(lines) for b in lines[i + 1:]), edges
