"""Iterative magnitude pruning (reset to the initialisation, or rewinding), beta-lasso, locality of receptive fields.

Memo 138 §4.2.1 and §6.9: when the sparse graph of a task is unknown, a dense network trained under
a sparsity constraint may find it. This module holds the pieces to test that on a fully connected
network and image-like data whose "graph" is local (the data are in :mod:`~cosp_helpers.signals`):

* Pruning with ``torch.nn.utils.prune``: :func:`prune_to_fraction` (exactly the requested number of
  survivors), :func:`remaining_fraction`, :func:`snapshot` and :func:`rewind` (survivors back to their
  saved values, masks kept: a reset to the initial weights theta_0 when the snapshot was taken at
  initialisation, a rewind to an early iterate theta_k when it was taken after k training steps),
  :func:`iterative_magnitude_pruning` (Frankle & Carbin's loop) and its :class:`IMPResult`.
* Locality of a unit's weights on the ring: :func:`ring_locality` (mean resultant length),
  :func:`ring_spread` (the same as a width in pixels), :func:`random_mask_like` (the control: same
  number of survivors per unit, random positions), :func:`displacement_histogram` (Pellegrini & Biroli).
* :class:`BetaLasso`: Neyshabur's (2020) optimizer, a gradient step with an l1 pull, then a hard threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from ._checks import as_generator, check_array, check_int, check_positive, check_real

__all__ = [
    "BetaLasso",
    "IMPResult",
    "displacement_histogram",
    "iterative_magnitude_pruning",
    "prune_to_fraction",
    "random_mask_like",
    "remaining_fraction",
    "rewind",
    "ring_locality",
    "ring_spread",
    "snapshot",
]


# --- pruning with torch.nn.utils.prune -----------------------------------------------------------


def _owner(model: nn.Module, name: object) -> tuple[nn.Module, str]:
    """The module that owns the parameter called ``name`` (as in ``named_parameters``, pruned or not)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a parameter name (str), got {type(name).__name__}")
    path, _, local = name.rpartition(".")
    try:
        module = model.get_submodule(path) if path else model
    except AttributeError:
        module = None
    if module is None or not (local in module._parameters or local + "_orig" in module._parameters):
        known = sorted(n.removesuffix("_orig") for n, _ in model.named_parameters())
        raise ValueError(f"name must be one of the model's parameters {known}, got {name!r}")
    return module, local


def remaining_fraction(model: nn.Module, name: str) -> float:
    """The fraction of the entries of parameter ``name`` that survive pruning (its mask's mean; 1 if unpruned).

    Parameters
    ----------
    model : torch.nn.Module
    name : str
        A parameter name as in ``model.named_parameters()`` without the ``_orig`` suffix, e.g. ``"layers.0.weight"``.

    Returns
    -------
    float

    Examples
    --------
    >>> net = torch.nn.Linear(4, 5)
    >>> remaining_fraction(net, "weight")
    1.0
    >>> _ = prune_to_fraction(net, "weight", 0.25); remaining_fraction(net, "weight")
    0.25
    """
    module, local = _owner(model, name)
    mask = getattr(module, local + "_mask", None)
    return 1.0 if mask is None else int(torch.count_nonzero(mask)) / mask.numel()


