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

:func:`parallel_map` runs independent runs (seeds, variants) side by side, one process per core it may
use (``COSP_WORKERS`` caps them), with results identical to running them one after the other.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import math
import multiprocessing
import os
import platform
import random
import sys
import threading
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._checks import check_bool, check_int, check_positive

__all__ = [
    "SEED_STRIDE", "base_seed", "derive_seed", "run_seeds", "seed_everything", "get_device", "get_scale", "scaled",
    "usable_cores", "parallel_map", "versions",
]  # fmt: skip

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


def _cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's control group, in cores (cgroup v2 ``cpu.max``, or v1's
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``); None when there is none or it cannot be read."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _parse_workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"COSP_WORKERS must be a positive integer, got {text!r}") from None
    if value < 1:
        raise ValueError(f"COSP_WORKERS must be a positive integer, got {text!r}")
    return value


def usable_cores() -> int:
    """How many processes :func:`parallel_map` runs at once by default: the cores this process may use.

    That is the number of CPUs the process may be scheduled on (``os.sched_getaffinity``), lowered to a
    control group's CPU quota (a container's or a course hub's limit, rounded down, at least 1). The
    environment variable ``COSP_WORKERS`` (a positive integer) overrides it, e.g. ``COSP_WORKERS=1`` to
    keep every run in the notebook's own process.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    if "COSP_WORKERS" in os.environ:
        return _parse_workers(os.environ["COSP_WORKERS"])
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    limit = _cgroup_cpu_limit()
    if limit is not None:
        cores = min(cores, max(1, int(limit)))
    return max(1, cores)


# parallel_map's state. _TASK holds the function and items of the call in progress: the workers are
# forked from the caller, so they find them there and only an index crosses to them (a function defined
# in a notebook, or a lambda, need not be picklable). _IN_WORKER marks a worker: a parallel_map inside
# one runs in that worker, one run after the other.
_TASK: tuple[Callable[[Any], Any], list] | None = None
_IN_WORKER = False
_TASK_LOCK = threading.Lock()


@contextlib.contextmanager
def _one_run_setting(rng_state: tuple):
    """Run one call of :func:`parallel_map`'s function as every call runs, here or in a worker: from the
    caller's global random state, with one PyTorch thread and one thread in NumPy's BLAS (both restored after)."""
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    _restore_rng_state(rng_state)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)


def _global_rng_state() -> tuple:
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def _restore_rng_state(state: tuple) -> None:
    random.setstate(state[0])
    np.random.set_state(state[1])
    torch.set_rng_state(state[2])


def _worker_start(rng_state: tuple) -> None:
    """Set up a forked worker: it writes nothing to the caller's streams or to a notebook's front end (what a run
    prints is sent back with its result), and it remembers the caller's random state."""
    global _IN_WORKER, _WORKER_RNG_STATE
    _IN_WORKER = True
    _WORKER_RNG_STATE = rng_state
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    shell = sys.modules.get("IPython.core.interactiveshell")
    if shell is not None:  # a worker has no notebook: what a run would display there becomes text it prints
        shell.InteractiveShell.clear_instance()


_WORKER_RNG_STATE: tuple | None = None


def _worker_run(index: int) -> tuple[Any, str, str]:
    """Run item ``index`` of the current task in a worker; return its result and what it printed."""
    assert _TASK is not None and _WORKER_RNG_STATE is not None
    fn, items = _TASK
    out, err = io.StringIO(), io.StringIO()
    with _one_run_setting(_WORKER_RNG_STATE), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = fn(items[index])
    return result, out.getvalue(), err.getvalue()


def _can_fork() -> bool:
    # fork is the start method that lets the workers share the caller's functions and data; it is the safe
    # default on Linux only (macOS's system libraries are not fork-safe; Windows has no fork), and never after
    # CUDA has started
    return sys.platform.startswith("linux") and not torch.cuda.is_initialized()


