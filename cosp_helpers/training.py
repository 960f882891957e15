"""One training loop for every experiment: explicit seeds, CPU/GPU, ``tqdm.auto`` progress.

:func:`train` fits a torch module to ``(x, y)`` with Adam or SGD, full-batch (the default, and the
fast choice for the small data sets of the notebooks: no ``DataLoader``, the whole set lives on the
device as one tensor) or with shuffled mini-batches. It evaluates the data loss every ``eval_every``
steps and returns a :class:`TrainHistory` of plain floats. :func:`evaluate` computes one loss.

What is minimised at each step is ``loss(model(x_batch), y_batch) + penalty(model)``, plus
``weight_decay / 2 * ||theta||^2`` over all parameters (the coupled L2 penalty of ``torch.optim``);
the losses recorded in the history are the data loss alone, on the whole training (and test) set.
The model's initialisation is the caller's business (the networks of :mod:`cosp_helpers.networks`
take ``seed=``); ``seed`` here only drives the mini-batch shuffling.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._checks import as_generator, as_torch_generator, check_int, check_positive, check_real
from .runtime import resolve_device

__all__ = ["TrainHistory", "train", "evaluate"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Loss = Union[str, LossFn]
ArrayLike = Union[np.ndarray, torch.Tensor]

_LOSSES = ("mse", "cross_entropy")
_OPTIMIZERS = ("adam", "sgd")
_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainHistory:
    """What :func:`train` measured: losses at each evaluation, final values, wall time.

    Attributes
    ----------
    steps : list of int
        The optimizer steps after which the losses were measured (0 = before training); the last
        entry is the total number of steps.
    train_loss, test_loss : list of float
        The data loss on the whole training set and on the test set at those steps
        (``test_loss`` is empty when no test set was given).
    final_train_loss : float
        ``train_loss[-1]``.
    final_test_loss : float or None
        ``test_loss[-1]``, or None without a test set.
    seconds : float
        Wall time of the whole call.

    Examples
    --------
    >>> h = TrainHistory(steps=[0, 10], train_loss=[1.0, 0.1], test_loss=[], final_train_loss=0.1,
    ...                  final_test_loss=None, seconds=0.01)
    >>> h.final_train_loss < h.train_loss[0]
    True
    """

    steps: list[int]
    train_loss: list[float]
    test_loss: list[float]
    final_train_loss: float
    final_test_loss: float | None
    seconds: float


def _check_loss(loss: object) -> LossFn:
    if callable(loss):
        return loss
    if loss == "mse":
        return _mse
    if loss == "cross_entropy":
        return F.cross_entropy
    raise ValueError(f"loss must be one of {_LOSSES} or a callable (prediction, target) -> scalar tensor, got {loss!r}")


def _mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # An (n, 1) prediction against an (n,) target would broadcast to (n, n) silently: refuse it.
    if prediction.shape != target.shape:
        raise ValueError(
            f"loss 'mse' needs the model's output and y to have the same shape, got {tuple(prediction.shape)} "
            f"and {tuple(target.shape)}; reshape y (e.g. y.reshape(-1, 1))"
        )
    return F.mse_loss(prediction, target)


def _as_tensor(name: str, value: object, dtype: torch.dtype, device: torch.device, integer_ok: bool) -> torch.Tensor:
    """``value`` as a tensor on ``device``: floats in ``dtype``, integers as long (if ``integer_ok``)."""
    if isinstance(value, np.ndarray):
        if not (np.issubdtype(value.dtype, np.number) or value.dtype == bool) or np.iscomplexobj(value):
            raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
        value = torch.from_numpy(np.ascontiguousarray(value))
    elif not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(value).__name__}")
    if value.ndim == 0 or value.shape[0] < 1:
        raise ValueError(f"{name} must have a first (sample) dimension of length >= 1, got shape {tuple(value.shape)}")
    if value.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    if value.is_floating_point():
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name} must be finite, got NaN or inf")
        return value.to(device=device, dtype=dtype)
    if integer_ok:
        return value.to(device=device, dtype=torch.long)
    return value.to(device=device, dtype=dtype)


def _prepare(model: nn.Module, x: object, y: object, loss: Loss, device: torch.device, prefix: str):
    dtype = _param_dtype(model)
    x_t = _as_tensor(f"x_{prefix}", x, dtype, device, integer_ok=True)
    y_t = _as_tensor(f"y_{prefix}", y, dtype, device, integer_ok=loss != "mse")
    if loss == "cross_entropy" and y_t.is_floating_point():
        raise TypeError(f"y_{prefix} must hold integer class labels for loss 'cross_entropy', got dtype {y_t.dtype}")
    if x_t.shape[0] != y_t.shape[0]:
        raise ValueError(f"x_{prefix} and y_{prefix} must have the same number of samples, got {x_t.shape[0]} and {y_t.shape[0]}")
    return x_t, y_t


def _param_dtype(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        return p.dtype if p.is_floating_point() else torch.get_default_dtype()
    return torch.get_default_dtype()


def _make_optimizer(name: str, params: list[torch.Tensor], **settings: float) -> torch.optim.Optimizer:
    """Adam or SGD, with the fused (single-kernel) update where PyTorch offers it: 20-30% faster per
    step on the small models of the notebooks (measured on CPU); the plain version otherwise."""
    if name == "adam":
        settings.pop("momentum")
        cls = torch.optim.Adam
    else:
        cls = torch.optim.SGD
    try:
        return cls(params, fused=True, **settings)
    except (RuntimeError, TypeError, ValueError):  # device or dtype without a fused kernel
        return cls(params, **settings)


def _lr_factor(step: int, total: int, schedule: str) -> float:
    """Multiplier of the learning rate at ``step`` (0-based) of ``total``: 1, or a half cosine from 1 to 0."""
    if schedule == "constant":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * step / total))


@torch.no_grad()
def _full_loss(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, batch_size: int | None) -> float:
    if batch_size is None or batch_size >= x.shape[0]:
        return float(loss_fn(model(x), y))
    # the mean over batches, weighted by batch size (exact for mean-reduced losses)
    total = 0.0
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        total += float(loss_fn(model(xb), yb)) * xb.shape[0]
    return total / x.shape[0]


def evaluate(
    model: nn.Module,
    x: ArrayLike,
    y: ArrayLike,
    loss: Loss = "mse",
    batch_size: int | None = None,
    device: str | torch.device | None = None,
) -> float:
    """The data loss of ``model`` on ``(x, y)``, without gradients, as a float.

    Parameters
    ----------
    model : torch.nn.Module
        Moved to ``device``; its train/eval mode is set to eval during the call and restored after.
    x, y : numpy.ndarray or torch.Tensor
        Inputs and targets with the same first dimension (see :func:`train` for dtypes).
    loss : {"mse", "cross_entropy"} or callable
        As in :func:`train`.
    batch_size : int, optional
        Evaluate in chunks of this size (to bound memory); None = all at once.
    device : str or torch.device, optional
        Defaults to :func:`cosp_helpers.runtime.get_device`.

    Returns
    -------
    float

    Examples
    --------
    >>> model = torch.nn.Linear(1, 1)
    >>> with torch.no_grad():
    ...     _ = model.weight.fill_(2.0), model.bias.fill_(0.0)
    >>> x = np.array([[0.0], [1.0]]); y = np.array([[0.0], [3.0]])
    >>> evaluate(model, x, y, device="cpu")  # ((0 - 0)^2 + (2 - 3)^2) / 2
    0.5
    """
    loss_fn = _check_loss(loss)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    device = resolve_device(device)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    model.to(device)
    x_t, y_t = _prepare(model, x, y, loss, device, "eval")
    was_training = model.training
    model.eval()
    try:
        return _full_loss(model, loss_fn, x_t, y_t, batch_size)
    finally:
        model.train(was_training)


def train(
    model: nn.Module,
    x_train: ArrayLike,
    y_train: ArrayLike,
    *,
    x_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    loss: Loss = "mse",
    optimizer: str = "adam",
    lr: float = 1e-3,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    schedule: str = "constant",
    seed: int | np.random.Generator = 0,
    device: str | torch.device | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    desc: str | None = None,
) -> TrainHistory:
    """Train ``model`` in place on ``(x_train, y_train)``; return its :class:`TrainHistory`.

    Parameters
    ----------
    model : torch.nn.Module
        The model, initialised by the caller (seeded there); it is moved to ``device``.
    x_train, y_train : numpy.ndarray or torch.Tensor
        Training inputs and targets, same first dimension. Floating arrays are cast to the model's
        parameter dtype; integer inputs (e.g. tokens) become ``long``; integer targets too, except
        with ``loss="mse"``, which casts them to floats.
    x_test, y_test : numpy.ndarray or torch.Tensor, optional
        A test set, evaluated alongside the training set; give both or neither.
    loss : {"mse", "cross_entropy"} or callable
        ``"mse"`` is the mean squared error (the model's output and ``y`` must have the same shape);
        ``"cross_entropy"`` takes logits of shape (n, classes) and integer labels of shape (n,);
        a callable ``loss(prediction, target)`` must return a scalar tensor (mean over the batch).
    optimizer : {"adam", "sgd"}
        ``torch.optim.Adam`` or ``torch.optim.SGD`` (with ``momentum``).
    lr : float
        Learning rate, > 0.
    steps, epochs : int
        Give exactly one: the number of optimizer steps, or of passes over the data
        (one pass = ``ceil(n / batch_size)`` steps; one step when full-batch).
    batch_size : int, optional
        None (default): full batch, no shuffling. Otherwise the data are reshuffled each epoch.
    weight_decay : float
        Coefficient ``lambda >= 0`` of the L2 penalty ``lambda / 2 * ||theta||^2`` on all parameters.
    momentum : float
        SGD momentum in [0, 1); must be 0 with Adam.
    penalty : callable, optional
        ``penalty(model) -> scalar tensor`` added to the loss at each step (e.g. an l1 norm).
    schedule : {"constant", "cosine"}
        Learning-rate schedule: constant, or a half cosine from ``lr`` down to 0 at the last step
        (it helps short full-batch runs settle).
    seed : int or numpy.random.Generator
        Drives the mini-batch shuffling (unused when full-batch).
    device : str or torch.device, optional
        Defaults to :func:`cosp_helpers.runtime.get_device`.
    eval_every : int, optional
        Measure the losses every this many steps (default: about 50 times per run), and after the last.
    progress : bool
        Show a ``tqdm.auto`` progress bar (it disappears when training ends).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    TrainHistory

    Raises
    ------
    FloatingPointError
        If the training loss becomes NaN or infinite (lower ``lr``).

    References
    ----------
    D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.rand(64, 2, generator=g); y = x @ torch.tensor([[1.0], [-2.0]]) + 0.5
    >>> model = torch.nn.Linear(2, 1)
    >>> h = train(model, x, y, lr=0.1, steps=300, progress=False, device="cpu")
    >>> h.steps[0], h.steps[-1], h.final_train_loss < 1e-6
    (0, 300, True)
    """
    started = time.perf_counter()
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    loss_fn = _check_loss(loss)
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {optimizer!r}")
    if schedule not in _SCHEDULES:
        raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")
    lr = check_positive("lr", lr)
    weight_decay = check_real("weight_decay", weight_decay)
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    momentum = check_real("momentum", momentum)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if momentum and optimizer != "sgd":
        raise ValueError(f"momentum applies to optimizer 'sgd' only, got momentum={momentum} with {optimizer!r}")
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty must be a callable model -> scalar tensor, or None, got {type(penalty).__name__}")
    if (steps is None) == (epochs is None):
        raise ValueError(f"give exactly one of steps and epochs, got steps={steps!r}, epochs={epochs!r}")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    if eval_every is not None:
        eval_every = check_int("eval_every", eval_every, minimum=1)
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    rng = as_generator(seed)
    device = resolve_device(device)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {progress!r}")

    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    x, y = _prepare(model, x_train, y_train, loss, device, "train")
    test = None if x_test is None else _prepare(model, x_test, y_test, loss, device, "test")
    n = x.shape[0]
    if batch_size is not None and batch_size > n:
        raise ValueError(f"batch_size must be <= the number of training samples ({n}), got {batch_size}")
    full_batch = batch_size is None or batch_size == n
    per_epoch = 1 if full_batch else math.ceil(n / batch_size)
    if steps is not None:
        total = check_int("steps", steps, minimum=1)
    else:
        total = check_int("epochs", epochs, minimum=1) * per_epoch
    every = eval_every if eval_every is not None else max(1, total // 50)

    opt = _make_optimizer(optimizer, params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: _lr_factor(step, total, schedule))
    shuffle = None
    if not full_batch:
        shuffle = as_torch_generator(rng)

    record_steps: list[int] = []
    train_losses: list[float] = []
    test_losses: list[float] = []

    def record(step: int) -> None:
        model.eval()
        record_steps.append(step)
        train_losses.append(_full_loss(model, loss_fn, x, y, None if full_batch else batch_size))
        if test is not None:
            test_losses.append(_full_loss(model, loss_fn, *test, None if full_batch else batch_size))
        model.train()

    from tqdm.auto import tqdm  # imported here: the widget front end loads only when training

    bar = tqdm(total=total, desc=desc, leave=False, disable=not progress)
    with contextlib.closing(bar):
        record(0)
        model.train()
        step = 0
        while step < total:
            order = None if full_batch else torch.randperm(n, generator=shuffle).to(device)
            for start in range(0, n, n if full_batch else batch_size):
                if full_batch:
                    xb, yb = x, y
                else:
                    idx = order[start : start + batch_size]
                    xb, yb = x[idx], y[idx]
                opt.zero_grad(set_to_none=True)
                objective = loss_fn(model(xb), yb)
                if penalty is not None:
                    objective = objective + penalty(model)
                if not torch.isfinite(objective):
                    raise FloatingPointError(
                        f"the training loss became {float(objective.detach())} at step {step}; lower lr (now {lr:g})"
                    )
                objective.backward()
                opt.step()
                sched.step()
                step += 1
                bar.update(1)
                if step % every == 0 or step == total:
                    record(step)
                    bar.set_postfix(train=f"{train_losses[-1]:.3g}", refresh=False)
                if step == total:
                    break
    return TrainHistory(
        steps=record_steps,
        train_loss=train_losses,
        test_loss=test_losses,
        final_train_loss=train_losses[-1],
        final_test_loss=test_losses[-1] if test is not None else None,
        seconds=time.perf_counter() - started,
    )
