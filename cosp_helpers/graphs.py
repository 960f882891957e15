"""Compositional DAGs (Definition 1 of CBMM Memo 138) on networkx: build, validate, depth, evaluate, draw.

A *compositional graph* is a ``networkx.DiGraph``. An edge ``u -> v`` says that the constituent
function at ``v`` reads the value at ``u``. The sources are the inputs ``x_1 .. x_n`` (their column
order is kept in ``graph.graph["inputs"]``); every other node is a constituent function; the single
sink is the output. The inputs of a node are ordered by the edge attribute ``"slot"`` (0, 1, ...),
which is the order in which its edges were given; a node's function receives its inputs in that order.

References
----------
CBMM Memo 138 (Poggio 2023), section 2 (Definition 1), section 6.3.1 (a definition of compositional
sparsity must bound the number of nodes), section 6.5 (the DAG notation of Theorem 7).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import matplotlib.pyplot as plt  # noqa: F401  (the doctests close their figures)
import networkx as nx
import numpy as np
from matplotlib.axes import Axes

from ._checks import as_generator, check_int, check_power_of_two
from .plotting import get_ax

__all__ = [
    "compositional_graph",
    "validate_graph",
    "graph_inputs",
    "graph_output",
    "node_inputs",
    "node_levels",
    "graph_depth",
    "constituent_dimensions",
    "evaluate_graph",
    "draw_graph",
    "binary_tree_graph",
    "local_hierarchy_graph",
    "random_dag_graph",
]


def compositional_graph(
    edges: Iterable[tuple[Hashable, Hashable]] | Mapping[Hashable, Iterable[Hashable]],
    inputs: Iterable[Hashable] | None = None,
    max_in_degree: int | None = None,
) -> nx.DiGraph:
    """Build and validate a compositional graph from its edges.

    Parameters
    ----------
    edges : iterable of (u, v) pairs, or mapping of node to its inputs
        ``(u, v)`` means "``v`` reads ``u``". The inputs of ``v`` are ordered as its edges appear.
        A mapping ``{v: [u1, u2, ...]}`` gives each node's inputs in order.
    inputs : iterable, optional
        The sources in the column order of the data; by default, in order of first appearance.
    max_in_degree : int, optional
        The bound ``d0`` of Definition 1 on every constituent's number of inputs.

    Returns
    -------
    networkx.DiGraph
        With ``graph.graph["inputs"]`` (a tuple) and ``graph.graph["output"]``, and a ``"slot"``
        on every edge.

    Raises
    ------
    ValueError
        If the graph is not a valid compositional graph (see :func:`validate_graph`).

    References
    ----------
    CBMM Memo 138, section 2, Definition 1.

    Examples
    --------
    >>> g = compositional_graph([("x1", "h"), ("x2", "h"), ("h", "y"), ("x3", "y")])
    >>> graph_inputs(g), graph_output(g), node_inputs(g, "y")
    (('x1', 'x2', 'x3'), 'y', ('h', 'x3'))
    >>> compositional_graph({"y": ["a", "b", "c"]}, max_in_degree=2)
    Traceback (most recent call last):
    ...
    ValueError: node 'y' has 3 inputs, more than max_in_degree=2
    """
    if isinstance(edges, Mapping):
        pairs = [(u, v) for v, us in edges.items() for u in us]
    elif isinstance(edges, (str, bytes)) or not isinstance(edges, Iterable):
        raise TypeError(f"edges must be an iterable of (u, v) pairs or a mapping, got {type(edges).__name__}")
    else:
        pairs = []
        for edge in edges:
            if not isinstance(edge, (tuple, list)) or len(edge) != 2:
                raise ValueError(f"edges must hold (u, v) pairs, got {edge!r}")
            pairs.append((edge[0], edge[1]))
    if not pairs:
        raise ValueError("edges must hold at least one (u, v) pair, got none")
    g = nx.DiGraph()
    for u, v in pairs:
        if g.has_edge(u, v):
            raise ValueError(f"edge {(u, v)!r} appears twice; a node reads each input once")
        g.add_edge(u, v, slot=g.in_degree(v) if v in g else 0)
    sources = [node for node in g if g.in_degree(node) == 0]
    if inputs is None:
        order = list(dict.fromkeys(u for u, _ in pairs if g.in_degree(u) == 0))
    else:
        order = list(inputs)
        if len(set(order)) != len(order) or set(order) != set(sources):
            raise ValueError(f"inputs must list each source exactly once; the sources are {sources!r}, got {order!r}")
    g.graph["inputs"] = tuple(order)
    validate_graph(g, max_in_degree=max_in_degree)
    g.graph["output"] = graph_output(g)
    return g


def validate_graph(graph: nx.DiGraph, max_in_degree: int | None = None) -> None:
    """Check that ``graph`` is a compositional graph; raise a ValueError saying what is wrong.

    The rules: a ``networkx.DiGraph`` (not a multigraph); acyclic; exactly one sink (the output),
    which is not an input; if ``graph.graph["inputs"]`` is set, it lists exactly the sources; every
    node's in-degree is at most ``max_in_degree``; the ``"slot"`` attributes of a node's in-edges,
    if given, are ``0 .. k-1``.

    Parameters
    ----------
    graph : networkx.DiGraph
    max_in_degree : int, optional
        The bound ``d0`` on the constituents' numbers of inputs (``>= 1``).

    References
    ----------
    CBMM Memo 138, section 2, Definition 1.

    Examples
    --------
    >>> validate_graph(binary_tree_graph(4), max_in_degree=2)  # valid: returns None
    >>> g = nx.DiGraph([("x1", "a"), ("x2", "a"), ("x2", "b")])
    >>> validate_graph(g)
    Traceback (most recent call last):
    ...
    ValueError: graph must have exactly one sink (the output), got 2: ['a', 'b']
    """
    if not isinstance(graph, nx.DiGraph) or isinstance(graph, nx.MultiDiGraph):
        raise TypeError(f"graph must be a networkx.DiGraph, got {type(graph).__name__}")
    if max_in_degree is not None:
        max_in_degree = check_int("max_in_degree", max_in_degree, minimum=1)
    if graph.number_of_nodes() < 2:
        count = graph.number_of_nodes()
        raise ValueError(f"graph must have at least one input and one constituent node, got {count} node(s)")
    if not nx.is_directed_acyclic_graph(graph):
        cycle = [u for u, _ in nx.find_cycle(graph)]
        raise ValueError(f"graph must be acyclic, found the cycle {cycle!r}")
    sinks = [node for node in graph if graph.out_degree(node) == 0]
    if len(sinks) != 1:
        raise ValueError(f"graph must have exactly one sink (the output), got {len(sinks)}: {sinks!r}")
    sources = [node for node in graph if graph.in_degree(node) == 0]
    if sinks[0] in sources:
        raise ValueError(f"the output {sinks[0]!r} must be a constituent node, not an isolated input")
    declared = graph.graph.get("inputs")
    if declared is not None and (len(set(declared)) != len(declared) or set(declared) != set(sources)):
        raise ValueError(f"graph.graph['inputs'] must list exactly the sources {sources!r}, got {list(declared)!r}")
    for node in graph:
        k = graph.in_degree(node)
        if max_in_degree is not None and k > max_in_degree:
            raise ValueError(f"node {node!r} has {k} inputs, more than max_in_degree={max_in_degree}")
        if k:
            node_inputs(graph, node)  # checks the slots


def graph_inputs(graph: nx.DiGraph) -> tuple[Hashable, ...]:
    """The inputs (sources) in the column order of the data.

    This is ``graph.graph["inputs"]`` when set, else the sources in node order.

    References
    ----------
    CBMM Memo 138, section 6.5 (``n`` is the number of source nodes).

    Examples
    --------
    >>> graph_inputs(binary_tree_graph(4))
    ('x1', 'x2', 'x3', 'x4')
    """
    declared = graph.graph.get("inputs")
    if declared is not None:
        return tuple(declared)
    return tuple(node for node in graph if graph.in_degree(node) == 0)


def graph_output(graph: nx.DiGraph) -> Hashable:
    """The output node: the single sink.

    References
    ----------
    CBMM Memo 138, section 2, Definition 1.

    Examples
    --------
    >>> graph_output(binary_tree_graph(8))
    'h3.1'
    """
    sinks = [node for node in graph if graph.out_degree(node) == 0]
    if len(sinks) != 1:
        raise ValueError(f"graph must have exactly one sink (the output), got {len(sinks)}: {sinks!r}")
    return sinks[0]


def node_inputs(graph: nx.DiGraph, node: Hashable) -> tuple[Hashable, ...]:
    """The inputs of ``node``, in the order its function receives them (by edge ``"slot"``).

    Edges without a ``"slot"`` attribute (a graph built by hand with networkx) keep their insertion order.

    References
    ----------
    CBMM Memo 138, section 6.5 (``d_v`` in-edges of node ``v``).

    Examples
    --------
    >>> node_inputs(local_hierarchy_graph(5, width=3, stride=2), "h1.2")
    ('x3', 'x4', 'x5')
    """
    if node not in graph:
        raise ValueError(f"node {node!r} is not in the graph")
    preds = list(graph.predecessors(node))
    slots = [graph.edges[u, node].get("slot") for u in preds]
    if all(s is None for s in slots):
        return tuple(preds)
    if any(s is None for s in slots) or sorted(slots) != list(range(len(preds))):
        raise ValueError(f"the in-edges of node {node!r} must carry slots 0..{len(preds) - 1}, got {slots!r}")
    return tuple(u for _, u in sorted(zip(slots, preds), key=lambda pair: pair[0]))


def node_levels(graph: nx.DiGraph) -> dict[Hashable, int]:
    """Level of every node: the length of the longest path to it from an input (inputs are at level 0).

    References
    ----------
    CBMM Memo 138, section 6.3.1 (the depth of a binary tree grows like ``log d``).

    Examples
    --------
    >>> node_levels(binary_tree_graph(4))
    {'x1': 0, 'x2': 0, 'x3': 0, 'x4': 0, 'h1.1': 1, 'h1.2': 1, 'h2.1': 2}
    """
    # a node's topological generation is one more than the latest generation among its predecessors: its longest path from an input
    return {node: level for level, generation in enumerate(nx.topological_generations(graph)) for node in generation}


def graph_depth(graph: nx.DiGraph) -> int:
    """Depth: the number of edges on the longest path from an input to the output.

    References
    ----------
    CBMM Memo 138, section 6.3.1.

    Examples
    --------
    >>> graph_depth(binary_tree_graph(16))
    4
    """
    return int(nx.dag_longest_path_length(graph))


def constituent_dimensions(graph: nx.DiGraph) -> dict[Hashable, int]:
    """The number of inputs ``d_v`` of every constituent (non-input) node, in topological order.

    References
    ----------
    CBMM Memo 138, section 6.5, Theorem 7 (``d_v``: the in-edges of ``v``).

    Examples
    --------
    >>> constituent_dimensions(local_hierarchy_graph(5, width=3, stride=2))
    {'h1.1': 3, 'h1.2': 3, 'h2.1': 2}
    """
    return {node: graph.in_degree(node) for node in nx.topological_sort(graph) if graph.in_degree(node) > 0}


def _check_batch(x: object, n: int) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array of shape (B, {n}), got {type(x).__name__}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"x must have a real or bool dtype, got {x.dtype}")
    if x.ndim != 2 or x.shape[1] != n or x.shape[0] < 1:
        raise ValueError(f"x must have shape (B, {n}) with B >= 1 (one column per input), got shape {x.shape}")
    if x.dtype != bool and not np.all(np.isfinite(x)):
        raise ValueError("x must be finite, got NaN or inf")
    return x


def evaluate_graph(
    graph: nx.DiGraph,
    functions: Callable[..., Any] | Mapping[Hashable, Callable[..., Any]],
    x: np.ndarray,
    return_all: bool = False,
) -> np.ndarray | dict[Hashable, np.ndarray]:
    """Evaluate a compositional function on a batch, node by node in topological order.

    Parameters
    ----------
    graph : networkx.DiGraph
        A valid compositional graph.
    functions : callable, or mapping of node to callable
        One function per constituent node (a single callable is used at every node). Node ``v`` is
        called as ``f_v(*values)``: one array of shape ``(B,)`` per input of ``v``, in the order of
        :func:`node_inputs`; it must return an array of shape ``(B,)``.
    x : numpy.ndarray, shape (B, n)
        Column ``j`` holds the values of the ``j``-th input of :func:`graph_inputs`.
    return_all : bool
        Return the values at every node (a dict) instead of the output only.

    Returns
    -------
    numpy.ndarray of shape (B,), or dict of node to array

    References
    ----------
    CBMM Memo 138, section 2, Definition 1; section 6.5.

    Examples
    --------
    >>> g = binary_tree_graph(4)
    >>> x = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]])
    >>> evaluate_graph(g, lambda a, b: a + b, x)  # a tree of sums is the sum
    array([10.,  2.])
    >>> evaluate_graph(g, {"h1.1": np.maximum, "h1.2": np.maximum, "h2.1": np.multiply}, x)
    array([8., 0.])
    """
    validate_graph(graph)
    inputs = graph_inputs(graph)
    x = _check_batch(x, len(inputs))
    internal = [node for node in nx.topological_sort(graph) if graph.in_degree(node) > 0]
    if callable(functions):
        table = {node: functions for node in internal}
    elif isinstance(functions, Mapping):
        missing = [node for node in internal if node not in functions]
        extra = [key for key in functions if key not in graph or graph.in_degree(key) == 0]
        if missing or extra:
            raise ValueError(
                f"functions must map every constituent node to a callable; missing {missing!r}, unknown {extra!r}"
            )
        table = dict(functions)
        bad = [node for node, f in table.items() if not callable(f)]
        if bad:
            raise TypeError(f"functions must be callables; not callable at nodes {bad!r}")
    else:
        kind = type(functions).__name__
        raise TypeError(f"functions must be a callable or a mapping of node to callable, got {kind}")
    batch = x.shape[0]
    values: dict[Hashable, np.ndarray] = {node: x[:, j] for j, node in enumerate(inputs)}
    for node in internal:
        out = np.asarray(table[node](*(values[u] for u in node_inputs(graph, node))))
        if out.shape != (batch,):
            raise ValueError(f"the function at node {node!r} must return shape ({batch},), got {out.shape}")
        values[node] = out
    return values if return_all else values[graph_output(graph)]


def draw_graph(
    graph: nx.DiGraph,
    ax: Axes | None = None,
    labels: bool | Mapping[Hashable, str] = True,
    node_size: float | None = None,
    font_size: float = 12,
) -> Axes:
    """Draw a compositional graph in layers: inputs at the bottom, the output at the top.

    A node's height is its level (:func:`node_levels`); within a level, nodes are placed near the mean
    position of their inputs, which keeps edges short; edges that skip levels are drawn curved.
    Inputs are blue, constituents orange, the output red. A node attribute ``"label"`` (e.g. a gate
    name) is shown instead of the node's name.

    Parameters
    ----------
    graph : networkx.DiGraph
    ax : matplotlib Axes, optional
    labels : bool or mapping of node to str
        Whether to write labels, or the labels themselves.
    node_size : float, optional
        Marker area; by default it shrinks as the widest level grows.
    font_size : float

    Returns
    -------
    matplotlib.axes.Axes

    References
    ----------
    CBMM Memo 138, section 2 and Figure 1 of Poggio et al. (2017) for the layered picture.

    Examples
    --------
    >>> ax = draw_graph(binary_tree_graph(8))
    >>> len(ax.texts)  # 8 inputs and 7 constituents
    15
    >>> plt.close("all")
    """
    validate_graph(graph)
    ax = get_ax(ax, figsize=(8, 5))
    levels = node_levels(graph)
    depth = max(levels.values())
    layers: list[list[Hashable]] = [[] for _ in range(depth + 1)]
    for node, level in levels.items():
        layers[level].append(node)
    layers[0] = list(graph_inputs(graph))
    width = max(len(layer) for layer in layers)
    pos: dict[Hashable, tuple[float, float]] = {}
    for level, layer in enumerate(layers):
        if level > 0:  # order by the mean x of the inputs (barycentre heuristic)
            layer.sort(key=lambda v: np.mean([pos[u][0] for u in graph.predecessors(v)]))
        xs = np.linspace(0, width - 1, len(layer)) if len(layer) > 1 else [(width - 1) / 2]
        if level > 0 and len(layer) < width:  # keep upper layers compact and centred
            spread = (width - 1) * len(layer) / width
            xs = (width - 1) / 2 + np.linspace(-spread / 2, spread / 2, len(layer)) if len(layer) > 1 else xs
        for node, xpos in zip(layer, xs):
            pos[node] = (float(xpos), float(level))
    output = graph_output(graph)
    inputs = set(layers[0])
    colours = ["#56B4E9" if v in inputs else "#D55E00" if v == output else "#E69F00" for v in graph]
    size = node_size if node_size is not None else float(np.clip(9000 / max(width, 1), 120, 900))
    short = [(u, v) for u, v in graph.edges if levels[v] - levels[u] == 1]
    long = [(u, v) for u, v in graph.edges if levels[v] - levels[u] > 1]  # curved, so they do not pass behind nodes
    style = {"ax": ax, "edge_color": "#777777", "width": 1.2, "arrows": True, "arrowsize": 12, "node_size": size}
    nx.draw_networkx_edges(graph, pos, edgelist=short, **style)
    nx.draw_networkx_edges(graph, pos, edgelist=long, connectionstyle="arc3,rad=0.2", **style)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colours, node_size=size, edgecolors="black", linewidths=0.8)
    if labels is not False:
        names = {v: str(graph.nodes[v].get("label", v)) for v in graph}
        if isinstance(labels, Mapping):
            names.update({v: str(t) for v, t in labels.items() if v in graph})
        for v, (xpos, ypos) in pos.items():
            ax.text(xpos, ypos, names[v], ha="center", va="center", fontsize=font_size, zorder=5)
    ax.set_ylim(-0.6, depth + 0.6)
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_axis_off()
    return ax


def binary_tree_graph(n_inputs: int) -> nx.DiGraph:
    """The binary tree on ``n = 2^L`` inputs: ``n - 1`` constituents of 2 variables, depth ``L``.

    Inputs are ``x1 .. xn``; the ``j``-th node of level ``l`` is ``"h{l}.{j}"`` and reads nodes
    ``2j-1`` and ``2j`` of the level below.

    References
    ----------
    CBMM Memo 138, section 6.3.1; Poggio, Mhaskar, Rosasco, Miranda & Liao (2017), Figure 1.

    Examples
    --------
    >>> g = binary_tree_graph(8)
    >>> graph_depth(g), set(constituent_dimensions(g).values()), g.number_of_nodes()
    (3, {2}, 15)
    >>> binary_tree_graph(6)
    Traceback (most recent call last):
    ...
    ValueError: n_inputs must be a power of 2 (>= 2), got 6
    """
    n = check_power_of_two("n_inputs", n_inputs)
    return local_hierarchy_graph(n, width=2, stride=2)


def local_hierarchy_graph(n_inputs: int, width: int = 3, stride: int = 2) -> nx.DiGraph:
    """A CNN-like hierarchy: each level applies windows of ``width`` consecutive nodes, ``stride`` apart.

    Windows start at ``0, stride, 2 stride, ...``; if the last window does not reach the end of the
    level, one more window is anchored at the end, so that every node is read. Levels shrink until a
    single node is left; a level of at most ``width`` nodes is read by one output node.
    ``width=2, stride=2`` on ``2^L`` inputs is the binary tree; ``stride < width`` gives
    overlapping windows, as in a convolutional network without pooling.

    Parameters
    ----------
    n_inputs : int
        ``n >= 2``.
    width : int
        Window size, the constituents' number of inputs, ``>= 2``.
    stride : int
        ``1 <= stride <= width`` (a larger stride would skip nodes).

    References
    ----------
    CBMM Memo 138, section 4.1 (CNNs reflect a known local graph) and section 6.3.1.

    Examples
    --------
    >>> g = local_hierarchy_graph(9, width=3, stride=2)
    >>> [len([v for v, l in node_levels(g).items() if l == k]) for k in range(graph_depth(g) + 1)]
    [9, 4, 2, 1]
    >>> local_hierarchy_graph(8, width=2, stride=3)
    Traceback (most recent call last):
    ...
    ValueError: stride must be <= 2, got 3
    """
    n = check_int("n_inputs", n_inputs, minimum=2)
    width = check_int("width", width, minimum=2)
    stride = check_int("stride", stride, minimum=1, maximum=width)
    layer = [f"x{i}" for i in range(1, n + 1)]
    edges: list[tuple[str, str]] = []
    level = 0
    while len(layer) > 1:
        level += 1
        m = len(layer)
        if m <= width:
            starts = [0]
            span = m
        else:
            starts = list(range(0, m - width + 1, stride))
            if starts[-1] + width < m:
                starts.append(m - width)
            span = width
        nxt = []
        for j, start in enumerate(starts, 1):
            name = f"h{level}.{j}"
            edges += [(u, name) for u in layer[start : start + span]]
            nxt.append(name)
        layer = nxt
    return compositional_graph(edges, inputs=[f"x{i}" for i in range(1, n + 1)])


def random_dag_graph(n_inputs: int, n_internal: int, max_in_degree: int = 2, seed: Any = 0) -> nx.DiGraph:
    """A random sparse compositional DAG: ``n_internal`` nodes, each reading 2 to ``max_in_degree`` earlier nodes.

    Nodes ``g1 .. gm`` are added in order; each draws its inputs uniformly among the nodes that
    exist (inputs and earlier nodes), so nodes are often read more than once: a DAG, not a tree.
    When needed, unread nodes are swapped in so that every node is read and ``gm`` is the single
    sink. Needs ``m >= (n - 1) / (max_in_degree - 1)``.

    Parameters
    ----------
    n_inputs : int
        ``n >= 2``.
    n_internal : int
        Number of constituent nodes ``m``.
    max_in_degree : int
        ``d0 >= 2``.
    seed : int or numpy.random.Generator

    References
    ----------
    CBMM Memo 138, section 2, Definition 1 (a composition of ``poly(d)`` functions of ``<= d0`` variables).

    Examples
    --------
    >>> g = random_dag_graph(6, 5, max_in_degree=3, seed=1)
    >>> len(graph_inputs(g)), graph_output(g), max(constituent_dimensions(g).values()) <= 3
    (6, 'g5', True)
    >>> random_dag_graph(10, 3, max_in_degree=2)
    Traceback (most recent call last):
    ...
    ValueError: n_internal must be >= 9 to join 10 inputs with nodes of <= 2 inputs, got 3
    """
    n = check_int("n_inputs", n_inputs, minimum=2)
    m = check_int("n_internal", n_internal, minimum=1)
    d0 = check_int("max_in_degree", max_in_degree, minimum=2)
    need = math.ceil((n - 1) / (d0 - 1))
    if m < need:
        raise ValueError(f"n_internal must be >= {need} to join {n} inputs with nodes of <= {d0} inputs, got {m}")
    rng = as_generator(seed)
    inputs = [f"x{i}" for i in range(1, n + 1)]
    dangling = list(inputs)  # nodes that nobody reads yet
    read: list[str] = []  # nodes already read by some node (they may be read again)
    edges: list[tuple[str, str]] = []
    for j in range(1, m + 1):
        name = f"g{j}"
        later = m - j
        # dangling nodes this node must read so that the later nodes can still join everything into one sink
        must = max(0, len(dangling) - later * (d0 - 1)) if later else len(dangling)
        k = min(max(int(rng.integers(2, d0 + 1)), must), len(dangling) + len(read))  # this node's in-degree
        pool = dangling + read
        chosen = [pool[i] for i in rng.choice(len(pool), size=k, replace=False)]  # uniform among existing nodes
        missing = must - sum(u in dangling for u in chosen)
        if missing > 0:  # swap some re-read nodes for unread ones
            spare = [u for u in dangling if u not in chosen]
            extra = [spare[i] for i in rng.choice(len(spare), size=missing, replace=False)]
            reread = [u for u in chosen if u in read]
            chosen = [u for u in chosen if u not in reread[:missing]] + extra
        edges += [(str(u), name) for u in chosen]
        dangling = [u for u in dangling if u not in chosen] + [name]
        read += [u for u in chosen if u not in read]
    assert dangling == [f"g{m}"], dangling  # internal invariant: one sink is left
    return compositional_graph(edges, inputs=inputs, max_in_degree=d0)
