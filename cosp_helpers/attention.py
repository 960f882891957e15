"""A small transformer with exposed attention; sparse attention; the restricted isometry of Lemma 3; a pointer task with a known graph.

CBMM Memo 138 conjectures (§4.2.2, Conjecture 2) that self-attention selects, for each token, the sparse
set of tokens a constituent function needs: a *flexible*, input-dependent version of the hard-wired graph of
a CNN. This module holds the model, the measurements of its attention, and a task with a known graph to compare
them with.

* :func:`sparsemax`, :func:`thresholded_softmax` -- two ways of normalizing attention scores that can give
  exact zeros (Martins & Astudillo 2016; the memo's thresholded :math:`H_D`); :func:`normalize_scores`
  dispatches between them and the softmax.
* :class:`TinyTransformer` -- 1-2 layers of multi-head self-attention and an MLP, in three block forms
  (the usual pre-LN block, PaLM's parallel block, and the memo §6.10 formula read literally), with the
  attention weights of the last forward pass kept.
* :func:`sparsity` -- entropy and support size of attention rows.
* :func:`restricted_isometry_constant`, :func:`coherence` -- the restricted-isometry constant of a matrix
  over ``s``-sparse vectors, exactly (all supports) or by sampling supports (Lemma 3, memo §6.10).
* :func:`plot_attention` -- an attention heat map, with the true parents marked.


The task, in which every example comes with its true graph:

* :func:`pointer_task` -- sequences in which every position points to ``q`` other positions; its label is a
  function of the values found there, so each example comes with its true dependency graph.
* :func:`graph_recovery` -- precision and recall of the attended edges (top-``q`` per row, or above a
  threshold) against the true graph, averaged over examples (a :class:`GraphRecovery`).
* :func:`draw_pointer_graph` -- one example's true graph, with the attended edges drawn over it.
"""

from __future__ import annotations

from dataclasses import dataclass
import itertools
import math
from typing import Sequence

from matplotlib.axes import Axes
from matplotlib.lines import Line2D
import matplotlib.pyplot as plt  # noqa: F401 (the doctests close their figures with it)
import networkx as nx
import numpy as np
import torch
from torch import nn

from ._checks import (
    as_generator,
    as_torch_generator,
    check_allocation,
    check_array,
    check_int,
    check_open_interval,
    check_size,
    check_tensor,
)
from .plotting import get_ax

__all__ = [
    "sparsemax",
    "thresholded_softmax",
    "normalize_scores",
    "TinyTransformer",
    "sparsity",
    "restricted_isometry_constant",
    "coherence",
    "plot_attention",
    "PointerTask",
    "pointer_task",
    "GraphRecovery",
    "graph_recovery",
    "draw_pointer_graph",
]

_KINDS = ("softmax", "thresholded", "sparsemax")
_BLOCKS = ("standard", "parallel", "memo")


# --- normalizing attention scores --------------------------------------------------------------------


