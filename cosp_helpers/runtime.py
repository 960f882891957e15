"""Run-time set-up shared by every notebook: seeding, device selection, experiment scale.

A notebook calls :func:`seed_everything` once in its set-up cell. The library itself never
seeds anything: every function that draws random numbers takes ``seed=`` (or a generator).

``COSP_SEED`` is an environment variable (default 0) that shifts every random choice of every
notebook at once: the set-up cell seeds the global generators from it, and every explicit seed a
notebook passes comes from :func:`derive_seed` or :func:`run_seeds`, which add
``SEED_STRIDE * COSP_SEED`` to the number written in the notebook. ``COSP_SEED=0`` gives the
seeds as written; any other value gives a fresh draw of all data, initialisations and runs, and
every check in the notebooks must still hold.

``COSP_SCALE`` is an environment variable read once per process: 1 (the default) sizes every
experiment for a lecture (about a minute per notebook on a laptop CPU); larger values enlarge
the experiments, e.g. ``COSP_SCALE=4`` on a workstation or a GPU node.
"""

from __future__ import annotations

import functools
import math
import os
import platform
import random
from importlib import metadata

import numpy as np
import torch

from ._checks import check_int, check_positive

__all__ = ["SEED_STRIDE", "base_seed", "derive_seed", "run_seeds", "seed_everything", "get_device", "get_scale", "scaled", "versions"]

_PACKAGES = ("numpy", "torch", "matplotlib", "networkx", "ipywidgets")

SEED_STRIDE = 1_000_000
"""How far apart the seeds of two values of ``COSP_SEED`` lie: ``derive_seed(k) = k + SEED_STRIDE * COSP_SEED``.

The seeds a notebook writes (its offsets ``k``) stay below this, so two values of ``COSP_SEED``
never share a seed."""

_MAX_BASE_SEED = 10**6  # keeps every derived seed, even after a notebook's own arithmetic, far below 2**63


