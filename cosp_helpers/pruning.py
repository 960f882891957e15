"""Pruning and explicit regularization: penalties, near-zero weights, magnitude pruning on ``torch.nn.utils.prune``, beta-lasso, and the locality of receptive fields.

Memo 138 §4.1, §4.2.1 and §6.9: a trained network is robust to harsh pruning, and when the sparse graph of a
task is unknown, a dense network trained under a sparsity constraint may find it.

* **Penalties.** :func:`l1_penalty`, :func:`l2_penalty` -- callables ``penalty(model) -> scalar tensor`` for
  the ``penalty=`` hook of :func:`cosp_helpers.training.train`; :func:`parameter_norm` measures the norms;
  :func:`weight_statistics` counts the weights with ``|w| <= threshold``; :func:`flat_weights` and
  :func:`magnitude_histogram` give histograms of ``log10 |w|``.
* **Pruning, one convention: ``keep`` is the fraction of entries that survive.** :func:`prune_to_fraction`
  (exactly ``round(keep * N)`` survivors by magnitude, over one tensor or several together, with
  ``torch.nn.utils.prune.global_unstructured``), :func:`prune_small_weights` (a threshold),
  :func:`remaining_fraction`, :func:`remove_pruning`, :func:`curve` (the loss at each ``keep``,
  without retraining); :func:`snapshot` and :func:`rewind` (survivors back to their saved values, masks kept:
  a reset to theta_0 when the snapshot was taken at initialisation, a rewind to theta_k when it was taken
  after k training steps); :func:`iterative_magnitude_pruning` (Frankle & Carbin's loop) and its
  :class:`IMPResult`; :class:`BetaLasso`, Neyshabur's (2020) optimizer (a gradient step with an l1 pull,
  then a hard threshold).
* **Locality on the ring** (the data are in :mod:`~cosp_helpers.signals`): :func:`ring_locality` (mean
  resultant length), :func:`ring_spread` (the same as a width in pixels), :func:`random_mask_like` (the
  control: same number of survivors per unit, random positions), :func:`displacement_histogram`
  (Pellegrini & Biroli).

"Weights" here are all trainable parameters of a model, biases included: the set that the ``weight_decay=``
of :func:`cosp_helpers.training.train` penalises. Functions that take ``names`` (parameter names as in
``model.named_parameters()``, without the ``_orig`` suffix) act on those tensors only.

A pruned parameter ``w`` becomes ``w_orig`` (still trained) times a 0/1 buffer ``w_mask``, so pruned entries
stay exactly zero whatever the optimizer does. PyTorch recomputes ``w = w_orig * w_mask`` before the forward
pass of the module that owns ``w``; :class:`~cosp_helpers.networks.BinaryTreeNet` keeps its weights in
``ParameterList`` s, whose own forward never runs, so a hook on the pruned model's root recomputes every
masked weight as well. Every function here reads the masked (effective) weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
import copy
from dataclasses import dataclass
import math
from typing import Iterator, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from ._checks import as_generator, check_array, check_int, check_positive, check_real, check_size
from .training import evaluate

__all__ = [
    "l1_penalty",
    "l2_penalty",
    "parameter_norm",
    "WeightStats",
    "weight_statistics",
    "flat_weights",
    "MagnitudeHistogram",
    "magnitude_histogram",
    "prune_small_weights",
    "remove_pruning",
    "curve",
    "train_penalized",
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

# --- the weights of a model, pruned or not -----------------------------------------------------

_Entry = tuple[str, nn.Module, str, torch.Tensor]  # qualified name, owner module, local name, effective value


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _entries(model: nn.Module) -> Iterator[_Entry]:
    """``(qualified name, owner module, local name, effective tensor)`` for every trainable parameter.

    A pruned parameter ``w`` appears under its own name ``w``, with the value ``w_orig * w_mask``
    (differentiable with respect to ``w_orig``). The order is fixed whether or not a tensor is pruned
    (pruning re-registers a parameter last): modules in model order, parameters by name within a
    module, numbers in numeric order (``ParameterList`` entries ``0, 1, ..., 10``).
    """
    seen: set[int] = set()
    for prefix, module in model.named_modules():
        buffers = dict(module.named_buffers(recurse=False))
        found = []
        for local, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))
            if local.endswith("_orig") and local[: -len("_orig")] + "_mask" in buffers:
                local = local[: -len("_orig")]
                value = param * buffers[local + "_mask"]
            else:
                value = param
            found.append((local, value))
        found.sort(key=lambda item: (0, int(item[0]), "") if item[0].isdigit() else (1, 0, item[0]))
        for local, value in found:
            yield (f"{prefix}.{local}" if prefix else local), module, local, value


def _select(model: nn.Module, names: Iterable[str] | None) -> list[_Entry]:
    entries = list(_entries(_check_model(model)))
    if names is None:
        chosen = entries
    else:
        if isinstance(names, str):
            raise TypeError(f"names must be an iterable of parameter names, not a single string, got {names!r}")
        wanted = list(names)
        known = [e[0] for e in entries]
        unknown = [n for n in wanted if n not in known]
        if unknown:
            shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
            raise ValueError(f"names holds unknown parameter names {unknown!r}; the model has {shown}")
        chosen = [e for e in entries if e[0] in set(wanted)]
    if not chosen:
        raise ValueError("model has no trainable parameters to work on (or names selected none)")
    return chosen


def _check_strength(strength: object) -> float:
    value = check_real("strength", strength)
    if value < 0:
        raise ValueError(f"strength must be >= 0, got {value}")
    return value


def _check_threshold(threshold: object) -> float:
    value = check_real("threshold", threshold)
    if value < 0:
        raise ValueError(f"threshold must be >= 0, got {value}")
    return value


# --- penalties ---------------------------------------------------------------------------------


class _NormPenalty:
    """``strength * ||theta||_1`` or ``strength / 2 * ||theta||_2^2`` over a model's trainable parameters."""

    def __init__(self, order: int, strength: float) -> None:
        self.order = order
        self.strength = strength

    def __call__(self, model: nn.Module) -> torch.Tensor:
        values = [value for _, _, _, value in _entries(_check_model(model))]
        if not values:
            return torch.zeros(())
        if self.order == 1:
            return self.strength * sum(v.abs().sum() for v in values)
        return 0.5 * self.strength * sum((v * v).sum() for v in values)

    def __repr__(self) -> str:
        formula = "||theta||_1" if self.order == 1 else "||theta||_2^2 / 2"
        return f"l{self.order}_penalty({self.strength:g}): {self.strength:g} * {formula}"