def parallel_map(
    fn: Callable[[Any], Any],
    items: Iterable,
    *,
    workers: int | None = None,
    progress: bool = False,
    desc: str | None = None,
) -> list:
    """``[fn(item) for item in items]``, with the calls run side by side in ``workers`` processes.

    The experiments of the notebooks repeat small training runs over seeds and variants; each run uses
    one core well but not two. This runs them on every core the notebook may use and returns exactly what
    the loop returns (a test checks it bit for bit): every call, in either case,

    * starts from the caller's global random state (Python's, NumPy's, PyTorch's), which is left as it was,
      so a call that seeds itself gives the same numbers wherever it runs;
    * uses one PyTorch thread and one BLAS thread, so two runs never compete for a core;
    * has what it prints shown in the order of ``items`` (from a worker, once the call is done).

    Parameters
    ----------
    fn : callable
        ``fn(item) -> result``. It may be defined in the notebook, or be a lambda: the workers are forked
        from the caller and find it there. Its result must be picklable (arrays, numbers, modules...). It
        should draw no figure or widget (train with ``progress=False``): in a worker those become printed text.
    items : iterable
        The arguments, one per call.
    workers : int, optional
        Processes to run at once, >= 1; default :func:`usable_cores` (``COSP_WORKERS`` sets it). With 1, a
        single item, in a worker of another ``parallel_map``, off Linux, or once CUDA has started, the calls
        run here, one after the other, with the same settings.
    progress : bool
        Show a ``tqdm.auto`` progress bar of the finished calls (it disappears at the end).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    list
        ``fn``'s results, in the order of ``items``.

    Raises
    ------
    Exception
        What a failed call raised (of the calls finished when the first failure came, the first in the order
        of ``items``); the calls still running are stopped and the others dropped. A worker that dies (e.g.
        killed for lack of memory) raises ``concurrent.futures.process.BrokenProcessPool``.

    Examples
    --------
    >>> parallel_map(abs, [-3, 1, -2], workers=2)
    [3, 1, 2]
    >>> draw = lambda seed: torch.randn(2, generator=torch.Generator().manual_seed(seed))
    >>> first, second = parallel_map(draw, [5, 5], workers=2)  # two workers, each runs one call
    >>> bool(torch.equal(first, second)) and bool(torch.equal(first, draw(5)))
    True
    """
    global _TASK
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"items must be an iterable of arguments (a list, a range...), got {type(items).__name__}")
    progress = check_bool("progress", progress)
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be a string or None, got {type(desc).__name__}")
    items = list(items)
    workers = usable_cores() if workers is None else check_int("workers", workers, minimum=1)
    workers = min(workers, len(items))
    caller_state = _global_rng_state()
    from tqdm.auto import tqdm  # imported here, as in train: the widget front end loads only when asked for

    bar = tqdm(total=len(items), desc=desc, leave=False, disable=not progress)
    with contextlib.closing(bar):
        if workers <= 1 or _IN_WORKER or not _can_fork():
            results = []
            try:
                for item in items:
                    with _one_run_setting(caller_state):
                        results.append(fn(item))
                    bar.update(1)
            finally:
                _restore_rng_state(caller_state)
            return results
        with _TASK_LOCK:
            try:
                _TASK = (fn, items)
                return _run_in_workers(len(items), workers, caller_state, bar)
            finally:
                _TASK = None


def _run_in_workers(count: int, workers: int, caller_state: tuple, bar: Any) -> list:
    """:func:`parallel_map`'s calls 0 .. count - 1 of the current task in ``workers`` forked processes."""
    for stream in (sys.stdout, sys.stderr):  # nothing buffered here is copied into a worker
        stream.flush()
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start, initargs=(caller_state,)
    )
    try:
        # The workers are forked at the first submit. Frozen, the caller's objects are never collected in a worker,
        # so no finalizer of the caller's (a kernel's sockets, open files) runs there: the usual set-up for a fork
        # without exec.
        gc.freeze()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns that fork in a process with threads (a Jupyter kernel has some) may deadlock a
                # child that takes a lock another thread held; the workers take none of the caller's locks
                warnings.filterwarnings(
                    "ignore", message=r".*fork\(\) may lead to deadlocks", category=DeprecationWarning
                )
                futures = [pool.submit(_worker_run, i) for i in range(count)]
        finally:
            gc.unfreeze()
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            bar.update(len(done))
            if any(f.exception() is not None for f in done):
                for f in pending:
                    f.cancel()
                failed = (f for f in futures if f.done() and not f.cancelled() and f.exception() is not None)
                next(failed).result()  # raises its exception
        results = []
        for f in futures:
            result, out, err = f.result()
            sys.stdout.write(out)
            sys.stderr.write(err)
            results.append(result)
        return results
    except BaseException:  # a failed call, or the kernel interrupted: stop the calls still running
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
