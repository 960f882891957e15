"""Checked results: one line a class can read, an error that names the claim, an optional log.

Every experiment in the notebooks ends by comparing what it measured with what the theory
predicts. :func:`check` makes that comparison for a **claim** (a statement that the experiment
could refute: a rate, a bound, a gap between two models), :func:`sanity` for a **sanity check**
(an identity or a piece of arithmetic that holds by construction, and so tests the code, not the
theory). Both

* print one line: the measured value, the prediction or limit, the tolerance, and the **margin**
  (how far the measurement is from failing, in the units of the measurement and, where it has a
  scale, as a fraction of the tolerance or of the limit);
* raise :class:`CheckFailed` (an ``AssertionError``) naming the claim when it fails;
* append the result as one JSON line to the file named by ``COSP_CHECK_LOG``, when that
  environment variable is set (``benchmarks/robustness.py`` reads these logs).

A check passes in one of three forms:

* ``predicted=p, tol=t``: ``|measured - p| <= t`` (for exact identities, ``t`` comes from a
  floating-point error analysis);
* ``at_most=u`` and/or ``at_least=l``: ``l <= measured <= u`` (for bounds and comparisons; the
  limit may itself be a measurement, e.g. the best seed of the other model);
* for :func:`sanity` only, a plain ``True``/``False``.

``measured`` may be an array: the check applies to every element, and the margin is the smallest.

With ``COSP_CHECK_KEEP_GOING=1`` a failed check prints and logs its line but does not raise; the
robustness runner uses this to measure every check of a notebook in one run. Never set it in a
lecture: a failed claim must stop the notebook.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import asdict, dataclass

import numpy as np

from .runtime import base_seed

__all__ = ["CheckFailed", "CheckResult", "check", "sanity"]

_LOG_VARIABLE = "COSP_CHECK_LOG"
_KEEP_GOING_VARIABLE = "COSP_CHECK_KEEP_GOING"


class CheckFailed(AssertionError):
    """A claim or sanity check failed; the message names it and says by how much it missed.

    Examples
    --------
    >>> issubclass(CheckFailed, AssertionError)
    True
    """


@dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`check` or :func:`sanity`, as printed and logged.

    Attributes
    ----------
    claim : str
        What was checked, in words.
    kind : {"claim", "sanity"}
    measured : float or None
        The measured value; for an array, the element with the smallest margin. None for a yes/no fact.
    predicted, tol : float or None
        The prediction and its tolerance (form ``predicted=, tol=``).
    at_least, at_most : float or None
        The limits (form ``at_least=`` / ``at_most=``).
    margin : float or None
        Distance from failing, in the units of ``measured`` (>= 0 when passed); None for a yes/no fact.
    relative_margin : float or None
        ``margin / tol`` or ``margin / |limit|`` where that scale is non-zero, else None.
    passed : bool
    basis : str or None
        Where the tolerance or limit comes from (a derivation, or a distribution measured over seeds).
    elements : int
        How many values were checked (1 for a scalar).
    seed : int
        ``COSP_SEED`` at the time of the check.

    Examples
    --------
    >>> r = check("two plus two", 4.0, predicted=4, tol=0.5, basis="arithmetic", quiet=True)
    >>> r.passed, r.margin, r.relative_margin
    (True, 0.5, 1.0)
    """

    claim: str
    kind: str
    measured: float | None
    predicted: float | None
    tol: float | None
    at_least: float | None
    at_most: float | None
    margin: float | None
    relative_margin: float | None
    passed: bool
    basis: str | None
    elements: int
    seed: int

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        # a notebook cell that ends with a check shows this value under the printed line: keep it to one short line
        # (the fields stay available: r.passed, r.margin, ...)
        printer.text(f"CheckResult({'passed' if self.passed else 'failed'}: {self.claim!r})")

    def line(self) -> str:
        """The one-line report, e.g. ``CHECK ✓ ...: measured 0.4969, predicted 0.4961 ± 0.01 · margin 0.0092 (92% of tol)``.

        Examples
        --------
        >>> print(check("a bound", 2.5, at_most=3, basis="theory", quiet=True).line())
        CHECK ✓ a bound: measured 2.5 ≤ 3 · margin 0.5 (17% of the limit)
        """
        label = "CHECK" if self.kind == "claim" else "SANITY"
        mark = "✓" if self.passed else "✗"
        where = f" (worst of {self.elements})" if self.elements > 1 else ""
        if self.measured is None:
            return f"{label} {mark} {self.claim}: {'true' if self.passed else 'false'}{where}"
        if self.predicted is not None:
            body = f"measured {_fmt(self.measured)}{where}, predicted {_fmt(self.predicted)} ± {_fmt(self.tol)}"
            scale = "of tol"
        else:
            parts = []
            if self.at_least is not None:
                parts.append(f"{_fmt(self.at_least)} ≤")
            parts.append(f"measured {_fmt(self.measured)}{where}")
            if self.at_most is not None:
                parts.append(f"≤ {_fmt(self.at_most)}")
            body = " ".join(parts)
            scale = "of the limit"
        if self.passed:
            tail = f"margin {_fmt(self.margin)}"
            if self.relative_margin is not None:
                tail += f" ({self.relative_margin:.0%} {scale})"
        else:
            tail = f"FAILED, short by {_fmt(-self.margin)}"
        return f"{label} {mark} {self.claim}: {body} · {tail}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "–"
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    magnitude = abs(x)
    if 1e-3 <= magnitude < 1e5:
        return f"{x:.4g}"
    return f"{x:.3g}"


