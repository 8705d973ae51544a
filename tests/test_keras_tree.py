"""``keras.tree`` against Keras 3: flatten, map_structure, pack_sequence_as, is_nested,
assert_same_structure, traverse, map_structure_up_to and lists_to_tuples on lists, tuples,
dicts (sorted by key; OrderedDict in its order), namedtuples, deques and None, the order of a
rebuilt dict's keys, and the structures each refuses (as ValueError or TypeError)."""
import collections

import numpy as np
import pytest

import lamina

# the scenario's own helpers, run on both sides: what a call gives (types and key orders made
# visible), or the name of the error it raised
HELPERS = """
import collections
P = collections.namedtuple("P", "b a")
Q = collections.namedtuple("Q", "x y")
od = collections.OrderedDict([("z", 1), ("a", 2)])
dd = collections.defaultdict(int, {"z": 1, "a": 2})

def show(value):
    if isinstance(value, dict):
        return [type(value).__name__, [[str(k), show(v)] for k, v in value.items()]]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return [type(value).__name__, [show(v) for v in value]]
    if isinstance(value, (list, tuple, collections.deque)):
        return [type(value).__name__, [show(v) for v in value]]
    return value if value is None or isinstance(value, (int, float, str)) else repr(value)

def attempt(call):
    try:
        return show(call())
    except (ValueError, TypeError) as error:
        return "raised " + type(error).__name__
"""

