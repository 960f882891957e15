"""A sequence task with a known, input-dependent dependency graph, and how to score attention against it.

Notebook 10 tests memo 138's Conjecture 2 (§4.2.2): self-attention selects, for each token, the few tokens
that a constituent function needs. To measure that, every example must come with its true graph.

* :func:`pointer_task` -- sequences in which every position points to ``q`` other positions; its label is a
  function of the values found there, so each example comes with its true dependency graph.
* :func:`graph_recovery` -- precision and recall of the attended edges (top-``q`` per row, or above a
  threshold) against the true graph, averaged over examples (a :class:`GraphRecovery`).
* :func:`draw_pointer_graph` -- one example's true graph, with the attended edges drawn over it.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt  # noqa: F401 (the doctests close their figures with it)
import networkx as nx
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ._checks import as_generator, check_array, check_int, check_open_interval
from .plotting import get_ax

__all__ = ["PointerTask", "pointer_task", "GraphRecovery", "graph_recovery", "draw_pointer_graph"]


# --- the task -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointerTask:
    """Sequences with a known, input-dependent dependency graph (see :func:`pointer_task`).

    Attributes
    ----------
    tokens : numpy.ndarray of int, shape (n, T, 1 + q)
        Field 0 is the value ``a_t`` in ``0 .. vocab - 1``; fields 1 .. q are the pointers of position ``t``.
    labels : numpy.ndarray of int, shape (n, T)
        The range ``max - min`` of the pointed values at each position (``|a_p - a_r|`` for ``q = 2``;
        the pointed value itself for ``q = 1``), in ``0 .. vocab - 1``.
    parents : numpy.ndarray of int, shape (n, T, q)
        The positions each output depends on through its pointers (the true graph's edges ``p -> t``).
    field_sizes : tuple of int
        ``(vocab, T, ..., T)``: the number of values each field takes (for the embeddings).

    Examples
    --------
    >>> task = pointer_task(2, seq_len=4, vocab=3, n_pointers=1, seed=0)
    >>> bool((task.tokens[..., 1] == task.parents[..., 0]).all())  # the pointers are the token's own fields
    True
    """

    tokens: np.ndarray
    labels: np.ndarray
    parents: np.ndarray
    field_sizes: tuple[int, ...]


def pointer_task(
    n: int, seq_len: int = 8, vocab: int = 5, n_pointers: int = 2, seed: int | np.random.Generator = 0
) -> PointerTask:
    """Draw ``n`` sequences of the q-pointer task: the output at position t is a function of q chosen tokens.

    Each position ``t`` holds a value ``a_t`` (uniform in ``0 .. vocab - 1``) and ``q`` distinct pointers
    ``p_{t,1}, ..., p_{t,q}`` (a uniform random ``q``-subset of the positions, ``t`` itself allowed). The label
    is the range of the pointed values, ``y_t = max_j a_{p_{t,j}} - min_j a_{p_{t,j}}`` (``|a_p - a_r|`` for
    ``q = 2``; for ``q = 1`` the pointed value itself). Each output is a sparse function of the sequence -- of
    ``q`` values, selected by the content of token ``t`` -- so every example has a known dependency graph that
    changes from example to example: a compositionally sparse target with an input-dependent graph, the
    q-sparse token selection of Sanford, Hsu & Telgarsky (2023) with a nonlinear readout. (A modular sum
    would be a harder choice: each single parent then carries no information about the label, a
    parity-like signal that gradient descent finds slowly.)

    Parameters
    ----------
    n : int
        Number of sequences, >= 1.
    seq_len : int
        Sequence length ``T``, >= 2.
    vocab : int
        Number of values, >= 2.
    n_pointers : int
        Pointers per position ``q``, in ``1 .. seq_len``.
    seed : int or numpy.random.Generator

    Returns
    -------
    PointerTask

    References
    ----------
    CBMM Memo 138, §4.2.2 (Conjecture 2); C. Sanford, D. Hsu, M. Telgarsky, "Representational strengths and
    limitations of transformers", NeurIPS 2023 (q-sparse averaging).

    Examples
    --------
    >>> task = pointer_task(3, seq_len=6, vocab=4, n_pointers=2, seed=0)
    >>> task.tokens.shape, task.labels.shape, task.parents.shape, task.field_sizes
    ((3, 6, 3), (3, 6), (3, 6, 2), (4, 6, 6))
    >>> a, p = task.tokens[0, :, 0], task.parents[0, 2]
    >>> int(task.labels[0, 2]) == abs(int(a[p[0]]) - int(a[p[1]]))
    True
    """
    n = check_int("n", n, minimum=1)
    seq_len = check_int("seq_len", seq_len, minimum=2)
    vocab = check_int("vocab", vocab, minimum=2)
    q = check_int("n_pointers", n_pointers, minimum=1, maximum=seq_len)
    rng = as_generator(seed)
    values = rng.integers(vocab, size=(n, seq_len))
    parents = np.argsort(rng.random((n, seq_len, seq_len)), axis=-1)[..., :q]  # (n, T, q): a random q-subset per row
    gathered = np.take_along_axis(values[:, None, :].repeat(seq_len, axis=1), parents, axis=-1)  # (n, T, q)
    labels = gathered[..., 0] if q == 1 else gathered.max(axis=-1) - gathered.min(axis=-1)
    tokens = np.concatenate([values[..., None], parents], axis=-1)
    return PointerTask(tokens=tokens.astype(np.int64), labels=labels.astype(np.int64), parents=parents.astype(np.int64),
                       field_sizes=(vocab,) + (seq_len,) * q)


# --- comparing attention with the true graph ----------------------------------------------------------


@dataclass(frozen=True)
class GraphRecovery:
    """Precision and recall of predicted edges against the true graph, averaged over examples.

    Attributes
    ----------
    precision, recall : float
        Means over examples of |predicted ∩ true| / |predicted| and |predicted ∩ true| / |true|.
        Precision is undefined for an example with no predicted edge (possible with a threshold): such
        examples are left out of its mean, and the precision is 0 when no example has a predicted edge.
    per_example_precision, per_example_recall : numpy.ndarray, shape (n,)
        Per example; precision is NaN where nothing was predicted.

    Examples
    --------
    >>> r = graph_recovery(np.array([[[0.0, 1.0], [1.0, 0.0]]]), np.array([[[1], [0]]]))
    >>> r.precision, r.recall, r.per_example_recall
    (1.0, 1.0, array([1.]))
    """

    precision: float
    recall: float
    per_example_precision: np.ndarray
    per_example_recall: np.ndarray


def _check_attention(attention: object) -> np.ndarray:
    a = check_array("attention", attention.detach().cpu().numpy() if isinstance(attention, torch.Tensor) else attention)
    if a.ndim != 3 or a.shape[1] != a.shape[2]:
        raise ValueError(f"attention must have shape (n, T, T), got {a.shape}")
    return a


def graph_recovery(
    attention: np.ndarray, parents: np.ndarray, k: int | None = None, threshold: float | None = None
) -> GraphRecovery:
    """How well attention maps recover the true dependency graphs: precision and recall of attended edges.

    Row ``t`` of ``attention[i]`` gives the weight of each edge ``s -> t``. The predicted edges of a row are its
    ``k`` largest weights (default ``k = q``, the true in-degree), or, with ``threshold``, all weights
    ``>= threshold``. The true edges are ``parents[i, t, :] -> t``.

    Parameters
    ----------
    attention : array, shape (n, T, T)
        One map per example (average the heads first, e.g. ``maps.mean(axis=1)``).
    parents : array of int, shape (n, T, q)
        True parents of each position (as :attr:`PointerTask.parents`).
    k : int, optional
        Edges kept per row, in 1 .. T. Give ``k`` or ``threshold``, not both.
    threshold : float, optional
        In (0, 1]: keep edges whose weight is at least this.

    Returns
    -------
    GraphRecovery

    Examples
    --------
    >>> parents = np.array([[[1], [0]]])  # 2 positions, each depends on the other
    >>> perfect = np.array([[[0.1, 0.9], [0.8, 0.2]]])
    >>> graph_recovery(perfect, parents).precision
    1.0
    >>> r = graph_recovery(np.array([[[0.4, 0.6], [0.3, 0.7]]]), parents, k=2)
    >>> r.precision, r.recall
    (0.5, 1.0)
    """
    a = _check_attention(attention)
    par = np.asarray(parents)
    if not np.issubdtype(par.dtype, np.integer):
        raise TypeError(f"parents must be an integer array, got dtype {par.dtype}")
    n, t = a.shape[:2]
    if par.ndim != 3 or par.shape[:2] != (n, t):
        raise ValueError(f"parents must have shape ({n}, {t}, q), got {par.shape}")
    if par.min() < 0 or par.max() >= t:
        raise ValueError(f"parents must be positions in 0 .. {t - 1}, got values in {par.min()} .. {par.max()}")
    if k is not None and threshold is not None:
        raise ValueError(f"give k or threshold, not both; got k={k}, threshold={threshold}")
    truth = np.zeros(a.shape, dtype=bool)
    np.put_along_axis(truth, par, True, axis=-1)
    if threshold is not None:
        threshold = check_open_interval("threshold", threshold, 0.0, 1.0, closed_right=True)
        predicted = a >= threshold
    else:
        k = par.shape[-1] if k is None else check_int("k", k, minimum=1, maximum=t)
        top = np.argsort(-a, axis=-1, kind="stable")[..., :k]
        predicted = np.zeros(a.shape, dtype=bool)
        np.put_along_axis(predicted, top, True, axis=-1)
    hits = (predicted & truth).sum(axis=(1, 2))
    n_pred, n_true = predicted.sum(axis=(1, 2)), truth.sum(axis=(1, 2))
    precision = np.where(n_pred > 0, hits / np.maximum(n_pred, 1), np.nan)
    recall = hits / n_true
    mean_precision = float(np.nanmean(precision)) if np.any(n_pred > 0) else 0.0
    return GraphRecovery(mean_precision, float(recall.mean()), precision, recall)



def draw_pointer_graph(
    parents: np.ndarray, values: np.ndarray | None = None, attention: np.ndarray | None = None, ax: Axes | None = None
) -> Axes:
    """Draw one example's true dependency graph: input tokens below, outputs above, an edge per parent.

    With ``attention`` (shape (T, T)), the top-``q`` attended edges of each output are drawn too: green where
    they are true edges, red dashed where they are not.

    Parameters
    ----------
    parents : array of int, shape (T, q)
    values : array of int, shape (T,), optional
        Token values, written in the input nodes.
    attention : array, shape (T, T), optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = draw_pointer_graph(np.array([[1], [0]]), values=np.array([3, 4]))
    >>> sorted(t.get_text() for t in ax.texts)  # values and outputs, and the positions under the tokens
    ['3', '4', 's = 0', 's = 1', 'y0', 'y1']
    >>> plt.close("all")
    """
    par = check_array("parents", parents)
    if par.ndim != 2 or par.size == 0:
        raise ValueError(f"parents must have shape (T, q) with T, q >= 1, got {par.shape}")
    t, q = par.shape
    if np.any(par != np.round(par)) or par.min() < 0 or par.max() >= t:
        raise ValueError(f"parents must hold positions 0 .. {t - 1}, got {par.tolist()}")
    par = par.astype(int)
    if values is not None:
        values = check_array("values", values)
        if values.shape != (t,):
            raise ValueError(f"values must have shape ({t},), one per position, got {values.shape}")
    ax = get_ax(ax, figsize=(7, 4))
    g = nx.DiGraph()
    pos = {}
    for i in range(t):
        g.add_node(("x", i))
        g.add_node(("y", i))
        pos[("x", i)], pos[("y", i)] = (i, 0.0), (i, 1.0)
    true_edges = [(("x", int(s)), ("y", i)) for i in range(t) for s in par[i]]
    g.add_edges_from(true_edges)
    style = {"ax": ax, "arrows": True, "arrowsize": 14, "node_size": 700}
    nx.draw_networkx_edges(g, pos, edgelist=true_edges, edge_color="#999999", width=5, alpha=0.5, **style)
    if attention is not None:
        a = check_array("attention", attention)
        if a.shape != (t, t):
            raise ValueError(f"attention must have shape ({t}, {t}), got {a.shape}")
        top = np.argsort(-a, axis=-1, kind="stable")[:, :q]
        found = [(("x", int(s)), ("y", i)) for i in range(t) for s in top[i]]
        good = [e for e in found if e in set(true_edges)]
        bad = [e for e in found if e not in set(true_edges)]
        nx.draw_networkx_edges(g, pos, edgelist=good, edge_color="#009E73", width=2, **style)
        nx.draw_networkx_edges(g, pos, edgelist=bad, edge_color="#D55E00", width=2, style="dashed", **style)
        handles = [Line2D([], [], color="#999999", lw=5, alpha=0.5, label="true edge"),
                   Line2D([], [], color="#009E73", lw=2, label=f"top-{q} attended, true"),
                   Line2D([], [], color="#D55E00", lw=2, ls="--", label=f"top-{q} attended, false")]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=3, fontsize=12, frameon=False)
    colours = ["#56B4E9" if kind == "x" else "#E69F00" for kind, _ in g.nodes]
    nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colours, node_size=700, edgecolors="black", linewidths=0.8)
    for (kind, i), (x0, y0) in pos.items():
        label = f"y{i}" if kind == "y" else (str(int(values[i])) if values is not None else f"x{i}")
        ax.text(x0, y0, label, ha="center", va="center", fontsize=12, zorder=5)
        if kind == "x":
            ax.text(x0, y0 - 0.16, f"s = {i}", ha="center", va="top", fontsize=12, color="0.3")
    ax.set_xlim(-0.6, t - 0.4)
    ax.set_ylim(-0.45, 1.35)
    ax.set_axis_off()
    return ax
