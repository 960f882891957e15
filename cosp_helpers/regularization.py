"""Explicit regularization and the sparsity it leaves: l1 and l2 penalties, near-zero weight counts, magnitude-threshold pruning.

* :func:`l1_penalty`, :func:`l2_penalty` -- callables ``penalty(model) -> scalar tensor`` for the
  ``penalty=`` hook of :func:`cosp_helpers.training.train`; :func:`parameter_norm` measures the norms.
* :func:`weight_statistics` -- how many weights have ``|w| <= threshold``, per tensor and in total;
  :func:`flat_weights` and :func:`magnitude_histogram` for histograms of ``log10 |w|``.
* :func:`prune_small_weights` (a threshold), :func:`prune_smallest` (a fraction), :func:`remove_pruning`
  and :func:`pruning_curve` -- magnitude pruning that keeps the pruned weights at zero.

"Weights" here are all trainable parameters of a model, biases included: the same set that the
``weight_decay=`` of :func:`cosp_helpers.training.train` penalises. Each function takes an optional
``names`` (parameter names as in ``model.named_parameters()``) to restrict it to some tensors.

Pruning uses ``torch.nn.utils.prune``: a pruned parameter ``w`` becomes ``w_orig`` (still trained)
times a 0/1 buffer ``w_mask``, so pruned entries stay exactly zero whatever the optimizer does.
PyTorch recomputes ``w = w_orig * w_mask`` before the forward pass of the module that owns ``w``;
:class:`~cosp_helpers.networks.BinaryTreeNet` keeps its weights in ``ParameterList`` s, whose own
forward never runs, so a hook on the pruned model's root recomputes every masked weight as well.
All functions here read the masked (effective) weights.
"""

from __future__ import annotations

import copy
import math
from typing import Iterable, Iterator, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

from ._checks import check_array, check_int, check_real
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
    "prune_smallest",
    "remove_pruning",
    "pruning_curve",
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
        ``log10`` of the smallest and largest magnitude binned, ``low < high``.
    bins : int
        Number of bins, >= 1.

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
    if not low < high:
        raise ValueError(f"low must be < high, got low={low}, high={high}")
    bins = check_int("bins", bins, minimum=1)
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


def prune_smallest(model: nn.Module, fraction: float, names: Iterable[str] | None = None) -> WeightStats:
    """Zero the ``fraction`` of weights with the smallest magnitudes, over all tensors together.

    Global magnitude pruning: the ``round(fraction * N)`` weights of smallest ``|w|`` among the ``N``
    selected ones are set to zero and kept there (ties broken by position); weights already zero
    count among the smallest.

    Parameters
    ----------
    model : torch.nn.Module
        Pruned in place.
    fraction : float
        In ``[0, 1]``.
    names : iterable of str, optional
        Prune only these parameters.

    Returns
    -------
    WeightStats
        The exact zeros of each pruned tensor after pruning.

    References
    ----------
    J. Frankle, M. Carbin, "The lottery ticket hypothesis", ICLR 2019 (global magnitude pruning);
    CBMM Memo 138 (Poggio 2023), §6.9.

    Examples
    --------
    >>> net = torch.nn.Linear(3, 1)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[0.5, -0.1, 2.0]])), net.bias.fill_(-0.3)
    >>> prune_smallest(net, 0.5).total_near_zero  # the 2 smallest of 4: -0.1 and -0.3
    2
    >>> net.weight.tolist(), net.bias.tolist()
    ([[0.5, -0.0, 2.0]], [-0.0])
    """
    fraction = check_real("fraction", fraction)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    entries = _select(model, names)
    with torch.no_grad():
        magnitudes = torch.cat([value.detach().abs().reshape(-1).double().cpu() for _, _, _, value in entries])
        k = int(round(fraction * magnitudes.numel()))
        drop = torch.zeros(magnitudes.numel(), dtype=torch.bool)
        drop[torch.argsort(magnitudes, stable=True)[:k]] = True
        keep, start = [], 0
        for _, _, _, value in entries:
            part = drop[start : start + value.numel()].reshape(value.shape)
            keep.append((~part).to(device=value.device, dtype=value.dtype))
            start += value.numel()
    return _apply_masks(model, entries, keep)


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
    >>> _ = prune_smallest(net, 0.5)
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


def pruning_curve(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    fractions: Sequence[float] | np.ndarray,
    loss: str = "mse",
    names: Iterable[str] | None = None,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """The loss on ``(x, y)`` after global magnitude pruning of each fraction, without retraining.

    Each fraction is applied to a fresh copy of ``model`` with :func:`prune_smallest`; ``model``
    itself is left unchanged. A network whose accuracy survives harsh pruning has a flat curve.

    Parameters
    ----------
    model : torch.nn.Module
    x, y : numpy.ndarray or torch.Tensor
        Evaluation data, as for :func:`cosp_helpers.training.evaluate`.
    fractions : sequence of float
        Fractions in ``[0, 1]``.
    loss : {"mse", "cross_entropy"} or callable
        As in :func:`cosp_helpers.training.evaluate`.
    names : iterable of str, optional
        Prune only these parameters.
    device : str or torch.device, optional
        Where to evaluate (default :func:`cosp_helpers.runtime.get_device`).

    Returns
    -------
    numpy.ndarray, shape (len(fractions),)

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
    >>> pruning_curve(net, x, y, [0.0, 0.5, 1.0], device="cpu").tolist()  # the bias goes first, then the weight
    [0.0, 0.0, 10.0]
    """
    _check_model(model)
    values = check_array("fractions", fractions).reshape(-1)
    if values.size == 0 or not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"fractions must be a non-empty sequence of numbers in [0, 1], got {fractions!r}")
    names = None if names is None else list(names)
    with torch.no_grad():
        _refresh_masked(model)  # masked weights as plain tensors without autograd history, so deepcopy works
    losses = []
    for fraction in values:
        pruned = copy.deepcopy(model)
        prune_smallest(pruned, float(fraction), names=names)
        losses.append(evaluate(pruned, x, y, loss=loss, device=device))
    return np.array(losses)
