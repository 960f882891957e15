"""Tests for cosp_helpers.runtime: seeding, device choice, the COSP_SCALE knob, versions."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from cosp_helpers import runtime
from cosp_helpers.runtime import get_device, get_scale, scaled, seed_everything, versions


@pytest.fixture
def fresh_scale():
    """Clear get_scale's cache before and after the test, so COSP_SCALE is read anew."""
    get_scale.cache_clear()
    yield
    get_scale.cache_clear()


# --- seed_everything ---------------------------------------------------------------------------


def _draw_all() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.random()), torch.rand(3).tolist()


@pytest.mark.parametrize("seed", [0, 7, 2**40, np.int64(12)])
def test_seed_everything_makes_every_stream_reproducible(seed):
    rng = seed_everything(seed)
    first = _draw_all()
    first_rng = rng.random(4)
    rng = seed_everything(seed)
    assert _draw_all() == first
    np.testing.assert_array_equal(rng.random(4), first_rng)


def test_seed_everything_returns_default_rng_of_seed():
    rng = seed_everything(5)
    assert isinstance(rng, np.random.Generator)
    np.testing.assert_array_equal(rng.random(5), np.random.default_rng(5).random(5))


def test_seed_everything_different_seeds_give_different_streams():
    seed_everything(1)
    a = _draw_all()
    seed_everything(2)
    b = _draw_all()
    assert a[0] != b[0] and a[1] != b[1] and a[2] != b[2]


@pytest.mark.parametrize(
    "seed, error, match",
    [
        (-1, ValueError, "seed must be >= 0"),
        (1.0, TypeError, "seed must be an int"),
        (True, TypeError, "seed must be an int"),
        ("3", TypeError, "seed must be an int"),
    ],
)
def test_seed_everything_rejects_bad_seeds(seed, error, match):
    with pytest.raises(error, match=match):
        seed_everything(seed)


# --- get_device --------------------------------------------------------------------------------


def test_get_device_cpu(monkeypatch):
    monkeypatch.delenv("COSP_DEVICE", raising=False)
    assert get_device("cpu") == torch.device("cpu")


def test_get_device_auto_follows_cuda_availability(monkeypatch):
    monkeypatch.delenv("COSP_DEVICE", raising=False)
    for available, expected in ((False, "cpu"), (True, "cuda")):
        monkeypatch.setattr(torch.cuda, "is_available", lambda available=available: available)
        assert get_device() == torch.device(expected)
        assert get_device("auto") == torch.device(expected)


@pytest.mark.parametrize("env, prefer", [("cpu", "cuda"), ("cpu", "auto"), ("auto", "cuda")])
def test_get_device_env_overrides_prefer(monkeypatch, env, prefer):
    monkeypatch.setenv("COSP_DEVICE", env)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device(prefer) == torch.device("cpu")


def test_get_device_env_cuda_when_available(monkeypatch):
    monkeypatch.setenv("COSP_DEVICE", "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device("cpu") == torch.device("cuda")


@pytest.mark.parametrize("use_env", [True, False])
def test_get_device_cuda_unavailable_raises(monkeypatch, use_env):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if use_env:
        monkeypatch.setenv("COSP_DEVICE", "cuda")
    else:
        monkeypatch.delenv("COSP_DEVICE", raising=False)
    with pytest.raises(ValueError, match="cuda"):
        get_device("cuda")


def test_get_device_bad_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("COSP_DEVICE", "gpu")
    with pytest.raises(ValueError, match="COSP_DEVICE must be 'auto', 'cpu' or 'cuda', got 'gpu'"):
        get_device()


@pytest.mark.parametrize("prefer", ["gpu", "CPU", ""])
def test_get_device_bad_prefer_names_the_argument(monkeypatch, prefer):
    monkeypatch.delenv("COSP_DEVICE", raising=False)
    with pytest.raises(ValueError, match="prefer must be 'auto', 'cpu' or 'cuda'"):
        get_device(prefer)


# --- get_scale ---------------------------------------------------------------------------------


def test_get_scale_default_is_one(monkeypatch, fresh_scale):
    monkeypatch.delenv("COSP_SCALE", raising=False)
    assert get_scale() == 1.0


@pytest.mark.parametrize("text, value", [("1", 1.0), ("4", 4.0), ("0.25", 0.25), (" 2.5 ", 2.5), ("1e1", 10.0)])
def test_get_scale_reads_environment(monkeypatch, fresh_scale, text, value):
    monkeypatch.setenv("COSP_SCALE", text)
    assert get_scale() == value


def test_get_scale_is_read_once(monkeypatch, fresh_scale):
    monkeypatch.setenv("COSP_SCALE", "3")
    assert get_scale() == 3.0
    monkeypatch.setenv("COSP_SCALE", "5")
    assert get_scale() == 3.0  # cached until cache_clear
    get_scale.cache_clear()
    assert get_scale() == 5.0


@pytest.mark.parametrize("text", ["0", "-1", "abc", "inf", "nan", "-inf", ""])
def test_get_scale_rejects_bad_values(monkeypatch, fresh_scale, text):
    monkeypatch.setenv("COSP_SCALE", text)
    with pytest.raises(ValueError, match="COSP_SCALE must be a positive number"):
        get_scale()


# --- scaled ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, minimum, scale, expected",
    [
        (1000, 1, 1.0, 1000),
        (300, 1, 2.5, 750),
        (3, 1, 0.5, 2),  # round(1.5) == 2 (round half to even)
        (5, 1, 0.5, 2),  # round(2.5) == 2 (round half to even)
        (7, 1, 1 / 3, 2),  # round(2.333...)
        (1000, 10, 0.001, 10),  # the minimum wins
        (1000, 1, 1e-9, 1),
        (np.int64(40), 1, 2, 80),
    ],
)
def test_scaled_rounds_and_applies_minimum(n, minimum, scale, expected):
    out = scaled(n, minimum=minimum, scale=scale)
    assert out == expected and type(out) is int


