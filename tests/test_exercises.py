"""Tests for cosp_helpers.exercises: the self-check of an exercise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosp_helpers.exercises import NOT_ANSWERED, check_answer


@pytest.mark.parametrize("expected", [3, 0.5, "relu", [1, 2], np.zeros(3), None, 10**1000])
def test_none_means_not_answered(expected):
    assert check_answer(None, expected) == NOT_ANSWERED
    assert "Not answered yet" in NOT_ANSWERED


@pytest.mark.parametrize(
    "answer, expected, kwargs",
    [
        (0.3333333, 1 / 3, {}),
        (1.0000009, 1.0, {}),  # |a - b| = 9e-7 <= rtol * |b| = 1e-6
        (1e-9, 0.0, {"atol": 1e-8}),
        (3.0, 3, {}),
        (3, 3.0, {}),
        (np.float32(0.25), 0.25, {}),
        (101.0, 100.0, {"rtol": 0.02}),
        ([1.0, 2.0], np.array([1.0, 2.0]), {}),
        (np.array([[1, 2], [3, 4]]), [[1.0, 2.0], [3.0, 4.0]], {}),
        ((0.1, 0.2), [0.1, 0.2], {}),
    ],
)
def test_right_numbers_and_arrays(answer, expected, kwargs):
    assert check_answer(answer, expected, **kwargs).startswith("Correct")


@pytest.mark.parametrize(
    "answer, expected, kwargs, match",
    [
        (0.5, 1 / 3, {}, r"Not quite: got 0.5, which is not within rtol=1e-06, atol=0 of the expected value\."),
        (1.000002, 1.0, {}, "not within rtol=1e-06"),  # 2e-6 > rtol * |b|
        (1e-9, 0.0, {}, "not within rtol=1e-06, atol=0"),  # rtol alone never accepts a nonzero answer for 0
        (1e-7, 0.0, {"atol": 1e-8}, "atol=1e-08"),
        (103.0, 100.0, {"rtol": 0.02}, "rtol=0.02"),
        ([1.0, 2.5], [1.0, 2.0], {}, "not within"),
        ("abc", 0.5, {}, "expected a number or an array of numbers, got str"),
        (math.nan, 0.5, {}, "expected a number or an array of numbers, got float"),
        (math.inf, 0.5, {}, "expected a number or an array of numbers"),
        ([1.0, None], [1.0, 2.0], {}, "expected a number or an array of numbers, got list"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], {}, r"expected shape \(3,\), got shape \(2,\)"),
        (np.ones((2, 2)), np.ones(4), {}, r"expected shape \(4,\), got shape \(2, 2\)"),
        (1.0, [1.0], {}, r"expected shape \(1,\), got shape \(\)"),
    ],
)
def test_wrong_numbers_and_arrays(answer, expected, kwargs, match):
    with pytest.raises(AssertionError, match=match):
        check_answer(answer, expected, **kwargs)


def test_huge_integers_are_compared_exactly():
    big = 10**1000
    assert check_answer(big, big) == "Correct: an integer with 1001 digits"
    with pytest.raises(AssertionError, match="got an integer with 1001 digits, which is not equal"):
        check_answer(big + 1, big)
    with pytest.raises(AssertionError, match="not equal"):
        check_answer(10**17 + 1, 10**17)  # within rtol=1e-6, but integers must match exactly
    assert check_answer(np.int64(42), 42) == "Correct: 42"
    assert check_answer(-(10**29), -(10**29)) == f"Correct: {-(10**29)}"


@pytest.mark.parametrize("answer, expected", [("relu", "relu"), ({"k": 1}, {"k": 1}), (True, True), (False, False)])
def test_other_values_are_compared_with_equality(answer, expected):
    assert check_answer(answer, expected) == f"Correct: {answer!r}"


@pytest.mark.parametrize("answer, expected", [("tanh", "relu"), ({"k": 2}, {"k": 1}), (False, True), ("Relu", "relu")])
def test_wrong_other_values(answer, expected):
    with pytest.raises(AssertionError, match=f"Not quite: got {answer!r}, which is not equal to the expected value"):
        check_answer(answer, expected)


@pytest.mark.parametrize("answer, expected", [(0.9, 1.0), ("b", "a"), (4, 5), ([1.0], [2.0])])
def test_hint_is_shown_when_wrong(answer, expected):
    with pytest.raises(AssertionError, match=r"\. Hint: count the cells per axis first\.$"):
        check_answer(answer, expected, hint="count the cells per axis first.")


def test_no_hint_by_default():
    with pytest.raises(AssertionError) as info:
        check_answer(0.9, 1.0)
    assert "Hint" not in str(info.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rtol": -1e-6}, "rtol and atol must be >= 0, got rtol=-1e-06"),
        ({"atol": -1.0}, "rtol and atol must be >= 0.*atol=-1.0"),
    ],
)
@pytest.mark.parametrize("answer", [None, 1.0])
def test_negative_tolerances_are_rejected(kwargs, match, answer):
    with pytest.raises(ValueError, match=match):
        check_answer(answer, 1.0, **kwargs)


@pytest.mark.parametrize("answer", [1000.0, 1e300, math.inf])
def test_wrong_float_for_a_huge_integer_is_an_assertion(answer):
    with pytest.raises(AssertionError, match="Not quite"):
        check_answer(answer, 10**1000)


@pytest.mark.parametrize("expected", [["relu", "tanh"], ("a", "b"), ("a", 1)])
def test_sequences_of_non_numbers_are_compared_with_equality(expected):
    assert check_answer(type(expected)(expected), expected).startswith("Correct")
    with pytest.raises(AssertionError, match="Not quite"):
        check_answer(type(expected)(["x", "y"]), expected)


def test_an_array_compared_with_a_non_numeric_answer_is_wrong_not_an_error():
    # numpy compares element-wise and bool() of the result raises ValueError; that must read as "wrong"
    with pytest.raises(AssertionError, match="not equal to the expected value"):
        check_answer(np.array([1, 2]), "ab")
