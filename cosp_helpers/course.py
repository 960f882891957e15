"""The course as data: its notebooks, the concepts they teach, and a map drawn with networkx.

The map is a directed graph with two kinds of node: notebooks (``kind="notebook"``, keyed by their
number) and concepts (``kind="concept"``, keyed by name). An edge ``notebook -> concept`` means the
notebook teaches the concept; an edge ``notebook -> notebook`` means the first is a prerequisite
of the second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, NamedTuple

import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.axes import Axes

from ._checks import check_int
from .plotting import get_ax

__all__ = [
    "NotebookInfo",
    "COURSE",
    "CONCEPTS",
    "notebook_filename",
    "available_notebooks",
    "graph",
    "reading_path",
    "draw_course_map",
]


class NotebookInfo(NamedTuple):
    """One notebook of the course.

    Examples
    --------
    >>> COURSE[4].title, COURSE[4].prerequisites
    ('Deep vs shallow networks', (1, 3))
    """

    number: int
    slug: str
    title: str
    summary: str  # what you learn, in one line
    concepts: tuple[str, ...]
    prerequisites: tuple[int, ...]
    seed_sections: str  # where in the source texts the material comes from


CURSE = "curse of dimensionality"
SUPERPOSITION = "superposition theorems"
SPARSITY = "compositional sparsity"
DEPTH = "deep vs shallow approximation"
RELU = "ReLU constructions"
GENERALIZATION = "generalization bounds"
OPTIMIZATION = "sparse optimization"
ATTENTION = "attention and memory"
LEARNING = "learning hierarchies"
OPEN = "open questions"

CONCEPTS: tuple[str, ...] = (CURSE, SUPERPOSITION, SPARSITY, DEPTH, RELU, GENERALIZATION, OPTIMIZATION, ATTENTION, LEARNING, OPEN)

COURSE: tuple[NotebookInfo, ...] = (
    NotebookInfo(0, "start_here", "Start here", "the map of the course, notation, how to run and check exercises", (), (), "memo 138 §1–2"),
    NotebookInfo(1, "curse_of_dimensionality", "The curse of dimensionality", "why N ~ eps^(-d/s) parameters; counting and concentration in high dimension", (CURSE,), (0,), "memo 138 §6.3.1, §6.5"),
    NotebookInfo(2, "kolmogorov_arnold_vitushkin", "Kolmogorov–Arnold and Vitushkin", "exact superpositions exist but their inner functions are rough", (SUPERPOSITION, CURSE), (1,), "memo 138 §6.4"),
    NotebookInfo(3, "compositional_sparsity", "Compositional sparsity", "function graphs (DAGs), efficient computability, Boolean Fourier spectra", (SPARSITY,), (1, 2), "memo 138 §2, §6.1–6.3, §6.7"),
    NotebookInfo(4, "deep_vs_shallow", "Deep vs shallow networks", "the MP theorem: deep networks with the target's graph avoid the curse", (DEPTH, SPARSITY), (1, 3), "memo 138 §6.5"),
    NotebookInfo(5, "relu_indicator_constructions", "ReLU indicator constructions", "hand-wired ReLU networks and Lemma 2's unit count", (RELU, DEPTH), (4,), "memo 138 §6.8"),
    NotebookInfo(6, "depth_separation_and_takagi", "Depth separation and Takagi", "sawtooth, Yarotsky's square and the Takagi function", (RELU, DEPTH), (5,), "memo 138 §6.6"),
    NotebookInfo(7, "cnn_rademacher_bounds", "Rademacher bounds for CNNs", "locality, not weight sharing, shrinks the complexity", (GENERALIZATION, SPARSITY), (4,), "memo 138 §3, §8.1"),
    NotebookInfo(8, "known_graph_l1_vs_l2", "Optimization with a known graph", "l2 vs l1 training when the architecture reflects the graph", (OPTIMIZATION, SPARSITY), (4,), "memo 138 §4.1"),
    NotebookInfo(9, "pruning_and_learned_locality", "Pruning and learned locality", "magnitude pruning and beta-lasso find local receptive fields", (OPTIMIZATION, SPARSITY), (8,), "memo 138 §4.2.1, §6.9"),
    NotebookInfo(10, "attention_as_flexible_sparsity", "Attention as flexible sparsity", "attention recovers an input-dependent sparse graph", (ATTENTION, SPARSITY), (4,), "memo 138 §4.2.2, §6.10"),
    NotebookInfo(11, "associative_memory", "Transformers as associative memories", "key-value storage, crosstalk and soft look-up", (ATTENTION,), (10,), "memo 138 §7"),
    NotebookInfo(12, "hierarchical_targets", "Hierarchical targets", "depth lowers the effective dimension layer by layer", (LEARNING, DEPTH), (4,), "Dandi et al. 2025"),
    NotebookInfo(13, "sparse_regularization", "Weight decay as sparse regularization", "weight decay is a path norm; splines with few knots", (OPTIMIZATION,), (8,), "Parhi & Nowak 2023"),
    NotebookInfo(14, "open_questions", "Open questions", "what is proven, conjectured and open", (OPEN, LEARNING, OPTIMIZATION), (12, 13), "Danhofer et al. 2025"),
)


def notebook_filename(info: NotebookInfo) -> str:
    """The notebook's file name, ``NN_slug.ipynb``.

    Examples
    --------
    >>> notebook_filename(COURSE[1])
    '01_curse_of_dimensionality.ipynb'
    """
    return f"{info.number:02d}_{info.slug}.ipynb"


def available_notebooks(folder: str | Path) -> list[int]:
    """Numbers of the course's notebooks that exist as files in ``folder``.

    Examples
    --------
    >>> available_notebooks("/nonexistent")
    []
    """
    folder = Path(folder)
    return [info.number for info in COURSE if (folder / notebook_filename(info)).is_file()]


def graph(available: Iterable[int] | None = None) -> nx.DiGraph:
    """The course map: notebooks, concepts, what teaches what, and prerequisites.

    Parameters
    ----------
    available : iterable of int, optional
        Numbers of the notebooks already written; each notebook node gets ``available=True/False``.
        By default all are marked available.

    Examples
    --------
    >>> g = graph()
    >>> g.nodes[4]["title"], sorted(g.predecessors(4))
    ('Deep vs shallow networks', [1, 3])
    >>> nx.is_directed_acyclic_graph(g)
    True
    """
    numbers = {info.number for info in COURSE}
    ready = numbers if available is None else set(available)
    unknown = ready - numbers
    if unknown:
        raise ValueError(f"available must hold notebook numbers 0..{max(numbers)}, got unknown {sorted(unknown)}")
    g = nx.DiGraph()
    for concept in CONCEPTS:
        g.add_node(concept, kind="concept")
    for info in COURSE:
        g.add_node(info.number, kind="notebook", title=info.title, summary=info.summary, available=info.number in ready)
    for info in COURSE:
        for pre in info.prerequisites:
            g.add_edge(pre, info.number, kind="prerequisite")
        for concept in info.concepts:
            g.add_edge(info.number, concept, kind="teaches")
    return g


def reading_path(number: int) -> list[int]:
    """Every notebook to read before ``number``, in a valid order, ending with ``number`` itself.

    Examples
    --------
    >>> reading_path(6)
    [0, 1, 2, 3, 4, 5, 6]
    """
    numbers = [info.number for info in COURSE]
    number = check_int("number", number, minimum=min(numbers), maximum=max(numbers))
    g = graph()
    notebooks = g.subgraph(n for n, kind in g.nodes(data="kind") if kind == "notebook")
    needed = nx.ancestors(notebooks, number) | {number}
    return list(nx.lexicographical_topological_sort(notebooks.subgraph(needed)))


_graph = graph


def draw_course_map(graph: nx.DiGraph | None = None, highlight: Iterable[int] = (), ax: Axes | None = None) -> Axes:
    """Draw the map: notebooks on the left (greyed if not yet available), concepts on the right.

    Every prerequisite edge is drawn as a thin grey arc on the left of the notebooks. Notebooks in
    ``highlight`` (e.g. a :func:`reading_path`) are ringed in red, their labels set in bold, and the
    prerequisite edges among them drawn as red arcs over the grey ones.

    Examples
    --------
    >>> ax = draw_course_map()
    >>> len(ax.texts) == len(COURSE) + len(CONCEPTS)
    True
    >>> plt.close("all")
    """
    g = _graph() if graph is None else graph  # the module function: the argument shadows its name here
    ax = get_ax(ax, figsize=(13, 9))
    notebooks = [n for n, kind in g.nodes(data="kind") if kind == "notebook"]
    concepts = [n for n, kind in g.nodes(data="kind") if kind == "concept"]
    pos = {n: (0.0, -i) for i, n in enumerate(notebooks)}
    spread = (len(notebooks) - 1) / max(len(concepts) - 1, 1)
    pos.update({c: (1.0, -i * spread) for i, c in enumerate(concepts)})
    teaches = [(u, v) for u, v, kind in g.edges(data="kind") if kind == "teaches"]
    ready = {n for n in notebooks if g.nodes[n].get("available", True)}
    nx.draw_networkx_edges(g, pos, edgelist=[e for e in teaches if e[0] in ready], ax=ax, edge_color="#0072B2", width=2, arrows=False)
    nx.draw_networkx_edges(g, pos, edgelist=[e for e in teaches if e[0] not in ready], ax=ax, edge_color="#BBBBBB", width=1, style="dashed", arrows=False)
    colours = ["#0072B2" if n in ready else "#CCCCCC" for n in notebooks]
    nx.draw_networkx_nodes(g, pos, nodelist=notebooks, node_color=colours, node_size=260, ax=ax)
    nx.draw_networkx_nodes(g, pos, nodelist=concepts, node_color="#E69F00", node_shape="s", node_size=320, ax=ax)
    every_prereq = [(u, v) for u, v, kind in g.edges(data="kind") if kind == "prerequisite"]
    nx.draw_networkx_edges(
        g, pos, edgelist=every_prereq, ax=ax, edge_color="#999999", width=1, arrows=True, arrowsize=10,
        connectionstyle="arc3,rad=-0.5", node_size=300,
    )
    highlight = set(highlight)  # may be a one-shot iterator
    marked = [n for n in notebooks if n in highlight]
    if marked:
        prereq = [(u, v) for u, v, kind in g.edges(data="kind") if kind == "prerequisite" and u in marked and v in marked]
        nx.draw_networkx_edges(
            g, pos, edgelist=prereq, ax=ax, edge_color="#D55E00", width=2, arrows=True, arrowsize=18,
            connectionstyle="arc3,rad=-0.5", node_size=520,
        )
        nx.draw_networkx_nodes(
            g, pos, nodelist=marked, node_color="none", edgecolors="#D55E00", linewidths=3, node_size=520, ax=ax
        )
    for n in notebooks:
        colour = "black" if n in ready else "#888888"
        weight = "bold" if n in marked else "normal"
        label = f"{n:02d}  {g.nodes[n]['title']}"
        ax.text(pos[n][0] - 0.06, pos[n][1], label, ha="right", va="center", fontsize=14, color=colour, weight=weight)
    for c in concepts:
        ax.text(pos[c][0] + 0.05, pos[c][1], c, ha="left", va="center", fontsize=14)
    ax.set_xlim(-1.3, 1.8)
    ax.set_axis_off()
    return ax