def test_scaled_uses_get_scale_by_default(monkeypatch, fresh_scale):
    monkeypatch.setenv("COSP_SCALE", "4")
    assert scaled(250) == 1000
    monkeypatch.setenv("COSP_SCALE", "1")
    get_scale.cache_clear()
    assert scaled(250) == 250


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n": 0}, ValueError, "n must be >= 1"),
        ({"n": -5}, ValueError, "n must be >= 1"),
        ({"n": 10.0}, TypeError, "n must be an int"),
        ({"n": True}, TypeError, "n must be an int"),
        ({"n": "10"}, TypeError, "n must be an int"),
        ({"n": 10, "minimum": 0}, ValueError, "minimum must be >= 1"),
        ({"n": 10, "scale": 0}, ValueError, "scale must be"),
        ({"n": 10, "scale": -2.0}, ValueError, "scale must be"),
        ({"n": 10, "scale": float("inf")}, ValueError, "scale must be"),
        ({"n": 10, "scale": float("nan")}, ValueError, "scale must be"),
    ],
)
def test_scaled_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        scaled(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n": 10, "minimum": True}, TypeError, "minimum must be an int"),
        ({"n": 10, "minimum": 2.5}, TypeError, "minimum must be an int"),
        ({"n": 10, "scale": True}, TypeError, "scale must be a real number"),
        ({"n": 10, "scale": "abc"}, TypeError, "scale must be a real number"),
    ],
)
def test_scaled_type_checks_minimum_and_scale(kwargs, error, match):
    with pytest.raises(error, match=match):
        scaled(**kwargs)


# --- versions ----------------------------------------------------------------------------------


def test_versions_keys_and_values():
    found = versions()
    assert set(found) == {"python", "cosp_helpers", *runtime._PACKAGES}
    assert all(isinstance(v, str) and v for v in found.values())
    assert found["numpy"] == np.__version__
    assert found["torch"] == torch.__version__
    import platform

    assert found["python"] == platform.python_version()


def test_versions_reports_missing_packages(monkeypatch):
    monkeypatch.setattr(runtime, "_PACKAGES", ("numpy", "surely_not_an_installed_package_xyz"))
    found = versions()
    assert found["surely_not_an_installed_package_xyz"] == "not installed"
    assert found["numpy"] == np.__version__


# --- COSP_SEED ----------------------------------------------------------------------------------


def test_cosp_seed_defaults_to_zero_and_derived_seeds_are_the_written_ones(monkeypatch):
    from cosp_helpers.runtime import SEED_STRIDE, base_seed, derive_seed, run_seeds

    monkeypatch.delenv("COSP_SEED", raising=False)
    assert base_seed() == 0 and derive_seed(7) == 7 and run_seeds(3) == [0, 1, 2] and run_seeds(2, start=5) == [5, 6]
    monkeypatch.setenv("COSP_SEED", "3")
    assert base_seed() == 3
    assert derive_seed(7) == 7 + 3 * SEED_STRIDE
    assert run_seeds(3) == [3 * SEED_STRIDE + i for i in range(3)]


def test_different_cosp_seeds_never_share_a_derived_seed(monkeypatch):
    from cosp_helpers.runtime import SEED_STRIDE, derive_seed

    seen = set()
    for base in range(4):
        monkeypatch.setenv("COSP_SEED", str(base))
        seen |= {derive_seed(k) for k in (0, 1, 999, SEED_STRIDE - 1)}
    assert len(seen) == 16


