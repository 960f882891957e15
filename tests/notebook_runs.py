"""Every course notebook executed once per test session: the runs that the notebook and book tests read."""

from __future__ import annotations

import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "executed"
COURSE_NOTEBOOK = re.compile(r"\d\d_\w+\.ipynb")  # as the root conftest.py: no "-Copy1", no "Untitled"
EXECUTION_JOBS = 2  # two kernels at a time: the machines have two cores


def course_notebooks() -> list[Path]:
    """The course notebooks, in order: ``notebooks/NN_slug.ipynb``."""
    return sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb") if COURSE_NOTEBOOK.fullmatch(p.name))


def execute_all() -> dict[str, Any]:
    """Execute every course notebook once, two at a time, in the current environment and at its ``COSP_SEED``.

    Each run is a fresh kernel started by ``benchmarks/robustness.py`` (the runner of the robustness
    matrix, on its ``current`` path: the environment is left as it is, except that each of the two kernels
    gets one core's worth of threads, ``robustness.thread_env``). Every check the notebook makes is
    logged; a failed check is recorded and the notebook goes on, so that one run reports all of them. The
    executed copies are written to ``build/executed/notebooks/`` for the book to render. Returns
    ``{notebook name: RunResult}``.
    """
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import robustness

    import cosp_helpers as cosp

    seed = cosp.base_seed()
    if EXECUTED.exists():
        shutil.rmtree(EXECUTED)
    logs = EXECUTED / "logs"
    logs.mkdir(parents=True)
    notebooks = course_notebooks()
    start = time.monotonic()

    def one(path: Path):
        return robustness.run_one(path, seed, "current", logs, save=EXECUTED / "notebooks" / path.name,
                                  side_by_side=EXECUTION_JOBS)

    with ThreadPoolExecutor(max_workers=EXECUTION_JOBS) as pool:
        results = dict(zip((p.name for p in notebooks), pool.map(one, notebooks)))
    times = ", ".join(f"{name[:2]} {r.seconds:.0f} s" for name, r in results.items())
    print(f"\nexecuted {len(notebooks)} notebooks in {time.monotonic() - start:.0f} s, "
          f"{EXECUTION_JOBS} at a time, COSP_SEED={seed}: {times}")
    return results