def _limit(name: str, value: object) -> float | np.ndarray | None:
    # a real number, or an array of them (one prediction or limit per measured element, broadcast against measured)
    if value is None:
        return None
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, list, tuple)):
        array = np.asarray(value)
        if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array) or array.size == 0:
            raise TypeError(f"{name} must be a real number or a non-empty array of real numbers, got {array.dtype} {array!r}")
        array = array.astype(float)
        if np.isnan(array).any():
            raise ValueError(f"{name} must not be NaN")
        return float(array) if array.ndim == 0 else array
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {type(value).__name__} {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return value


def _values(measured: object, allow_bool: bool) -> np.ndarray:
    if hasattr(measured, "detach"):  # a torch tensor
        measured = measured.detach().cpu().numpy()
    try:
        values = np.asarray(measured)
    except Exception as error:  # a ragged list, say
        raise TypeError(f"measured must be a number or an array of numbers, got {type(measured).__name__}") from error
    if values.dtype == bool:
        if not allow_bool:
            raise TypeError(
                "measured is True/False, which has no margin: a claim compares a number with a prediction or a limit "
                "(use sanity() for a yes/no fact)"
            )
        return values
    if not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise TypeError(f"measured must be real numbers, got dtype {values.dtype} ({type(measured).__name__})")
    if values.size == 0:
        raise ValueError("measured must not be empty")
    return values.astype(float)


def _evaluate(
    claim: object,
    measured: object,
    *,
    kind: str,
    predicted: object,
    tol: object,
    at_least: object,
    at_most: object,
    basis: object,
) -> CheckResult:
    if not isinstance(claim, str) or not claim.strip():
        raise TypeError(f"claim must be a non-empty string saying what is checked, got {claim!r}")
    if basis is not None and (not isinstance(basis, str) or not basis.strip()):
        raise TypeError(f"basis must be a non-empty string saying where the tolerance comes from, got {basis!r}")
    predicted, tol = _limit("predicted", predicted), _limit("tol", tol)
    if predicted is not None and not np.all(np.isfinite(predicted)):
        raise ValueError(f"predicted must be finite, got {predicted}")
    at_least, at_most = _limit("at_least", at_least), _limit("at_most", at_most)
    near, bounds = predicted is not None or tol is not None, at_least is not None or at_most is not None
    if near and (predicted is None or tol is None):
        raise ValueError("predicted and tol go together: give both, or use at_least/at_most")
    if near and bounds:
        raise ValueError("give either predicted= and tol=, or at_least=/at_most=, not both")
    if tol is not None and not (np.all(np.asarray(tol) >= 0) and np.all(np.isfinite(tol))):
        raise ValueError(f"tol must be finite and >= 0, got {tol}")
    if at_least is not None and at_most is not None and np.any(np.asarray(at_least) > np.asarray(at_most)):
        raise ValueError(f"at_least must be <= at_most, got {at_least} > {at_most}")
    values = _values(measured, allow_bool=kind == "sanity" and not (near or bounds))
    seed = base_seed()
    if values.dtype == bool:
        if near or bounds:
            raise TypeError("a True/False measurement takes no prediction or limit")
        return CheckResult(claim, kind, None, None, None, None, None, None, None, bool(values.all()), basis, values.size, seed)
    if not (near or bounds):
        raise ValueError("give predicted= and tol=, or at_least= and/or at_most=")
    try:
        shape = np.broadcast_shapes(values.shape, *(np.shape(v) for v in (predicted, tol, at_least, at_most) if v is not None))
    except ValueError:
        raise ValueError(f"the predictions and limits must broadcast against measured, of shape {values.shape}") from None

    def spread(v):
        return None if v is None else np.broadcast_to(np.asarray(v, dtype=float), shape).ravel()

    flat = np.broadcast_to(values, shape).ravel()
    p, t, lo, hi = spread(predicted), spread(tol), spread(at_least), spread(at_most)
    with np.errstate(invalid="ignore"):
        if near:
            margins = t - np.abs(flat - p)
            scales = t
        else:
            lower = flat - lo if lo is not None else np.full(flat.shape, np.inf)
            upper = hi - flat if hi is not None else np.full(flat.shape, np.inf)
            margins = np.minimum(lower, upper)
            scales = np.abs(lo) if hi is None else np.abs(hi) if lo is None else (hi - lo) / 2
    margins = np.where(np.isnan(flat) | np.isnan(margins), -np.inf, margins)  # a NaN measurement never passes
    worst = int(np.argmin(margins))
    margin, scale = float(margins[worst]), float(scales[worst])

    def at(v):
        return None if v is None else float(v[worst])

    relative = margin / scale if scale not in (0.0, math.inf) and math.isfinite(margin) else None
    return CheckResult(
        claim, kind, float(flat[worst]), at(p), at(t), at(lo), at(hi), margin, relative, margin >= 0, basis, flat.size, seed
    )


def _report(result: CheckResult, quiet: bool) -> CheckResult:
    log = os.environ.get(_LOG_VARIABLE)
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                     for k, v in asdict(result).items()}) + "\n")
    if not quiet or not result.passed:
        print(result.line())
    if not result.passed and os.environ.get(_KEEP_GOING_VARIABLE, "0") != "1":
        reason = result.line().split(": ", 1)[1]
        basis = f" [tolerance: {result.basis}]" if result.basis else ""
        raise CheckFailed(f"{result.kind} failed: {result.claim!r}: {reason}{basis}")
    return result


