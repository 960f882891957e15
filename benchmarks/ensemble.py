"""Time ``cosp.train_ensemble`` against a loop of ``cosp.train`` doing the same work.

Usage::

    .venv/bin/python benchmarks/ensemble.py [--members M] [--steps S] [--repeats R]

For each network of notebook 04's protocol (shallow, dense and binary-tree networks on 8 inputs, at 250
and 1 500 parameters; 20 000 training points, mini-batches of 256, Adam on a cosine schedule), ``M``
members are trained for ``S`` steps twice: one after another with :func:`cosp_helpers.train`, and together
with :func:`cosp_helpers.train_ensemble`, in alternation, ``R`` times each. The table gives the median
seconds of each and their ratio (loop / together), which is the speed-up; both are measured in the same
process, so that the load of a shared machine falls on both alike. Every pair of runs is also checked to
end at the same training losses (float32 rounding apart: relative difference below 1e-3); the exit status is 1 if not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch

import cosp_helpers as cosp

NETWORKS = [(arch, budget) for arch in ("shallow", "deep", "tree") for budget in (250, 1500)]


def build(arch: str, budget: int, seed: int) -> torch.nn.Module:
    """The network of notebook 04 for ``arch`` at about ``budget`` parameters on 8 inputs."""
    if arch == "shallow":
        return cosp.ShallowNet(8, cosp.width_for_budget("shallow", 8, budget), seed=seed)
    if arch == "deep":
        return cosp.DeepNet(8, cosp.width_for_budget("deep", 8, budget, depth=3), depth=3, seed=seed)
    return cosp.BinaryTreeNet(8, cosp.width_for_budget("tree", 8, budget), seed=seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=3, help="networks trained together (default 3, as in 04)")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per run (default 300)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each way (default 3)")
    args = parser.parse_args(argv)
    if args.members < 1 or args.steps < 1 or args.repeats < 1:
        parser.error("--members, --steps and --repeats must be >= 1")
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.uniform(-1, 1, size=(20_000, 8)), dtype=torch.float32)
    y = torch.sin(3 * x[:, :4].sum(1, keepdim=True)) * torch.cos(2 * x[:, 4:].sum(1, keepdim=True))
    settings = {"lr": 0.01, "steps": args.steps, "batch_size": 256, "schedule": "cosine", "eval_every": args.steps,
                "seed": 1, "progress": False, "device": "cpu"}
    cosp.train_ensemble([build("tree", 250, s) for s in range(2)], x, y, **settings | {"steps": 20})  # warm-up
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}; {args.members} members, {args.steps} steps, medians of {args.repeats}")
    print("| network | parameters | loop of train (s) | train_ensemble (s) | speed-up |")
    print("| --- | ---: | ---: | ---: | ---: |")
    agree = True
    ratios = []
    for arch, budget in NETWORKS:
        loop_s, together_s = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            alone = [cosp.train(build(arch, budget, s), x, y, **settings).final_train_loss for s in range(args.members)]
            loop_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            histories = cosp.train_ensemble([build(arch, budget, s) for s in range(args.members)], x, y, **settings)
            together_s.append(time.perf_counter() - start)
            together = [h.final_train_loss for h in histories]
            agree &= bool(np.allclose(together, alone, rtol=1e-3, atol=0))
        loop, batched = statistics.median(loop_s), statistics.median(together_s)
        ratios.append(loop / batched)
        params = cosp.count_parameters(build(arch, budget, 0))
        print(f"| {arch} | {params} | {loop:.2f} | {batched:.2f} | {loop / batched:.2f}x |")
    print(f"speed-up: median {statistics.median(ratios):.2f}x, from {min(ratios):.2f}x to {max(ratios):.2f}x")
    # notebook 10's transformer (one layer, d = 32, one head, MLP 64) on its pointer task: 1 000 sequences of 8 tokens,
    # batches of 128, the cross-entropy over every position. Its steps are products of 1 024 tokens by 32-96 columns,
    # already big enough to keep a core busy, so batching the members saves little: a row for comparison, not a goal.
    task = cosp.attention.pointer_task(1000, seq_len=8, vocab=5, n_pointers=2, seed=1)

    def transformer(seed: int) -> torch.nn.Module:
        return cosp.attention.TinyTransformer(task.field_sizes, 8, 5, d_model=32, n_heads=1, d_mlp=64, seed=seed)

    text = settings | {"loss": "cross_entropy", "batch_size": 128}
    loop_s, together_s = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        alone = [cosp.train(transformer(s), task.tokens, task.labels, **text).final_train_loss for s in range(args.members)]
        loop_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        members = [transformer(s) for s in range(args.members)]
        cosp.train_ensemble(members, task.tokens, task.labels, **text)
        together_s.append(time.perf_counter() - start)
    # in float32 the two ways part after the loss's fast drop (rounding, amplified; they end a few percent apart), so the
    # agreement is checked in float64, over 30 steps: the same losses to 1e-9
    short = text | {"steps": 30, "eval_every": 10}
    alone = [cosp.train(transformer(s).double(), task.tokens, task.labels, **short).train_loss for s in range(args.members)]
    members = [transformer(s).double() for s in range(args.members)]
    together = [h.train_loss for h in cosp.train_ensemble(members, task.tokens, task.labels, **short)]
    agree &= bool(np.allclose(together, alone, rtol=1e-9, atol=0))
    loop, batched = statistics.median(loop_s), statistics.median(together_s)
    print(f"transformer of notebook 10 ({cosp.count_parameters(transformer(0))} parameters, batches of 128 sequences): "
          f"loop {loop:.2f} s, train_ensemble {batched:.2f} s, speed-up {loop / batched:.2f}x")
    if not agree:
        print("FAILED: a batched run did not end at its separate run's training loss", file=sys.stderr)
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