def l1_penalty(strength: float) -> _NormPenalty:
    """The l1 penalty ``strength * sum |theta|`` over all trainable parameters, as a callable.

    Pass it as ``penalty=`` to :func:`cosp_helpers.training.train`. Its gradient pulls every weight
    towards 0 with the same force ``strength``, however small the weight: unlike the l2 penalty, it
    can drive weights that the data do not need all the way to zero (the lasso effect).

    Parameters
    ----------
    strength : float
        The coefficient ``lambda >= 0``.

    Returns
    -------
    callable
        ``penalty(model) -> scalar tensor``, differentiable in the parameters; pruned weights count
        with their masked value.

    References
    ----------
    R. Tibshirani, "Regression shrinkage and selection via the lasso", J. R. Statist. Soc. B 58 (1996);
    CBMM Memo 138 (Poggio 2023), §4.1, Conjecture 1 (l1 as well as l2 minimization).

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[1.0, -2.0]])), net.bias.fill_(0.5)
    >>> l1_penalty(0.25)(net).item()  # 0.25 * (1 + 2 + 0.5)
    0.875
    """
    return _NormPenalty(1, _check_strength(strength))


def l2_penalty(strength: float) -> _NormPenalty:
    """The l2 penalty ``strength / 2 * sum theta^2`` over all trainable parameters, as a callable.

    It is the penalty that ``weight_decay=strength`` adds in :func:`cosp_helpers.training.train`
    (and ``torch.optim``'s coupled weight decay): its gradient is ``strength * theta``, so training
    with either gives the same parameters. Its pull on a weight shrinks with the weight, so small
    weights are left small but seldom exactly zero.

    Parameters
    ----------
    strength : float
        The coefficient ``lambda >= 0``.

    Returns
    -------
    callable
        ``penalty(model) -> scalar tensor``.

    References
    ----------
    A. Krogh, J. Hertz, "A simple weight decay can improve generalization", NIPS 1991;
    CBMM Memo 138 (Poggio 2023), §4.1 (the regularized square loss).

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[1.0, -2.0]])), net.bias.fill_(0.5)
    >>> l2_penalty(0.5)(net).item()  # 0.5 / 2 * (1 + 4 + 0.25)
    1.3125
    """
    return _NormPenalty(2, _check_strength(strength))


def parameter_norm(model: nn.Module, order: int = 1, names: Iterable[str] | None = None) -> float:
    """The l1 or l2 norm of all trainable parameters of ``model`` (masked values if pruned).

    Parameters
    ----------
    model : torch.nn.Module
    order : {1, 2}
        ``sum |theta|`` or ``sqrt(sum theta^2)``.
    names : iterable of str, optional
        Restrict to these parameters.

    Returns
    -------
    float

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[3.0, -4.0]])), net.bias.fill_(0.0)
    >>> parameter_norm(net, 1), parameter_norm(net, 2)
    (7.0, 5.0)
    """
    if order not in (1, 2) or isinstance(order, bool):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    with torch.no_grad():
        values = [value.double() for _, _, _, value in _select(model, names)]
        if order == 1:
            return float(sum(v.abs().sum() for v in values))
        return math.sqrt(float(sum((v * v).sum() for v in values)))


# --- statistics --------------------------------------------------------------------------------


class WeightStats(NamedTuple):
    """How many weights of each parameter tensor have ``|w| <= threshold``.

    Attributes
    ----------
    names : tuple of str
        Parameter names, as in ``model.named_parameters()`` (a pruned ``w`` under its own name).
    sizes : tuple of int
        Number of entries of each tensor.
    near_zero : tuple of int
        Entries with ``|w| <= threshold`` in each tensor.
    threshold : float
        The threshold used.

    Examples
    --------
    >>> s = WeightStats(("a", "b"), (4, 6), (1, 3), 0.01)
    >>> s.fractions, s.total, s.total_near_zero, s.total_fraction
    ((0.25, 0.5), 10, 4, 0.4)
    """

    names: tuple[str, ...]
    sizes: tuple[int, ...]
    near_zero: tuple[int, ...]
    threshold: float

    @property
    def fractions(self) -> tuple[float, ...]:
        """Fraction of near-zero entries in each tensor."""
        return tuple(z / s for z, s in zip(self.near_zero, self.sizes))

    @property
    def total(self) -> int:
        """Number of weights counted."""
        return sum(self.sizes)

    @property
    def total_near_zero(self) -> int:
        """Number of near-zero weights over all tensors."""
        return sum(self.near_zero)

    @property
    def total_fraction(self) -> float:
        """Fraction of near-zero weights over all tensors."""
        return self.total_near_zero / self.total