CASES = {
    "flatten": """[show(T.flatten(s)) for s in ({"b": 1, "a": [2, None]}, od, dd, P(1, 2),
                collections.deque([1, [2]]), None, 1, [], {}, [[1, 2, 3], [4, [5], [[6]]]],
                {100: "world!", 6: "Hello"}, P(b={"y": 1, "x": 2}, a=[3]), {1: "x", "a": "y"}, "ab")]""",
    "is_nested": """[T.is_nested(s) for s in (None, "ab", (), [], {}, P(1, 2), collections.deque(), od, 3,
                     np.ones(2), b"x")]""",
    "map_one": """[show(T.map_structure(lambda v: v * 2, s)) for s in ({"b": 1, "a": 2}, od, dd, P(1, 2),
                   [[1], (2, {"q": 3})], 5, collections.deque([1, 2], maxlen=4))]""",
    "map_none": """[show(T.map_structure(lambda v: 1, None)), show(T.map_structure(lambda v: 1, None,
                    none_is_leaf=False)), show(T.map_structure(lambda v: 1, [None, 2], none_is_leaf=False)),
                    show(T.map_structure(lambda a, b: [a, b], [None, 1], [2, None]))]""",
    "map_many": """[show(T.map_structure(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)])),
                    show(T.map_structure(lambda a, b: a * 10 + b, od, {"a": 5, "z": 6})),
                    show(T.map_structure(lambda a, b: a * 10 + b, {"a": 5, "z": 6}, od)),
                    show(T.map_structure(lambda a, b, c: a + b + c, P(1, 2), P(3, 4), P(5, 6)))]""",
    "map_refused": """[attempt(lambda: T.map_structure(lambda a, b: a, [1, 2], (1, 2))),
                       attempt(lambda: T.map_structure(lambda a, b: a, [1, 2], [1, [2]])),
                       attempt(lambda: T.map_structure(lambda a, b: a, [1, [2]], [1, 2])),
                       attempt(lambda: T.map_structure(lambda a, b: a, {"a": 1}, {"b": 1})),
                       attempt(lambda: T.map_structure(lambda a, b: a, [1], [1, 2])),
                       attempt(lambda: T.map_structure(lambda a, b: a, [None, 1], [2, None], none_is_leaf=False)),
                       attempt(lambda: T.map_structure(lambda a, b: a, P(1, 2), Q(1, 2))),
                       attempt(lambda: T.map_structure(lambda: 1))]""",
    "up_to": """[show(T.map_structure_up_to([1, [2, 3]], lambda a, b: [a, b], [[1, 1], [2, 2]], [[3], [4, 5]])),
                 show(T.map_structure_up_to({"a": 0, "b": 0}, len, {"b": [1, 2, 3], "a": (4,)})),
                 show(T.map_structure_up_to(P(0, 0), str, P([1], {"k": 2}))),
                 show(T.map_structure_up_to(0, len, [1, 2])),
                 attempt(lambda: T.map_structure_up_to([1, [2, 3]], str, [[1, 1], 2])),
                 attempt(lambda: T.map_structure_up_to({"a": 1}, str, {"a": [1], "b": 2})),
                 attempt(lambda: T.map_structure_up_to([1, 2], str))]""",
    "assert_same": """[attempt(lambda: T.assert_same_structure(a, b)) for a, b in (
                       ([(0, 1)], [(2, 3)]), ([0, 1], (2, 3)), (P(0, 1), collections.namedtuple("P", "b a")(2, 3)),
                       ({"a": 1, "z": 1}, od), ({"a": 1}, od), ([None], [1]), ([1], [[1]]), (1, "a"),
                       (P(0, 1), P([1], 2)), ({"a": [1, 2]}, {"a": [1]}), (dd, {"a": 0, "z": 0}),
                       (collections.deque([1]), [1]))]""",
    "pack": """[show(T.pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["v1", "v2", "v3"])),
                show(T.pack_sequence_as(od, [8, 9])), show(T.pack_sequence_as(P(0, 0), [3, 4])),
                show(T.pack_sequence_as(None, [5])), show(T.pack_sequence_as(1, [5])),
                show(T.pack_sequence_as([1, (2, {"b": 3, "a": 4})], (10, 20, 30, 40))),
                show(T.pack_sequence_as(collections.deque([1, 2], maxlen=3), [7, 8])),
                show(T.pack_sequence_as(dd, [7, 8])),
                show(T.pack_sequence_as({"key3": {"c": ("alpha", "beta"), "a": ("gamma")},
                                         "key1": {"e": "val1", "d": "val2"}}, ["val2", "val1", 3.0, 1.0, 2.0])),
                show(T.pack_sequence_as([], [])), attempt(lambda: T.pack_sequence_as([1, 2], [1])),
                attempt(lambda: T.pack_sequence_as([1, 2], [1, 2, 3])), attempt(lambda: T.pack_sequence_as([1], 5))]""",
    "traverse": """[show(T.traverse(seen.append, [(1, 2), [3], {"a": 4}], top_down=True)), show(seen),
                    show(T.traverse(late.append, [(1, 2), [3], {"a": 4}], top_down=False)), show(late),
                    show(T.traverse(lambda x: "X" if isinstance(x, tuple) else None, [(1, 2), [3, None]])),
                    show(T.traverse(lambda x: T.MAP_TO_NONE if isinstance(x, tuple) else None, [(1, 2), [3]])),
                    show(T.traverse(lambda x: T.MAP_TO_NONE if x == 3 else None, [(1, 2), [3]], top_down=False)),
                    show(T.traverse(lambda x: x * 2 if isinstance(x, int) else None, {"b": [1], "a": P(2, 3)})),
                    show(T.traverse(lambda x: None, 5)), attempt(lambda: T.traverse(5, [1]))]""",
    "lists_to_tuples": """[show(T.lists_to_tuples(s)) for s in ([1, [2, {"a": [3]}], (4, [5])], P([1], 2), [],
                           {"b": [1, [2]], "a": None}, 7)]""",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_tree_functions_match_keras(keras_oracle, case):
    code = HELPERS + "T = K.tree\nseen, late = [], []\nresult = " + CASES[case]
    ours, _ = keras_oracle.compare(code)
    assert ours  # a non-empty answer, compared item by item above


def test_the_rebuilt_dict_keeps_its_key_order_and_values_by_sorted_key():
    packed = lamina.tree.pack_sequence_as({"key3": 0, "key1": 0, "key2": 0}, ["v1", "v2", "v3"])
    assert list(packed.items()) == [("key3", "v3"), ("key1", "v1"), ("key2", "v2")]
    mapped = lamina.tree.map_structure(str, collections.OrderedDict([("z", 1), ("a", 2)]))
    assert type(mapped) is collections.OrderedDict and list(mapped.items()) == [("z", "1"), ("a", "2")]


def test_map_structure_up_to_takes_none_leaves_as_keras_documents():
    # Keras 3.15's own code refuses a shallow structure of Nones (its documented examples fail there)
    assert lamina.tree.map_structure_up_to([None, None], len, [[1, 1], [2, 2]]) == [2, 2]
    assert lamina.tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == ["[1, 1]", ["2", "2"]]


def test_tensors_arrays_and_a_layers_tracked_lists():
    class Holder(lamina.layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = [lamina.ops.ones((2,)), {"w": np.zeros(3)}]
    parts = Holder().parts
    leaves = lamina.tree.flatten(parts)
    assert len(leaves) == 2 and leaves[0].shape == (2,) and leaves[1].shape == (3,)
    doubled = lamina.tree.map_structure(lambda t: np.asarray(t) * 2, parts)
    assert type(doubled) is list and doubled[0].tolist() == [2.0, 2.0] and type(doubled[1]) is dict


def test_a_train_step_style_use():
    x, y = lamina.ops.ones((4, 3)), {"out": np.arange(4.0)}
    data = (x, y)
    flat = lamina.tree.flatten(data)
    rebuilt = lamina.tree.pack_sequence_as(data, [np.asarray(v) + 1 for v in flat])
    assert rebuilt[1]["out"].tolist() == [1.0, 2.0, 3.0, 4.0] and rebuilt[0].shape == (4, 3)
    lamina.tree.assert_same_structure(data, rebuilt)
    with pytest.raises(ValueError, match="same nested structure"):
        lamina.tree.assert_same_structure(data, [x, y])