def test_seed_everything_without_argument_follows_cosp_seed(monkeypatch):
    monkeypatch.setenv("COSP_SEED", "5")
    seed_everything()
    first = torch.rand(2)
    seed_everything(5)
    assert torch.equal(first, torch.rand(2))


@pytest.mark.parametrize("text", ["-1", "1.5", "abc", "", " ", "1e3", "٣", "1000000"])
def test_bad_cosp_seed_is_refused_naming_the_variable(monkeypatch, text):
    from cosp_helpers.runtime import base_seed, derive_seed

    monkeypatch.setenv("COSP_SEED", text)
    with pytest.raises(ValueError, match="COSP_SEED"):
        base_seed()
    with pytest.raises(ValueError, match="COSP_SEED"):
        derive_seed(0)


@pytest.mark.parametrize("call, error", [(lambda: __import__("cosp_helpers").derive_seed(-1), ValueError),
                                         (lambda: __import__("cosp_helpers").derive_seed(10**6), ValueError),
                                         (lambda: __import__("cosp_helpers").derive_seed(1.0), TypeError),
                                         (lambda: __import__("cosp_helpers").run_seeds(0), ValueError),
                                         (lambda: __import__("cosp_helpers").run_seeds(2, start=10**6 - 1), ValueError)])
def test_bad_seed_arguments_are_refused(monkeypatch, call, error):
    monkeypatch.delenv("COSP_SEED", raising=False)
    with pytest.raises(error):
        call()


# --- parallel_map and usable_cores ---------------------------------------------------------------


def _train_small(seed: int) -> dict:
    """A seeded training run of the kind the notebooks repeat: a small transformer on the pointer task."""
    import cosp_helpers as cosp

    task = cosp.attention.pointer_task(96, seq_len=6, vocab=4, n_pointers=2, seed=seed)
    net = cosp.attention.TinyTransformer(task.field_sizes, 6, 4, d_model=16, n_heads=1, n_layers=2, seed=seed)
    history = cosp.train(net, task.tokens, task.labels, loss="cross_entropy", lr=1e-2, steps=25, batch_size=32,
                         seed=seed, eval_every=25, progress=False)  # fmt: skip
    maps = net.attention_maps(task.tokens)
    return {"net": net, "loss": history.final_train_loss, "maps": maps, "global": torch.rand(2)}


def test_parallel_map_gives_the_loop_bit_for_bit():
    torch.manual_seed(123)
    seeds = [0, 1, 2, 0]
    serial = runtime.parallel_map(_train_small, seeds, workers=1)
    parallel = runtime.parallel_map(_train_small, seeds, workers=2)
    for a, b in zip(serial, parallel):
        assert a["loss"] == b["loss"]
        assert np.array_equal(a["maps"], b["maps"])
        for p, q in zip(a["net"].state_dict().values(), b["net"].state_dict().values()):
            assert torch.equal(p, q)
        # a draw from the global generator: every call starts from the caller's state, here and in a worker
        assert torch.equal(a["global"], b["global"])
    assert torch.equal(serial[0]["global"], serial[1]["global"])
    assert serial[0]["loss"] == serial[3]["loss"]  # the same seed gives the same run, wherever it ran


def test_parallel_map_leaves_the_callers_state_as_it_was():
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    expected = (torch.rand(3), np.random.random(3), random.random())
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    threads = torch.get_num_threads()
    for workers in (1, 2):
        seen = runtime.parallel_map(
            lambda _: (torch.get_num_threads(), torch.rand(1), np.random.random()), range(3), workers=workers
        )
        assert [s[0] for s in seen] == [1, 1, 1]  # one PyTorch thread per run
        assert len({float(s[1]) for s in seen}) == 1 and len({s[2] for s in seen}) == 1
        assert torch.get_num_threads() == threads
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.random(3), expected[1])
    assert random.random() == expected[2]


def test_parallel_map_runs_the_calls_at_the_same_time_in_other_processes():
    import multiprocessing
    import os

    barrier = multiprocessing.get_context("fork").Barrier(2, timeout=60)

    def meet(_):
        barrier.wait()  # breaks after 60 s unless the other call is running at the same time
        return os.getpid()

    pids = runtime.parallel_map(meet, range(2), workers=2)
    assert len(set(pids)) == 2 and os.getpid() not in pids


def test_parallel_map_keeps_order_and_shows_what_each_call_printed_in_that_order(capsys):
    def shout(i):
        import time

        time.sleep(0.05 * (3 - i))  # the later items finish first
        print(f"item {i}")
        return i * i

    assert runtime.parallel_map(shout, range(4), workers=2) == [0, 1, 4, 9]
    assert capsys.readouterr().out == "item 0\nitem 1\nitem 2\nitem 3\n"


