"""A layered (Sugiyama-style) drawing of a directed graph, in plain Python, for ``plot_model``.

Graphviz's ``dot`` is not available to lamina, so this module does the classic steps itself:

1. cycles are broken by reversing the back edges of a depth-first search (a layer shared in a
   loop, such as ``d(d(x))``, makes a cycle of boxes even though the graph of calls has none);
2. longest-path layering: each node one layer below the lowest of its predecessors;
3. an edge spanning several layers gets a dummy node in each layer it crosses, so it is drawn
   around the boxes in between rather than through them;
4. crossing reduction: the nodes of each layer are ordered by the barycenter of their neighbours
   in the layer before (downward sweeps) or after (upward sweeps), then neighbours are swapped
   while that removes crossings (Graphviz's "transpose"), keeping the best order seen;
5. coordinates: each node is pulled towards the mean position of its neighbours, keeping the
   order and the minimum gaps, by an exact least-squares step (pool-adjacent-violators).

Coordinates here are ``(across, along)``: "along" is the direction from layer to layer (down for
``rankdir="TB"``), "across" the direction within a layer; the caller maps them to x and y.

>>> placement = layered_layout([(40, 20), (40, 20), (40, 20)], [(0, 1), (0, 2), (1, 2)], gap_along=10)
>>> placement.layers
[0, 1, 2]
>>> len(placement.routes[1])  # the edge 0 -> 2 runs through layer 1 beside node 1, top to bottom
2
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

__all__ = ["Placement", "layered_layout"]


@dataclass
class Placement:
    """Where ``layered_layout`` put each node and each edge.

    ``centers[i]`` is node ``i``'s ``(across, along)`` center; ``routes[e]`` the waypoints of edge
    ``e`` between its source and its target, in that order (empty for an edge between adjacent
    layers or a self-loop); ``reversed[e]`` says the edge points against the layers (a back edge);
    ``size`` is the ``(across, along)`` extent of the whole drawing, starting at ``(0, 0)``.
    """
    centers: list[tuple[float, float]]
    routes: list[list[tuple[float, float]]]
    reversed: list[bool]
    layers: list[int]
    size: tuple[float, float]


def layered_layout(sizes: list[tuple[float, float]], edges: list[tuple[int, int]], gap_along: float = 30.0,
                   gap_across: float = 20.0, dummy_across: float = 10.0, sweeps: int = 8) -> Placement:
    """Lay out nodes of ``sizes`` (``(across, along)`` extents) joined by ``edges`` (index pairs)."""
    count = len(sizes)
    back = _back_edges(count, edges)
    layer = _longest_path_layers(count, [(v, u) if b else (u, v) for (u, v), b in zip(edges, back) if u != v])
    across_size = [float(s[0]) for s in sizes]
    chains: list[list[int]] = []  # per edge, the nodes it passes: source, dummies, target (in layer order)
    for (u, v), is_back in zip(edges, back):
        low, high = (v, u) if is_back else (u, v)
        chain = [low]
        for step in range(layer[low] + 1, layer[high]):
            layer.append(step)
            across_size.append(float(dummy_across))
            chain.append(len(layer) - 1)
        chains.append(chain + [high] if u != v else [u])
    rows = _order(layer, chains, sweeps)
    along_center, thickness, along_total = _along_coordinates(rows, sizes, gap_along)
    across = _across_coordinates(rows, chains, across_size, gap_across)
    shift = min((across[i] - across_size[i] / 2 for i in range(len(layer))), default=0.0)
    across = [a - shift for a in across]
    width = max((across[i] + across_size[i] / 2 for i in range(len(layer))), default=0.0)
    centers = [(across[i], along_center[layer[i]]) for i in range(count)]
    routes = []
    for chain, is_back in zip(chains, back):
        points = []  # straight through each layer it crosses (beside its boxes), slanted only between layers
        for d in chain[1:-1]:
            middle, half = along_center[layer[d]], thickness[layer[d]] / 2
            points += [(across[d], along) for along in ([middle - half, middle + half] if half > 0 else [middle])]
        routes.append(points[::-1] if is_back else points)
    return Placement(centers, routes, back, layer[:count], (width, along_total))


def _back_edges(count: int, edges: list[tuple[int, int]]) -> list[bool]:
    """Which edges close a cycle in a depth-first search from the nodes in index order (an
    explicit stack: a chain of thousands of layers is deeper than Python's recursion limit)."""
    successors: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for e, (u, v) in enumerate(edges):
        successors[u].append((v, e))
    back = [u == v for u, v in edges]
    state = [0] * count  # 0 unseen, 1 on the stack, 2 done
    for root in range(count):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, 0)]
        while stack:
            node, next_child = stack[-1]
            if next_child == len(successors[node]):
                state[node] = 2
                stack.pop()
                continue
            stack[-1] = (node, next_child + 1)
            child, e = successors[node][next_child]
            if state[child] == 1:
                back[e] = True
            elif state[child] == 0:
                state[child] = 1
                stack.append((child, 0))
    return back