def check(
    claim: str,
    measured: object,
    *,
    predicted: float | None = None,
    tol: float | None = None,
    at_least: float | None = None,
    at_most: float | None = None,
    basis: str,
    quiet: bool = False,
) -> CheckResult:
    """Check a claim of the theory against a measurement; print the margin; raise if it fails.

    Parameters
    ----------
    claim : str
        The statement, in words a class can read (e.g. ``"tree beats shallow from 600 parameters"``).
        Inside a loop, put what varies into it (``f"slope at d = {d}"``), so each claim has its own name.
    measured : float or array_like
        The measurement; for an array, every element is checked.
    predicted, tol : float or array_like, optional
        Pass when ``|measured - predicted| <= tol`` (arrays broadcast against ``measured``: one prediction per element).
    at_least, at_most : float or array_like, optional
        Pass when ``at_least <= measured <= at_most`` (either may be left out; arrays broadcast likewise).
    basis : str
        Where the tolerance or limit comes from: a derivation (``"float64 rounding, 4 n eps"``) or a
        distribution measured over seeds (``"smallest of 40 runs: 3.1"``). Shown when the check fails
        and written to the log.
    quiet : bool
        Print nothing when the check passes (it still prints when it fails).

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        When the check fails (unless ``COSP_CHECK_KEEP_GOING=1``).

    Examples
    --------
    >>> _ = check("crosstalk equals (P - 1)/d", 0.4969, predicted=0.4961, tol=0.01, basis="3 standard errors")
    CHECK ✓ crosstalk equals (P - 1)/d: measured 0.4969, predicted 0.4961 ± 0.01 · margin 0.0092 (92% of tol)
    >>> _ = check("tree error below shallow", [0.1, 0.3], at_most=0.5, basis="the shallow network's best seed")
    CHECK ✓ tree error below shallow: measured 0.3 (worst of 2) ≤ 0.5 · margin 0.2 (40% of the limit)
    >>> _ = check("label frequencies", [0.21, 0.30], predicted=[0.2, 0.32], tol=0.03, basis="binomial, 3 sd")
    CHECK ✓ label frequencies: measured 0.3 (worst of 2), predicted 0.32 ± 0.03 · margin 0.01 (33% of tol)
    >>> check("ratio above 2", 1.5, at_least=2, basis="a factor a noise cannot fake")
    Traceback (most recent call last):
    ...
    cosp_helpers.claims.CheckFailed: claim failed: 'ratio above 2': 2 ≤ measured 1.5 · FAILED, short by 0.5 [tolerance: a factor a noise cannot fake]
    """
    result = _evaluate(
        claim, measured, kind="claim", predicted=predicted, tol=tol, at_least=at_least, at_most=at_most, basis=basis
    )
    return _report(result, quiet)


def sanity(
    claim: str,
    measured: object,
    *,
    predicted: float | None = None,
    tol: float | None = None,
    at_least: float | None = None,
    at_most: float | None = None,
    basis: str | None = None,
    quiet: bool = False,
) -> CheckResult:
    """Check something that holds by construction (an identity, arithmetic, a shape): it tests the code, not the theory.

    Takes the same forms as :func:`check`, and also a plain ``True``/``False`` (or an array of them).

    Parameters
    ----------
    claim : str
        What is checked, in words.
    measured : bool, float or array_like
    predicted, tol, at_least, at_most : float, optional
        As for :func:`check`; leave them all out for a yes/no fact.
    basis : str, optional
        Where the tolerance comes from (e.g. ``"float64 rounding"``).
    quiet : bool
        Print nothing when the check passes.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        When the check fails (unless ``COSP_CHECK_KEEP_GOING=1``).

    Examples
    --------
    >>> _ = sanity("the adder is right on every input", [True, True, True])
    SANITY ✓ the adder is right on every input: true (worst of 3)
    >>> _ = sanity("Parseval", 1.0 + 2e-16, predicted=1.0, tol=1e-12, basis="float64 rounding")
    SANITY ✓ Parseval: measured 1, predicted 1 ± 1e-12 · margin 1e-12 (100% of tol)
    """
    result = _evaluate(
        claim, measured, kind="sanity", predicted=predicted, tol=tol, at_least=at_least, at_most=at_most, basis=basis
    )
    return _report(result, quiet)