def test_parallel_map_raises_the_first_failure_and_can_run_again():
    def fail_on_two(i):
        if i == 2:
            raise ValueError(f"bad item {i}")
        return i

    for workers in (1, 2):
        with pytest.raises(ValueError, match="bad item 2"):
            runtime.parallel_map(fail_on_two, range(5), workers=workers)
    assert runtime.parallel_map(fail_on_two, [0, 1], workers=2) == [0, 1]


def test_parallel_map_reports_a_worker_that_died_instead_of_waiting():
    from concurrent.futures.process import BrokenProcessPool

    def die(i):
        import os

        if i == 1:
            os._exit(3)  # what the kernel's out-of-memory killer does to a run
        return i

    with pytest.raises(BrokenProcessPool):
        runtime.parallel_map(die, range(3), workers=2)


def test_parallel_map_in_a_worker_runs_there():
    def nested(_):
        return runtime.parallel_map(lambda j: (runtime._IN_WORKER, j), range(2))

    inner = runtime.parallel_map(nested, range(2), workers=2)
    assert inner == [[(True, 0), (True, 1)]] * 2


def test_parallel_map_edge_cases_and_bad_input(monkeypatch):
    assert runtime.parallel_map(abs, [], workers=2) == []
    assert runtime.parallel_map(abs, iter([-1]), workers=10**12) == [1]
    with pytest.raises(TypeError, match="fn must be callable"):
        runtime.parallel_map(3, [1])
    with pytest.raises(TypeError, match="items must be an iterable"):
        runtime.parallel_map(abs, 3)
    with pytest.raises(TypeError, match="items must be an iterable"):
        runtime.parallel_map(abs, "abc")
    for bad in (0, -1):
        with pytest.raises(ValueError, match="workers must be >= 1"):
            runtime.parallel_map(abs, [1], workers=bad)
    for bad in (1.5, "2", True):
        with pytest.raises(TypeError, match="workers must be an int"):
            runtime.parallel_map(abs, [1], workers=bad)
    for bad in ("0", "two", "-3", ""):
        monkeypatch.setenv("COSP_WORKERS", bad)
        with pytest.raises(ValueError, match="COSP_WORKERS must be a positive integer"):
            runtime.parallel_map(abs, [1, 2])


def test_usable_cores_follows_cosp_workers_affinity_and_the_cgroup_quota(monkeypatch, tmp_path):
    import os

    monkeypatch.setenv("COSP_WORKERS", "3")
    assert runtime.usable_cores() == 3
    monkeypatch.delenv("COSP_WORKERS")
    assert 1 <= runtime.usable_cores() <= len(os.sched_getaffinity(0))
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # cgroup v2: 1.5 cores
    assert runtime._cgroup_cpu_limit(tmp_path) == 1.5
    monkeypatch.setattr(runtime, "_cgroup_cpu_limit", lambda: 0.5)
    assert runtime.usable_cores() == 1  # at least one
    monkeypatch.setattr(runtime, "_cgroup_cpu_limit", lambda: 64.0)
    assert runtime.usable_cores() == len(os.sched_getaffinity(0))  # a quota above the CPUs changes nothing


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "200000 100000\n"}, 2.0),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
        ({"cpu.max": "garbled\n"}, None),
        ({}, None),
    ],
)
def test_cgroup_cpu_limit_reads_v1_and_v2(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert runtime._cgroup_cpu_limit(tmp_path) == expected


def test_parallel_map_interrupted_stops_its_workers_at_once():
    import multiprocessing
    import os
    import signal
    import threading
    import time

    def slow(i):
        time.sleep(30)
        return i

    # Python's own SIGINT handler, as in a kernel: a shell that starts a program in the background may have set it to ignore
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))  # what "interrupt the kernel" sends
        start = time.perf_counter()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            runtime.parallel_map(slow, range(2), workers=2)
        assert time.perf_counter() - start < 15
        assert multiprocessing.active_children() == []
    finally:
        signal.signal(signal.SIGINT, previous)


def test_parallel_map_shows_a_progress_bar_only_when_asked(capsys):
    assert runtime.parallel_map(abs, [-1, -2, -3], workers=2, progress=True, desc="runs") == [1, 2, 3]
    assert "runs" in capsys.readouterr().err  # tqdm writes to stderr outside a notebook
    assert runtime.parallel_map(abs, [-1, -2, -3], workers=2, desc="runs") == [1, 2, 3]
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="progress must be True or False"):
        runtime.parallel_map(abs, [1], progress="yes")
    with pytest.raises(TypeError, match="desc must be a string"):
        runtime.parallel_map(abs, [1], desc=3)