def weight_statistics(model: nn.Module, threshold: float, names: Iterable[str] | None = None) -> WeightStats:
    """Count the weights with ``|w| <= threshold``, per parameter tensor and in total.

    With ``threshold=0`` it counts the weights that are exactly zero (e.g. after pruning).

    Parameters
    ----------
    model : torch.nn.Module
    threshold : float
        ``>= 0``, in the units of the weights; pick it relative to their typical size.
    names : iterable of str, optional
        Restrict to these parameters (default: all trainable ones).

    Returns
    -------
    WeightStats

    References
    ----------
    CBMM Memo 138 (Poggio 2023), §4.1: l2 optimization "preserves very small weights that should in
    fact be zero"; l1 minimization "can lead to pruned networks".

    Examples
    --------
    >>> net = torch.nn.Linear(3, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[0.5, 1e-4, -2e-3]])), net.bias.fill_(0.0)
    >>> s = weight_statistics(net, 1e-3)
    >>> s.names, s.near_zero, s.total_fraction
    (('bias', 'weight'), (1, 1), 0.5)
    """
    threshold = _check_threshold(threshold)
    names_out, sizes, counts = [], [], []
    with torch.no_grad():
        for name, _, _, value in _select(model, names):
            names_out.append(name)
            sizes.append(value.numel())
            counts.append(int((value.abs() <= threshold).sum()))
    return WeightStats(tuple(names_out), tuple(sizes), tuple(counts), threshold)


def flat_weights(model: nn.Module, names: Iterable[str] | None = None) -> np.ndarray:
    """All trainable parameters of ``model`` (masked values if pruned) as one float64 array.

    Parameters
    ----------
    model : torch.nn.Module
    names : iterable of str, optional
        Restrict to these parameters, in the model's order.

    Returns
    -------
    numpy.ndarray, shape (number of weights,)

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[1.0, 2.0]])), net.bias.fill_(3.0)
    >>> flat_weights(net).tolist()  # parameters in name order: bias, then weight
    [3.0, 1.0, 2.0]
    """
    with torch.no_grad():
        parts = [value.detach().double().cpu().reshape(-1).numpy() for _, _, _, value in _select(model, names)]
    return np.concatenate(parts)


class MagnitudeHistogram(NamedTuple):
    """A histogram of ``log10 |w|`` with under- and overflow counts.

    Attributes
    ----------
    edges : numpy.ndarray, shape (bins + 1,)
        Bin edges in ``log10 |w|``, from ``low`` to ``high``.
    counts : numpy.ndarray of int, shape (bins,)
        Weights with ``log10 |w|`` in each bin.
    below : int
        Weights with ``|w| < 10**low``, exact zeros included.
    above : int
        Weights with ``|w| > 10**high``.
    zeros : int
        Weights exactly zero (also counted in ``below``).

    Examples
    --------
    >>> h = MagnitudeHistogram(np.array([-1.0, 0.0]), np.array([2]), 1, 0, 1)
    >>> int(h.counts.sum() + h.below + h.above)
    3
    """

    edges: np.ndarray
    counts: np.ndarray
    below: int
    above: int
    zeros: int


# log10 of the magnitudes a float64 can hold: 10.0**-323 is the last power of ten above 0 (a subnormal), and
# 10.0**308 the last below the overflow at 1.8e308; outside, 10.0**low is 0 or 10.0**high raises OverflowError.
_MIN_DECADE, _MAX_DECADE = -323, 308


def magnitude_histogram(
    weights: np.ndarray | Sequence[float], low: float = -6.0, high: float = 1.0, bins: int = 35
) -> MagnitudeHistogram:
    """Histogram of ``log10 |w|`` on ``[low, high]`` in ``bins`` equal bins, counting what falls outside.

    A log scale separates the two populations that l1 training leaves: weights the data use
    (``|w|`` of order 0.1-1) and weights pushed to zero (``|w|`` many decades smaller).

    Parameters
    ----------
    weights : array_like
        The weights (any shape; flattened), e.g. from :func:`flat_weights`; finite.
    low, high : float
        ``log10`` of the smallest and largest magnitude binned, ``low < high``, both in ``[-323, 308]`` (the
        decades of positive float64 numbers: ``10**-324`` underflows to 0 and ``10**309`` overflows).
    bins : int
        Number of bins, in ``1..2**24``.

    Returns
    -------
    MagnitudeHistogram
        Every weight is counted once in ``counts``, ``below`` or ``above``.

    Examples
    --------
    >>> h = magnitude_histogram([0.0, 1e-9, 0.05, -0.5, 30.0], low=-3, high=1, bins=4)
    >>> h.edges.tolist(), h.counts.tolist(), h.below, h.above, h.zeros
    ([-3.0, -2.0, -1.0, 0.0, 1.0], [0, 1, 1, 0], 2, 1, 1)
    """
    w = check_array("weights", weights).reshape(-1)
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite, got NaN or infinite values")
    low = check_real("low", low)
    high = check_real("high", high)
    for name, value in (("low", low), ("high", high)):
        if not _MIN_DECADE <= value <= _MAX_DECADE:
            raise ValueError(f"{name} must be in [{_MIN_DECADE}, {_MAX_DECADE}] (log10 of a positive float64), got {value}")
    if not low < high:
        raise ValueError(f"low must be < high, got low={low}, high={high}")
    bins = check_size("bins", bins)
    magnitude = np.abs(w)
    edges = np.linspace(low, high, bins + 1)
    inside = (magnitude >= 10.0**low) & (magnitude <= 10.0**high)
    counts, _ = np.histogram(np.log10(magnitude[inside]), bins=edges)
    return MagnitudeHistogram(
        edges=edges,
        counts=counts,
        below=int((magnitude < 10.0**low).sum()),
        above=int((magnitude > 10.0**high).sum()),
        zeros=int((magnitude == 0).sum()),
    )