def prune_to_fraction(model: nn.Module, name: str, keep: float) -> torch.Tensor:
    """Prune parameter ``name`` by magnitude so that exactly ``round(keep * N)`` of its ``N`` entries survive.

    Uses ``torch.nn.utils.prune.l1_unstructured`` with an integer amount: the smallest ``|w|`` among the
    entries still alive go, and earlier masks are kept (so repeated calls are iterative pruning).

    Parameters
    ----------
    model : torch.nn.Module
        Pruned in place.
    name : str
        Parameter name, e.g. ``"layers.0.weight"``.
    keep : float
        Fraction to keep, in (0, 1]; it may not exceed what already survives (pruning only removes).

    Returns
    -------
    torch.Tensor
        The 0/1 mask, same shape as the parameter.

    References
    ----------
    J. Frankle, M. Carbin, "The lottery ticket hypothesis", ICLR 2019 (layer-wise magnitude pruning).

    Examples
    --------
    >>> net = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[0.1, -3.0], [2.0, 0.5]]))
    >>> prune_to_fraction(net, "weight", 0.5).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    module, local = _owner(model, name)
    keep = check_real("keep", keep)
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    total = getattr(module, local + "_orig", None)
    total = (total if total is not None else getattr(module, local)).numel()
    target = round(keep * total)
    alive = round(remaining_fraction(model, name) * total)
    if target > alive:
        raise ValueError(
            f"keep must be <= the fraction already surviving ({alive / total:.6g}) for {name!r}: "
            f"pruning cannot revive weights, got {keep}"
        )
    prune.l1_unstructured(module, local, amount=alive - target)
    return getattr(module, local + "_mask").detach().clone()


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every parameter's current (unmasked) value, by name, to :func:`rewind` to later.

    Take it at initialisation (Frankle & Carbin's reset) or after a few training steps ("rewinding").

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    dict of str to torch.Tensor
        Names as in ``named_parameters()`` with any ``_orig`` suffix removed.

    Examples
    --------
    >>> sorted(snapshot(torch.nn.Linear(3, 1)))
    ['bias', 'weight']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return {name.removesuffix("_orig"): p.detach().clone() for name, p in model.named_parameters()}


def rewind(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Reset every parameter to its value in ``state``, keeping the pruning masks: survivors get their saved values.

    Parameters
    ----------
    model : torch.nn.Module
        Changed in place; for a pruned parameter ``w`` the saved value goes to ``w_orig`` and
        ``w = w_orig * w_mask`` is recomputed at once.
    state : dict of str to torch.Tensor
        From :func:`snapshot`; it must name every parameter of the model, with the same shapes.

    References
    ----------
    J. Frankle, M. Carbin, ICLR 2019; J. Frankle, G. K. Dziugaite, D. Roy, M. Carbin, "Linear mode
    connectivity and the lottery ticket hypothesis", ICML 2020 (rewinding to an early iteration).

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1); start = snapshot(net)
    >>> _ = prune_to_fraction(net, "weight", 0.5)
    >>> with torch.no_grad():
    ...     _ = net.weight_orig.add_(1.0)
    >>> rewind(net, start)
    >>> torch.equal(net.weight, start["weight"] * net.weight_mask)
    True
    """
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict from snapshot(model), got {type(state).__name__}")
    names = set(snapshot(model))
    if set(state) != names:
        raise ValueError(f"state must name exactly the model's parameters {sorted(names)}, got {sorted(state)}")
    with torch.no_grad():
        for name, value in state.items():
            module, local = _owner(model, name)
            target = module._parameters.get(local + "_orig", module._parameters.get(local))
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(f"state[{name!r}] must have shape {tuple(target.shape)}, got {tuple(value.shape)}")
            target.copy_(value)
            mask = getattr(module, local + "_mask", None)
            if mask is not None:
                setattr(module, local, target * mask)


@dataclass(frozen=True)
class IMPResult:
    """What :func:`iterative_magnitude_pruning` recorded, one entry per round (round 0 = dense).

    Attributes
    ----------
    fractions : list of float
        Fraction of the pruned parameters' entries alive in each round's training.
    scores : list of float
        What ``fit`` returned after each round's training (e.g. test accuracy).
    weights : list of dict of str to numpy.ndarray
        The trained (masked) values of the pruned parameters after each round.
    masks : list of dict of str to numpy.ndarray
        Their 0/1 masks during each round's training (all ones in round 0).

    Examples
    --------
    >>> r = IMPResult([1.0, 0.5], [0.9, 0.9], [{}, {}], [{}, {}]); r.rounds
    1
    """

    fractions: list[float]
    scores: list[float]
    weights: list[dict[str, np.ndarray]]
    masks: list[dict[str, np.ndarray]]

    @property
    def rounds(self) -> int:
        """Number of pruning rounds (the dense round 0 not counted)."""
        return len(self.fractions) - 1


