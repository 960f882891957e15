"""Tests for cosp_helpers.claims: the three forms of a check, margins, the printed line, failures, the log, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from cosp_helpers.claims import CheckFailed, check, sanity


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    for name in ("COSP_CHECK_LOG", "COSP_CHECK_KEEP_GOING", "COSP_SEED"):
        monkeypatch.delenv(name, raising=False)


# --- the three forms and their margins ------------------------------------------------------------------------------


def test_near_form_margin_is_tolerance_minus_distance(capsys):
    r = check("crosstalk", 0.52, predicted=0.5, tol=0.05, basis="three standard errors")
    assert r.passed and r.margin == pytest.approx(0.03) and r.relative_margin == pytest.approx(0.6)
    line = capsys.readouterr().out.strip()
    assert line.startswith("CHECK ✓ crosstalk: measured 0.52, predicted 0.5 ± 0.05")
    assert "margin 0.03 (60% of tol)" in line


def test_upper_and_lower_bounds():
    assert check("below", 2.0, at_most=3.0, basis="b", quiet=True).margin == pytest.approx(1.0)
    assert check("above", 5.0, at_least=2.0, basis="b", quiet=True).relative_margin == pytest.approx(1.5)
    both = check("inside", 0.9, at_least=0.0, at_most=1.0, basis="b", quiet=True)
    assert both.margin == pytest.approx(0.1) and both.relative_margin == pytest.approx(0.2)  # half-width 0.5


def test_array_margin_is_the_worst_element(capsys):
    r = check("every seed below", np.array([0.1, 0.45, 0.2]), at_most=0.5, basis="b")
    assert r.elements == 3 and r.measured == pytest.approx(0.45) and r.margin == pytest.approx(0.05)
    assert "(worst of 3)" in capsys.readouterr().out


def test_torch_tensors_are_measured():
    assert check("tensor", torch.tensor([1.0, 2.0]), at_least=0.5, basis="b", quiet=True).margin == pytest.approx(0.5)


def test_a_zero_limit_has_no_relative_margin():
    r = check("non-negative", 0.25, at_least=0.0, basis="b", quiet=True)
    assert r.margin == 0.25 and r.relative_margin is None


def test_sanity_accepts_true_false_and_arrays_of_them(capsys):
    assert sanity("all agree", [True, True]).passed
    assert "SANITY ✓ all agree: true (worst of 2)" in capsys.readouterr().out
    assert sanity("exact", 3.0, predicted=3.0, tol=0.0).margin == 0.0


# --- failures -------------------------------------------------------------------------------------------------------


def test_a_failed_claim_raises_naming_it_and_the_shortfall(capsys):
    with pytest.raises(CheckFailed, match=r"claim failed: 'ratio above 2': .*short by 0\.5 \[tolerance: effect size\]"):
        check("ratio above 2", 1.5, at_least=2.0, basis="effect size")
    assert "CHECK ✗ ratio above 2" in capsys.readouterr().out
    assert issubclass(CheckFailed, AssertionError)


def test_a_failed_sanity_check_raises():
    with pytest.raises(CheckFailed, match="sanity failed: 'adder'"):
        sanity("adder", [True, False])


def test_nan_never_passes():
    with pytest.raises(CheckFailed, match="short by inf"):
        check("finite", float("nan"), at_most=1.0, basis="b")
    with pytest.raises(CheckFailed):
        check("finite array", np.array([0.0, np.nan]), predicted=0.0, tol=1.0, basis="b")


def test_keep_going_prints_and_returns_instead_of_raising(monkeypatch, capsys):
    monkeypatch.setenv("COSP_CHECK_KEEP_GOING", "1")
    r = check("too big", 5.0, at_most=1.0, basis="b", quiet=True)
    assert not r.passed and r.margin == -4.0
    assert "FAILED, short by 4" in capsys.readouterr().out  # quiet never hides a failure


# --- the log --------------------------------------------------------------------------------------------------------


def test_log_gets_one_json_line_per_check_with_the_seed(tmp_path, monkeypatch):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("COSP_CHECK_LOG", str(log))
    monkeypatch.setenv("COSP_SEED", "4")
    check("one", 1.0, predicted=1.0, tol=0.1, basis="b", quiet=True)
    sanity("two", True, quiet=True)
    with pytest.raises(CheckFailed):
        check("three", float("nan"), at_most=0.0, basis="b", quiet=True)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["claim"] for r in rows] == ["one", "two", "three"]
    assert [r["kind"] for r in rows] == ["claim", "sanity", "claim"]
    assert rows[0]["seed"] == 4 and rows[0]["basis"] == "b" and rows[0]["margin"] == pytest.approx(0.1)
    assert rows[2]["passed"] is False and rows[2]["margin"] is None  # -inf is written as null, valid JSON


# --- bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"claim": "", "measured": 1.0, "at_most": 2.0}, TypeError, "claim"),
        ({"claim": 3, "measured": 1.0, "at_most": 2.0}, TypeError, "claim"),
        ({"claim": "c", "measured": True, "at_most": 2.0}, TypeError, "sanity"),
        ({"claim": "c", "measured": "1.0", "at_most": 2.0}, TypeError, "measured"),
        ({"claim": "c", "measured": [], "at_most": 2.0}, ValueError, "measured"),
        ({"claim": "c", "measured": 1.0}, ValueError, "predicted"),
        ({"claim": "c", "measured": 1.0, "predicted": 1.0}, ValueError, "tol"),
        ({"claim": "c", "measured": 1.0, "predicted": 1.0, "tol": -1.0}, ValueError, "tol"),
        ({"claim": "c", "measured": 1.0, "predicted": 1.0, "tol": math.inf}, ValueError, "tol"),
        ({"claim": "c", "measured": 1.0, "predicted": 1.0, "tol": 0.1, "at_most": 2.0}, ValueError, "either"),
        ({"claim": "c", "measured": 1.0, "at_least": 3.0, "at_most": 2.0}, ValueError, "at_least"),
        ({"claim": "c", "measured": 1.0, "at_most": float("nan")}, ValueError, "at_most"),
        ({"claim": "c", "measured": 1.0, "at_most": "2"}, TypeError, "at_most"),
        ({"claim": "c", "measured": 1.0, "at_most": 2.0, "basis": ""}, TypeError, "basis"),
    ],
)
def test_bad_input_is_refused_by_name(kwargs, error, match):
    kwargs.setdefault("basis", "b")
    with pytest.raises(error, match=match):
        check(**kwargs)


def test_check_requires_a_basis():
    with pytest.raises(TypeError, match="basis"):
        check("c", 1.0, at_most=2.0)  # type: ignore[call-arg]


def test_sanity_refuses_limits_on_a_yes_no_fact():
    with pytest.raises(TypeError, match="True/False"):
        sanity("c", [True], at_most=1.0)


def test_predictions_and_limits_may_be_arrays_broadcast_against_measured():
    r = check("per element", [1.0, 2.0, 3.5], predicted=[1.0, 2.0, 3.0], tol=0.6, basis="b", quiet=True)
    assert r.predicted == 3.0 and r.measured == 3.5 and r.margin == pytest.approx(0.1)
    r = check("per-element limits", np.array([[0.1, 0.2]]), at_most=np.array([0.5, 0.25]), basis="b", quiet=True)
    assert r.elements == 2 and r.at_most == 0.25 and r.margin == pytest.approx(0.05)
    with pytest.raises(ValueError, match="broadcast"):
        check("mismatch", [1.0, 2.0, 3.0], predicted=[1.0, 2.0], tol=0.1, basis="b")
    with pytest.raises(ValueError, match="tol"):
        check("negative tol", [1.0, 2.0], predicted=1.0, tol=[0.1, -0.1], basis="b")
    with pytest.raises(TypeError, match="predicted"):
        check("strings", [1.0], predicted=["a"], tol=0.1, basis="b")


def test_a_check_displays_as_one_short_line_in_ipython():
    from IPython.lib.pretty import pretty

    r = check("two plus two", 4.0, predicted=4, tol=0.5, basis="arithmetic", quiet=True)
    assert pretty(r) == "CheckResult(passed: 'two plus two')"