# --- pruning -----------------------------------------------------------------------------------


def _refresh_masked(model: nn.Module, inputs: object = None) -> None:
    """Recompute ``w = w_orig * w_mask`` for every pruned parameter below ``model`` (a forward pre-hook)."""
    for module in model.modules():
        buffers = dict(module.named_buffers(recurse=False))
        for local, mask in buffers.items():
            if local.endswith("_mask") and hasattr(module, local[: -len("_mask")] + "_orig"):
                name = local[: -len("_mask")]
                setattr(module, name, getattr(module, name + "_orig") * mask)


def _has_refresh_hook(model: nn.Module) -> bool:
    return any(hook is _refresh_masked for hook in model._forward_pre_hooks.values())


def _apply_masks(model: nn.Module, entries: list[_Entry], keep: list[torch.Tensor]) -> WeightStats:
    for (_, owner, local, _), mask in zip(entries, keep):
        prune.custom_from_mask(owner, local, mask)  # combines with an earlier mask if already pruned
    if not _has_refresh_hook(model):
        model.register_forward_pre_hook(_refresh_masked)
    return weight_statistics(model, 0.0, names=[e[0] for e in entries])


def prune_small_weights(model: nn.Module, threshold: float, names: Iterable[str] | None = None) -> WeightStats:
    """Set every weight with ``|w| <= threshold`` to zero, in place, and keep it at zero.

    The pruned weights stay zero through later training (the mask multiplies them), and the
    function the network computes changes only through the weights removed: with a threshold
    below the scale of the weights the data need, test error should not move.

    Parameters
    ----------
    model : torch.nn.Module
        Pruned in place (``torch.nn.utils.prune``).
    threshold : float
        ``>= 0``; the same rule as :func:`weight_statistics`, so the weights it counts are the ones pruned.
    names : iterable of str, optional
        Prune only these parameters.

    Returns
    -------
    WeightStats
        The exact zeros of each pruned tensor after pruning (``threshold`` 0).

    References
    ----------
    S. Han, J. Pool, J. Tran, W. Dally, "Learning both weights and connections for efficient neural
    networks", NeurIPS 2015; CBMM Memo 138 (Poggio 2023), §4.1 and §6.9.

    Examples
    --------
    >>> net = torch.nn.Linear(4, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[0.5, 1e-4, -2e-3, 1.0]])), net.bias.fill_(0.3)
    >>> prune_small_weights(net, 1e-2).near_zero  # (bias, weight)
    (0, 2)
    >>> net.weight.tolist()
    [[0.5, 0.0, -0.0, 1.0]]
    """
    threshold = _check_threshold(threshold)
    entries = _select(model, names)
    with torch.no_grad():
        keep = [(value.abs() > threshold).to(value.dtype) for _, _, _, value in entries]
    return _apply_masks(model, entries, keep)