def iterative_magnitude_pruning(
    model: nn.Module,
    fit: Callable[[nn.Module], float],
    names: Sequence[str],
    rounds: int,
    keep_per_round: float,
    rewind_to: dict[str, torch.Tensor] | None = None,
    progress: bool = False,
) -> IMPResult:
    """Frankle & Carbin's loop: train, prune the smallest weights, reset the survivors to ``rewind_to``, train again.

    Round ``r`` trains with a fraction ``keep_per_round ** r`` of each named parameter alive (layer-wise,
    exact up to rounding), then prunes to ``keep_per_round ** (r + 1)`` and rewinds every parameter
    (pruned or not) to ``rewind_to``.

    Parameters
    ----------
    model : torch.nn.Module
        Pruned and trained in place; after the call it holds the last round's trained weights.
    fit : callable
        ``fit(model) -> float``: trains the model in place and returns a score (e.g. test accuracy).
    names : sequence of str
        The parameters to prune, e.g. ``["layers.0.weight"]``.
    rounds : int
        Number of pruning rounds, >= 0 (``fit`` runs ``rounds + 1`` times).
    keep_per_round : float
        In (0, 1): the fraction of the surviving weights kept at each round.
    rewind_to : dict, optional
        A :func:`snapshot`; default: the model's values at the call, i.e. the initialisation theta_0
        when the model is untrained (Frankle & Carbin's reset). A snapshot taken after ``k`` training
        steps gives rewinding to an early iterate theta_k (Frankle, Dziugaite, Roy & Carbin 2020).
    progress : bool
        A ``tqdm.auto`` bar over the rounds.

    Returns
    -------
    IMPResult

    References
    ----------
    J. Frankle, M. Carbin, "The lottery ticket hypothesis: finding sparse, trainable neural networks",
    ICLR 2019; F. Pellegrini, G. Biroli, "Sifting out the features by pruning", arXiv 2104.13343 (2021);
    CBMM Memo 138 (Poggio 2023), §4.2.1 and §6.9.

    Examples
    --------
    >>> net = torch.nn.Linear(10, 1)
    >>> r = iterative_magnitude_pruning(net, lambda m: 0.0, ["weight"], rounds=2, keep_per_round=0.5)
    >>> r.fractions, int(r.masks[2]["weight"].sum())  # 10 -> 5 -> round(2.5) = 2 (to even)
    ([1.0, 0.5, 0.2], 2)
    """
    if not callable(fit):
        raise TypeError(f"fit must be a callable model -> float, got {type(fit).__name__}")
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise TypeError(f"names must be a sequence of parameter names, got {names!r}")
    names = list(names)
    if not names:
        raise ValueError("names must hold at least one parameter name, got none")
    for name in names:
        _owner(model, name)
    rounds = check_int("rounds", rounds, minimum=0)
    keep_per_round = check_real("keep_per_round", keep_per_round)
    if not 0 < keep_per_round < 1:
        raise ValueError(f"keep_per_round must be in (0, 1), got {keep_per_round}")
    state = snapshot(model) if rewind_to is None else rewind_to
    rewind(model, state)  # checks state, and starts round 0 from it

    def current(suffix: str) -> dict[str, np.ndarray]:
        out = {}
        for name in names:
            module, local = _owner(model, name)
            if suffix == "mask":
                mask = getattr(module, local + "_mask", None)
                value = torch.ones_like(getattr(module, local)) if mask is None else mask
            else:  # the masked value, recomputed: the module's own copy is refreshed only by a forward pass
                orig, mask = getattr(module, local + "_orig", None), getattr(module, local + "_mask", None)
                value = getattr(module, local) if orig is None else orig * mask
            out[name] = value.detach().cpu().numpy().copy()
        return out

    from tqdm.auto import tqdm

    fractions, scores, weights, masks = [], [], [], []
    for r in tqdm(range(rounds + 1), disable=not progress, leave=False, desc="IMP rounds"):
        fractions.append(remaining_fraction(model, names[0]))
        masks.append(current("mask"))
        scores.append(float(fit(model)))
        weights.append(current("weight"))
        if r < rounds:
            for name in names:
                prune_to_fraction(model, name, keep_per_round ** (r + 1))
            rewind(model, state)
    return IMPResult(fractions, scores, weights, masks)


# --- locality of receptive fields on a ring ----------------------------------------------------


