"""Bad input to every public callable of cosp_helpers: a clear error, never a silent wrong number.

For each public function and class, the first call its own docstring example makes is recorded (the
example is run with the callable wrapped); that call is valid by construction. Each argument of it is
then replaced, one at a time, by bad values chosen from the kind of the valid one:

* a real number: NaN, +inf, -inf, a string, None (and -1, 0 and 10**12 for integers);
* a numpy array or torch tensor: a copy with a NaN, a copy with an inf, an empty array, a string array;
* a string: an unknown word, a number;
* a bool: a string and None.

An outcome is one of

* ``clear`` -- ``ValueError`` or ``TypeError`` (or their subclasses): the contract;
* ``accepted`` -- it returned, with no NaN or inf in the result: fine for -1, 0 or a large size that the
  function can honour, but a failure for a NaN or an inf input (the result is a plausible wrong number);
* ``silent`` -- it returned NaN or inf that the valid call did not;
* ``foreign`` -- any other exception (``IndexError``, ``RuntimeError``, ``ZeroDivisionError``...).

``python tests/fuzz_api.py`` prints the counts and every failure; ``tests/test_fuzz.py`` asserts none.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import doctest
import inspect
import io
import math
import signal
import sys
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

import cosp_helpers as cosp

CALL_TIMEOUT_S = 20
# parameters for which an infinite value is meaningful ("no limit"), as their docstrings say
INFINITY_ALLOWED: set[tuple[str, str]] = set()
NOT_FUZZED = {"CheckFailed"}  # an exception class: it takes any message
# a check that fails is the check helper's answer to a NaN or an infinite measurement: it names the claim
EXPECTED_ERRORS = {"claims.check": (cosp.CheckFailed,), "claims.sanity": (cosp.CheckFailed,)}


@dataclass
class Baseline:
    """The first call a callable's docstring example makes."""

    name: str
    args: tuple
    kwargs: dict
    result: object


