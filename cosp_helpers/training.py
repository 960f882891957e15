"""One training loop for every experiment: explicit seeds, CPU/GPU, ``tqdm.auto`` progress.

:func:`train` fits a torch module to ``(x, y)`` with Adam or SGD, full-batch (the default, and the
fast choice for the small data sets of the notebooks: no ``DataLoader``, the whole set lives on the
device as one tensor) or with shuffled mini-batches. It evaluates the data loss every ``eval_every``
steps and returns a :class:`TrainHistory` of plain floats. :func:`evaluate` computes one loss.

What is minimised at each step is ``loss(model(x_batch), y_batch) + penalty(model)``, plus
``weight_decay / 2 * ||theta||^2`` over all parameters (the coupled L2 penalty of ``torch.optim``);
the losses recorded in the history are the data loss alone, on the whole training (and test) set.
:func:`train_ensemble` trains several models of one architecture (different seeds) as one batched
model (``torch.func.vmap``): each member follows exactly the updates :func:`train` would give it.
The model's initialisation is the caller's business (the networks of :mod:`cosp_helpers.networks`
take ``seed=``); ``seed`` here only drives the mini-batch shuffling.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._checks import (
    MAX_SIZE,
    as_generator,
    as_torch_generator,
    check_bool,
    check_int,
    check_positive,
    check_real,
    check_size,
)
from .runtime import resolve_device

__all__ = ["TrainHistory", "train", "train_ensemble", "evaluate"]

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
        return _cross_entropy
    raise ValueError(f"loss must be one of {_LOSSES} or a callable (prediction, target) -> scalar tensor, got {loss!r}")


def _cross_entropy(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # logits (n, ..., classes) against integer labels (n, ...): the mean over every position. The class axis is the
    # last one (a transformer's (n, T, classes)); torch's own convention, classes on axis 1, would read a (n, T,
    # classes) output as T classes and give a plausible wrong loss, so any other shape is refused.
    if prediction.dim() < 2 or prediction.shape[:-1] != target.shape:
        raise ValueError(
            f"loss 'cross_entropy' takes logits of shape (n, ..., classes) and labels of shape (n, ...), got logits "
            f"{tuple(prediction.shape)} and labels {tuple(target.shape)}"
        )
    return F.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), target.reshape(-1))


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


class _Optimizer:
    """Adam or SGD for :func:`train` and :func:`train_ensemble`, with the learning rate set at each step.

    On a device and dtype with PyTorch's fused (single-kernel) update, the kernel is called directly
    with the state ``torch.optim.Adam``/``SGD(fused=True)`` keeps, so the arithmetic is theirs bit
    for bit (a test checks it). Going through ``torch.optim`` instead would import ``torch._dynamo``
    on the first step (its step wrappers and ``LambdaLR`` do), a few seconds of every notebook that
    trains; the fused kernel is also 20-30% faster per step than the plain one on the small models of
    the notebooks. Elsewhere ``torch.optim``'s plain version is used.
    """

    _FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

    def __init__(self, name: str, params: list[torch.Tensor], *, momentum: float, weight_decay: float) -> None:
        self.name, self.params = name, list(params)
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self.fused = all(
            p.device.type in ("cpu", "cuda") and p.dtype in self._FUSED_DTYPES and not p.is_sparse for p in self.params
        )
        if not self.fused:
            settings = {"lr": 1.0, "weight_decay": self.weight_decay}
            if name == "sgd":
                settings["momentum"] = self.momentum
            self.torch_optimizer = (torch.optim.Adam if name == "adam" else torch.optim.SGD)(self.params, **settings)
            return
        # the state torch.optim creates lazily for its fused path, created here for every parameter
        if name == "adam":
            self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
            self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
            self.state_steps = [torch.tensor(0.0, dtype=torch.float32, device=p.device) for p in self.params]
        else:
            self.momentum_buffers: list[torch.Tensor | None] = [None] * len(self.params)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr: float) -> None:
        """One update with learning rate ``lr``; parameters without a gradient are left alone."""
        if not self.fused:
            for group in self.torch_optimizer.param_groups:
                group["lr"] = lr
            self.torch_optimizer.step()
            return
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
        for i in live:
            groups.setdefault((self.params[i].device, self.params[i].dtype), []).append(i)
        for idx in groups.values():
            params = [self.params[i] for i in idx]
            grads = [self.params[i].grad for i in idx]
            if self.name == "adam":
                steps = [self.state_steps[i] for i in idx]
                torch._foreach_add_(steps, 1)
                torch._fused_adam_(
                    params, grads, [self.exp_avgs[i] for i in idx], [self.exp_avg_sqs[i] for i in idx], [], steps,
                    amsgrad=False, lr=lr, beta1=0.9, beta2=0.999, weight_decay=self.weight_decay, eps=1e-8,
                    maximize=False, grad_scale=None, found_inf=None,
                )  # fmt: skip
            elif self.momentum == 0:
                torch._fused_sgd_(
                    params, grads, [], weight_decay=self.weight_decay, momentum=0.0, lr=lr, dampening=0.0,
                    nesterov=False, maximize=False, is_first_step=False, grad_scale=None, found_inf=None,
                )  # fmt: skip
            else:
                first = all(self.momentum_buffers[i] is None for i in idx)
                if first:
                    for i in idx:
                        self.momentum_buffers[i] = torch.empty_like(self.params[i].grad)
                torch._fused_sgd_(
                    params, grads, [self.momentum_buffers[i] for i in idx], weight_decay=self.weight_decay,
                    momentum=self.momentum, lr=lr, dampening=0.0, nesterov=False, maximize=False,
                    is_first_step=first, grad_scale=None, found_inf=None,
                )  # fmt: skip


def _check_settings(optimizer, schedule, lr, weight_decay, batch_size, eval_every, x_test, y_test, seed, device, progress):
    """The settings :func:`train` and :func:`train_ensemble` share, checked: lr, weight_decay, batch_size, eval_every,
    the shuffling generator and the device."""
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {optimizer!r}")
    if schedule not in _SCHEDULES:
        raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")
    lr = check_positive("lr", lr)
    weight_decay = check_real("weight_decay", weight_decay)
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    if eval_every is not None:
        eval_every = check_int("eval_every", eval_every, minimum=1)
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    rng = as_generator(seed)
    device = resolve_device(device)
    check_bool("progress", progress)
    return lr, weight_decay, batch_size, eval_every, rng, device


def _batches(x: torch.Tensor, y: torch.Tensor, total: int, batch_size: int | None, shuffle: torch.Generator | None):
    """Yield ``(step, x_batch, y_batch)`` for ``total`` steps: the whole set each step (full batch), or
    mini-batches of a fresh permutation each epoch, drawn from ``shuffle``; ``step`` counts from 1."""
    n = x.shape[0]
    full_batch = batch_size is None or batch_size >= n
    step = 0
    while True:
        if full_batch:
            step += 1
            yield step, x, y
            if step == total:
                return
            continue
        order = torch.randperm(n, generator=shuffle).to(x.device)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            step += 1
            yield step, x[idx], y[idx]
            if step == total:
                return

def _lr_factor(step: int, total: int, schedule: str, warmup: int = 0) -> float:
    """Multiplier of the learning rate at ``step`` (0-based) of ``total``.

    The first ``warmup`` steps ramp it linearly, ``(step + 1) / warmup``; the remaining ``total - warmup``
    steps follow the schedule: 1, or a half cosine from 1 to 0 over those steps.
    """
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def _check_warmup(warmup: object, total: int) -> int:
    warmup = check_int("warmup", warmup, minimum=0)
    if warmup >= total:
        raise ValueError(f"warmup must be smaller than the number of steps ({total}), got {warmup}")
    return warmup


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
        Left where it is: when ``device`` is not the device of its parameters, a copy is evaluated there. Its
        train/eval mode is set to eval during the call and restored after.
    x, y : numpy.ndarray or torch.Tensor
        Inputs and targets with the same first dimension (see :func:`train` for dtypes).
    loss : {"mse", "cross_entropy"} or callable
        As in :func:`train`.
    batch_size : int, optional
        Evaluate in chunks of this size (to bound memory); None = all at once.
    device : str or torch.device, optional
        Where to evaluate; defaults to the device of the model's parameters (:func:`cosp_helpers.runtime.get_device`
        for a model without parameters).

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
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    home = next((p.device for p in model.parameters()), None)
    device = resolve_device(device) if device is not None or home is None else home
    if home is not None and home.type != device.type:
        model = copy.deepcopy(model).to(device)  # the caller's model stays where it is
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
    warmup: int = 0,
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
        ``"cross_entropy"`` takes logits of shape (n, classes) and integer labels of shape (n,), or logits
        (n, ..., classes) and labels (n, ...), the mean over every position (classes on the last axis);
        a callable ``loss(prediction, target)`` must return a scalar tensor (mean over the batch).
    optimizer : {"adam", "sgd"}
        ``torch.optim.Adam`` or ``torch.optim.SGD`` (with ``momentum``).
    lr : float
        Learning rate, > 0.
    steps, epochs : int
        Give exactly one: the number of optimizer steps, or of passes over the data
        (one pass = ``ceil(n / batch_size)`` steps; one step when full-batch). At most ``2**24`` steps in all.
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
    warmup : int
        Steps of linear warm-up, 0 <= warmup < the number of steps: the learning rate rises from
        ``lr / warmup`` to ``lr`` over the first ``warmup`` steps, and the schedule runs over the rest.
        A few dozen steps keep Adam's first, full-size steps from switching off every unit of a
        narrow layer before the data have shaped it.
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
    lr, weight_decay, batch_size, eval_every, rng, device = _check_settings(
        optimizer, schedule, lr, weight_decay, batch_size, eval_every, x_test, y_test, seed, device, progress
    )
    momentum = check_real("momentum", momentum)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if momentum and optimizer != "sgd":
        raise ValueError(f"momentum applies to optimizer 'sgd' only, got momentum={momentum} with {optimizer!r}")
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty must be a callable model -> scalar tensor, or None, got {type(penalty).__name__}")
    if (steps is None) == (epochs is None):
        raise ValueError(f"give exactly one of steps and epochs, got steps={steps!r}, epochs={epochs!r}")

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
        total = check_size("steps", steps)
    else:
        total = check_size("epochs", epochs) * per_epoch
        if total > MAX_SIZE:
            raise ValueError(f"epochs = {epochs} of {per_epoch} steps each make {total} steps; at most {MAX_SIZE} are allowed")
    warmup = _check_warmup(warmup, total)
    every = eval_every if eval_every is not None else max(1, total // 50)

    opt = _Optimizer(optimizer, params, momentum=momentum, weight_decay=weight_decay)
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
        for step, xb, yb in _batches(x, y, total, None if full_batch else batch_size, shuffle):
            opt.zero_grad()
            objective = loss_fn(model(xb), yb)
            if penalty is not None:
                objective = objective + penalty(model)
            if not torch.isfinite(objective):
                raise FloatingPointError(
                    f"the training loss became {float(objective.detach())} at step {step - 1}; lower lr (now {lr:g})"
                )
            objective.backward()
            opt.step(lr * _lr_factor(step - 1, total, schedule, warmup))
            bar.update(1)
            if step % every == 0 or step == total:
                record(step)
                bar.set_postfix(train=f"{train_losses[-1]:.3g}", refresh=False)
    return TrainHistory(
        steps=record_steps,
        train_loss=train_losses,
        test_loss=test_losses,
        final_train_loss=train_losses[-1],
        final_test_loss=test_losses[-1] if test is not None else None,
        seconds=time.perf_counter() - started,
    )


def _forward_configuration(model: nn.Module) -> tuple:
    """What a package network's forward does beyond its parameter shapes (its activation; a transformer's block form
    and attention), which the members of an ensemble must share: they are run as one batch of the first one's forward."""
    configuration = getattr(model, "_configuration", None)
    return (getattr(model, "activation", None), configuration() if callable(configuration) else None)


