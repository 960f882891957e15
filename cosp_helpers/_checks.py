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


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


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


def check_array(
    name: str,
    x: object,
    *,
    ndim: int | tuple[int, ...] | None = None,
    columns: int | None = None,
    finite: bool = True,
    allow_empty: bool = True,
    numpy_only: bool = False,
) -> np.ndarray:
    """The one validator for arrays: real numbers as a float numpy array, or a ``TypeError``/``ValueError`` naming ``name``.

    Numpy arrays, lists and numbers are accepted (not strings, not None); with ``numpy_only`` only a numpy array.
    The dtype must be real (not bool, complex or text). ``ndim`` (an int or a tuple of allowed values) fixes the
    number of dimensions and ``columns`` the length of the last axis; with ``allow_empty=False`` an array with no
    entries is refused, and with ``finite`` (the default) so is a NaN or an infinity.
    """
    if numpy_only and not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__} {x!r}"[:200])
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers: {error}") from None
    if raw.dtype == bool or not np.issubdtype(raw.dtype, np.number) or np.iscomplexobj(raw):
        raise TypeError(f"{name} must hold real numbers (have a real dtype), got dtype {raw.dtype}")
    arr = raw.astype(float, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if columns is not None and (arr.ndim == 0 or arr.shape[-1] != columns):
        raise ValueError(f"{name} must have {columns} columns, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return arr


def check_real_array(name: str, x: object) -> np.ndarray:
    """A numpy array of finite real numbers (any shape), as float: :func:`check_array` with ``numpy_only``."""
    return check_array(name, x, numpy_only=True)


def check_points(name: str, x: object, d: int | None = None) -> np.ndarray:
    """A finite float array of shape (n, d) with n >= 1: :func:`check_array` for a set of points."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (n, d), got {type(x).__name__}")
    real = np.issubdtype(x.dtype, np.number) and not np.iscomplexobj(x) and x.dtype != bool
    if real and (x.ndim != 2 or x.shape[0] < 1):
        raise ValueError(f"{name} must have shape (n, d) with n >= 1, got shape {x.shape}")
    return check_array(name, x, ndim=2, columns=d, allow_empty=False)


def check_tensor(name: str, x: object, *, finite: bool = True, allow_minus_inf: bool = False) -> torch.Tensor:
    """A torch tensor of real numbers; with ``finite``, no NaN or inf (``-inf`` too unless ``allow_minus_inf``)."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if finite and x.is_floating_point():
        bad = torch.isnan(x) | (x == float("inf"))
        if not allow_minus_inf:
            bad |= x == float("-inf")
        if bool(bad.any()):
            raise ValueError(f"{name} must be finite{' (-inf marks a masked entry)' if allow_minus_inf else ''}, "
                             f"got {'NaN' if bool(torch.isnan(x).any()) else 'inf'}")
    return x


#: The largest value one size argument (a count of samples, units, steps; a dimension) may take: far above every
#: experiment of the course at any ``COSP_SCALE``, and far below sizes that could never be allocated.
MAX_SIZE = 2**24
#: The most numbers one array built from size arguments may hold: 2**28 float64 numbers are 2 GiB.
MAX_ELEMENTS = 2**28


def check_size(name: str, value: object, minimum: int = 1) -> int:
    """A size (a count or a dimension): an int in ``[minimum, MAX_SIZE]``."""
    return check_int(name, value, minimum=minimum, maximum=MAX_SIZE)


def check_allocation(names: str, *sizes: int) -> None:
    """Refuse an array of ``prod(sizes)`` numbers above ``MAX_ELEMENTS``, naming the arguments that set its shape."""
    total = math.prod(int(s) for s in sizes)
    if total > MAX_ELEMENTS:
        raise ValueError(f"{names} ask for an array of shape {tuple(int(s) for s in sizes)} ({total:.3g} numbers); "
                         f"at most {MAX_ELEMENTS} (2 GiB of float64) are allowed")


#: The most bits an exact Python integer computed from a closed form (``k**n``, ``ceil(1/eps)**d``) may have:
#: Python builds such powers by repeated squaring, and 2**24 bits (about 5 million decimal digits, 2 MiB) take a
#: few seconds; past that only the logarithm of the count can be computed in reasonable time.
MAX_EXACT_BITS = 2**24
#: The most torch modules (hidden layers, tree nodes) one constructor builds one by one: each takes about a
#: millisecond and a few KB of Python objects, so 2**14 of them take some 15 s.
MAX_MODULES = 2**14


def check_exact_power(names: str, base: int, exponent: int, what: str) -> None:
    """Refuse to compute ``base**exponent`` exactly when it has more than ``MAX_EXACT_BITS`` bits (before computing it)."""
    if base > 1 and exponent * math.log2(base) > MAX_EXACT_BITS:
        log10 = exponent * math.log10(base)
        raise ValueError(f"{names} make {what} = {base}**{exponent} (about 10^{log10:.4g}), an exact integer of "
                         f"{exponent * math.log2(base):.3g} bits; at most {MAX_EXACT_BITS} bits are computed exactly: "
                         f"use its log10, {exponent} * log10({base})")