def sparsemax(z: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Euclidean projection of each row of ``z`` onto the probability simplex (sparsemax).

    ``p = max(z - tau, 0)``, with ``tau`` chosen so that ``p`` sums to 1: sort ``z`` decreasingly, the support
    size is the largest ``k`` with ``1 + k z_(k) > z_(1) + ... + z_(k)``, and ``tau = (z_(1) + ... + z_(k) - 1) / k``.
    Unlike the softmax it returns exact zeros; gradients flow through ``tau`` by autograd.

    Parameters
    ----------
    z : torch.Tensor
        Scores, any shape with at least one dimension.
    dim : int
        The dimension to normalize.

    Returns
    -------
    torch.Tensor
        Same shape as ``z``; non-negative, summing to 1 along ``dim``.

    References
    ----------
    A. F. T. Martins, R. F. Astudillo, "From softmax to sparsemax", ICML 2016 (Algorithm 1).

    Examples
    --------
    >>> sparsemax(torch.tensor([1.0, 0.5, -1.0]))  # tau = (1 + 0.5 - 1) / 2 = 0.25
    tensor([0.7500, 0.2500, 0.0000])
    >>> sparsemax(torch.tensor([0.0, 0.0]))
    tensor([0.5000, 0.5000])
    """
    z = check_tensor("z", z, allow_minus_inf=True)
    if z.dim() == 0:
        raise ValueError("z must have at least one dimension, got a scalar")
    return _sparsemax(z, dim)


def _sparsemax(z: torch.Tensor, dim: int) -> torch.Tensor:
    z = z.transpose(dim, -1)
    zs, _ = torch.sort(z, dim=-1, descending=True)
    cumsum = zs.cumsum(dim=-1)
    k = torch.arange(1, z.shape[-1] + 1, device=z.device, dtype=z.dtype)
    support = (1 + k * zs > cumsum).to(z.dtype)  # true for the first k(z) sorted entries
    k_z = support.sum(dim=-1, keepdim=True)  # >= 1: the largest entry is always in the support
    tau = (cumsum.gather(-1, k_z.long() - 1) - 1) / k_z
    return torch.clamp(z - tau, min=0).transpose(dim, -1)


def thresholded_softmax(z: torch.Tensor, threshold: float, dim: int = -1) -> torch.Tensor:
    """The memo's thresholded softmax ``H_D``: softmax, drop the weights below ``threshold``, renormalize.

    ``p = softmax(z)``; ``m_j = 1`` where ``p_j >= threshold`` (and always at the row's largest entry, so no row
    is emptied); the result is ``p * m / sum(p * m)``. The mask is treated as a constant in the gradient.

    Parameters
    ----------
    z : torch.Tensor
        Scores.
    threshold : float
        In [0, 1). With 0 this is the softmax.
    dim : int

    Returns
    -------
    torch.Tensor
        Non-negative, summing to 1 along ``dim``, with zeros where the softmax weight was below ``threshold``.

    References
    ----------
    CBMM Memo 138, §4.2.2: "the normalized softmax H_D(x) = x H(x) (with H being a threshold on x)".

    Examples
    --------
    >>> p = thresholded_softmax(torch.log(torch.tensor([0.6, 0.3, 0.1])), threshold=0.2)
    >>> torch.allclose(p, torch.tensor([2 / 3, 1 / 3, 0.0]))
    True
    """
    z = check_tensor("z", z, allow_minus_inf=True)
    threshold = float(threshold) if not isinstance(threshold, bool) else threshold
    if not isinstance(threshold, float) or not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a number in [0, 1), got {threshold!r}")
    return _thresholded_softmax(z, threshold, dim)


def _thresholded_softmax(z: torch.Tensor, threshold: float, dim: int) -> torch.Tensor:
    p = torch.softmax(z, dim=dim)
    keep = (p >= threshold) | (p == p.amax(dim=dim, keepdim=True))
    p = p * keep.to(p.dtype)
    return p / p.sum(dim=dim, keepdim=True)


def normalize_scores(z: torch.Tensor, kind: str = "softmax", threshold: float = 0.1, dim: int = -1) -> torch.Tensor:
    """Turn attention scores into weights with ``kind`` = "softmax", "thresholded" or "sparsemax".

    Parameters
    ----------
    z : torch.Tensor
        Scores.
    kind : {"softmax", "thresholded", "sparsemax"}
    threshold : float
        Used by "thresholded" only (see :func:`thresholded_softmax`).
    dim : int

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> z = torch.tensor([2.0, 1.0, -3.0])
    >>> [int((normalize_scores(z, k) > 0).sum()) for k in ("softmax", "thresholded", "sparsemax")]
    [3, 2, 1]
    """
    z = check_tensor("z", z, allow_minus_inf=True)
    if kind == "softmax":
        return torch.softmax(z, dim=dim)
    if kind == "thresholded":
        return thresholded_softmax(z, threshold, dim=dim)
    if kind == "sparsemax":
        return sparsemax(z, dim=dim)
    raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")


def _normalize_scores(z: torch.Tensor, kind: str, threshold: float) -> torch.Tensor:
    # the model's own path: its kind and threshold were checked when it was built, and a NaN from a
    # diverging run is reported by the training loop's check of the loss ("lower lr")
    if kind == "softmax":
        return torch.softmax(z, dim=-1)
    if kind == "thresholded":
        return _thresholded_softmax(z, threshold, -1)
    return _sparsemax(z, -1)


# --- the model ----------------------------------------------------------------------------------------


class _Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_mlp: int, form: str, kind: str, threshold: float) -> None:
        super().__init__()
        self.n_heads, self.form, self.kind, self.threshold = n_heads, form, kind, threshold
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.weights: torch.Tensor | None = None
        self.scores: torch.Tensor | None = None

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape  # (B, T, C)
        h = self.n_heads
        q, k, v = self.qkv(x).view(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)  # each (B, H, T, C/H)
        scores = q @ k.transpose(-2, -1) / math.sqrt(c // h)  # (B, H, T, T)
        weights = _normalize_scores(scores, self.kind, self.threshold)
        self.weights, self.scores = weights.detach(), scores.detach()
        return self.out((weights @ v).transpose(1, 2).reshape(b, t, c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.form == "standard":  # x' = x + Attn(LN(x)); y = x' + MLP(LN(x'))
            x = x + self.attend(self.ln1(x))
            return x + self.mlp(self.ln2(x))
        if self.form == "parallel":  # y = x + MLP(LN(x)) + Attn(LN(x)), one shared LayerNorm as in PaLM
            normed = self.ln1(x)
            return x + self.mlp(normed) + self.attend(normed)
        return x + self.mlp(self.ln2(x + self.attend(self.ln1(x))))  # memo §6.10 as printed


class TinyTransformer(nn.Module):
    """Self-attention layers over a sequence of tokens with several fields, a class per position.

    Each token is the sum of one learned embedding per field and a learned position embedding; then
    ``n_layers`` blocks of multi-head self-attention (no causal mask) and a ReLU MLP, a final LayerNorm and a
    linear read-out to ``n_classes`` logits at every position. The attention weights of the last forward pass
    are kept, detached, in :attr:`attention` (one ``(B, H, T, T)`` tensor per layer; row ``t`` says how much
    position ``t`` reads from each position).

    Parameters
    ----------
    field_sizes : sequence of int
        Number of values of each input field (e.g. ``PointerTask.field_sizes``).
    seq_len : int
        Sequence length ``T``.
    n_classes : int
        Classes per position.
    d_model : int
        Width of the residual stream, a multiple of ``n_heads``, at most 256.
    n_heads, n_layers : int
        Heads per layer (>= 1) and blocks (1 .. 4).
    d_mlp : int, optional
        Hidden units of each MLP (default ``2 * d_model``).
    block : {"standard", "parallel", "memo"}
        "standard": the usual pre-LN block ``x' = x + Attn(LN(x))``, ``y = x' + MLP(LN(x'))``;
        "parallel": ``y = x + MLP(LN(x)) + Attn(LN(x))`` (PaLM, memo §6.10);
        "memo": ``y = x + MLP(LN(x + Attn(LN(x))))``, the memo's "standard formulation" as printed, in which
        the attention output reaches the residual stream only through the MLP.
    attention : {"softmax", "thresholded", "sparsemax"}
        How scores become weights (:func:`normalize_scores`).
    threshold : float
        For ``attention="thresholded"``.
    seed : int or numpy.random.Generator
        Seeds the initialization (a local generator; PyTorch's default schemes).

    Notes
    -----
    Input: integer tensor ``(B, T, F)`` (or ``(B, T)`` with one field); output: logits ``(B, T, n_classes)``.

    References
    ----------
    CBMM Memo 138, §4.2.2 and §6.10; A. Vaswani et al., "Attention is all you need", NeurIPS 2017;
    R. Xiong et al., "On layer normalization in the transformer architecture", ICML 2020 (pre-LN);
    A. Chowdhery et al., "PaLM", JMLR 2023 (parallel block); A. Karpathy, nanoGPT (layout).

    Examples
    --------
    >>> net = TinyTransformer((5, 8, 8), seq_len=8, n_classes=5, d_model=16, n_heads=2, seed=0)
    >>> x = torch.zeros(3, 8, 3, dtype=torch.long)
    >>> net(x).shape, net.attention[0].shape
    (torch.Size([3, 8, 5]), torch.Size([3, 2, 8, 8]))
    >>> bool(torch.allclose(net.attention[0].sum(-1), torch.ones(3, 2, 8)))
    True
    """

    def __init__(
        self,
        field_sizes: Sequence[int],
        seq_len: int,
        n_classes: int,
        d_model: int = 32,
        n_heads: int = 2,
        n_layers: int = 1,
        d_mlp: int | None = None,
        *,
        block: str = "standard",
        attention: str = "softmax",
        threshold: float = 0.1,
        seed: int | np.random.Generator = 0,
    ) -> None:
        super().__init__()
        if isinstance(field_sizes, (str, bytes)) or not isinstance(field_sizes, Sequence) or not field_sizes:
            raise TypeError(f"field_sizes must be a non-empty sequence of ints, got {field_sizes!r}")
        self.field_sizes = tuple(check_int("field_sizes entry", s, minimum=1) for s in field_sizes)
        self.seq_len = check_size("seq_len", seq_len)
        self.n_classes = check_size("n_classes", n_classes)
        self.d_model = check_int("d_model", d_model, minimum=1, maximum=256)
        check_allocation("seq_len and d_model", self.seq_len, self.d_model)
        check_allocation("n_classes and d_model", self.n_classes, self.d_model)
        self.n_heads = check_int("n_heads", n_heads, minimum=1)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be a multiple of n_heads={self.n_heads}, got {self.d_model}")
        self.n_layers = check_int("n_layers", n_layers, minimum=1, maximum=4)
        d_mlp = 2 * self.d_model if d_mlp is None else check_int("d_mlp", d_mlp, minimum=1)
        if block not in _BLOCKS:
            raise ValueError(f"block must be one of {_BLOCKS}, got {block!r}")
        if attention not in _KINDS:
            raise ValueError(f"attention must be one of {_KINDS}, got {attention!r}")
        if attention == "thresholded":
            check_open_interval("threshold", threshold, 0.0, 1.0)
        self.block, self.kind = block, attention
        with torch.random.fork_rng(devices=[]):  # build without touching the global generator's state ...
            self.fields = nn.ModuleList(nn.Embedding(s, self.d_model) for s in self.field_sizes)
            self.position = nn.Embedding(self.seq_len, self.d_model)
            self.blocks = nn.ModuleList(
                _Block(self.d_model, self.n_heads, d_mlp, block, attention, float(threshold))
                for _ in range(self.n_layers)
            )
            self.ln_f = nn.LayerNorm(self.d_model)
            self.head = nn.Linear(self.d_model, self.n_classes)
        g = as_torch_generator(seed)  # ... then draw every weight from a local generator
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, nn.Embedding):
                    module.weight.copy_(torch.randn(module.weight.shape, generator=g))
                elif isinstance(module, nn.Linear):
                    bound = 1 / math.sqrt(module.in_features)
                    module.weight.copy_((torch.rand(module.weight.shape, generator=g) * 2 - 1) * bound)
                    module.bias.copy_((torch.rand(module.bias.shape, generator=g) * 2 - 1) * bound)

    @property
    def attention(self) -> list[torch.Tensor]:
        """Attention weights of the last forward pass, one ``(B, H, T, T)`` tensor per layer."""
        return [b.weights for b in self.blocks if b.weights is not None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x[..., None]
        if x.dim() != 3 or x.shape[1] != self.seq_len or x.shape[2] != len(self.field_sizes):
            raise ValueError(
                f"x must have shape (B, {self.seq_len}, {len(self.field_sizes)}), got {tuple(x.shape)}"
            )
        h = self.position.weight[None]  # (1, T, C)
        for i, emb in enumerate(self.fields):
            h = h + emb(x[..., i])  # (B, T, C)
        for blk in self.blocks:
            h = blk(h)
        return self.head(self.ln_f(h))  # (B, T, n_classes)

    def _stacked_forward(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Every member of an ensemble at once (``cosp.train_ensemble``): ``params`` maps each parameter name to
        the members' values stacked along a first axis ``M``; ``x`` is one batch ``(B, T, F)`` of tokens shared by
        the members. Returns logits ``(M, B, T, n_classes)``; member ``i`` is this model's forward with the
        ``i``-th values (up to the order of summation). The attention weights are not kept."""
        if x.dim() == 2:
            x = x[..., None]
        c, n_heads = self.d_model, self.n_heads

        def linear(h: torch.Tensor, name: str) -> torch.Tensor:  # (M, B, T, in) -> (M, B, T, out), one product per member
            weight, bias = params[f"{name}.weight"], params[f"{name}.bias"]
            m, b, t, _ = h.shape
            return torch.baddbmm(bias[:, None], h.reshape(m, b * t, -1), weight.transpose(1, 2)).view(m, b, t, -1)

        def layer_norm(h: torch.Tensor, name: str) -> torch.Tensor:
            normed = nn.functional.layer_norm(h, (c,), eps=self.ln_f.eps)
            return normed * params[f"{name}.weight"][:, None, None] + params[f"{name}.bias"][:, None, None]

        def attend(h: torch.Tensor, name: str, blk: _Block) -> torch.Tensor:
            m, b, t, _ = h.shape
            q, k, v = linear(h, f"{name}.qkv").view(m, b, t, 3, n_heads, c // n_heads).permute(3, 0, 1, 4, 2, 5)
            scores = q @ k.transpose(-2, -1) / math.sqrt(c // n_heads)  # (M, B, H, T, T)
            weights = _normalize_scores(scores, blk.kind, blk.threshold)
            return linear((weights @ v).transpose(2, 3).reshape(m, b, t, c), f"{name}.out")

        def mlp(h: torch.Tensor, name: str) -> torch.Tensor:
            return linear(torch.relu(linear(h, f"{name}.mlp.0")), f"{name}.mlp.2")

        h = params["position.weight"][:, None]  # (M, 1, T, C)
        members = h.shape[0]
        for i, size in enumerate(self.field_sizes):
            # one look-up in the members' tables laid end to end: member j's row v is row j * size + v
            rows = x[..., i] + size * torch.arange(members, device=x.device).view(-1, 1, 1)  # (M, B, T)
            h = h + nn.functional.embedding(rows, params[f"fields.{i}.weight"].reshape(members * size, c))  # (M, B, T, C)
        for j, blk in enumerate(self.blocks):
            name = f"blocks.{j}"
            if blk.form == "standard":
                h = h + attend(layer_norm(h, f"{name}.ln1"), name, blk)
                h = h + mlp(layer_norm(h, f"{name}.ln2"), name)
            elif blk.form == "parallel":
                normed = layer_norm(h, f"{name}.ln1")
                h = h + mlp(normed, name) + attend(normed, name, blk)
            else:
                h = h + mlp(layer_norm(h + attend(layer_norm(h, f"{name}.ln1"), name, blk), f"{name}.ln2"), name)
        return linear(layer_norm(h, "ln_f"), "head")

    def _configuration(self) -> tuple:
        """What the forward does beyond the parameter shapes: members of an ensemble must agree on it."""
        return (self.block, self.kind, tuple(b.threshold for b in self.blocks))

    def attention_maps(self, x: np.ndarray | torch.Tensor, scores: bool = False) -> np.ndarray:
        """Attention weights for inputs ``x``, without gradients: array ``(n_layers, B, H, T, T)``.

        With ``scores=True``, the scores before normalization instead, ``Q K^T / sqrt(d_head)`` with
        ``Q = LN(X) W_Q`` and ``K = LN(X) W_K`` (biases included): the matrix of memo §6.10's Lemma 3.

        Examples
        --------
        >>> net = TinyTransformer((4,), seq_len=5, n_classes=2, d_model=8, n_heads=2, n_layers=2)
        >>> net.attention_maps(np.zeros((3, 5), dtype=int)).shape
        (2, 3, 2, 5, 5)
        >>> x = np.zeros((1, 5), dtype=int)
        >>> w, z = net.attention_maps(x), net.attention_maps(x, scores=True)
        >>> bool(np.allclose(w, np.exp(z) / np.exp(z).sum(-1, keepdims=True), atol=1e-6))
        True
        """
        x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.long)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                self(x.to(next(self.parameters()).device))
        finally:
            self.train(was_training)
        if scores:
            return torch.stack([b.scores for b in self.blocks]).cpu().numpy()
        return torch.stack(self.attention).cpu().numpy()


def sparsity(attention: np.ndarray, tol: float = 1e-6) -> tuple[float, float]:
    """Mean row entropy (in nats) and mean number of weights above ``tol`` per row of attention maps.

    A uniform row over ``T`` positions has entropy ``log T`` and ``T`` non-zeros; a one-hot row has 0 and 1.

    Parameters
    ----------
    attention : array, shape (..., T)
        Rows of non-negative weights summing to 1.
    tol : float
        Weights ``<= tol`` count as zero, >= 0.

    Returns
    -------
    (float, float)
        Mean entropy, mean support size.

    Examples
    --------
    >>> sparsity(np.array([[0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]]))  # (log 2 + log 4) / 2
    (1.0397207708399179, 3.0)
    """
    a = np.asarray(attention.detach().cpu() if isinstance(attention, torch.Tensor) else attention, dtype=float)
    if a.ndim < 1 or a.shape[-1] < 1:
        raise ValueError(f"attention must have rows along its last axis, got shape {a.shape}")
    if a.min() < 0 or not np.allclose(a.sum(axis=-1), 1.0, atol=1e-4):
        raise ValueError("attention rows must be non-negative and sum to 1")
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    safe = np.where(a > 0, a, 1.0)
    entropy = -(a * np.log(safe)).sum(axis=-1)
    return float(entropy.mean()), float((a > tol).sum(axis=-1).mean())


# --- Lemma 3: restricted isometry -------------------------------------------------------------------


def _unit_columns(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=0)
    if np.any(norms == 0):
        raise ValueError("matrix has a zero column; it cannot be normalized")
    return m / norms


def _check_matrix(matrix: object) -> np.ndarray:
    return check_array("matrix", matrix, ndim=2, allow_empty=False)


def restricted_isometry_constant(
    matrix: np.ndarray,
    s: int,
    n_supports: int | None = None,
    normalize: bool = True,
    seed: int | np.random.Generator = 0,
) -> float:
    """The restricted-isometry constant ``delta_s`` of ``matrix``, exactly or estimated from sampled supports.

    ``delta_s`` is the smallest ``delta`` with ``(1 - delta)||v||^2 <= ||M v||^2 <= (1 + delta)||v||^2`` for every
    ``s``-sparse ``v``: the largest deviation from 1 of the eigenvalues of ``M_S^T M_S`` over supports ``S`` of
    size ``s``. With ``n_supports=None`` every support is visited (exact); otherwise ``n_supports`` random
    supports are, which gives a lower bound on ``delta_s``.

    Parameters
    ----------
    matrix : array, shape (m, N)
    s : int
        Sparsity, in 1 .. N.
    n_supports : int, optional
        Number of sampled supports (>= 1); None = all ``C(N, s)`` of them (refused above 200 000).
    normalize : bool
        Scale the columns to unit norm first (as is usual before speaking of RIP).
    seed : int or numpy.random.Generator
        Draws the sampled supports.

    Returns
    -------
    float

    References
    ----------
    E. J. Candès, T. Tao, "Decoding by linear programming", IEEE Trans. Inf. Theory 51 (2005);
    CBMM Memo 138, §6.10 (Lemma 3).

    Examples
    --------
    >>> restricted_isometry_constant(np.eye(4), 2)
    0.0
    >>> m = np.array([[1.0, 0.6], [0.0, 0.8]])  # unit columns with inner product 0.6
    >>> round(restricted_isometry_constant(m, 2), 12)  # eigenvalues 1 +- 0.6
    0.6
    """
    m = _check_matrix(matrix)
    n_cols = m.shape[1]
    s = check_int("s", s, minimum=1, maximum=n_cols)
    if normalize:
        m = _unit_columns(m)
    gram = m.T @ m
    if n_supports is None:
        total = math.comb(n_cols, s)
        if total > 200_000:
            raise ValueError(f"C({n_cols}, {s}) = {total} supports is too many to visit; pass n_supports")
        supports = np.array(list(itertools.combinations(range(n_cols), s)))
    else:
        n_supports = check_int("n_supports", n_supports, minimum=1)
        rng = as_generator(seed)
        supports = np.argsort(rng.random((n_supports, n_cols)), axis=1)[:, :s]
    delta = 0.0
    for start in range(0, len(supports), 20_000):  # bounded memory
        idx = supports[start : start + 20_000]
        eig = np.linalg.eigvalsh(gram[idx[:, :, None], idx[:, None, :]])  # (chunk, s)
        delta = max(delta, float(np.max(np.abs(eig - 1))))
    return delta


def coherence(matrix: np.ndarray) -> float:
    """Mutual coherence: the largest ``|<m_i, m_j>| / (||m_i|| ||m_j||)`` over distinct columns.

    For unit columns Gershgorin's theorem gives ``delta_s <= (s - 1) mu``.

    Parameters
    ----------
    matrix : array, shape (m, N), N >= 2

    Returns
    -------
    float

    Examples
    --------
    >>> round(coherence(np.array([[1.0, 0.6], [0.0, 0.8]])), 12)
    0.6
    """
    m = _check_matrix(matrix)
    if m.shape[1] < 2:
        raise ValueError(f"matrix must have at least 2 columns, got shape {m.shape}")
    g = np.abs(_unit_columns(m).T @ _unit_columns(m))
    np.fill_diagonal(g, 0.0)
    return float(g.max())


# --- pictures -------------------------------------------------------------------------------------------


def plot_attention(
    attention: np.ndarray, parents: np.ndarray | None = None, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Heat map of one attention map (rows: reading position, columns: read position), true edges circled.

    Parameters
    ----------
    attention : array, shape (T, T)
    parents : array of int, shape (T, q), optional
        The true parents of each row, drawn as open circles.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_attention(np.full((3, 3), 1 / 3), parents=np.array([[1], [2], [0]]))
    >>> ax.get_xlabel()
    'attended position s'
    >>> plt.close("all")
    """
    a = check_array("attention", attention, ndim=2)
    if a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"attention must have shape (T, T) with T >= 1, got {a.shape}")
    ax = get_ax(ax, figsize=(5, 5))
    ax.imshow(a, cmap="Greys", vmin=0, vmax=1)
    t = a.shape[0]
    if parents is not None:
        par = check_array("parents", parents)
        if par.shape[0] != a.shape[0] or np.any(par != np.round(par)) or np.any((par < 0) | (par >= a.shape[0])):
            raise ValueError(f"parents must hold positions 0..{a.shape[0] - 1}, one row per position, got {par.tolist()}")
        par = par.astype(int)
        rows = np.repeat(np.arange(t), par.shape[-1])
        ax.scatter(par.reshape(-1), rows, s=260, facecolors="none", edgecolors="#D55E00", linewidths=2.5,
                   label="true parent")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=12, frameon=False)
    ax.set_xticks(range(t))
    ax.set_yticks(range(t))
    ax.set(xlabel="attended position s", ylabel="output position t", title=title or "attention weights")
    return ax


# === A task with a known, input-dependent graph ==============================================================

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
    n = check_size("n", n)
    seq_len = check_size("seq_len", seq_len, minimum=2)
    check_allocation("n and seq_len", n, seq_len)
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
