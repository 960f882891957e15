"""Argument checks shared by the modules (private).

Each raises ``TypeError`` for a value of the wrong kind and ``ValueError`` for a value out of
range, naming the argument, the value received, and what is accepted.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def check_int(name: str, value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive(name: str, value: object) -> float:
    value = check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_open_interval(name: str, value: object, low: float, high: float, closed_right: bool = False) -> float:
    value = check_real(name, value)
    ok = low < value <= high if closed_right else low < value < high
    if not ok:
        bracket = "]" if closed_right else ")"
        raise ValueError(f"{name} must be in ({low:g}, {high:g}{bracket}, got {value}")
    return value


def as_generator(seed: object) -> np.random.Generator:
    """Turn ``seed`` (an int >= 0 or a Generator) into a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    check_int("seed", seed, minimum=0)
    return np.random.default_rng(int(seed))


def as_torch_generator(seed: object) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded from ``seed`` (an int >= 0 or a numpy Generator, via :func:`as_generator`)."""
    import torch  # here, so that the numpy-only modules do not pay for importing torch

    return torch.Generator().manual_seed(int(as_generator(seed).integers(2**62)))


def check_power_of_two(name: str, value: object) -> int:
    """An int that is a power of 2 and >= 2 (the number of inputs of a binary tree)."""
    n = check_int(name, value, minimum=2)
    if n & (n - 1):
        raise ValueError(f"{name} must be a power of 2 (>= 2), got {n}")
    return n


def check_real_array(name: str, x: object) -> np.ndarray:
    """A numpy array of finite real numbers (any shape), as float."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    x = x.astype(float, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return x


def check_points(name: str, x: object, d: int | None = None) -> np.ndarray:
    """A float array of shape (n, d) with n >= 1."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (n, d), got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"{name} must have a real dtype, got {x.dtype}")
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, d) with n >= 1, got shape {x.shape}")
    if d is not None and x.shape[1] != d:
        raise ValueError(f"{name} must have {d} columns, got shape {x.shape}")
    return x.astype(float, copy=False)