def _stack_members(models: object) -> tuple[list[nn.Module], dict, dict]:
    """Check ``models`` (a list of modules with the same parameter names and shapes); stack their states."""
    from torch.func import stack_module_state

    if not isinstance(models, (list, tuple)) or not models:
        raise TypeError(f"models must be a non-empty list of torch.nn.Module, got {type(models).__name__}")
    for i, model in enumerate(models):
        if not isinstance(model, nn.Module):
            raise TypeError(f"models[{i}] must be a torch.nn.Module, got {type(model).__name__}")
    if len({id(m) for m in models}) != len(models):
        raise ValueError("models must be distinct modules (the same module appears twice)")
    shapes = [{name: tuple(p.shape) for name, p in m.named_parameters()} for m in models]
    for i, (model, shape) in enumerate(zip(models, shapes)):
        if type(model) is not type(models[0]) or shape != shapes[0]:
            raise ValueError(
                f"models must share one architecture (class and parameter shapes); models[{i}] "
                f"({type(model).__name__}) differs from models[0] ({type(models[0]).__name__})"
            )
        if _forward_configuration(model) != _forward_configuration(models[0]):
            raise ValueError(
                f"models must share one architecture; models[{i}] computes another function of the same parameters "
                f"({_forward_configuration(model)} against models[0]'s {_forward_configuration(models[0])})"
            )
        if not all(p.requires_grad for p in model.parameters()):
            raise ValueError(f"models[{i}] has frozen parameters; every parameter is trained")
    if not shapes[0]:
        raise ValueError("models have no trainable parameters")
    params, buffers = stack_module_state(list(models))
    return list(models), params, buffers


