"""What sets the notebooks' speed on this machine: the processor, threads, kernel paths, a second kernel.

Usage::

    .venv/bin/python benchmarks/machine.py [--steps S] [--repeats R]

It prints the processor (model, clock, vector extensions), the kernel path PyTorch chose and its BLAS, the
speed of one thread on a large single-precision matrix product (the processor's arithmetic ceiling, about
what its vector units can do), and then times notebook 04's training (three networks of 1 500 parameters
trained together with :func:`cosp_helpers.train_ensemble`, mini-batches of 256 from 20 000 points: the
binary tree and the shallow network) in fresh processes, in milliseconds per step (the step time includes
the two evaluations of the loss on all the points that every training run makes, at its start and end):

* one PyTorch thread, as the training notebooks use, and two;
* this machine's kernels and the generic kernel path (``ATEN_CPU_CAPABILITY=default``);
* two processes at once, each with one thread, and each with two threads (as two notebooks with
  PyTorch's default threads would run on a 2-core machine).

Each setting is the median of ``R`` runs of ``S`` steps. A setting that takes longer than a minute per run is
stopped and reported as such. Run it on a quiet machine: the ratios between settings are what it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORKER_TIMEOUT = 60.0  # seconds per timed run before a setting is reported as stopped


def cpu_description() -> dict[str, str]:
    """Model name, clock and vector extensions from ``/proc/cpuinfo`` (Linux), else what ``platform`` knows."""
    info = {"model": platform.processor() or platform.machine(), "MHz": "?", "vector": "?"}
    path = Path("/proc/cpuinfo")
    if not path.exists():
        return info
    fields: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    family, model = fields.get("cpu family", "?"), fields.get("model", "?")
    info["model"] = f"{fields.get('model name', info['model'])} (family {family}, model {model})"
    info["MHz"] = fields.get("cpu MHz", "?")
    info["vector"] = (
        ", ".join(ext for ext in ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if ext in flags)
        or "none of AVX"
    )
    return info


def sgemm_gflops(n: int = 512, seconds: float = 1.0) -> float:
    """GFLOP/s of one thread on ``n x n`` single-precision products (best of runs over about ``seconds``)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        best, spent = float("inf"), 0.0
        while spent < seconds:
            start = time.perf_counter()
            a @ b
            elapsed = time.perf_counter() - start
            best, spent = min(best, elapsed), spent + elapsed
    finally:
        torch.set_num_threads(threads)
    return 2 * n**3 / best / 1e9


def worker(steps: int) -> dict[str, float]:
    """Milliseconds per step of notebook 04's ensembles (tree and shallow, 1 500 parameters, 3 members)."""
    import numpy as np
    import torch

    import cosp_helpers as cosp

    # the process's thread count is set by OMP_NUM_THREADS at start-up (run_setting sets it for each setting)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.uniform(-1, 1, size=(20_000, 8)), dtype=torch.float32)
    y = torch.sin(3 * x[:, :4].sum(1, keepdim=True)) * torch.cos(2 * x[:, 4:].sum(1, keepdim=True))
    settings = {"lr": 0.01, "batch_size": 256, "schedule": "cosine", "seed": 1, "progress": False, "device": "cpu"}
    builders = {
        "tree": lambda s: cosp.BinaryTreeNet(8, cosp.width_for_budget("tree", 8, 1500), seed=s),
        "shallow": lambda s: cosp.ShallowNet(8, cosp.width_for_budget("shallow", 8, 1500), seed=s),
    }
    cosp.train_ensemble([builders["tree"](s) for s in range(3)], x, y, steps=10, eval_every=10, **settings)  # warm-up
    result = {"capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads()}
    for name, build in builders.items():
        start = time.perf_counter()
        cosp.train_ensemble([build(s) for s in range(3)], x, y, steps=steps, eval_every=steps, **settings)
        result[name] = (time.perf_counter() - start) / steps * 1e3
    return result


def run_setting(threads: int, capability: str | None, processes: int, steps: int) -> dict[str, float] | None:
    """One timed run of :func:`worker` in ``processes`` fresh processes at once; the first one's result, or None
    if any took longer than :data:`WORKER_TIMEOUT`."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.pop("ATEN_CPU_CAPABILITY", None)
    if capability is not None:
        env["ATEN_CPU_CAPABILITY"] = capability
    command = [sys.executable, __file__, "--worker", "--steps", str(steps)]
    children = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    outputs = []
    deadline = time.monotonic() + WORKER_TIMEOUT
    for child in children:
        try:
            out, _ = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in children:
                other.kill()
                other.wait()
            return None
        if child.returncode != 0:
            raise RuntimeError(f"the worker failed with exit status {child.returncode}")
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs[0]


SETTINGS = (
    ("1 thread, this machine's kernels (the notebooks' setting)", 1, None, 1),
    ("2 threads", 2, None, 1),
    ("1 thread, generic kernel path", 1, "default", 1),
    ("2 processes at once, 1 thread each", 1, None, 2),
    ("2 processes at once, 2 threads each", 2, None, 2),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps per timed run (default 100)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs per setting; the median is reported (default 3)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.repeats < 1:
        parser.error("--steps and --repeats must be >= 1")
    if args.worker:
        print(json.dumps(worker(args.steps)))
        return 0

    import torch

    cpu = cpu_description()
    blas = "MKL" if torch.backends.mkl.is_available() else "not MKL"
    print(f"processor: {cpu['model']}, {cpu['MHz']} MHz, {cpu['vector']}; {os.cpu_count()} cores visible")
    print(f"torch {torch.__version__}: kernel path {torch.backends.cpu.get_cpu_capability()}, BLAS {blas}")
    print(f"one thread, 512 x 512 float32 product: {sgemm_gflops():.1f} GFLOP/s")
    print(
        f"notebook 04's training, 3 networks of 1 500 parameters together; ms per step, median of {args.repeats} runs "
        f"of {args.steps} steps"
    )
    print("| setting | tree | shallow | tree, relative |")
    print("| --- | ---: | ---: | ---: |")
    reference = None
    for label, threads, capability, processes in SETTINGS:
        done = []
        for _ in range(args.repeats):
            result = run_setting(threads, capability, processes, args.steps)
            if result is None:  # stopped: the other repeats would be stopped too
                break
            done.append(result)
        if len(done) < args.repeats:
            print(f"| {label} | stopped: over {WORKER_TIMEOUT:.0f} s per run | | |")
            continue
        tree, shallow = statistics.median(r["tree"] for r in done), statistics.median(r["shallow"] for r in done)
        reference = reference or tree
        print(f"| {label} | {tree:.1f} | {shallow:.1f} | {tree / reference:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