@dataclass
class Outcome:
    name: str
    argument: str
    bad: str
    kind: str  # clear / accepted / silent / foreign / timeout
    detail: str = ""

    @property
    def failed(self) -> bool:
        nonfinite_input = self.bad in ("nan", "inf", "-inf", "array with nan", "array with inf")
        return self.kind in ("silent", "foreign", "timeout") or (self.kind == "accepted" and nonfinite_input)


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    def handler(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def is_result_record(obj: object) -> bool:
    """A named tuple or a dataclass: a record that the package's functions fill and return, not a computation."""
    if not inspect.isclass(obj) or issubclass(obj, torch.nn.Module):
        return False
    return (issubclass(obj, tuple) and hasattr(obj, "_fields")) or dataclasses.is_dataclass(obj)


def public_callables() -> dict[str, object]:
    """Every public function and class of every namespace that computes something, by qualified name
    (``"depth.takagi"``; records left out; a core name is fuzzed once, under its namespace)."""
    out = {}
    for namespace in cosp.NAMESPACES:
        module = getattr(cosp, namespace)
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and name not in NOT_FUZZED and not is_result_record(obj):
                out[f"{namespace}.{name}"] = obj
    return out


def record_baseline(name: str, obj: object) -> Baseline | None:
    """Run ``obj``'s docstring examples with ``obj`` wrapped; return its first call, or None if it makes none."""
    module = sys.modules[obj.__module__]
    short = name.rpartition(".")[2]  # the name the docstring's examples call it by
    tests = doctest.DocTestFinder(recurse=False).find(obj, short, module=module, globs=dict(vars(module)))
    calls: list[Baseline] = []

    def wrapper(*args, **kwargs):
        result = obj(*args, **kwargs)
        if not calls:
            calls.append(Baseline(name, copy.deepcopy(args), copy.deepcopy(kwargs), result))
        return result

    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        test.globs[short] = wrapper
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner.run(test, out=lambda _: None)
        if calls:
            return calls[0]
    return None


HUGE = True  # include 10**12 for integers (the size caps); ``--no-huge`` leaves them out


def _bad_values(value: object) -> list[tuple[str, object]]:
    if isinstance(value, bool):
        return [("string", "yes"), ("None", None)]
    if isinstance(value, (int, np.integer)):
        huge = [("10**12", 10**12)] if HUGE else []
        return [("nan", float("nan")), ("inf", float("inf")), ("-1", -1), ("0", 0), *huge, ("string", "3"), ("None", None)]
    if isinstance(value, (float, np.floating)):
        return [("nan", float("nan")), ("inf", float("inf")), ("-inf", float("-inf")), ("string", "0.5"), ("None", None)]
    if isinstance(value, np.ndarray) and value.size and np.issubdtype(value.dtype, np.number) and value.dtype != bool:
        with_nan, with_inf = value.astype(float), value.astype(float)
        with_nan.flat[0], with_inf.flat[-1] = np.nan, np.inf
        return [("array with nan", with_nan), ("array with inf", with_inf),
                ("empty array", np.zeros((0,) + value.shape[1:])), ("string array", np.full(value.shape, "a"))]  # fmt: skip
    if isinstance(value, torch.Tensor) and value.numel() and value.is_floating_point():
        with_nan, with_inf = value.detach().clone(), value.detach().clone()
        with_nan.view(-1)[0], with_inf.view(-1)[-1] = float("nan"), float("inf")
        return [("array with nan", with_nan), ("array with inf", with_inf)]
    if isinstance(value, str):
        return [("unknown word", "no-such-option"), ("number", 3)]
    return []


def _nonfinite(x: object, depth: int = 0) -> bool:
    """Whether ``x`` holds a NaN or an inf anywhere (numbers, arrays, tensors, containers, dataclasses)."""
    if depth > 4:
        return False
    if isinstance(x, bool):
        return False
    if isinstance(x, (float, np.floating)):
        return not math.isfinite(float(x))
    if isinstance(x, np.ndarray):
        return bool(np.issubdtype(x.dtype, np.inexact) and not np.all(np.isfinite(x)))
    if isinstance(x, torch.Tensor):
        return bool(x.is_floating_point() and not torch.isfinite(x).all())
    if isinstance(x, dict):
        return any(_nonfinite(v, depth + 1) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_nonfinite(v, depth + 1) for v in x[:1000])
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(_nonfinite(getattr(x, f.name), depth + 1) for f in dataclasses.fields(x))
    return False


def fuzz_one(name: str, obj: object, baseline: Baseline) -> list[Outcome]:
    """Every single-argument corruption of the baseline call, with its outcome."""
    try:
        bound = inspect.signature(obj).bind(*baseline.args, **baseline.kwargs)
    except (TypeError, ValueError):
        return []
    baseline_nonfinite = _nonfinite(baseline.result)
    outcomes = []
    for argument, value in bound.arguments.items():
        kind_of = inspect.signature(obj).parameters[argument].kind
        if kind_of in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        for label, bad in _bad_values(value):
            if label in ("inf", "-inf") and (name, argument) in INFINITY_ALLOWED:
                continue
            call = copy.copy(bound)
            call.arguments = dict(bound.arguments)
            call.arguments[argument] = bad
            args, kwargs = copy.deepcopy(call.args), copy.deepcopy(call.kwargs)
            try:
                with _time_limit(CALL_TIMEOUT_S), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = obj(*args, **kwargs)
            except _Timeout:
                outcomes.append(Outcome(name, argument, label, "timeout", f"> {CALL_TIMEOUT_S} s"))
            except (ValueError, TypeError, *EXPECTED_ERRORS.get(name, ())) as error:
                outcomes.append(Outcome(name, argument, label, "clear", str(error)[:160]))
            except Exception as error:  # noqa: BLE001 - classifying every other exception is the point
                outcomes.append(Outcome(name, argument, label, "foreign", f"{type(error).__name__}: {str(error)[:160]}"))
            else:
                silent = _nonfinite(result) and not baseline_nonfinite
                outcomes.append(Outcome(name, argument, label, "silent" if silent else "accepted", repr(result)[:120]))
    return outcomes


def fuzz_all(names: list[str] | None = None) -> tuple[list[Outcome], list[str]]:
    """Fuzz every public callable (or the ones named); return the outcomes and the callables without a baseline."""
    outcomes, missing = [], []
    for name, obj in public_callables().items():
        if names is not None and name not in names:
            continue
        baseline = record_baseline(name, obj)
        if baseline is None:
            missing.append(name)
            continue
        torch.manual_seed(0)
        outcomes += fuzz_one(name, obj, baseline)
    return outcomes, missing


def main() -> int:
    global HUGE
    names = [a for a in sys.argv[1:] if not a.startswith("--")]
    HUGE = "--no-huge" not in sys.argv
    outcomes, missing = fuzz_all(names or None)
    print(f"{len({o.name for o in outcomes})} callables, {len(outcomes)} bad calls: {dict(Counter(o.kind for o in outcomes))}")
    print(f"no baseline call in the docstring: {missing}")
    failures = [o for o in outcomes if o.failed]
    print(f"{len(failures)} failures")
    for o in failures:
        print(f"  {o.name}({o.argument}={o.bad}): {o.kind}: {o.detail}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