def prune_to_fraction(model: nn.Module, keep: float, names: Iterable[str] | None = None) -> WeightStats:
    """Prune by magnitude so that exactly ``round(keep * N)`` of the ``N`` selected weights survive.

    The selected tensors are pruned together (global magnitude pruning, with
    ``torch.nn.utils.prune.global_unstructured``); pass one name in ``names`` to prune one tensor alone (layer-wise
    pruning). Entries pruned earlier stay pruned and count among the ``N``, so calling it again with a smaller
    ``keep`` is iterative pruning; among the entries still alive the smallest ``|w|`` go first.

    Parameters
    ----------
    model : torch.nn.Module
        Pruned in place.
    keep : float
        The fraction of the selected weights that survive, in ``[0, 1]``; no more than already survive
        (pruning only removes).
    names : iterable of str, optional
        Prune only these parameters (default: every trainable parameter, biases included).

    Returns
    -------
    WeightStats
        The exact zeros of each pruned tensor after pruning.

    References
    ----------
    J. Frankle, M. Carbin, "The lottery ticket hypothesis", ICLR 2019 (layer-wise and global magnitude
    pruning); CBMM Memo 138 (Poggio 2023), §6.9.

    Examples
    --------
    >>> net = torch.nn.Linear(3, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[0.5, -0.1, 2.0]])), net.bias.fill_(-0.3)
    >>> prune_to_fraction(net, 0.5).total_near_zero  # 2 of 4 survive: -0.1 and -0.3 go
    2
    >>> net.weight.tolist(), net.bias.tolist()
    ([[0.5, -0.0, 2.0]], [-0.0])
    >>> prune_to_fraction(net, 1 / 3, names=["weight"]).near_zero  # then the weight tensor alone: 1 of 3 survives
    (2,)
    """
    keep = check_real("keep", keep)
    if not 0 <= keep <= 1:
        raise ValueError(f"keep must be in [0, 1], got {keep}")
    entries = _select(model, names)
    with torch.no_grad():
        _refresh_masked(model)  # the masked values, recomputed: a module refreshes its own copy only in a forward pass
    total = sum(value.numel() for *_, value in entries)
    alive = sum(value.numel() if (mask := getattr(owner, local + "_mask", None)) is None else int(torch.count_nonzero(mask))
                for _, owner, local, value in entries)
    target = round(keep * total)
    if target > alive:
        raise ValueError(f"keep must be <= the fraction already surviving ({alive / total:.6g}): "
                         f"pruning cannot revive weights, got {keep}")
    prune.global_unstructured([(owner, local) for _, owner, local, _ in entries],
                              pruning_method=prune.L1Unstructured, amount=alive - target)
    if not _has_refresh_hook(model):
        model.register_forward_pre_hook(_refresh_masked)
    return weight_statistics(model, 0.0, names=[e[0] for e in entries])


def remove_pruning(model: nn.Module) -> int:
    """Make pruning permanent: each ``w_orig * w_mask`` becomes a plain parameter ``w`` again.

    The pruned entries are then ordinary zeros, free to move if training continues.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    int
        The number of parameter tensors that were pruned.

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> _ = prune_to_fraction(net, 0.5)
    >>> remove_pruning(net), sorted(name for name, _ in net.named_parameters())
    (2, ['bias', 'weight'])
    """
    _check_model(model)
    count = 0
    for module in model.modules():
        pruned = [b[: -len("_mask")] for b, _ in module.named_buffers(recurse=False) if b.endswith("_mask")]
        for name in pruned:
            if hasattr(module, name + "_orig"):
                prune.remove(module, name)
                count += 1
    for key in [k for k, hook in model._forward_pre_hooks.items() if hook is _refresh_masked]:
        del model._forward_pre_hooks[key]
    return count


def curve(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    keep: Sequence[float] | np.ndarray,
    loss: str = "mse",
    names: Iterable[str] | None = None,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """The loss on ``(x, y)`` after global magnitude pruning to each fraction ``keep``, without retraining.

    Each value is applied to a fresh copy of ``model`` with :func:`prune_to_fraction`; ``model`` itself is
    left unchanged. A network whose accuracy survives harsh pruning has a flat curve.

    Parameters
    ----------
    model : torch.nn.Module
    x, y : numpy.ndarray or torch.Tensor
        Evaluation data, as for :func:`cosp_helpers.training.evaluate`.
    keep : sequence of float
        Fractions of the weights that survive, in ``[0, 1]`` (1: the model as it is).
    loss : {"mse", "cross_entropy"} or callable
        As in :func:`cosp_helpers.training.evaluate`.
    names : iterable of str, optional
        Prune only these parameters.
    device : str or torch.device, optional
        Where to evaluate (default :func:`cosp_helpers.runtime.get_device`).

    Returns
    -------
    numpy.ndarray, shape (len(keep),)

    References
    ----------
    CBMM Memo 138 (Poggio 2023), §4.1: "The performance of trained neural networks is robust to harsh
    levels of pruning."

    Examples
    --------
    >>> net = torch.nn.Linear(1, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.fill_(2.0), net.bias.fill_(0.0)
    >>> x = np.array([[1.0], [2.0]]); y = 2 * x
    >>> curve(net, x, y, [1.0, 0.5, 0.0], device="cpu").tolist()  # the bias goes first, then the weight
    [0.0, 0.0, 10.0]
    """
    _check_model(model)
    values = check_array("keep", keep).reshape(-1)
    if values.size == 0 or not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"keep must be a non-empty sequence of numbers in [0, 1], got {keep!r}")
    names = None if names is None else list(names)
    with torch.no_grad():
        _refresh_masked(model)  # masked weights as plain tensors without autograd history, so deepcopy works
    losses = []
    for fraction in values:
        pruned = copy.deepcopy(model)
        prune_to_fraction(pruned, float(fraction), names=names)
        losses.append(evaluate(pruned, x, y, loss=loss, device=device))
    return np.array(losses)


# --- several penalized runs at once --------------------------------------------------------------


def _per_member(name: str, value: object, members: int, *, positive: bool) -> list[float]:
    """A real number, or a sequence of ``members`` of them: one per member, each > 0 or >= 0."""
    values = list(value) if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)) else [value] * members
    if len(values) != members:
        raise ValueError(f"{name} must be a number or a sequence of one number per model ({members}), got {len(values)}")
    out = []
    for v in values:
        v = check_positive(name, v) if positive else check_real(name, v)
        if v < 0:
            raise ValueError(f"{name} must be >= 0, got {v}")
        out.append(v)
    return out