def _member_histories(
    steps: list[int], train_losses: list[list[float]], test_losses: list[list[float]] | None, seconds: float
) -> list[TrainHistory]:
    """One :class:`TrainHistory` per member from losses recorded row by row (one row per recorded step, one entry
    per member); ``test_losses`` is None when there was no test set. Used by the trainers of several models at once."""
    members = len(train_losses[0])
    return [
        TrainHistory(
            steps=list(steps),
            train_loss=[row[i] for row in train_losses],
            test_loss=[row[i] for row in test_losses] if test_losses is not None else [],
            final_train_loss=train_losses[-1][i],
            final_test_loss=test_losses[-1][i] if test_losses is not None else None,
            seconds=seconds,
        )
        for i in range(members)
    ]


def _stacks_natively(base: nn.Module, buffers: dict, loss: object) -> bool:
    """Whether ``base`` is one of the package's networks, unmodified (no pruning masks, no hooks), with a named loss."""
    from .attention import TinyTransformer
    from .networks import BinaryTreeNet, DeepNet, ShallowNet

    if type(base) not in (DeepNet, ShallowNet, BinaryTreeNet, TinyTransformer) or buffers or not isinstance(loss, str):
        return False
    return not any(m._forward_hooks or m._forward_pre_hooks for m in base.modules())


