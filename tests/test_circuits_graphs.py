"""Tests for cosp_helpers.circuits (compositional graphs): Definition 1 of the memo as networkx DAGs."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest

from cosp_helpers.circuits import (
    binary_tree_graph,
    compositional_graph,
    constituent_dimensions,
    draw_graph,
    evaluate_graph,
    graph_depth,
    graph_inputs,
    graph_output,
    local_hierarchy_graph,
    node_inputs,
    node_levels,
    random_dag_graph,
    validate_graph,
)


def _reference_value(g, functions, x, node):
    """Evaluate by plain recursion (no topological order): the reference for evaluate_graph."""
    inputs = graph_inputs(g)
    if node in inputs:
        return x[:, inputs.index(node)]
    args = [_reference_value(g, functions, x, u) for u in node_inputs(g, node)]
    return functions[node](*args)


# --- compositional_graph and validate_graph ----------------------------------------------------


def test_build_from_edges_keeps_input_order_and_slots():
    g = compositional_graph([("x2", "h"), ("x1", "h"), ("h", "y"), ("x3", "y")])
    assert graph_inputs(g) == ("x2", "x1", "x3")  # first appearance
    assert node_inputs(g, "h") == ("x2", "x1")
    assert node_inputs(g, "y") == ("h", "x3")
    assert graph_output(g) == "y" and g.graph["output"] == "y"
    assert [g.edges[u, "y"]["slot"] for u in ("h", "x3")] == [0, 1]


def test_mapping_form_equals_edge_form():
    a = compositional_graph({"h": ["x1", "x2"], "y": ["h", "x3"]})
    b = compositional_graph([("x1", "h"), ("x2", "h"), ("h", "y"), ("x3", "y")])
    assert nx.utils.graphs_equal(a, b)
    assert graph_inputs(a) == graph_inputs(b)


def test_explicit_input_order():
    g = compositional_graph([("x1", "y"), ("x2", "y")], inputs=["x2", "x1"])
    assert graph_inputs(g) == ("x2", "x1")


@pytest.mark.parametrize(
    "edges, kwargs, match",
    [
        ([], {}, "at least one"),
        ([("a", "b", "c")], {}, r"\(u, v\) pairs"),
        ([("x1", "y"), ("x1", "y")], {}, "appears twice"),
        ([("x1", "y"), ("x2", "y")], {"inputs": ["x1"]}, "each source exactly once"),
        ([("x1", "y"), ("x2", "y")], {"inputs": ["x1", "x1", "x2"]}, "each source exactly once"),
        ([("x1", "y"), ("x2", "y")], {"inputs": ["x1", "y"]}, "each source exactly once"),
        ([("x1", "a"), ("x2", "a"), ("x2", "b")], {}, "exactly one sink"),
        ([("x1", "a"), ("a", "b"), ("b", "a"), ("b", "y")], {}, "acyclic"),
        ([("x1", "y"), ("x2", "y"), ("x3", "y")], {"max_in_degree": 2}, "more than max_in_degree=2"),
    ],
)
def test_compositional_graph_errors(edges, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compositional_graph(edges, **kwargs)


@pytest.mark.parametrize("edges", [5, "ab", None])
def test_compositional_graph_type_errors(edges):
    with pytest.raises(TypeError, match="edges must be"):
        compositional_graph(edges)


def test_validate_graph_rejects_non_graphs_and_multigraphs():
    with pytest.raises(TypeError, match="networkx.DiGraph"):
        validate_graph([("a", "b")])
    with pytest.raises(TypeError, match="networkx.DiGraph"):
        validate_graph(nx.MultiDiGraph([("a", "b")]))
    with pytest.raises(TypeError, match="networkx.DiGraph"):
        validate_graph(nx.Graph([("a", "b")]))


def test_validate_graph_errors_on_hand_built_graphs():
    single = nx.DiGraph()
    single.add_node("x")
    with pytest.raises(ValueError, match="at least one input and one constituent"):
        validate_graph(single)
    loop = nx.DiGraph([("x", "y"), ("y", "y")])
    with pytest.raises(ValueError, match="acyclic"):
        validate_graph(loop)
    two_components = nx.DiGraph([("x1", "y")])
    two_components.add_node("x2")  # an unread input is a second sink
    with pytest.raises(ValueError, match="exactly one sink"):
        validate_graph(two_components)
    declared = nx.DiGraph([("x1", "y"), ("x2", "y")])
    declared.graph["inputs"] = ("x1",)
    with pytest.raises(ValueError, match=r"graph.graph\['inputs'\]"):
        validate_graph(declared)
    bad_slots = nx.DiGraph()
    bad_slots.add_edge("x1", "y", slot=0)
    bad_slots.add_edge("x2", "y", slot=0)
    with pytest.raises(ValueError, match="slots 0..1"):
        validate_graph(bad_slots)
    mixed = nx.DiGraph()
    mixed.add_edge("x1", "y", slot=0)
    mixed.add_edge("x2", "y")
    with pytest.raises(ValueError, match="slots"):
        validate_graph(mixed)
    with pytest.raises(ValueError, match="max_in_degree must be >= 1"):
        validate_graph(binary_tree_graph(4), max_in_degree=0)
    with pytest.raises(TypeError, match="max_in_degree must be an int"):
        validate_graph(binary_tree_graph(4), max_in_degree=2.0)


def test_hand_built_graph_without_slots_uses_insertion_order():
    g = nx.DiGraph([("b", "y"), ("a", "y")])
    validate_graph(g)
    assert graph_inputs(g) == ("b", "a")
    assert node_inputs(g, "y") == ("b", "a")


def test_graph_output_and_node_inputs_errors():
    with pytest.raises(ValueError, match="exactly one sink"):
        graph_output(nx.DiGraph([("x", "a"), ("x", "b")]))
    with pytest.raises(ValueError, match="not in the graph"):
        node_inputs(binary_tree_graph(4), "nope")


# --- levels, depth, dimensions ------------------------------------------------------------------


@pytest.mark.parametrize("levels", range(1, 7))
def test_binary_tree_counts(levels):
    n = 2**levels
    g = binary_tree_graph(n)
    dims = constituent_dimensions(g)
    assert graph_depth(g) == levels
    assert len(dims) == n - 1 and set(dims.values()) == {2}
    assert graph_inputs(g) == tuple(f"x{i}" for i in range(1, n + 1))
    assert node_levels(g)[graph_output(g)] == levels


@pytest.mark.parametrize("n", [0, 1, 3, 6, 12])
def test_binary_tree_rejects_bad_sizes(n):
    with pytest.raises(ValueError):
        binary_tree_graph(n)


def _layer_sizes_reference(n, width, stride):
    """Layer sizes from the window rule, computed independently of the graph."""
    sizes = [n]
    while sizes[-1] > 1:
        m = sizes[-1]
        sizes.append(1 if m <= width else math.ceil((m - width) / stride) + 1)
    return sizes


@pytest.mark.parametrize("n", [2, 3, 5, 9, 16, 17, 30])
@pytest.mark.parametrize("width, stride", [(2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (4, 2)])
def test_local_hierarchy_layers_and_degrees(n, width, stride):
    g = local_hierarchy_graph(n, width=width, stride=stride)
    levels = node_levels(g)
    sizes = [sum(1 for lv in levels.values() if lv == k) for k in range(graph_depth(g) + 1)]
    assert sizes == _layer_sizes_reference(n, width, stride)
    assert max(constituent_dimensions(g).values()) <= width
    validate_graph(g, max_in_degree=width)  # every input is read: one sink only


def test_local_hierarchy_windows_overlap_with_stride_below_width():
    g = local_hierarchy_graph(7, width=3, stride=2)
    assert node_inputs(g, "h1.1") == ("x1", "x2", "x3")
    assert node_inputs(g, "h1.2") == ("x3", "x4", "x5")  # x3 is shared
    assert node_inputs(g, "h1.3") == ("x5", "x6", "x7")


def test_local_hierarchy_with_width_2_stride_2_is_the_binary_tree():
    assert nx.utils.graphs_equal(local_hierarchy_graph(16, 2, 2), binary_tree_graph(16))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_inputs": 1}, ValueError, "n_inputs must be >= 2"),
        ({"n_inputs": 8, "width": 1}, ValueError, "width must be >= 2"),
        ({"n_inputs": 8, "width": 3, "stride": 0}, ValueError, "stride must be >= 1"),
        ({"n_inputs": 8, "width": 3, "stride": 4}, ValueError, "stride must be <= 3"),
        ({"n_inputs": 8.0}, TypeError, "n_inputs must be an int"),
    ],
)
def test_local_hierarchy_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        local_hierarchy_graph(**kwargs)


# --- random DAGs --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("n, m, d0", [(2, 1, 2), (6, 5, 2), (6, 3, 3), (12, 20, 3), (20, 8, 4)])
def test_random_dag_invariants(seed, n, m, d0):
    g = random_dag_graph(n, m, max_in_degree=d0, seed=seed)
    dims = constituent_dimensions(g)
    assert len(dims) == m and graph_output(g) == f"g{m}"
    assert graph_inputs(g) == tuple(f"x{i}" for i in range(1, n + 1))
    assert all(2 <= k <= d0 for k in dims.values())
    validate_graph(g, max_in_degree=d0)


def test_random_dag_is_seeded_and_reuses_nodes():
    a = random_dag_graph(8, 12, max_in_degree=3, seed=5)
    b = random_dag_graph(8, 12, max_in_degree=3, seed=np.random.default_rng(5))
    c = random_dag_graph(8, 12, max_in_degree=3, seed=6)
    assert nx.utils.graphs_equal(a, b)
    assert not nx.utils.graphs_equal(a, c)
    # with more nodes than a tree needs, some node is read twice: a DAG, not a tree
    assert max(a.out_degree(v) for v in a) >= 2


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_inputs": 10, "n_internal": 3}, ValueError, "n_internal must be >= 9"),
        ({"n_inputs": 1, "n_internal": 3}, ValueError, "n_inputs must be >= 2"),
        ({"n_inputs": 4, "n_internal": 0}, ValueError, "n_internal must be >= 1"),
        ({"n_inputs": 4, "n_internal": 3, "max_in_degree": 1}, ValueError, "max_in_degree must be >= 2"),
        ({"n_inputs": 4, "n_internal": 3, "seed": -1}, ValueError, "seed must be >= 0"),
        ({"n_inputs": 4, "n_internal": 3, "seed": 1.5}, TypeError, "seed must be an int"),
    ],
)
def test_random_dag_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        random_dag_graph(**kwargs)


# --- evaluate_graph -----------------------------------------------------------------------------


def test_tree_of_sums_is_the_sum():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 32))
    out = evaluate_graph(binary_tree_graph(32), lambda a, b: a + b, x)
    np.testing.assert_allclose(out, x.sum(axis=1), rtol=1e-12, atol=1e-12)  # 31 additions of O(1) numbers


def test_poggio_binary_tree_example_matches_the_nested_formula():
    # Poggio et al. (2017): h1(a, b) = 0.59 cos(1.5 pi (a + b)) at the leaves, h2 = h3 = 1.1 (a + b + 1)^2 - 1 above
    def h1(a, b):
        return 0.59 * np.cos(1.5 * np.pi * (a + b))

    def h2(a, b):
        return 1.1 * (a + b + 1) ** 2 - 1

    g = binary_tree_graph(8)
    functions = {v: (h1 if v.startswith("h1.") else h2) for v in constituent_dimensions(g)}
    x = np.random.default_rng(1).uniform(-1, 1, size=(100, 8))
    c = [x[:, i] for i in range(8)]
    expected = h2(h2(h1(c[0], c[1]), h1(c[2], c[3])), h2(h1(c[4], c[5]), h1(c[6], c[7])))
    np.testing.assert_allclose(evaluate_graph(g, functions, x), expected, rtol=1e-13, atol=1e-13)


def _tanh_unit(w):
    return lambda *z: np.tanh(sum(wi * zi for wi, zi in zip(w, z)))


@pytest.mark.parametrize("seed", range(10))
def test_random_dag_evaluation_matches_recursive_reference(seed):
    rng = np.random.default_rng(seed)
    g = random_dag_graph(7, 9, max_in_degree=3, seed=seed)
    weights = {v: rng.normal(size=k) for v, k in constituent_dimensions(g).items()}
    functions = {v: _tanh_unit(w) for v, w in weights.items()}
    x = rng.normal(size=(20, 7))
    expected = _reference_value(g, functions, x, graph_output(g))
    np.testing.assert_allclose(evaluate_graph(g, functions, x), expected, rtol=0, atol=1e-14)


def test_inputs_reach_functions_in_slot_order():
    g = compositional_graph([("x2", "y"), ("x1", "y")], inputs=["x1", "x2"])
    x = np.array([[10.0, 3.0]])
    assert evaluate_graph(g, lambda a, b: a - b, x).tolist() == [3.0 - 10.0]


def test_return_all_and_bool_inputs():
    g = binary_tree_graph(4)
    x = np.array([[True, False, True, True]])
    values = evaluate_graph(g, np.logical_and, x, return_all=True)
    assert set(values) == set(g.nodes)
    assert values["h1.1"].tolist() == [False] and values["h1.2"].tolist() == [True]
    assert values["h2.1"].tolist() == [False]


@pytest.mark.parametrize(
    "functions, x, error, match",
    [
        (np.add, [[1.0, 2.0, 3.0, 4.0]], TypeError, "x must be a numpy array"),
        (np.add, np.ones((2, 3)), ValueError, r"x must have shape \(B, 4\)"),
        (np.add, np.ones((0, 4)), ValueError, r"x must have shape \(B, 4\)"),
        (np.add, np.ones((2, 4), dtype=complex), TypeError, "real or bool dtype"),
        (np.add, np.array([["a"] * 4]), TypeError, "real or bool dtype"),
        ({"h1.1": np.add, "h1.2": np.add}, np.ones((2, 4)), ValueError, r"missing \['h2.1'\]"),
        (
            {"h1.1": np.add, "h1.2": np.add, "h2.1": np.add, "x1": np.add},
            np.ones((2, 4)), ValueError, r"unknown \['x1'\]",
        ),
        ({"h1.1": np.add, "h1.2": np.add, "h2.1": 3}, np.ones((2, 4)), TypeError, "not callable"),
        (3, np.ones((2, 4)), TypeError, "functions must be a callable or a mapping"),
        (lambda a, b: 1.0, np.ones((2, 4)), ValueError, r"must return shape \(2,\)"),
    ],
)
def test_evaluate_graph_errors(functions, x, error, match):
    with pytest.raises(error, match=match):
        evaluate_graph(binary_tree_graph(4), functions, x)


# --- draw_graph -------------------------------------------------------------------------------


def test_draw_graph_puts_inputs_at_the_bottom_and_the_output_on_top():
    g = local_hierarchy_graph(9, width=3, stride=2)
    ax = draw_graph(g)
    y = {t.get_text(): t.get_position()[1] for t in ax.texts}
    assert all(y[f"x{i}"] == 0 for i in range(1, 10))
    assert y[graph_output(g)] == graph_depth(g) == max(y.values())
    assert len(ax.texts) == g.number_of_nodes()
    plt.close("all")


def test_draw_graph_labels():
    g = binary_tree_graph(4)
    g.nodes["h2.1"]["label"] = "AND"
    ax = draw_graph(g, labels={"x1": "a"})
    texts = {t.get_text() for t in ax.texts}
    assert {"AND", "a"} <= texts and "x1" not in texts and "h2.1" not in texts
    ax2 = draw_graph(g, labels=False)
    assert len(ax2.texts) == 0
    _, existing = plt.subplots()
    assert draw_graph(g, ax=existing) is existing
    plt.close("all")


def test_draw_graph_rejects_invalid_graphs_and_axes():
    with pytest.raises(ValueError, match="exactly one sink"):
        draw_graph(nx.DiGraph([("x", "a"), ("x", "b")]))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        draw_graph(binary_tree_graph(4), ax="axes")
    plt.close("all")


@pytest.mark.parametrize("seed", range(5))
def test_node_levels_are_longest_paths_from_an_input(seed):
    g = random_dag_graph(6, 10, max_in_degree=3, seed=seed)

    def longest(node):  # plain recursion, no topological order
        preds = list(g.predecessors(node))
        return 0 if not preds else 1 + max(longest(u) for u in preds)

    levels = node_levels(g)
    assert set(levels) == set(g.nodes)
    assert all(levels[v] == longest(v) for v in g.nodes)
    assert list(levels.values()) == sorted(levels.values())  # listed level by level


# --- WiredTreeNet -----------------------------------------------------------------------------------


def test_wired_tree_net_with_the_tree_wiring_is_a_binary_tree_net():
    import torch

    from cosp_helpers.circuits import WiredTreeNet
    from cosp_helpers.networks import BinaryTreeNet, count_parameters

    tree = BinaryTreeNet(8, 5, seed=0)
    wired = WiredTreeNet([[[0, 1], [2, 3], [4, 5], [6, 7]], [[0, 1], [2, 3]], [[0, 1]]], 5, seed=1)
    assert count_parameters(wired) == count_parameters(tree) == 7 * (4 * 5 + 1)
    with torch.no_grad():
        for mine, theirs in zip(wired.parameters(), tree.parameters()):
            mine.copy_(theirs)
    x = torch.rand(20, 8)
    torch.testing.assert_close(wired(x), tree(x), rtol=1e-5, atol=1e-6)
    pairs = WiredTreeNet([[[0, 1], [2, 3]]], 3, seed=0, additive=True)
    assert pairs(x[:, :4]).shape == (20, 1)
    same = WiredTreeNet([[[0, 1], [2, 3]]], 3, seed=0, additive=True)
    assert all(torch.equal(a, b) for a, b in zip(pairs.parameters(), same.parameters()))


@pytest.mark.parametrize(
    "wiring, kwargs, error, match",
    [
        ([], {}, ValueError, "wiring"),
        ([[[0, 1], [2]]], {}, ValueError, "wiring\\[0\\]"),
        ([[[0, -1]], [[0]]], {}, ValueError, "indices"),
        ([[[0, 1], [2, 3]], [[0, 2]]], {}, ValueError, "indices"),
        ([[[0, 1], [2, 3]]], {}, ValueError, "one node"),
        ([[[0, 1]]], {"width": 0}, ValueError, "width"),
        ([[[0, 1]]], {"additive": 1}, TypeError, "additive"),
    ],
)
def test_wired_tree_net_errors(wiring, kwargs, error, match):
    from cosp_helpers.circuits import WiredTreeNet

    width = kwargs.pop("width", 3)
    with pytest.raises(error, match=match):
        WiredTreeNet(wiring, width, seed=0, **kwargs)


def test_wired_tree_net_checks_its_input():
    import torch

    from cosp_helpers.circuits import WiredTreeNet

    with pytest.raises(ValueError, match="x must have shape"):
        WiredTreeNet([[[0, 3]]], 2, seed=0)(torch.zeros(4, 2))