def _member_data(name: str, value: object, members: int, base: nn.Module, device: torch.device) -> torch.Tensor:
    """One array shared by the members, or a list of one array per member (same shapes): ``(members, n, ...)``."""
    from .training import _as_tensor, _param_dtype

    dtype = _param_dtype(base)
    if isinstance(value, (list, tuple)):
        if len(value) != members:
            raise ValueError(f"{name} must be one array or a list of one array per model ({members}), got {len(value)}")
        tensors = [_as_tensor(f"{name}[{i}]", v, dtype, device, integer_ok=False) for i, v in enumerate(value)]
        if any(t.shape != tensors[0].shape for t in tensors):
            raise ValueError(f"{name} must hold arrays of one shape, got {sorted({tuple(t.shape) for t in tensors})}")
        return torch.stack(tensors)
    tensor = _as_tensor(name, value, dtype, device, integer_ok=False)
    return tensor.unsqueeze(0).expand(members, *tensor.shape)


class _Layout:
    """How the members' parameters are held while training, and the batched forward pass.

    The package's networks run with the samples on the last axis, ``(groups, features, samples)``:
    each layer is one ``torch.baddbmm`` over all members (and, for a tree, all nodes), and the products
    with one output unit become row-times-matrix products, much faster on the CPU than the
    matrix-times-column products of the ``(samples, features)`` layout. Any other module runs through
    ``torch.func.vmap`` over ``torch.func.functional_call``.
    """

    def __init__(self, base: nn.Module) -> None:
        from .networks import _ACTIVATIONS, BinaryTreeNet, DeepNet, ShallowNet

        from .circuits import WiredTreeNet

        self.base = base
        kinds = {BinaryTreeNet: "tree", WiredTreeNet: "wired", DeepNet: "dense", ShallowNet: "dense"}
        self.kind = kinds.get(type(base), "generic")
        if self.kind in ("tree", "dense"):
            self.act = _ACTIVATIONS[base.activation]
        else:
            from torch.func import functional_call, vmap

            template = copy.deepcopy(base).to("meta")
            self.forward_generic = vmap(lambda p, x: functional_call(template, (p,), (x,)), in_dims=(0, 0))

    def inward(self, name: str, stacked: torch.Tensor) -> torch.Tensor:
        """A stacked parameter ``(members, *shape)`` in the training layout (a fresh contiguous tensor)."""
        if self.kind in ("tree", "wired"):  # (M, nodes, fan_in, fan_out) -> (M, nodes, fan_out, fan_in)
            return stacked.transpose(-1, -2).contiguous()
        if self.kind == "dense" and name.endswith("bias"):  # (M, out) -> (M, out, 1)
            return stacked.unsqueeze(-1).contiguous()
        return stacked.contiguous()

    def outward(self, name: str, held: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`inward`, ``(members, *shape)``."""
        if self.kind in ("tree", "wired"):
            return held.transpose(-1, -2)
        if self.kind == "dense" and name.endswith("bias"):
            return held.squeeze(-1)
        return held

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """``(members, n, inputs)`` in the layout of :meth:`forward`."""
        members, n = x.shape[:2]
        if self.kind == "tree":  # (M * nodes, 2, n): node j of member i reads inputs 2j, 2j + 1
            return x.transpose(1, 2).reshape(members * x.shape[2] // 2, 2, n).contiguous()
        if self.kind in ("dense", "wired"):
            return x.transpose(1, 2).contiguous()  # (M, inputs, n)
        return x

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.transpose(1, 2).contiguous() if self.kind != "generic" else y

    def forward(self, params: dict[str, torch.Tensor], x: torch.Tensor, members: int) -> torch.Tensor:
        """The members' outputs, ``(members, outputs, n)`` (``(members, n, outputs)`` for other modules)."""
        if self.kind == "generic":
            return self.forward_generic(params, x)
        if self.kind == "wired":
            v = x  # (M, values of the level below, n)
            n = x.shape[-1]
            for i, reads in enumerate(self.base.wiring):
                t = [params[f"weights.{4 * i + j}"].flatten(0, 1) for j in range(4)]  # (M * nodes, out, in)
                u = v[:, reads.to(x.device)].reshape(-1, reads.shape[1], n)  # (M * nodes, fan-in, n)
                h = torch.relu(torch.baddbmm(t[1], t[0], u))
                v = torch.baddbmm(t[3], t[2], h).reshape(members, -1, n)  # (M, nodes, n)
            return v.sum(dim=1, keepdim=True) if self.base.additive else v  # (M, 1, n)
        if self.kind == "dense":
            h = x
            last = len(self.base.layers) - 1
            for i in range(last + 1):
                h = torch.baddbmm(params[f"layers.{i}.bias"], params[f"layers.{i}.weight"], h)
                if i < last:
                    h = self.act(h)
            return h
        v = x  # (M * nodes, 2, n)
        n = x.shape[-1]
        for index, level in enumerate(self.base.levels):
            t = [params[f"levels.{index}.{i}"].flatten(0, 1) for i in range(len(level))]  # (M * nodes, out, in)
            h = self.act(torch.baddbmm(t[1], t[0], v))  # (M * nodes, Q, n)
            for i in range(2, len(t) - 2, 2):
                h = self.act(torch.baddbmm(t[i + 1], t[i], h))
            out = torch.baddbmm(t[-1], t[-2], h)  # (M * nodes, 1, n)
            if out.shape[0] > members:  # children 2j, 2j + 1 of each member feed its node j of the next level
                v = out.reshape(-1, 2, n)
        return out  # (M, 1, n): one root per member


def train_penalized(
    models: list[nn.Module],
    x_train: object,
    y_train: object,
    *,
    x_test: np.ndarray | torch.Tensor | None = None,
    y_test: np.ndarray | torch.Tensor | None = None,
    lr: float | Sequence[float],
    steps: int,
    weight_decay: float | Sequence[float] = 0.0,
    l1: float | Sequence[float] = 0.0,
    schedule: str = "constant",
    warmup: int = 0,
    eval_every: int | None = None,
    device: str | torch.device | None = None,
) -> list:
    """Train several networks of one architecture at once, each with its own data, learning rate and penalty.

    Member ``i`` follows the updates that full-batch Adam in :func:`cosp_helpers.training.train` gives it
    alone, with the square loss::

        train(models[i], x_train[i], y_train[i], x_test=x_test, y_test=y_test, lr=lr[i], steps=steps,
              weight_decay=weight_decay[i], penalty=l1_penalty(l1[i]) if l1[i] else None, ...)

    so the objective of member ``i`` is its mean squared error ``+ l1[i] * ||theta||_1 + weight_decay[i] / 2 *
    ||theta||_2^2``. The results agree with the separate runs up to float rounding (the batched products sum
    in another order); the penalties' gradients and Adam's arithmetic are those of the separate runs. This is
    the tool for a grid of penalty strengths or learning rates, or for seeds that each draw their own
    training set, where :func:`cosp_helpers.training.train_ensemble` (one data set, one setting) does not
    apply. :class:`~cosp_helpers.networks.BinaryTreeNet`, :class:`~cosp_helpers.networks.DeepNet`,
    :class:`~cosp_helpers.networks.ShallowNet` and :class:`~cosp_helpers.circuits.WiredTreeNet` run as one
    batch of products with the samples on the last axis (two to three times faster per member than one run
    of :func:`~cosp_helpers.training.train`); other modules run through ``torch.func.vmap`` (often no faster
    than a loop).

    Parameters
    ----------
    models : list of torch.nn.Module
        One or more modules of the same class and parameter shapes, without pruning masks, buffers or hooks,
        initialised by the caller. They are trained in place.
    x_train, y_train : numpy.ndarray or torch.Tensor, or a list of them
        One training set shared by the members, or a list of one per member (all of the same shapes).
        The model's output and ``y_train`` have the shape ``(n, outputs)``.
    x_test, y_test : numpy.ndarray or torch.Tensor, optional
        A test set shared by the members; give both or neither.
    lr : float or sequence of float
        Adam's learning rate (> 0), one for all or one per member.
    steps : int
        Full-batch optimizer steps, in ``1..2**24``.
    weight_decay, l1 : float or sequence of float
        The strengths (>= 0) of the two penalties, one for all or one per member.
    schedule, warmup : as in :func:`cosp_helpers.training.train`
    eval_every : int, optional
        Measure the losses every this many steps (default: about 50 times per run), and after the last.
    device : str or torch.device, optional
        Defaults to :func:`cosp_helpers.runtime.get_device`.

    Returns
    -------
    list of TrainHistory
        One per member, in the order of ``models`` (``seconds`` is the wall time of the whole call).

    Raises
    ------
    FloatingPointError
        If a member's training loss becomes NaN or infinite (lower its ``lr``).

    Examples
    --------
    >>> from cosp_helpers.networks import DeepNet
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.rand(64, 2, generator=g) * 2 - 1; y = x[:, :1] * x[:, 1:]
    >>> nets = [DeepNet(2, 16, depth=2, seed=s) for s in range(3)]
    >>> hs = train_penalized(nets, x, y, lr=0.01, steps=300, l1=[0.0, 1e-3, 1e-1], device="cpu")
    >>> [round(h.final_train_loss, 3) < 0.01 for h in hs], parameter_norm(nets[2]) < parameter_norm(nets[0])
    ([True, True, False], True)
    """
    import time

    from torch.func import stack_module_state

    from .runtime import resolve_device
    from .training import _SCHEDULES, _check_warmup, _lr_factor, _member_histories, _stack_members

    started = time.perf_counter()
    models = _stack_members(models)[0]  # the checks of train_ensemble: distinct modules of one architecture, all trainable
    for i, model in enumerate(models):
        if any(True for _ in model.buffers()) or any(m._forward_hooks or m._forward_pre_hooks for m in model.modules()):
            raise ValueError(f"models[{i}] has buffers or hooks (e.g. pruning masks); train it with cosp_helpers.training.train")
    members = len(models)
    lrs = _per_member("lr", lr, members, positive=True)
    decays = _per_member("weight_decay", weight_decay, members, positive=False)
    strengths = _per_member("l1", l1, members, positive=False)
    total = check_size("steps", steps)
    if schedule not in _SCHEDULES:
        raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")
    warmup = _check_warmup(warmup, total)
    if eval_every is not None:
        eval_every = check_int("eval_every", eval_every, minimum=1)
    every = eval_every if eval_every is not None else max(1, total // 50)
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    device = resolve_device(device)

    base = models[0]
    x = _member_data("x_train", x_train, members, base, device)
    y = _member_data("y_train", y_train, members, base, device)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x_train and y_train must have the same number of samples, got {x.shape[1]} and {y.shape[1]}")
    layout = _Layout(base)
    with torch.no_grad():
        probe = base.to(device)(x[0, :1])
    if probe.shape[1:] != y.shape[2:] or y.ndim != 3:
        raise ValueError(f"the models' output, {tuple(probe.shape[1:])} per sample, and y_train must have the same shape (n, outputs), got y_train rows of shape {tuple(y.shape[2:])}")
    xs, ys = layout.inputs(x), layout.targets(y)
    test = None
    if x_test is not None:
        xt = _member_data("x_test", x_test, 1, base, device).expand(members, -1, -1)
        yt = _member_data("y_test", y_test, 1, base, device).expand(members, -1, -1)
        if xt.shape[1] != yt.shape[1] or xt.shape[2:] != x.shape[2:] or yt.shape[2:] != y.shape[2:]:
            raise ValueError("x_test and y_test must have as many samples as each other, and rows shaped like x_train's and y_train's")
        test = (layout.inputs(xt), layout.targets(yt))

    stacked, _ = stack_module_state(list(models))
    held = {name: layout.inward(name, p.detach().to(device)).requires_grad_(True) for name, p in stacked.items()}
    leaves = list(held.values())

    def member_losses(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return (layout.forward(held, xb, members) - yb).square().flatten(1).mean(1)  # (M,)

    # Adam: the fused kernel of torch.optim, once per group of members sharing (lr, weight_decay), on views
    exp_avgs = [torch.zeros_like(p) for p in leaves]
    exp_avg_sqs = [torch.zeros_like(p) for p in leaves]
    groups: dict[tuple[float, float], list[int]] = {}
    for i, key in enumerate(zip(lrs, decays)):
        groups.setdefault(key, []).append(i)
    plan = []  # (lr, weight_decay, [(parameter, first member, end)], step counters): contiguous runs of members
    for (rate, decay), idx in groups.items():
        runs = []
        for i in idx:
            if runs and runs[-1][1] == i:
                runs[-1][1] = i + 1
            else:
                runs.append([i, i + 1])
        slices = [(k, a, b) for a, b in runs for k in range(len(leaves))]
        plan.append((rate, decay, slices, [torch.tensor(0.0, dtype=torch.float32, device=device) for _ in slices]))
    l1_tensors = None
    if any(strengths):
        l1_tensors = [torch.tensor(strengths, dtype=p.dtype, device=device).reshape(-1, *[1] * (p.ndim - 1)) for p in leaves]

    record_steps: list[int] = []
    train_losses: list[list[float]] = []
    test_losses: list[list[float]] = []

    @torch.no_grad()
    def record(step: int) -> None:
        record_steps.append(step)
        train_losses.append(member_losses(xs, ys).tolist())
        if test is not None:
            test_losses.append(member_losses(*test).tolist())

    record(0)
    for step in range(1, total + 1):
        for p in leaves:
            p.grad = None
        losses = member_losses(xs, ys)
        if not bool(torch.isfinite(losses).all()):
            bad = int(torch.nonzero(~torch.isfinite(losses))[0])
            raise FloatingPointError(
                f"the training loss of models[{bad}] became {float(losses[bad].detach())} at step {step - 1}; "
                f"lower its lr (now {lrs[bad]:g})"
            )
        losses.sum().backward()  # members share no parameters: each gets its own gradient
        factor = _lr_factor(step - 1, total, schedule, warmup)
        with torch.no_grad():
            if l1_tensors is not None:  # the gradient of l1 * ||theta||_1, as autograd gives it: l1 * sign(theta)
                for p, s in zip(leaves, l1_tensors):
                    p.grad.add_(s * p.sign())
            for rate, decay, slices, state_steps in plan:
                torch._foreach_add_(state_steps, 1)
                torch._fused_adam_(
                    [leaves[k][a:b] for k, a, b in slices], [leaves[k].grad[a:b] for k, a, b in slices],
                    [exp_avgs[k][a:b] for k, a, b in slices], [exp_avg_sqs[k][a:b] for k, a, b in slices], [], state_steps,
                    amsgrad=False, lr=rate * factor, beta1=0.9, beta2=0.999, weight_decay=decay, eps=1e-8,
                    maximize=False, grad_scale=None, found_inf=None,
                )  # fmt: skip
        if step % every == 0 or step == total:
            record(step)
    with torch.no_grad():
        for i, model in enumerate(models):
            for name, p in model.named_parameters():
                p.copy_(layout.outward(name, held[name])[i])
    seconds = time.perf_counter() - started
    return _member_histories(record_steps, train_losses, test_losses if test is not None else None, seconds)


# === Magnitude pruning with rewinding, beta-lasso, locality ==================================================

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
    >>> _ = prune_to_fraction(net, 0.25, names=["weight"]); remaining_fraction(net, "weight")
    0.25
    """
    module, local = _owner(model, name)
    mask = getattr(module, local + "_mask", None)
    return 1.0 if mask is None else int(torch.count_nonzero(mask)) / mask.numel()


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
    >>> _ = prune_to_fraction(net, 0.5, names=["weight"])
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
                prune_to_fraction(model, keep_per_round ** (r + 1), names=[name])
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
