"""Compositional graphs and Boolean circuits: Definition 1 of CBMM Memo 138 as networkx DAGs, circuits of 2-input gates, Walsh–Hadamard spectra.

**Compositional graphs.** A *compositional graph* is a ``networkx.DiGraph``. An edge ``u -> v`` says that
the constituent function at ``v`` reads the value at ``u``. The sources are the inputs ``x_1 .. x_n`` (their
column order is kept in ``graph.graph["inputs"]``); every other node is a constituent function; the single
sink is the output. The inputs of a node are ordered by the edge attribute ``"slot"`` (0, 1, ...), the order
in which its edges were given; a node's function receives its inputs in that order. Build, validate, measure
the depth, evaluate and draw: :func:`compositional_graph`, :func:`validate_graph`, :func:`graph_depth`,
:func:`evaluate_graph`, :func:`draw_graph`, and three families (:func:`binary_tree_graph`,
:func:`local_hierarchy_graph`, :func:`random_dag_graph`).

**Boolean circuits and spectra.** Conventions of O'Donnell (2014, chapter 1): a bit ``b`` in {0, 1} is the
number ``x = (-1)^b = 1 - 2b`` in {-1, 1}, so False is +1 and True is -1. A function of ``n`` bits is stored
as its *truth table*, an array of length ``2^n`` whose entry ``i`` is the value at the input whose bit ``j``
(``j = 0 .. n-1``, least significant first) is bit ``j`` of ``i``; bit ``j`` is the variable ``x_{j+1}``.
A subset ``S`` of ``{1, .., n}`` is the bitmask with bit ``j`` set when ``j + 1`` is in ``S``, and

    f^(S) = 2^{-n} sum_x f(x) chi_S(x),   chi_S(x) = prod_{i in S} x_i,   f = sum_S f^(S) chi_S.

A :class:`Circuit` is a compositional graph whose constituents are 2-input gates.

References
----------
CBMM Memo 138 (Poggio 2023), section 2 (Definition 1), 6.3.1 (a definition of compositional sparsity must
bound the number of nodes), 6.5 (the DAG notation of Theorem 7), 6.7 and 6.7.1 (Boolean functions, Theorems
8-10); R. O'Donnell, *Analysis of Boolean Functions* (2014), chapters 1, 4, 5; C. Shannon (1949), The
synthesis of two-terminal switching circuits; O. Lupanov (1958).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
import math
import numbers
from typing import Any, NamedTuple

from matplotlib.axes import Axes
import matplotlib.pyplot as plt  # noqa: F401 (the doctests close their figures with it)
import networkx as nx
import numpy as np
import scipy.linalg
import torch

from ._checks import as_generator, check_array, check_bool, check_int, check_open_interval, check_power_of_two
from .plotting import get_ax

__all__ = [
    "WiredTreeNet",
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
    "gate_names",
    "gate_function",
    "Circuit",
    "tree_circuit",
    "parity_circuit",
    "ripple_carry_adder",
    "comparator_circuit",
    "boolean_cube",
    "truth_table",
    "walsh_hadamard",
    "character_matrix",
    "subset_sizes",
    "degree_weights",
    "energy_count",
    "fourier_degree",
    "boolean_families",
    "function_table",
    "SpectrumSummary",
    "spectrum_summary",
    "count_log2",
    "shannon_gate_bound",
    "relu_node_weights",
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


# Sizes of the graphs and circuits built here: they are Python objects, node by node.
# A networkx node or edge costs about 13 us to add and validate (and a few hundred bytes): a graph of 2**20 nodes
# and edges takes some 15 s. A hierarchy with stride 1 has about n_inputs**2 / (width - 1) nodes, so the count
# is computed from the arguments before anything is built.
_MAX_GRAPH_SIZE = 2**20
# random_dag_graph scans the lists of unread and read nodes for every new node: its time grows like the square of
# n_inputs + n_internal, and 2**13 nodes take about 5 s.
_MAX_DAG_NODES = 2**13
# A Circuit holds a name per input and a tuple per gate (about 6 us and half a KB each): 2**20 inputs and gates
# take some 6 s.
_MAX_CIRCUIT_NODES = 2**20


def _hierarchy_size(n: int, width: int, stride: int, limit: int) -> int:
    """Nodes plus edges of :func:`local_hierarchy_graph` (counted level by level, stopping once above ``limit``)."""
    total, m = n, n
    while m > 1 and total <= limit:
        if m <= width:
            windows, span = 1, m
        else:
            windows = (m - width) // stride + 1
            if (windows - 1) * stride + width < m:  # the window anchored at the end
                windows += 1
            span = width
        total += windows * (1 + span)  # the level's nodes and the edges into them
        m = windows
    return total


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
        ``n >= 2``; the graph may hold at most ``2**20`` nodes and edges in all (with ``stride = 1`` there
        are about ``n**2 / (width - 1)`` nodes).
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
    n = check_int("n_inputs", n_inputs, minimum=2, maximum=_MAX_GRAPH_SIZE)
    width = check_int("width", width, minimum=2)
    stride = check_int("stride", stride, minimum=1, maximum=width)
    size = _hierarchy_size(n, width, stride, _MAX_GRAPH_SIZE)
    if size > _MAX_GRAPH_SIZE:
        raise ValueError(f"n_inputs = {n} with width = {width} and stride = {stride} makes a graph of more than "
                         f"{_MAX_GRAPH_SIZE} nodes and edges, the most built here: lower n_inputs or raise stride")
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
        Number of constituent nodes ``m``; ``n + m <= 2**13`` (the construction takes time quadratic in ``n + m``).
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
    n = check_int("n_inputs", n_inputs, minimum=2, maximum=_MAX_DAG_NODES)
    m = check_int("n_internal", n_internal, minimum=1, maximum=_MAX_DAG_NODES)
    if n + m > _MAX_DAG_NODES:
        raise ValueError(f"n_inputs + n_internal must be <= {_MAX_DAG_NODES} (the construction takes time quadratic "
                         f"in the number of nodes), got {n} + {m} = {n + m}")
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


# === Boolean circuits and spectra ============================================================================

# Gates on 0/1 arrays of dtype uint8; "andnot" is a AND (NOT b), "ornot" is a OR (NOT b).
_GATES: dict[str, tuple[int, Callable[..., np.ndarray]]] = {
    "and": (2, lambda a, b: a & b),
    "or": (2, lambda a, b: a | b),
    "xor": (2, lambda a, b: a ^ b),
    "nand": (2, lambda a, b: 1 - (a & b)),
    "nor": (2, lambda a, b: 1 - (a | b)),
    "xnor": (2, lambda a, b: 1 - (a ^ b)),
    "andnot": (2, lambda a, b: a & (1 - b)),
    "ornot": (2, lambda a, b: a | (1 - b)),
    "not": (1, lambda a: 1 - a),
}
_MAX_TABLE_BITS = 24  # truth tables of at most 2^24 entries (128 MB as float64)


def gate_names() -> tuple[str, ...]:
    """Names of the gates a :class:`Circuit` accepts (all take two inputs except ``"not"``).

    Examples
    --------
    >>> gate_names()
    ('and', 'or', 'xor', 'nand', 'nor', 'xnor', 'andnot', 'ornot', 'not')
    """
    return tuple(_GATES)


def gate_function(name: str) -> Callable[..., np.ndarray]:
    """The gate ``name`` as a function of 0/1 integer arrays (``"andnot"`` is ``a AND NOT b``).

    References
    ----------
    Shannon (1949): circuits over the basis of all 2-input gates.

    Examples
    --------
    >>> a, b = np.array([0, 0, 1, 1], dtype=np.uint8), np.array([0, 1, 0, 1], dtype=np.uint8)
    >>> gate_function("xor")(a, b), gate_function("ornot")(a, b)
    (array([0, 1, 1, 0], dtype=uint8), array([1, 0, 1, 1], dtype=uint8))
    """
    if name not in _GATES:
        raise ValueError(f"gate must be one of {gate_names()}, got {name!r}")
    return _GATES[name][1]


def _check_table_bits(name: str, n: int) -> int:
    return check_int(name, n, minimum=0, maximum=_MAX_TABLE_BITS)


class Circuit:
    """A Boolean circuit: gates of at most two inputs, each reading inputs or earlier gates.

    Gates are added in order, so the circuit is acyclic by construction. Its size is the number of
    gates; each output is a compositional function whose graph is the output's cone
    (:meth:`to_graph`), with constituents of at most 2 variables.

    Parameters
    ----------
    inputs : int or sequence of str
        The number of inputs (named ``x1 .. xn``), at most ``2**20``, or their names.

    References
    ----------
    CBMM Memo 138, section 6.1 (a computation is a composition of sparse steps) and 6.7.1.

    Examples
    --------
    >>> c = Circuit(["a", "b", "cin"])
    >>> p = c.add("xor", "a", "b"); s = c.add("xor", p, "cin", name="sum")
    >>> c.set_outputs("sum"); c.n_gates
    2
    >>> c.evaluate(np.array([[1, 1, 1], [1, 0, 0]]))
    array([[1],
           [1]], dtype=uint8)
    >>> c.add("and", "a", "z")
    Traceback (most recent call last):
    ...
    ValueError: gate input 'z' is not an input or an earlier gate of the circuit
    """

    def __init__(self, inputs: int | Sequence[str]) -> None:
        if isinstance(inputs, numbers.Integral) and not isinstance(inputs, bool):
            count = check_int("inputs", inputs, minimum=1, maximum=_MAX_CIRCUIT_NODES)
            names = [f"x{i}" for i in range(1, count + 1)]
        elif isinstance(inputs, Sequence) and not isinstance(inputs, str):
            names = list(inputs)
            if not names or not all(isinstance(v, str) and v for v in names) or len(set(names)) != len(names):
                raise ValueError(f"inputs must be distinct non-empty strings, got {names!r}")
        else:
            raise TypeError(f"inputs must be an int or a sequence of names, got {type(inputs).__name__}")
        self._inputs = tuple(names)
        self._gates: list[tuple[str, str, tuple[str, ...]]] = []
        self._known = set(names)
        self._outputs: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names of the inputs, in column order."""
        return self._inputs

    @property
    def gates(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """The gates as ``(name, op, args)``, in the order they were added."""
        return tuple(self._gates)

    @property
    def outputs(self) -> tuple[str, ...]:
        """Names of the output nodes."""
        return self._outputs

    @property
    def n_inputs(self) -> int:
        """The number of inputs."""
        return len(self._inputs)

    @property
    def n_gates(self) -> int:
        """The size of the circuit: its number of gates."""
        return len(self._gates)

    def add(self, op: str, *args: str, name: str | None = None) -> str:
        """Add a gate ``op`` reading ``args`` (inputs or earlier gates); return its name (default ``g1, g2, ..``)."""
        if op not in _GATES:
            raise ValueError(f"op must be one of {gate_names()}, got {op!r}")
        arity = _GATES[op][0]
        if len(args) != arity:
            raise ValueError(f"gate {op!r} takes {arity} input(s), got {len(args)}: {args!r}")
        for arg in args:
            if arg not in self._known:
                raise ValueError(f"gate input {arg!r} is not an input or an earlier gate of the circuit")
        if len(set(args)) != len(args):
            raise ValueError(f"a gate's inputs must differ, got {args!r}")
        if name is None:
            name = f"g{len(self._gates) + 1}"
            while name in self._known:
                name += "'"
        elif not isinstance(name, str) or not name or name in self._known:
            raise ValueError(f"name must be a new non-empty string, got {name!r}")
        self._gates.append((name, op, tuple(args)))
        self._known.add(name)
        return name

    def set_outputs(self, *names: str) -> None:
        """Declare the outputs (inputs or gates), in the column order of :meth:`evaluate`."""
        if not names:
            raise ValueError("set_outputs needs at least one name, got none")
        unknown = [v for v in names if v not in self._known]
        if unknown:
            raise ValueError(f"outputs must be inputs or gates of the circuit, unknown {unknown!r}")
        self._outputs = tuple(names)

    def evaluate(self, bits: np.ndarray) -> np.ndarray:
        """Run the circuit on a batch of 0/1 inputs of shape ``(B, n_inputs)``; return ``(B, n_outputs)`` bits."""
        if not self._outputs:
            raise ValueError("the circuit has no outputs; call set_outputs first")
        if not isinstance(bits, np.ndarray):
            raise TypeError(f"bits must be a numpy array of shape (B, {self.n_inputs}), got {type(bits).__name__}")
        if bits.ndim != 2 or bits.shape[1] != self.n_inputs or bits.shape[0] < 1:
            raise ValueError(f"bits must have shape (B, {self.n_inputs}) with B >= 1, got shape {bits.shape}")
        if not np.all((bits == 0) | (bits == 1)):
            raise ValueError("bits must hold only 0 and 1")
        values = {name: bits[:, j].astype(np.uint8) for j, name in enumerate(self._inputs)}
        for name, op, args in self._gates:
            values[name] = _GATES[op][1](*(values[a] for a in args)).astype(np.uint8)
        return np.stack([values[v] for v in self._outputs], axis=1)

    def truth_table(self, output: str | None = None) -> np.ndarray:
        """The ±1 truth table (length ``2^n_inputs``) of one output (default: the only output)."""
        output = self._one_output(output)
        _check_table_bits("the circuit's number of inputs", self.n_inputs)
        column = self._outputs.index(output)
        bits = self.evaluate(boolean_cube(self.n_inputs, pm1=False))[:, column]
        return 1.0 - 2.0 * bits

    def depth(self) -> int:
        """The number of gates on the longest path from an input to an output."""
        level = dict.fromkeys(self._inputs, 0)
        for name, _, args in self._gates:
            level[name] = 1 + max(level[a] for a in args)
        return max((level[v] for v in self._outputs), default=0)

    def to_graph(self, output: str | None = None) -> nx.DiGraph:
        """The compositional graph of one output: its cone of gates, with node attributes ``gate`` and ``label``."""
        output = self._one_output(output)
        if output in self._inputs:
            raise ValueError(f"output {output!r} is an input; its graph has no constituent node")
        args_of = {name: args for name, _, args in self._gates}
        cone, stack = set(), [output]
        while stack:
            v = stack.pop()
            if v not in cone:
                cone.add(v)
                stack.extend(args_of.get(v, ()))
        edges = [(a, name) for name, _, args in self._gates if name in cone for a in args]
        g = compositional_graph(edges, inputs=[v for v in self._inputs if v in cone])
        for name, op, _ in self._gates:
            if name in cone:
                g.nodes[name]["gate"] = op
                g.nodes[name]["label"] = op.upper()
        return g

    def _one_output(self, output: str | None) -> str:
        if output is None:
            if len(self._outputs) != 1:
                raise ValueError(f"the circuit has outputs {self._outputs!r}; say which one with output=")
            return self._outputs[0]
        if output not in self._outputs:
            raise ValueError(f"output must be one of {self._outputs!r}, got {output!r}")
        return output

    def __repr__(self) -> str:
        return f"Circuit({self.n_inputs} inputs, {self.n_gates} gates, outputs={list(self._outputs)})"


def tree_circuit(n_inputs: int, gates: str | Sequence[str] = "xor", seed: Any = 0) -> Circuit:
    """A balanced binary tree of ``n - 1`` two-input gates over ``n`` inputs (depth ``ceil(log2 n)``).

    Each level pairs neighbours ``(1, 2), (3, 4), ...``; an odd node out moves up unchanged.

    Parameters
    ----------
    n_inputs : int
        ``2 <= n <= 2**19`` (the circuit's ``2n - 1`` inputs and gates are at most ``2**20``).
    gates : str or sequence of str
        One gate name for every node, ``"random"`` (each node draws one of the eight 2-input gates),
        or a sequence of ``n - 1`` names in the order the gates are built (level by level).
    seed : int or numpy.random.Generator
        Used when ``gates="random"``.

    References
    ----------
    CBMM Memo 138, section 6.3.1 (binary trees: depth grows like ``log d``).

    Examples
    --------
    >>> c = tree_circuit(5, "and"); c.n_gates, c.depth()
    (4, 3)
    >>> tree_circuit(3, ["and"])
    Traceback (most recent call last):
    ...
    ValueError: gates must name 2 gates (n_inputs - 1), got 1
    """
    n = check_int("n_inputs", n_inputs, minimum=2, maximum=(_MAX_CIRCUIT_NODES + 1) // 2)  # 2n - 1 inputs and gates
    binary = [g for g in gate_names() if _GATES[g][0] == 2]
    if isinstance(gates, str):
        if gates == "random":
            rng = as_generator(seed)
            ops = [binary[i] for i in rng.integers(0, len(binary), size=n - 1)]
        elif gates in binary:
            ops = [gates] * (n - 1)
        else:
            raise ValueError(f"gates must be 'random' or one of {tuple(binary)}, got {gates!r}")
    else:
        ops = list(gates)
        if len(ops) != n - 1:
            raise ValueError(f"gates must name {n - 1} gates (n_inputs - 1), got {len(ops)}")
        bad = [g for g in ops if g not in binary]
        if bad:
            raise ValueError(f"gates must be 2-input gates {tuple(binary)}, got {bad!r}")
    c = Circuit(n)
    layer = list(c.inputs)
    k = 0
    while len(layer) > 1:
        nxt = []
        for i in range(0, len(layer) - 1, 2):
            nxt.append(c.add(ops[k], layer[i], layer[i + 1]))
            k += 1
        if len(layer) % 2:
            nxt.append(layer[-1])
        layer = nxt
    c.set_outputs(layer[0])
    return c


def parity_circuit(n_inputs: int) -> Circuit:
    """Parity of ``n`` bits as a balanced tree of ``n - 1`` XOR gates (``2 <= n <= 2**19``, as in :func:`tree_circuit`).

    References
    ----------
    O'Donnell (2014), section 1.2 (parity functions are the characters ``chi_S``).

    Examples
    --------
    >>> c = parity_circuit(8); c.n_gates, c.depth()
    (7, 3)
    >>> bool(np.all(c.truth_table() == np.prod(boolean_cube(8), axis=1)))
    True
    """
    return tree_circuit(n_inputs, "xor")


def ripple_carry_adder(n_bits: int, carry_in: bool = True) -> Circuit:
    """The ripple-carry adder of two ``n``-bit numbers: ``5`` gates per full adder.

    Inputs ``a0 .. a{n-1}, b0 .. b{n-1}`` (least significant first), then ``cin`` if ``carry_in``.
    Outputs ``s0 .. s{n-1}, cout``. Each full adder computes ``p = a XOR b``, ``s = p XOR c``,
    ``c' = (a AND b) OR (p AND c)``: 5 gates, so ``5n`` gates with a carry-in and ``5n - 3``
    without (the lowest bit is then a half adder: ``s0 = a0 XOR b0``, ``c1 = a0 AND b0``).
    ``1 <= n <= 149_796``, so that the ``2n + 1`` inputs and ``5n`` gates are at most ``2**20``.

    References
    ----------
    CBMM Memo 138, section 6.1 (efficient computation as a composition of sparse steps).

    Examples
    --------
    >>> c = ripple_carry_adder(4); c.n_gates, c.n_inputs, c.outputs[-1]
    (20, 9, 'cout')
    >>> ripple_carry_adder(4, carry_in=False).n_gates
    17
    """
    n = check_int("n_bits", n_bits, minimum=1, maximum=(_MAX_CIRCUIT_NODES - 1) // 7)  # 2n + 1 inputs, 5n gates
    if not isinstance(carry_in, bool):
        raise TypeError(f"carry_in must be a bool, got {type(carry_in).__name__}")
    names = [f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)] + (["cin"] if carry_in else [])
    c = Circuit(names)
    sums = []
    carry = "cin" if carry_in else None
    for i in range(n):
        a, b = f"a{i}", f"b{i}"
        if carry is None:  # half adder
            sums.append(c.add("xor", a, b, name=f"s{i}"))
            carry = c.add("and", a, b, name=f"c{i + 1}" if n > 1 else "cout")
            continue
        p = c.add("xor", a, b, name=f"p{i}")
        sums.append(c.add("xor", p, carry, name=f"s{i}"))
        g = c.add("and", a, b, name=f"g{i}")
        t = c.add("and", p, carry, name=f"t{i}")
        carry = c.add("or", g, t, name="cout" if i == n - 1 else f"c{i + 1}")
    c.set_outputs(*sums, carry)
    return c


def comparator_circuit(n_bits: int) -> Circuit:
    """The comparison ``[a >= b]`` of two ``n``-bit numbers with ``4n - 3`` gates.

    From the least significant bit up, ``c_1 = a_0 OR NOT b_0`` and
    ``c_{i+1} = ((c_i XOR a_i) AND (a_i XOR b_i)) XOR c_i``: where ``a_i != b_i`` the answer so
    far becomes ``a_i``, elsewhere it stays ``c_i``. Inputs ``a0 .. , b0 ..``; output ``ge``.
    ``1 <= n <= 174_763``, so that the ``2n`` inputs and ``4n - 3`` gates are at most ``2**20``.

    References
    ----------
    CBMM Memo 138, section 6.1; the carry chain of ``a + NOT b + 1`` computes the same bit.

    Examples
    --------
    >>> c = comparator_circuit(3); c.n_gates
    9
    >>> c.evaluate(np.array([[1, 0, 1, 0, 1, 1]]))  # a = 5, b = 6: a >= b is false
    array([[0]], dtype=uint8)
    """
    n = check_int("n_bits", n_bits, minimum=1, maximum=(_MAX_CIRCUIT_NODES + 3) // 6)  # 2n inputs, 4n - 3 gates
    c = Circuit([f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)])
    ge = c.add("ornot", "a0", "b0", name="ge" if n == 1 else "c1")
    for i in range(1, n):
        d = c.add("xor", f"a{i}", f"b{i}", name=f"d{i}")
        u = c.add("xor", ge, f"a{i}", name=f"u{i}")
        v = c.add("and", u, d, name=f"v{i}")
        ge = c.add("xor", v, ge, name="ge" if i == n - 1 else f"c{i + 1}")
    c.set_outputs(ge)
    return c


def boolean_cube(n: int, pm1: bool = True) -> np.ndarray:
    """All ``2^n`` points of the cube, row ``i`` holding the bits of ``i`` (least significant first).

    Parameters
    ----------
    n : int
        ``0 <= n <= 24``.
    pm1 : bool
        Return ``x = 1 - 2b`` in {-1, 1} (default) or the bits ``b`` in {0, 1}.

    Returns
    -------
    numpy.ndarray of shape (2^n, n), dtype int8

    References
    ----------
    O'Donnell (2014), section 1.1.

    Examples
    --------
    >>> boolean_cube(2)
    array([[ 1,  1],
           [-1,  1],
           [ 1, -1],
           [-1, -1]], dtype=int8)
    """
    n = _check_table_bits("n", n)
    bits = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(np.int8)
    return (1 - 2 * bits).astype(np.int8) if pm1 else bits


def truth_table(func: Callable[[np.ndarray], np.ndarray], n: int) -> np.ndarray:
    """Evaluate ``func`` on every point of ``{-1, 1}^n``; ``func`` maps a ``(2^n, n)`` array to ``(2^n,)``.

    References
    ----------
    O'Donnell (2014), section 1.1.

    Examples
    --------
    >>> truth_table(lambda x: x.min(axis=1), 2)  # min of ±1 bits: OR when True is -1
    array([ 1., -1., -1., -1.])
    """
    n = _check_table_bits("n", n)
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    values = np.asarray(func(boolean_cube(n)), dtype=float)
    if values.shape != (2**n,):
        raise ValueError(f"func must return shape ({2**n},) on the (2^n, n) cube, got {values.shape}")
    return values


def _n_from_length(name: str, length: int) -> int:
    if length < 1 or length & (length - 1):
        raise ValueError(f"{name} must have a power-of-2 length 2^n, got length {length}")
    return length.bit_length() - 1


def walsh_hadamard(values: np.ndarray) -> np.ndarray:
    """Fourier coefficients ``f^(S) = 2^{-n} sum_x f(x) chi_S(x)`` by the fast Walsh–Hadamard transform.

    ``n`` butterfly passes over the last axis: ``O(n 2^n)`` operations instead of ``4^n``.
    Entry ``m`` of the result is the coefficient of the subset with bitmask ``m``.

    Parameters
    ----------
    values : array_like, shape (..., 2^n)
        Truth tables (any real values), along the last axis.

    Returns
    -------
    numpy.ndarray, same shape, float64

    References
    ----------
    O'Donnell (2014), sections 1.2-1.4 and exercise 1.12 (Walsh–Hadamard matrices).

    Examples
    --------
    >>> walsh_hadamard([1, 1, 1, -1])  # max(x1, x2): AND when True is -1
    array([ 0.5,  0.5,  0.5, -0.5])
    """
    f = check_array("values", values)
    if f.ndim == 0:
        raise ValueError("values must be an array with a last axis of length 2^n, got a scalar")
    size = f.shape[-1]
    _n_from_length("values", size)
    out = f.reshape(-1, size)
    h = 1
    while h < size:
        blocks = out.reshape(out.shape[0], size // (2 * h), 2, h)
        a, b = blocks[:, :, 0, :], blocks[:, :, 1, :]
        out = np.stack((a + b, a - b), axis=2).reshape(-1, size)
        h *= 2
    return out.reshape(f.shape) / size


def character_matrix(n: int) -> np.ndarray:
    """The ``2^n x 2^n`` matrix of characters ``chi_S(x)``: row = subset bitmask, column = input index.

    ``character_matrix(n) @ table / 2^n`` is the explicit character sum that :func:`walsh_hadamard` computes fast. It is Sylvester's
    Hadamard matrix, built by :func:`scipy.linalg.hadamard`.

    Parameters
    ----------
    n : int
        ``0 <= n <= 12``.

    References
    ----------
    O'Donnell (2014), section 1.3 (the characters are orthonormal).

    Examples
    --------
    >>> character_matrix(2)
    array([[ 1,  1,  1,  1],
           [ 1, -1,  1, -1],
           [ 1,  1, -1, -1],
           [ 1, -1, -1,  1]], dtype=int8)
    """
    n = check_int("n", n, minimum=0, maximum=12)
    # Sylvester's Hadamard matrix: entry (S, x) is (-1)^popcount(S & x), the character chi_S at x
    return scipy.linalg.hadamard(2**n, dtype=np.int8)


def subset_sizes(n: int) -> np.ndarray:
    """``|S|`` for every subset bitmask ``0 .. 2^n - 1`` (the number of set bits).

    References
    ----------
    O'Donnell (2014), section 1.4 (the degree of a character).

    Examples
    --------
    >>> subset_sizes(3)
    array([0, 1, 1, 2, 1, 2, 2, 3])
    """
    n = _check_table_bits("n", n)
    idx = np.arange(2**n)
    return sum(((idx >> j) & 1) for j in range(n)) if n else np.zeros(1, dtype=idx.dtype)


def _coefficients(coeffs: object) -> tuple[np.ndarray, int]:
    c = check_array("coeffs", coeffs)
    if c.ndim != 1:
        raise ValueError(f"coeffs must be a 1-D array of length 2^n, got shape {c.shape}")
    n = _n_from_length("coeffs", c.size)
    if not np.all(np.isfinite(c)):
        raise ValueError("coeffs must be finite")
    return c, n


def degree_weights(coeffs: np.ndarray) -> np.ndarray:
    """Fourier weight at each degree: ``W^k = sum_{|S| = k} f^(S)^2`` for ``k = 0 .. n``.

    By Parseval the weights sum to ``E[f^2]``, which is 1 for a ±1-valued function.

    References
    ----------
    O'Donnell (2014), section 1.4 (Fourier weight by degree).

    Examples
    --------
    >>> degree_weights(walsh_hadamard([1, 1, 1, -1]))
    array([0.25, 0.5 , 0.25])
    """
    c, n = _coefficients(coeffs)
    return np.bincount(subset_sizes(n), weights=c * c, minlength=n + 1)


def energy_count(coeffs: np.ndarray, fraction: float = 0.99) -> int:
    """The fewest coefficients whose squares carry at least ``fraction`` of the total energy.

    References
    ----------
    O'Donnell (2014), chapter 3 (epsilon-concentration of a spectrum).

    Examples
    --------
    >>> energy_count([0.6, 0.8, 0.0, 0.0], fraction=0.5)  # 0.64 >= 0.5 with one coefficient
    1
    >>> energy_count([0.5, 0.5, 0.5, -0.5], fraction=0.99)
    4
    """
    c, _ = _coefficients(coeffs)
    fraction = check_open_interval("fraction", fraction, 0.0, 1.0, closed_right=True)
    energy = np.sort(c * c)[::-1]
    total = energy.sum()
    if total == 0:
        raise ValueError("coeffs are all zero: the energy fraction is undefined")
    cumulative = np.cumsum(energy) / total
    # a relative slack of 1e-12 absorbs round-off when a prefix carries exactly `fraction`
    return int(np.searchsorted(cumulative, fraction - 1e-12) + 1)


def fourier_degree(coeffs: np.ndarray, atol: float = 1e-12) -> int:
    """The degree: the largest ``|S|`` with ``|f^(S)| > atol``.

    References
    ----------
    O'Donnell (2014), section 1.4.

    Examples
    --------
    >>> fourier_degree(walsh_hadamard(np.prod(boolean_cube(5), axis=1)))  # parity of 5 bits
    5
    """
    c, n = _coefficients(coeffs)
    nonzero = np.abs(c) > atol
    if not nonzero.any():
        raise ValueError(f"all coefficients are within atol={atol} of zero: the degree is undefined")
    return int(subset_sizes(n)[nonzero].max())


def boolean_families() -> tuple[str, ...]:
    """Names of the function families of :func:`function_table`.

    Examples
    --------
    >>> boolean_families()
    ('parity', 'majority', 'and', 'carry', 'tree', 'random')
    """
    return ("parity", "majority", "and", "carry", "tree", "random")


def function_table(family: str, n: int, seed: Any = 0) -> np.ndarray:
    """The ±1 truth table of a function of ``n`` bits from a named family.

    * ``"parity"``: ``x_1 x_2 ... x_n`` (a tree of ``n - 1`` XOR gates);
    * ``"majority"``: ``sign(x_1 + ... + x_n)``, ties (even ``n``) broken by ``x_1``;
    * ``"and"``: True (-1) only when every bit is True (a tree of ``n - 1`` AND gates);
    * ``"carry"``: the carry-out of the ripple-carry adder of two ``floor(n/2)``-bit numbers,
      with a carry-in when ``n`` is odd;
    * ``"tree"``: a balanced tree of ``n - 1`` random 2-input gates (``seed``);
    * ``"random"``: a uniformly random truth table (``seed``).

    Parameters
    ----------
    family : str
        One of :func:`boolean_families`.
    n : int
        ``1 <= n <= 24`` (``"carry"`` and ``"tree"`` need ``n >= 2``).
    seed : int or numpy.random.Generator

    References
    ----------
    O'Donnell (2014), chapters 1 and 5; CBMM Memo 138, section 6.7.

    Examples
    --------
    >>> function_table("and", 2), function_table("majority", 3)[:4]
    (array([ 1.,  1.,  1., -1.]), array([ 1.,  1.,  1., -1.]))
    """
    if family not in boolean_families():
        raise ValueError(f"family must be one of {boolean_families()}, got {family!r}")
    n = check_int("n", n, minimum=2 if family in ("carry", "tree") else 1, maximum=_MAX_TABLE_BITS)
    if family == "parity":
        return np.prod(boolean_cube(n), axis=1).astype(float)
    if family == "majority":
        x = boolean_cube(n).astype(float)
        return np.sign(x.sum(axis=1) + 0.5 * x[:, 0])
    if family == "and":
        table = np.ones(2**n)
        table[-1] = -1.0  # the all-True input is the last row
        return table
    if family == "carry":
        return ripple_carry_adder(n // 2, carry_in=bool(n % 2)).truth_table("cout")
    if family == "tree":
        return tree_circuit(n, "random", seed=seed).truth_table()
    rng = as_generator(seed)
    return rng.choice(np.array([-1.0, 1.0]), size=2**n)


class SpectrumSummary(NamedTuple):
    """The Fourier spectrum of one function, in numbers (see :func:`spectrum_summary`).

    Examples
    --------
    >>> spectrum_summary("parity", 4).weights.tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0]
    """

    family: str
    n: int
    weights: np.ndarray  # W^k for k = 0..n
    n_nonzero: int  # coefficients with |f^(S)| > 1e-12
    energy_99: int  # fewest coefficients carrying 99% of the energy
    degree: int
    parseval: float  # sum of squared coefficients (E f^2 = 1)


def spectrum_summary(family: str, n: int, seed: Any = 0) -> SpectrumSummary:
    """Spectrum of a family's function of ``n <= 20`` bits: weights by degree and sparsity counts.

    This is the widget's compute function: at ``n = 14`` it takes a few milliseconds.

    References
    ----------
    CBMM Memo 138, section 6.7; O'Donnell (2014), sections 1.4 and 3.1.

    Examples
    --------
    >>> s = spectrum_summary("and", 10)
    >>> s.n_nonzero, s.energy_99, s.degree, round(s.parseval, 12)
    (1024, 1, 10, 1.0)
    """
    n = check_int("n", n, minimum=1, maximum=20)
    coeffs = walsh_hadamard(function_table(family, n, seed=seed))
    return SpectrumSummary(
        family=family,
        n=n,
        weights=degree_weights(coeffs),
        n_nonzero=int(np.count_nonzero(np.abs(coeffs) > 1e-12)),
        energy_99=energy_count(coeffs, 0.99),
        degree=fourier_degree(coeffs),
        parseval=float(np.sum(coeffs * coeffs)),
    )


def count_log2(n_inputs: int, n_gates: int) -> float:
    """log2 of an upper bound on how many functions of ``n`` bits circuits of ``<= s`` gates compute.

    A circuit with ``t`` gates is described by each gate's type (16 two-input functions) and its two
    inputs among ``n + t`` nodes: at most ``(16 (n+t)^2)^t`` descriptions. In a smallest circuit all
    gates compute different functions, so the ``(t-1)!`` relabellings of its non-output gates give
    distinct descriptions of the same function; hence at most ``a_t = (16 (n+t)^2)^t / (t-1)!``
    functions have circuit size exactly ``t``. Since ``a_t`` increases with ``t`` and ``a_1 > n``,
    the ``n`` projections plus sizes ``1 .. s`` number at most ``(s + 1) a_s``. With ``s = 0`` the
    bound is ``n`` (the projections).

    References
    ----------
    Shannon (1949); Jukna, *Boolean Function Complexity* (2012), chapter 1; CBMM Memo 138, section 6.3.1.

    Examples
    --------
    >>> count_log2(3, 0) == math.log2(3)
    True
    >>> round(count_log2(2, 1), 3)  # log2(2 * 16 * 3**2)
    8.17
    """
    n = check_int("n_inputs", n_inputs, minimum=1)
    s = check_int("n_gates", n_gates, minimum=0)
    if s == 0:
        return math.log2(n)
    return math.log2(s + 1) + s * math.log2(16 * (n + s) ** 2) - math.lgamma(s) / math.log(2)


def shannon_gate_bound(n_inputs: int, fraction: float = 0.5) -> int:
    """The largest ``s`` such that circuits of ``<= s`` gates compute at most ``fraction`` of all ``2^(2^n)`` functions.

    So at least ``1 - fraction`` of the functions of ``n`` bits need more than ``s`` gates; ``-1``
    means that even the ``n`` projections are more than ``fraction`` of all functions. As ``n``
    grows, ``s n / 2^n`` tends to 1 (slowly): most functions need about ``2^n / n`` gates (Shannon),
    and every function can be built with ``(1 + o(1)) 2^n / n`` (Lupanov).

    Parameters
    ----------
    n_inputs : int
        ``1 <= n <= 50``.
    fraction : float
        In ``(0, 1]``.

    References
    ----------
    Shannon (1949); Lupanov (1958); Jukna (2012), chapter 1.

    Examples
    --------
    >>> shannon_gate_bound(2)  # with 1 gate the bound (146 functions) exceeds the 16 that exist
    0
    >>> s = shannon_gate_bound(20); s, round(s * 20 / 2**20, 3)
    (49816, 0.95)
    """
    n = check_int("n_inputs", n_inputs, minimum=1, maximum=50)
    fraction = check_open_interval("fraction", fraction, 0.0, 1.0, closed_right=True)
    budget = 2.0**n + math.log2(fraction)
    if count_log2(n, 0) > budget:
        return -1  # even the projections exceed the fraction (only for tiny n and fraction)
    low, high = 0, 2**n  # count(low) <= budget < count(high), since count(2^n) > 2^n
    while high - low > 1:
        mid = (low + high) // 2
        if count_log2(n, mid) <= budget:
            low = mid
        else:
            high = mid
    return low


def relu_node_weights(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A one-hidden-layer ReLU network equal to a function of ``k`` ±1 bits on the cube: ``2^k`` units.

    For each point ``s`` of ``{-1, 1}^k`` a unit computes ``relu(<s, z> - (k - 1))``, which is 1 at
    ``z = s`` and 0 at every other point of the cube (there ``<s, z> <= k - 2``). Weighting unit
    ``s`` by ``g(s)`` gives ``g(z) = a . relu(W z + b)`` exactly; it has ``2^k (k + 2)`` parameters.

    Parameters
    ----------
    table : array_like, shape (2^k,)
        The values of ``g`` in truth-table order, ``1 <= k <= 16``.

    Returns
    -------
    W : numpy.ndarray, shape (2^k, k)
    b : numpy.ndarray, shape (2^k,)
    a : numpy.ndarray, shape (2^k,)

    References
    ----------
    CBMM Memo 138, section 6.7.1, Theorem 8 (deep networks with the graph of ``f``).

    Examples
    --------
    >>> W, b, a = relu_node_weights([1, 1, 1, -1])  # AND of two bits
    >>> z = boolean_cube(2).astype(float)
    >>> np.maximum(z @ W.T + b, 0) @ a
    array([ 1.,  1.,  1., -1.])
    """
    values = check_array("table", table)
    if values.ndim != 1:
        raise ValueError(f"table must be 1-D of length 2^k, got shape {values.shape}")
    k = _n_from_length("table", values.size)
    if not 1 <= k <= 16:
        raise ValueError(f"table must have length 2^k with 1 <= k <= 16, got length {values.size}")
    W = boolean_cube(k).astype(float)
    return W, np.full(2**k, -(k - 1.0)), values.copy()


# --- a network wired by a graph -----------------------------------------------------------------------


class WiredTreeNet(torch.nn.Module):
    """Small ReLU networks ``k -> width -> 1`` arranged in levels; ``wiring[l][j]`` lists what node ``j`` of level ``l`` reads.

    Level 0 reads the inputs; level ``l`` reads the outputs of level ``l - 1``. With ``additive=True`` the
    outputs of the last level are summed; otherwise the last level must have one node, the output. With the
    wiring of a binary tree (``[[0, 1], [2, 3], ...]`` at the leaves, then the pairs of nodes) and the same
    weights it computes what :class:`~cosp_helpers.networks.BinaryTreeNet` computes; other wirings give
    controls: a tree wired to the wrong pairs, a superset of the graph (nodes with more inputs), or a sum of
    functions of the leaf pairs. The nodes share no weights.

    Parameters
    ----------
    wiring : list of list of list of int
        One list per level, one list of indices per node; the nodes of a level have the same number of inputs.
    width : int
        Hidden units per node, in ``1..2**24``.
    seed : int
        Seeds the initialisation (a local generator): every tensor ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
        drawn level by level in the order input weights, input biases, output weights, output bias (the
        scheme of :class:`~cosp_helpers.networks.BinaryTreeNet`).
    additive : bool
        Sum the outputs of the last level.

    Notes
    -----
    Input ``(batch, inputs)``, output ``(batch, 1)``. Parameters ``weights.{4 l}`` (``(nodes, k, width)``),
    ``weights.{4 l + 1}`` (``(nodes, 1, width)``), ``weights.{4 l + 2}`` (``(nodes, width, 1)``) and
    ``weights.{4 l + 3}`` (``(nodes, 1, 1)``) for level ``l``.

    Examples
    --------
    >>> net = WiredTreeNet([[[0, 1], [2, 3]], [[0, 1]]], 4, seed=0)
    >>> net(torch.zeros(5, 4)).shape, sum(p.numel() for p in net.parameters())  # 3 nodes of 3 * 4 + 4 + 1
    (torch.Size([5, 1]), 51)
    >>> pairs = WiredTreeNet([[[0, 1], [2, 3]]], 4, seed=0, additive=True)
    >>> pairs(torch.zeros(5, 4)).shape
    torch.Size([5, 1])
    """

    def __init__(self, wiring: Sequence[Sequence[Sequence[int]]], width: int, *, seed: int, additive: bool = False) -> None:
        super().__init__()
        width = check_int("width", width, minimum=1, maximum=2**24)
        check_int("seed", seed, minimum=0)
        check_bool("additive", additive)
        if not isinstance(wiring, (list, tuple)) or not wiring:
            raise ValueError(f"wiring must be a non-empty list of levels, got {wiring!r}")
        levels = []
        for index, level in enumerate(wiring):
            try:
                table = np.asarray(level)
            except ValueError:  # ragged
                table = np.zeros((0,))
            if table.ndim != 2 or table.shape[0] < 1 or table.shape[1] < 1 or not np.issubdtype(table.dtype, np.integer):
                raise ValueError(f"wiring[{index}] must list, for each node, the same number of integer indices, got {level!r}")
            below = None if index == 0 else len(levels[-1])
            if table.min() < 0 or (below is not None and table.max() >= below):
                raise ValueError(f"wiring[{index}] must hold indices in 0..{'inputs - 1' if below is None else below - 1}, got {level!r}")
            levels.append(table)
        if not additive and len(levels[-1]) != 1:
            raise ValueError(f"the last level must have one node (the output) unless additive=True, got {len(levels[-1])}")
        self.n_inputs = int(levels[0].max()) + 1
        generator = torch.Generator().manual_seed(int(seed))

        def uniform(shape, fan_in):  # the initialization of BinaryTreeNet: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            return torch.nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) / math.sqrt(fan_in))

        self.wiring = [torch.tensor(table, dtype=torch.long) for table in levels]  # each (nodes, fan-in)
        self.additive = bool(additive)
        self.weights = torch.nn.ParameterList()
        for table in self.wiring:
            nodes, k = table.shape
            self.weights.extend([uniform((nodes, k, width), k), uniform((nodes, 1, width), k),
                                 uniform((nodes, width, 1), width), uniform((nodes, 1, 1), width)])  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] < self.n_inputs:
            raise ValueError(f"x must have shape (batch, inputs) with at least {self.n_inputs} inputs, got {tuple(x.shape)}")
        v = x  # (batch, values of the level below)
        for i, reads in enumerate(self.wiring):
            w_in, b_in, w_out, b_out = (self.weights[4 * i + j] for j in range(4))
            hidden = torch.relu(torch.baddbmm(b_in, v[:, reads].transpose(0, 1), w_in))  # (nodes, batch, width)
            v = torch.baddbmm(b_out, hidden, w_out)[:, :, 0].T  # (batch, nodes)
        return v.sum(dim=1, keepdim=True) if self.additive else v  # (batch, 1)
