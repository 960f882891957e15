"""Every course notebook executed once per test session: the runs that the notebook and book tests read.

The runs start in the background as soon as the session has collected a test that reads them
(``tests/conftest.py``), and the tests that read them are moved towards the end of the session: the two
kernels then run while the unit tests and the browser test use the machine too, and the session waits for the
runs only when it needs them (:func:`results`).
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
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


def kernel_path(index: int, seed: int) -> str:
    """The kernel path of the test session's run of the ``index``-th course notebook (0 for ``00``) at ``seed``.

    Every notebook is executed once, on one of two paths of ``benchmarks/robustness.py``, alternating along
    the course: ``current`` (this machine's own kernels, as a student here runs it) and ``generic``
    (PyTorch's baseline kernels and OpenBLAS's Sandy Bridge kernels, which round differently: a stand-in for
    another CPU). The assignment turns with the seed, so ``COSP_SEED=1`` runs each notebook on the other path.
    """
    return "current" if (index + seed) % 2 == 0 else "generic"


def execute_all() -> dict[str, Any]:
    """Execute every course notebook once, two at a time, at the environment's ``COSP_SEED``.

    Each run is a fresh kernel started by ``benchmarks/robustness.py`` (the runner of the robustness
    matrix), on the kernel path :func:`kernel_path` gives it; each of the two kernels gets one core's worth
    of threads (``robustness.thread_env``). Every check the notebook makes is logged; a failed check is
    recorded and the notebook goes on, so that one run reports all of them. The executed copies are written
    to ``build/executed/notebooks/`` for the book to render, and each run's path and time to
    ``build/executed/summary.txt``. Returns ``{notebook name: RunResult}``.
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

    def one(indexed: tuple[int, Path]):
        index, path = indexed
        return robustness.run_one(path, seed, kernel_path(index, seed), logs, save=EXECUTED / "notebooks" / path.name,
                                  side_by_side=EXECUTION_JOBS)

    with ThreadPoolExecutor(max_workers=EXECUTION_JOBS) as pool:
        results = dict(zip((p.name for p in notebooks), pool.map(one, enumerate(notebooks))))
    times = ", ".join(f"{name[:2]} {r.path} {r.seconds:.0f} s" for name, r in results.items())
    (EXECUTED / "summary.txt").write_text(f"executed {len(notebooks)} notebooks in {time.monotonic() - start:.0f} s, "
                                         f"{EXECUTION_JOBS} at a time, COSP_SEED={seed}: {times}\n", encoding="utf-8")
    return results


class _Pass:
    """The background run of :func:`execute_all`: its result, or the exception it raised."""

    def __init__(self) -> None:
        self.results: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="notebook-runs", daemon=True)

    def _run(self) -> None:
        try:
            self.results = execute_all()
        except BaseException as exc:  # re-raised in the session by results()
            self.error = exc
        finally:
            self.done.set()


_PASS: _Pass | None = None


def start() -> None:
    """Start executing every notebook in a background thread (once per session)."""
    global _PASS
    if _PASS is None:
        _PASS = _Pass()
        _PASS.thread.start()


def results() -> dict[str, Any]:
    """Wait for the runs :func:`start` began (starting them if nobody has) and return them."""
    start()
    _PASS.done.wait()
    if _PASS.error is not None:
        raise RuntimeError(f"executing the notebooks failed: {_PASS.error!r}") from _PASS.error
    print("\n" + (EXECUTED / "summary.txt").read_text(encoding="utf-8"), end="")  # shown with -s or -rA
    return _PASS.results


def stop() -> None:
    """At the end of the session: end runs still going (after ``-x`` or an interrupt), with their kernels."""
    if _PASS is not None and not _PASS.done.is_set():
        import robustness  # on sys.path: execute_all put it there

        robustness.stop_all()
        _PASS.done.wait(timeout=30)