def _longest_path_layers(count: int, edges: list[tuple[int, int]]) -> list[int]:
    """Each node's layer: 0 for a node without predecessors, else one more than its deepest one."""
    successors: list[list[int]] = [[] for _ in range(count)]
    waiting = [0] * count
    for u, v in edges:
        successors[u].append(v)
        waiting[v] += 1
    layer = [0] * count
    ready = [i for i in range(count) if waiting[i] == 0]
    while ready:
        node = ready.pop()
        for child in successors[node]:
            layer[child] = max(layer[child], layer[node] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return layer


def _neighbours(layer: list[int], chains: list[list[int]]) -> tuple[list[list[int]], list[list[int]]]:
    """For each node, its neighbours in the layer above and in the layer below."""
    above: list[list[int]] = [[] for _ in layer]
    below: list[list[int]] = [[] for _ in layer]
    for chain in chains:
        for a, b in pairwise(chain):
            below[a].append(b)
            above[b].append(a)
    return above, below


def _order(layer: list[int], chains: list[list[int]], sweeps: int) -> list[list[int]]:
    """The nodes of each layer, left to right, with few crossings (barycenter sweeps)."""
    rows: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for node, row in enumerate(layer):
        rows[row].append(node)
    above, below = _neighbours(layer, chains)
    _sweep(rows, above, range(1, len(rows)))
    _transpose(rows, above, below)
    best, best_crossings = [list(r) for r in rows], _crossings(rows, below)
    for sweep in range(sweeps):
        if best_crossings == 0:
            break
        reverse = sweep % 4 >= 2  # every other pair of sweeps settles ties the other way round
        if sweep % 2 == 0:
            _sweep(rows, below, range(len(rows) - 2, -1, -1), reverse)
        else:
            _sweep(rows, above, range(1, len(rows)), reverse)
        _transpose(rows, above, below, reverse)
        crossings = _crossings(rows, below)
        if crossings < best_crossings:
            best, best_crossings = [list(r) for r in rows], crossings
    return best


def _sweep(rows: list[list[int]], fixed_side: list[list[int]], row_indices, reverse: bool = False) -> None:
    """Reorder each row in turn by the mean position of its neighbours in the row just fixed
    (equal means keep their order, or swap it if ``reverse``)."""
    position: dict[int, int] = {}
    for row in rows:
        position.update((node, i) for i, node in enumerate(row))
    for r in row_indices:
        current = {node: i for i, node in enumerate(rows[r])}

        def barycenter(node: int, current: dict = current) -> float:
            linked = fixed_side[node]
            return sum(position[n] for n in linked) / len(linked) if linked else current[node]
        rows[r].sort(key=lambda node: (barycenter(node), -current[node] if reverse else current[node]))
        position.update((node, i) for i, node in enumerate(rows[r]))


def _transpose(rows: list[list[int]], above: list[list[int]], below: list[list[int]], reverse: bool = False,
               passes: int = 4) -> None:
    """Swap neighbours in a row while that removes crossings with the rows on both sides (it
    settles the ties barycenters leave, such as two children of one parent); with ``reverse``,
    also swap crossed neighbours when it changes nothing, so the next sweep starts elsewhere."""
    position = {node: i for row in rows for i, node in enumerate(row)}

    def crossed(left: int, right: int) -> int:
        return sum(1 for side in (above, below) for a in side[left] for b in side[right] if position[a] > position[b])
    for _ in range(passes):
        improved = False
        for row in rows:
            if len(row) > 200:  # a very wide layer keeps its barycenter order: this step is quadratic
                continue
            for i in range(len(row) - 1):
                left, right = row[i], row[i + 1]
                now, swapped = crossed(left, right), crossed(right, left)
                if swapped < now or (reverse and now > 0 and swapped == now):
                    row[i], row[i + 1] = right, left
                    position[left], position[right] = i + 1, i
                    improved = True
        if not improved:
            return


def _crossings(rows: list[list[int]], below: list[list[int]]) -> int:
    """How many pairs of edges cross between each row and the next."""
    total = 0
    for upper, lower in pairwise(rows):
        where = {node: i for i, node in enumerate(lower)}
        pairs = sorted((i, where[b]) for i, a in enumerate(upper) for b in below[a])
        for k, (top_a, bottom_a) in enumerate(pairs):
            total += sum(1 for top_b, bottom_b in pairs[k + 1:] if top_b > top_a and bottom_b < bottom_a)
    return total


def _along_coordinates(rows, sizes, gap_along: float) -> tuple[list[float], list[float], float]:
    """Each layer's center line and thickness (its thickest node's), layers ``gap_along`` apart."""
    centers, thicknesses, start = [], [], 0.0
    for row in rows:
        thickness = max((float(sizes[n][1]) for n in row if n < len(sizes)), default=0.0)
        centers.append(start + thickness / 2)
        thicknesses.append(thickness)
        start += thickness + gap_along
    return centers, thicknesses, max(start - gap_along, 0.0)


def _across_coordinates(rows, chains, across_size, gap_across: float) -> list[float]:
    """Centers within each layer: packed, then pulled towards their neighbours over a few sweeps."""
    layer_of = {node: r for r, row in enumerate(rows) for node in row}
    above, below = _neighbours([layer_of[i] for i in range(len(across_size))], chains)
    center = [0.0] * len(across_size)
    for row in rows:
        edge = 0.0
        for node in row:
            center[node] = edge + across_size[node] / 2
            edge += across_size[node] + gap_across
    for sweep in range(6):
        downward = sweep % 2 == 0
        order = rows if downward else rows[::-1]
        for row in order:
            wanted = []
            for node in row:
                linked = (above if downward else below)[node] or (below if downward else above)[node]
                wanted.append(sum(center[n] for n in linked) / len(linked) if linked else center[node])
            for node, value in zip(row, _fit_in_order(wanted, [across_size[n] for n in row], gap_across)):
                center[node] = value
    return center


def _fit_in_order(wanted: list[float], widths: list[float], gap: float) -> list[float]:
    """The centers closest (least squares) to ``wanted`` that keep the order and the gaps.

    With ``offset[i]`` the least distance from center 0 to center ``i``, the problem becomes a
    non-decreasing fit of ``wanted[i] - offset[i]``, which pool-adjacent-violators solves exactly.
    """
    offsets = [0.0]
    for left, right in pairwise(widths):
        offsets.append(offsets[-1] + (left + right) / 2 + gap)
    blocks: list[list[float]] = []  # [mean, count]
    for value, offset in zip(wanted, offsets):
        blocks.append([value - offset, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, n = blocks.pop()
            blocks[-1] = [(blocks[-1][0] * blocks[-1][1] + mean * n) / (blocks[-1][1] + n), blocks[-1][1] + n]
    fitted = [mean for mean, n in blocks for _ in range(int(n))]
    return [y + offset for y, offset in zip(fitted, offsets)]