def _rows(name: str, weights: object) -> np.ndarray:
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().numpy()
    if not isinstance(weights, np.ndarray) or not np.issubdtype(weights.dtype, np.number) and weights.dtype != bool:
        raise TypeError(f"{name} must be a numpy array or torch tensor of numbers, got {type(weights).__name__}")
    if weights.ndim != 2 or weights.shape[1] < 2:
        raise ValueError(f"{name} must have shape (units, d) with d >= 2 pixels, got shape {weights.shape}")
    return check_array(name, weights)


def ring_locality(weights: np.ndarray | torch.Tensor, power: float = 2.0) -> np.ndarray:
    """How concentrated each row's weights are on the ring of pixels: the mean resultant length.

    Row ``w`` of ``d`` weights puts mass ``p_k = |w_k|^power`` at angle ``2 pi k / d``;
    ``R = |sum_k p_k exp(2 pi i k / d)| / sum_k p_k``. ``R = 1`` for a single pixel, ``cos(pi / d)``
    for two neighbours, ``0`` for mass spread evenly (or symmetrically) around the ring. Translating
    a row around the ring leaves ``R`` unchanged. For a 0/1 mask, any power gives the same ``R``.

    Parameters
    ----------
    weights : array of shape (units, d)
        One row per unit (a first-layer weight matrix, or its mask).
    power : float
        > 0; 2 weighs pixels by the squared weight.

    Returns
    -------
    numpy.ndarray, shape (units,)
        In [0, 1] (values below 1e-12, rounding noise, are returned as 0); ``nan`` for an all-zero row.

    References
    ----------
    K. V. Mardia, P. E. Jupp, *Directional Statistics* (2000), §2.3 (mean resultant length).

    Examples
    --------
    >>> ring_locality(np.array([[0, 0, 3.0, 0], [1, 1, 1, 1.0], [1, 1, 0, 0]])).round(4).tolist()
    [1.0, 0.0, 0.7071]
    """
    w = _rows("weights", weights)
    power = check_positive("power", power)
    d = w.shape[1]
    mass = np.abs(w) ** power  # (units, d)
    phase = np.exp(2j * np.pi * np.arange(d) / d)  # (d,)
    total = mass.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.abs(mass @ phase) / total
    r = np.where(r < 1e-12, 0.0, np.clip(r, 0.0, 1.0))  # below 1e-12 is rounding noise of an exact 0
    return np.where(total > 0, r, np.nan)


def ring_spread(weights: np.ndarray | torch.Tensor, power: float = 2.0) -> np.ndarray:
    """Each row's spread on the ring in pixels: the circular standard deviation ``(d / 2 pi) sqrt(-2 ln R)``.

    ``R`` is :func:`ring_locality`. For mass concentrated on a few neighbouring pixels this is close
    to the ordinary standard deviation of their positions; it grows without bound as ``R -> 0``.

    Parameters
    ----------
    weights : array of shape (units, d)
    power : float
        As in :func:`ring_locality`.

    Returns
    -------
    numpy.ndarray, shape (units,)
        ``0`` for a single pixel, ``inf`` for evenly spread mass, ``nan`` for an all-zero row.

    References
    ----------
    K. V. Mardia, P. E. Jupp, *Directional Statistics* (2000), §2.3.

    Examples
    --------
    >>> ring_spread(np.array([[0, 1.0, 1.0] + [0] * 97])).round(3).tolist()  # two neighbours: std 0.5
    [0.5]
    """
    r = ring_locality(weights, power)
    d = _rows("weights", weights).shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return d / (2 * np.pi) * np.sqrt(-2 * np.log(r))


def random_mask_like(mask: np.ndarray | torch.Tensor, seed: int | np.random.Generator = 0) -> np.ndarray:
    """A random 0/1 mask with the same number of survivors in each row as ``mask``, at uniform positions.

    The control for locality: it has the sparsity of the pruned mask, unit by unit, and no geometry.

    Parameters
    ----------
    mask : array of shape (units, d)
        Nonzero entries count as survivors.
    seed : int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (units, d), float
        Zeros and ones.

    Examples
    --------
    >>> m = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 1]])
    >>> random_mask_like(m, seed=0).sum(axis=1).tolist()
    [2.0, 1.0]
    """
    m = _rows("mask", mask) != 0
    rng = as_generator(seed)
    units, d = m.shape
    counts = m.sum(axis=1)  # (units,)
    ranks = np.argsort(np.argsort(rng.random((units, d)), axis=1), axis=1)  # a random permutation per row
    return (ranks < counts[:, None]).astype(float)


