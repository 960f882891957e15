"""The benchmark scripts' own logic: what they read about the machine and what one timed run returns."""

from __future__ import annotations

import math

import pytest

from scripts import load_script


def load(name: str):
    return load_script(f"benchmarks/{name}.py")


def test_machine_describes_the_processor():
    cpu = load("machine").cpu_description()
    assert set(cpu) == {"model", "MHz", "vector"}
    assert all(isinstance(v, str) and v for v in cpu.values())


def test_machine_worker_times_both_networks():
    result = load("machine").worker(steps=3)
    assert result["threads"] >= 1
    assert result["capability"]
    for name in ("tree", "shallow"):
        assert math.isfinite(result[name]) and result[name] > 0


def test_machine_sgemm_is_a_positive_rate():
    rate = load("machine").sgemm_gflops(n=64, seconds=0.05)
    assert math.isfinite(rate) and rate > 0


@pytest.mark.parametrize("argument", ["--steps=0", "--repeats=0"])
def test_machine_refuses_nonpositive_counts(argument, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load("machine").main([argument])
    assert exit_info.value.code == 2
    assert "must be >= 1" in capsys.readouterr().err