def _parse_seed(text: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or not stripped.isascii():
        raise ValueError(f"COSP_SEED must be a non-negative integer (e.g. COSP_SEED=3), got {text!r}")
    value = int(stripped)
    if value >= _MAX_BASE_SEED:
        raise ValueError(f"COSP_SEED must be below {_MAX_BASE_SEED:,}, got {text!r}")
    return value


def base_seed() -> int:
    """The notebook seed: ``COSP_SEED`` from the environment (default 0), checked on every call.

    Returns
    -------
    int
        ``0 <= base_seed() < 1_000_000``.

    Raises
    ------
    ValueError
        If ``COSP_SEED`` is set to anything but a non-negative integer below 1,000,000.

    Examples
    --------
    >>> import os
    >>> base_seed() == int(os.environ.get("COSP_SEED", "0"))
    True
    """
    return _parse_seed(os.environ.get("COSP_SEED", "0"))


def derive_seed(offset: int) -> int:
    """The seed a notebook passes for the draw it numbers ``offset``: ``offset + SEED_STRIDE * COSP_SEED``.

    With ``COSP_SEED=0`` this is ``offset`` itself, the seed as written in the notebook.

    Parameters
    ----------
    offset : int
        The notebook's own number for this draw, ``0 <= offset < SEED_STRIDE``.

    Returns
    -------
    int

    Examples
    --------
    >>> derive_seed(7) == 7 + SEED_STRIDE * base_seed()
    True
    """
    offset = check_int("offset", offset, minimum=0, maximum=SEED_STRIDE - 1)
    return offset + SEED_STRIDE * base_seed()


def run_seeds(n: int, start: int = 0) -> list[int]:
    """The seeds of ``n`` repeated runs: ``derive_seed(start), ..., derive_seed(start + n - 1)``.

    A notebook writes ``SEEDS = cosp.run_seeds(3)`` once and refers to its runs as ``SEEDS[0]``,
    ``SEEDS[1]``, ..., never by a literal number, so that ``COSP_SEED`` moves them all.

    Parameters
    ----------
    n : int
        Number of runs, >= 1.
    start : int
        Offset of the first run, >= 0.

    Returns
    -------
    list of int

    Examples
    --------
    >>> [s - SEED_STRIDE * base_seed() for s in run_seeds(3)]
    [0, 1, 2]
    """
    n = check_int("n", n, minimum=1)
    start = check_int("start", start, minimum=0)
    if start + n > SEED_STRIDE:
        raise ValueError(f"start + n must be <= {SEED_STRIDE}, got {start + n}")
    return [derive_seed(start + i) for i in range(n)]


def seed_everything(seed: int | None = None) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's global generators; return a fresh NumPy Generator.

    Call it once, in a notebook's set-up cell. Library functions never call it.

    Parameters
    ----------
    seed : int, optional
        A non-negative integer; by default :func:`base_seed`, i.e. ``COSP_SEED``.

    Returns
    -------
    numpy.random.Generator
        ``np.random.default_rng(seed)``, to pass on explicitly.

    Examples
    --------
    >>> rng = seed_everything(0); first = torch.rand(3)
    >>> rng = seed_everything(0); bool(torch.equal(first, torch.rand(3)))
    True
    >>> int(rng.integers(1000)) == int(np.random.default_rng(0).integers(1000))
    True
    """
    seed = base_seed() if seed is None else check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed % 2**63)
    return np.random.default_rng(seed)


def get_device(prefer: str = "auto") -> torch.device:
    """Choose where tensors live: CUDA when present (with ``prefer="auto"``), else the CPU.

    The environment variable ``COSP_DEVICE`` (``cpu``, ``cuda`` or ``auto``) overrides ``prefer``,
    so a lecturer can force the CPU on a machine that has a GPU.

    Parameters
    ----------
    prefer : {"auto", "cpu", "cuda"}
        ``"auto"`` picks CUDA if ``torch.cuda.is_available()``, else the CPU.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    choice = os.environ.get("COSP_DEVICE", prefer)
    if choice not in ("auto", "cpu", "cuda"):
        source = "COSP_DEVICE" if "COSP_DEVICE" in os.environ else "prefer"
        raise ValueError(f"{source} must be 'auto', 'cpu' or 'cuda', got {choice!r}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but torch.cuda.is_available() is False")
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(choice)


def resolve_device(device: object) -> torch.device:
    """The device a function's ``device=`` argument asks for: None means :func:`get_device`; otherwise
    ``"cpu"``, ``"cuda"``, ``"auto"`` or a ``torch.device`` of those types, checked by :func:`get_device`
    (so ``COSP_DEVICE`` still forces the CPU)."""
    if device is None:
        return get_device()
    if isinstance(device, torch.device):
        name = device.type
    elif isinstance(device, str):
        name = device
    else:
        raise TypeError(f"device must be None, a string or a torch.device, got {type(device).__name__} {device!r}")
    if name not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda' (or a torch.device of those), got {device!r}")
    return get_device(name)


def _parse_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"COSP_SCALE must be a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"COSP_SCALE must be a positive number, got {text!r}")
    return value


@functools.lru_cache(maxsize=1)
def get_scale() -> float:
    """The experiment scale: ``COSP_SCALE`` from the environment, read once (default 1).

    Returns
    -------
    float
        A positive number; 1 means lecture size.

    Examples
    --------
    >>> get_scale() > 0
    True
    """
    return _parse_scale(os.environ.get("COSP_SCALE", "1"))


def scaled(n: int, minimum: int = 1, scale: float | None = None) -> int:
    """Size an experiment: ``n`` at lecture scale, ``round(n * scale)`` otherwise, at least ``minimum``.

    Parameters
    ----------
    n : int
        The size at scale 1 (e.g. a number of samples or of training steps); ``n >= 1``.
    minimum : int
        The smallest size returned.
    scale : float, optional
        Defaults to :func:`get_scale`.

    Examples
    --------
    >>> scaled(1000, scale=1)
    1000
    >>> scaled(1000, scale=0.001, minimum=10)
    10
    >>> scaled(300, scale=2.5)
    750
    """
    n = check_int("n", n, minimum=1)
    minimum = check_int("minimum", minimum, minimum=1)
    s = get_scale() if scale is None else check_positive("scale", scale)
    return max(minimum, int(round(n * s)))


def versions() -> dict[str, str]:
    """Versions of Python and of the main packages, for a notebook's set-up cell.

    Examples
    --------
    >>> sorted(versions())[:2]
    ['cosp_helpers', 'ipywidgets']
    """
    found = {"python": platform.python_version()}
    for name in ("cosp_helpers",) + _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    if "torch" in found:
        found["torch"] = torch.__version__  # includes the build, e.g. "+cpu" or "+cu130"
    return found
