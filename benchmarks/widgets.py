"""How long one explorer update takes: the package's compute functions behind the notebooks' sliders.

Every explorer recomputes on each slider move, and a lecturer moves sliders live: an update should take well
under 100 ms. This times each package compute function that a notebook's explorer calls, at the corners of
its sliders' ranges (the settings of the notebooks' controls) and at their defaults, and prints the median of
``--repeats`` calls for the slowest setting of each. Explorers whose compute function is written in the
notebook (08-14) look up results trained earlier; the real-browser test moves one slider of every notebook.

    .venv/bin/python benchmarks/widgets.py [--repeats 7] [--budget-ms 100]

The exit status is 1 if a median is over the budget. Wall-clock time depends on the machine and its load, so
this is a benchmark, run alone, not a unit test.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")

import cosp_helpers as cosp  # noqa: E402


def _grid(**ranges):
    keys = list(ranges)
    return [dict(zip(keys, values)) for values in itertools.product(*ranges.values())]


# notebook, explorer, compute function, settings: each slider at its two ends and at its default
CASES = [
    ("00", "reading path", cosp.course.reading_path, _grid(number=[0, 6, 14])),
    ("01", "curse counts", cosp.curse.summary, _grid(d=[1, 10, 100], s=[1, 20], eps=[1e-3, 0.1, 10**-0.3])),
    ("02", "Koppen staircase", cosp.superposition.psi_staircase, _grid(k=[1, 3, 8], gamma=[6, 14])),
    ("04", "MP counts", cosp.networks.mp_summary, _grid(n_inputs=[2, 8, 64], smoothness=[1, 10], eps=[1e-3, 10**-0.3])),
    ("05", "interval indicator", cosp.relu.interval_indicator_summary,
     _grid(x0=[0.0, 0.45], x1=[0.55, 1.0], eta=[10**-2.5, 0.05, 10**-0.6])),
    ("05", "node table", cosp.relu.node_approximation_summary,
     _grid(name=["ripple", "product", "maximum"], k=[1, 8, 16])),
    ("06", "depth constructions", cosp.depth.summary, _grid(depth=[1, 4, 12])),
    ("07", "kernel and overlap", lambda kernel_size, overlap: cosp.bounds.overlap_summary(kernel_size, overlap, seed=0),
     [{"kernel_size": k, "overlap": o} for k in (2, 4, 8) for o in (0, k - 1)]),
    ("11", "associative memory", cosp.memory.summary,
     _grid(n_pairs=[2, 32, 256], d=[8, 128], rho=[0.0, 0.9], beta=[1.0, 10**2.5])),
]  # fmt: skip


def median_seconds(compute, settings: dict, repeats: int) -> float:
    compute(**settings)  # warm caches, as the notebook's first draw does
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        compute(**settings)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--budget-ms", type=float, default=100.0)
    args = parser.parse_args()
    over = 0
    print(f"{'nb':>2}  {'explorer':<22} {'settings':>8} {'slowest median (ms)':>20}  slowest setting")
    for notebook, name, compute, settings in CASES:
        timed = [(median_seconds(compute, s, args.repeats) * 1e3, s) for s in settings]
        worst, where = max(timed, key=lambda t: t[0])
        flag = "  OVER" if worst > args.budget_ms else ""
        over += worst > args.budget_ms
        print(f"{notebook:>2}  {name:<22} {len(settings):>8} {worst:>20.1f}  {where}{flag}")
    print(f"budget {args.budget_ms:g} ms per update: {over} explorer(s) over")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
