"""Self-checks for the exercises.

Each exercise has a cell where the learner sets ``answer = None`` to something, and a self-check
cell that calls :func:`check_answer`. While the answer is still ``None`` the check only says so; a
wrong answer raises ``AssertionError`` with a hint; a right one returns a short confirmation. The
hidden solution cell calls the same check on the worked answer, so running the notebook (as the
tests do) proves that every solution passes its check.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["check_answer", "NOT_ANSWERED"]

NOT_ANSWERED = "Not answered yet: set `answer` in the cell above, run it, then run this check again."


def check_answer(answer: Any, expected: Any, rtol: float = 1e-6, atol: float = 0.0, hint: str = "") -> str:
    """Compare a learner's ``answer`` with ``expected``; return a message, or raise ``AssertionError``.

    Two integers are compared exactly (they may be huge); other numbers and arrays with
    ``numpy.allclose(answer, expected, rtol, atol)`` (shapes must match); anything else with ``==``.

    Parameters
    ----------
    answer : object
        The learner's answer; ``None`` means not answered yet.
    expected : object
        The right answer.
    rtol, atol : float
        Tolerances for numbers, both ``>= 0``.
    hint : str
        Shown when the answer is wrong.

    Returns
    -------
    str
        :data:`NOT_ANSWERED`, or a confirmation starting with ``"Correct"``.

    Examples
    --------
    >>> check_answer(None, 3) == NOT_ANSWERED
    True
    >>> check_answer(0.3333333, 1 / 3, rtol=1e-6)
    'Correct: 0.3333333'
    >>> check_answer(0.5, 1 / 3)
    Traceback (most recent call last):
    ...
    AssertionError: Not quite: got 0.5, which is not within rtol=1e-06, atol=0 of the expected value.
    """
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    expected_floats = None if expected is None else _as_floats(expected)  # None for text, booleans, huge ints
    if expected_floats is not None and not np.all(np.isfinite(expected_floats)):
        raise ValueError(f"expected must be finite (it is the right answer), got {expected!r}")
    if answer is None:
        return NOT_ANSWERED
    both_ints = all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (answer, expected))
    want = None if both_ints else expected_floats
    if want is not None:
        got = _as_floats(answer)
        if got is None or not np.all(np.isfinite(got)):
            raise AssertionError(f"Not quite: expected a number or an array of numbers, got {type(answer).__name__}.")
        if got.shape != want.shape:
            raise AssertionError(f"Not quite: expected shape {want.shape}, got shape {got.shape}.")
        ok = bool(np.allclose(got, want, rtol=rtol, atol=atol))
        detail = f"within rtol={rtol:g}, atol={atol:g} of the expected value"
    else:  # exact integers (possibly huge), strings, and anything not numeric
        try:
            ok = bool(answer == expected)
        except ValueError:  # e.g. an array compared with a non-array
            ok = False
        detail = "equal to the expected value"
    if not ok:
        raise AssertionError(f"Not quite: got {_show(answer)}, which is not {detail}." + (f" Hint: {hint}" if hint else ""))
    return f"Correct: {_show(answer)}"


def _show(value: Any) -> str:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value)) if abs(int(value)) < 10**30 else f"an integer with {len(str(abs(int(value))))} digits"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{float(value):.7g}"
    return repr(value)


def _as_floats(value: Any) -> np.ndarray | None:
    """``value`` as a float array, or None if it is not numbers (or too large for a float)."""
    if isinstance(value, (bool, str)):
        return None
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return None