def displacement_histogram(mask: np.ndarray | torch.Tensor) -> np.ndarray:
    """Counts of ring distances between pairs of survivors of the same unit (Pellegrini & Biroli's histogram).

    For each row, every unordered pair of surviving pixels ``i != j`` adds one to bin
    ``min(|i - j|, d - |i - j|)``. A random mask fills the bins about evenly (bin ``d/2`` half as
    much for even ``d``, it has one pixel per side instead of two); a local one piles up at short distances.

    Parameters
    ----------
    mask : array of shape (units, d)
        Nonzero entries count as survivors.

    Returns
    -------
    numpy.ndarray of int, shape (d // 2 + 1,)
        Bin ``k`` counts pairs at distance ``k``; bin 0 is always 0.

    References
    ----------
    F. Pellegrini, G. Biroli, "Sifting out the features by pruning: are convolutional networks the
    winning lottery ticket of fully connected ones?", arXiv 2104.13343 (2021).

    Examples
    --------
    >>> displacement_histogram(np.array([[1, 1, 0, 0, 0, 1]])).tolist()  # pairs (0,1), (0,5), (1,5)
    [0, 2, 1, 0]
    """
    m = (_rows("mask", mask) != 0).astype(np.int64)
    d = m.shape[1]
    counts = np.zeros(d // 2 + 1, dtype=np.int64)
    for shift in range(1, d):
        pairs = int((m * np.roll(m, -shift, axis=1)).sum())  # ordered pairs (i, i + shift mod d)
        counts[min(shift, d - shift)] += pairs
    return counts // 2  # each unordered pair was counted at shift s and at d - s


# --- beta-lasso -------------------------------------------------------------------------------


class BetaLasso(torch.optim.Optimizer):
    """Neyshabur's β-lasso: ``θ ← θ − lr (∇L + λ sign θ)``, then ``θ_i ← 0`` wherever ``|θ_i| < β λ``.

    A plain gradient step on the loss plus ``λ ||θ||_1``, followed by a hard threshold. The threshold
    ``β λ`` (``β > 1``) is what makes the zeros exact and keeps them: a weight the data do not defend
    falls below it and is cut, every step. Give ``lam=0`` in a parameter group to train it plainly.

    Parameters
    ----------
    params : iterable of tensors or of dicts (parameter groups)
    lr : float
        Learning rate, > 0.
    lam : float
        The l1 coefficient λ >= 0.
    beta : float
        Threshold factor β >= 0 (0: no threshold, plain l1 subgradient descent).

    References
    ----------
    B. Neyshabur, "Towards learning convolutions from scratch", NeurIPS 2020 (Algorithm 1);
    CBMM Memo 138 (Poggio 2023), §4.2.1 and §6.9 ("a modified ℓ1 regularization").

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.tensor([1.0, 0.02, -0.5]))
    >>> opt = BetaLasso([w], lr=0.1, lam=0.1, beta=0.5)
    >>> w.grad = torch.tensor([0.0, 0.0, 1.0]); opt.step()
    >>> w.detach().tolist()  # 1 - 0.01; 0.02 - 0.01 = 0.01 < 0.05 -> 0; -0.5 - 0.1 (1 - 0.1)
    [0.9900000095367432, 0.0, -0.5899999737739563]
    """

    def __init__(self, params: Iterable, lr: float, lam: float, beta: float) -> None:
        lr = check_positive("lr", lr)
        lam, beta = check_real("lam", lam), check_real("beta", beta)
        if lam < 0:
            raise ValueError(f"lam must be >= 0, got {lam}")
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        super().__init__(params, {"lr": lr, "lam": lam, "beta": beta})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, lam, beta = group["lr"], group["lam"], group["beta"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.add_(p.grad + lam * torch.sign(p), alpha=-lr)
                if lam > 0 and beta > 0:
                    p.masked_fill_(p.abs() < beta * lam, 0.0)
        return loss