def _stacked_loss(loss: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Each member's mean loss, ``(members,)``, from stacked predictions ``(members, batch, ...)`` and a shared target."""
    members = prediction.shape[0]
    if loss == "mse":
        if prediction.shape[1:] != target.shape:
            _mse(prediction[0], target)  # raises the error train() gives
        return (prediction - target).square().flatten(1).mean(1)
    if prediction.shape[1:-1] != target.shape:
        _cross_entropy(prediction[0], target)  # raises the error train() gives
    repeated = target.expand(members, *target.shape).reshape(-1)
    flat = F.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), repeated, reduction="none")
    return flat.reshape(members, -1).mean(1)


def train_ensemble(
    models: list[nn.Module],
    x_train: ArrayLike,
    y_train: ArrayLike,
    *,
    x_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    loss: str = "mse",
    optimizer: str = "adam",
    lr: float = 1e-3,
    steps: int,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    warmup: int = 0,
    seed: int | np.random.Generator = 0,
    device: str | torch.device | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    desc: str | None = None,
) -> list[TrainHistory]:
    """Train several models of one architecture together, as one batched model; return their histories.

    Each member sees the same mini-batches (drawn from ``seed``) and follows the same updates that
    :func:`train` with the same arguments would give it alone: the members share no parameters, the
    objective is the sum of their losses (so each member's gradient is its own), and Adam and SGD act
    element by element. The results agree with separate :func:`train` calls up to float rounding
    (the batched kernels sum in another order); the work of a step is done in one pass for all the
    members, which is faster than a loop when the models are small.

    Parameters
    ----------
    models : list of torch.nn.Module
        One or more modules of the same class with the same parameter shapes and the same forward (activation;
        a transformer's block form and attention), each
        initialised by the caller (typically the same constructor with different seeds). They are
        trained in place: their parameters hold the trained values when the call returns.
    x_train, y_train, x_test, y_test, loss, optimizer, lr, batch_size, weight_decay, schedule, warmup, seed,
    device, eval_every, progress, desc
        As in :func:`train` (``loss`` is ``"mse"`` or ``"cross_entropy"``; ``seed`` drives the
        mini-batch shuffling shared by all members).
    steps : int
        Optimizer steps, in ``1..2**24``.

    Returns
    -------
    list of TrainHistory
        One per member, in the order of ``models``. ``seconds`` is the wall time of the whole call,
        shared by the members.

    Raises
    ------
    FloatingPointError
        If a member's training loss becomes NaN or infinite (lower ``lr``).

    Examples
    --------
    >>> x = torch.linspace(-1, 1, 32).reshape(-1, 1); y = 3 * x - 1
    >>> models = [torch.nn.Linear(1, 1) for _ in range(3)]
    >>> hs = train_ensemble(models, x, y, lr=0.1, steps=400, progress=False, device="cpu")
    >>> len(hs), all(h.final_train_loss < 1e-6 for h in hs), round(float(models[2].weight), 3)
    (3, True, 3.0)
    """
    from torch.func import functional_call, vmap

    started = time.perf_counter()
    models, params, buffers = _stack_members(models)
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
    loss_fn = _check_loss(loss)
    lr, weight_decay, batch_size, eval_every, rng, device = _check_settings(
        optimizer, schedule, lr, weight_decay, batch_size, eval_every, x_test, y_test, seed, device, progress
    )
    total = check_size("steps", steps)
    warmup = _check_warmup(warmup, total)

    base = models[0]
    x, y = _prepare(base, x_train, y_train, loss, device, "train")
    test = None if x_test is None else _prepare(base, x_test, y_test, loss, device, "test")
    n = x.shape[0]
    if batch_size is not None and batch_size > n:
        raise ValueError(f"batch_size must be <= the number of training samples ({n}), got {batch_size}")
    full_batch = batch_size is None or batch_size == n
    every = eval_every if eval_every is not None else max(1, total // 50)
    members = len(models)

    # one leaf tensor per parameter name, (members, *shape); the modules' own tensors are untouched until the end
    stacked = {name: p.detach().to(device).clone().requires_grad_(True) for name, p in params.items()}
    buffers = {name: b.to(device) for name, b in buffers.items()}
    template = copy.deepcopy(base).to("meta")  # the architecture without storage, for functional_call

    if _stacks_natively(base, buffers, loss):
        # the package's networks run all the members in one batch of products (torch.baddbmm); torch.func.vmap
        # over functional_call gives the same numbers but costs several times more per step on small networks
        def member_losses(p: dict, b: dict, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            return _stacked_loss(loss, base._stacked_forward(p, xb), yb)
    else:

        def one(p: dict, b: dict, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            return loss_fn(functional_call(template, (p, b), (xb,)), yb)

        member_losses = vmap(one, in_dims=(0, 0, None, None))  # -> (members,)

    @torch.no_grad()
    def data_losses(xs: torch.Tensor, ys: torch.Tensor) -> list[float]:
        if full_batch:
            return member_losses(stacked, buffers, xs, ys).tolist()
        sums = torch.zeros(members, dtype=next(iter(stacked.values())).dtype, device=xs.device)  # xs may be tokens
        for start in range(0, xs.shape[0], batch_size):
            xb, yb = xs[start : start + batch_size], ys[start : start + batch_size]
            sums += member_losses(stacked, buffers, xb, yb) * xb.shape[0]
        return (sums / xs.shape[0]).tolist()

    opt = _Optimizer(optimizer, list(stacked.values()), momentum=0.0, weight_decay=weight_decay)
    shuffle = None if full_batch else as_torch_generator(rng)
    record_steps: list[int] = []
    train_losses: list[list[float]] = []
    test_losses: list[list[float]] = []

    def record(step: int) -> None:
        record_steps.append(step)
        train_losses.append(data_losses(x, y))
        if test is not None:
            test_losses.append(data_losses(*test))

    from tqdm.auto import tqdm

    was_training = [m.training for m in models]
    template.train()
    bar = tqdm(total=total, desc=desc, leave=False, disable=not progress)
    with contextlib.closing(bar):
        record(0)
        for step, xb, yb in _batches(x, y, total, None if full_batch else batch_size, shuffle):
            opt.zero_grad()
            losses = member_losses(stacked, buffers, xb, yb)  # (members,)
            if not bool(torch.isfinite(losses).all()):
                bad = int(torch.nonzero(~torch.isfinite(losses))[0])
                raise FloatingPointError(
                    f"the training loss of models[{bad}] became {float(losses[bad].detach())} at step {step - 1}; "
                    f"lower lr (now {lr:g})"
                )
            losses.sum().backward()  # members share no parameters: each gets its own gradient
            opt.step(lr * _lr_factor(step - 1, total, schedule, warmup))
            bar.update(1)
            if step % every == 0 or step == total:
                record(step)
    with torch.no_grad():
        for i, (model, mode) in enumerate(zip(models, was_training)):
            model.to(device)
            for name, p in model.named_parameters():
                p.copy_(stacked[name][i])
            model.train(mode)
    seconds = time.perf_counter() - started
    return _member_histories(record_steps, train_losses, test_losses if test is not None else None, seconds)
