"""Time the notebooks and their slowest cells, their kernel's peak memory and their widgets' compute time.

Usage::

    .venv/bin/python benchmarks/notebooks.py [NOTEBOOK ...] [--repeats N] [--strict]

Each notebook is executed cell by cell with nbclient in a fresh ``python3`` kernel of
the current environment, with the notebook's directory as working directory. After
the last cell, one extra cell (added in memory only; the file is never written) reads
the kernel's peak resident memory and times every ``cosp_helpers.widgets.Explorer``
found in the kernel's global namespace with ``Explorer.time_compute(repeats=20)``.

Each cell is timed as it runs; the table gives the whole run, the slowest cell (and its index),
the kernel's start-up and peak memory, and each widget's compute time, against the budgets below.
The results are printed as a Markdown table. The exit status is 1 if a notebook fails
to execute, or, with ``--strict``, if a notebook exceeds a budget; otherwise 0.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import Type, default

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT_S = 600
BUDGET_RUN_S = 30.0  # a whole notebook, run live in a lecture
BUDGET_CELL_S = 15.0  # a lecturer waits for one cell at a time
BUDGET_MEMORY_MB = 1500.0
BUDGET_WIDGET_MS = 100.0
WIDGET_REPEATS = 20
MARKER = "__cosp_benchmark__"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

# Run in the notebook's kernel after its last cell. Peak memory is read first, so that
# timing the widgets cannot raise it. Explorer is looked up in sys.modules rather than
# imported: a notebook that never imported it has no explorer to time.
MEASURE_CODE = f"""\
import json as _bm_json, resource as _bm_resource, sys as _bm_sys
_bm_peak_kib = _bm_resource.getrusage(_bm_resource.RUSAGE_SELF).ru_maxrss
_bm_module = _bm_sys.modules.get("cosp_helpers.widgets")
_bm_widgets, _bm_seen = [], set()
if _bm_module is not None:
    for _bm_obj in list(globals().values()):
        if isinstance(_bm_obj, _bm_module.Explorer) and id(_bm_obj) not in _bm_seen:
            _bm_seen.add(id(_bm_obj))
            _bm_widgets.append([_bm_obj.name, _bm_obj.time_compute(repeats={WIDGET_REPEATS})])
print({MARKER!r} + _bm_json.dumps(
    {{"peak_kib": _bm_peak_kib, "widgets": _bm_widgets, "executable": _bm_sys.executable}}
))
"""


class CurrentEnvKernelSpecManager(KernelSpecManager):
    """Resolve ``python3`` to ipykernel in this interpreter, ignoring installed kernelspecs."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        """Return the spec for ``kernel_name``; ``python3`` always means ``sys.executable``."""
        if kernel_name == "python3":
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())
        return super().get_kernel_spec(kernel_name)


class SlicedWaitChannel(AsyncZMQSocketChannel):
    """A kernel channel that waits for a message in slices of at most one second.

    nbclient waits for a cell's reply with one ``poll`` as long as the cell's time limit. Now and then
    (more often on a loaded machine, and in cells that open widgets) that ``poll`` is not woken by a
    message that has arrived: the kernel sits idle, its reply unread, until the time limit ends the run
    (jupyter/nbclient#312). A fresh ``poll`` sees the waiting message, so waiting in one-second slices
    up to the same deadline turns a lost wake-up into a delay of at most a second.
    """

    SLICE_S = 1.0

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message, waiting at most ``timeout`` seconds (None: no limit); ``queue.Empty`` after that."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = self.SLICE_S if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await super().get_msg(timeout=min(self.SLICE_S, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class SlicedWaitKernelClient(AsyncKernelClient):
    """nbclient's asynchronous kernel client, with :class:`SlicedWaitChannel` for replies and outputs."""

    shell_channel_class = Type(SlicedWaitChannel)
    iopub_channel_class = Type(SlicedWaitChannel)


class CurrentEnvKernelManager(AsyncKernelManager):
    """An nbclient kernel manager whose ``python3`` kernel runs in the current environment.

    Its clients are :class:`SlicedWaitKernelClient`: a run never stalls on a lost wake-up.
    """

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return CurrentEnvKernelSpecManager(data_dir=self.data_dir)

    @default("client_factory")
    def _client_factory_default(self) -> type:
        return SlicedWaitKernelClient


@dataclass
class Run:
    """Measurements of one execution of one notebook."""

    startup_s: float
    run_s: float
    peak_mb: float
    widget_ms: dict[str, float] = field(default_factory=dict)
    largest_cell_s: float = 0.0
    largest_cell: int = -1  # index of the slowest cell in the notebook


@dataclass
class Result:
    """Measurements of one notebook, the median over its runs, or its failure."""

    notebook: Path
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    def median(self, attribute: str) -> float:
        """Median of one scalar measurement over the runs."""
        return statistics.median(getattr(run, attribute) for run in self.runs)

    def widget_ms(self) -> dict[str, float]:
        """Median compute time per widget name, in milliseconds, over the runs."""
        names = dict.fromkeys(name for run in self.runs for name in run.widget_ms)
        return {
            name: statistics.median(run.widget_ms[name] for run in self.runs if name in run.widget_ms)
            for name in names
        }

    def over_budget(self) -> list[str]:
        """Human-readable descriptions of every exceeded budget (empty if none)."""
        problems = []
        if (run_s := self.median("run_s")) > BUDGET_RUN_S:
            problems.append(f"run time {run_s:.1f} s > {BUDGET_RUN_S:.0f} s")
        if (cell_s := self.median("largest_cell_s")) > BUDGET_CELL_S:
            problems.append(f"a cell {cell_s:.1f} s > {BUDGET_CELL_S:.0f} s")
        if (peak := self.median("peak_mb")) > BUDGET_MEMORY_MB:
            problems.append(f"memory {peak:.0f} MB > {BUDGET_MEMORY_MB:.0f} MB")
        for name, ms in self.widget_ms().items():
            if ms > BUDGET_WIDGET_MS:
                problems.append(f"widget {name} {ms:.1f} ms > {BUDGET_WIDGET_MS:.0f} ms")
        return problems


def unique_name(name: str, taken: dict[str, float]) -> str:
    """Return ``name``, or ``name#2``, ``name#3``… if explorers share a name."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}#{n}"
    return candidate


def parse_measurement(cell: nbformat.NotebookNode) -> dict[str, Any]:
    """Extract the JSON printed by ``MEASURE_CODE`` from the executed cell's outputs."""
    text = "".join(out.get("text", "") for out in cell.outputs if out.get("output_type") == "stream")
    for line in text.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise RuntimeError(f"measurement cell printed no result; outputs: {cell.outputs!r}")


def notebook_client(nb: nbformat.NotebookNode, path: Path, **options: Any) -> NotebookClient:
    """An nbclient client for ``nb`` (read from ``path``): a ``python3`` kernel of this interpreter, started in the
    notebook's directory, with sliced waits (:class:`CurrentEnvKernelManager`) and the per-cell time limit."""
    return NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        kernel_manager_class=CurrentEnvKernelManager,
        resources={"metadata": {"path": str(path.parent)}},
        **options,
    )


def run_once(path: Path) -> Run:
    """Execute ``path`` once in a fresh kernel and return its measurements."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(MEASURE_CODE))
    client = notebook_client(nb, path)
    client.reset_execution_trackers()
    start = time.perf_counter()
    with client.setup_kernel():
        ready = time.perf_counter()
        largest = (0.0, -1)
        for index, cell in enumerate(nb.cells[:-1]):
            cell_start = time.perf_counter()
            client.execute_cell(cell, index)
            largest = max(largest, (time.perf_counter() - cell_start, index))
        finished = time.perf_counter()
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
    measured = parse_measurement(nb.cells[-1])
    if Path(measured["executable"]).resolve() != Path(sys.executable).resolve():
        raise RuntimeError(f"kernel ran {measured['executable']}, expected {sys.executable}")
    widget_ms: dict[str, float] = {}
    for name, seconds in measured["widgets"]:
        widget_ms[unique_name(name, widget_ms)] = 1000.0 * seconds
    return Run(
        startup_s=ready - start,
        run_s=finished - ready,
        peak_mb=measured["peak_kib"] / 1024.0,
        widget_ms=widget_ms,
        largest_cell_s=largest[0],
        largest_cell=largest[1],
    )


def benchmark(path: Path, repeats: int) -> Result:
    """Run ``path`` ``repeats`` times; stop at the first failure and record it."""
    result = Result(path)
    for i in range(repeats):
        print(f"running {path.name} ({i + 1}/{repeats})…", file=sys.stderr, flush=True)
        try:
            result.runs.append(run_once(path))
        except Exception as error:  # noqa: BLE001 - any failure is reported, not raised
            message = ANSI_ESCAPE.sub("", str(error)).strip().splitlines()
            result.error = f"{type(error).__name__}: {message[-1] if message else ''}"
            print(f"{path.name} failed:\n{error}", file=sys.stderr)
            break
    return result


def table(results: list[Result]) -> str:
    """Render the results as a Markdown table."""
    rows = [
        "| notebook | run time (s) | largest cell (s) | kernel start-up (s) | peak memory (MB) "
        "| widget compute (ms) | within budget |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for result in results:
        if result.error is not None:
            cells = ["—", "—", "—", "—", "—", f"FAILED: {result.error.replace('|', '/')}"]
        else:
            widgets = "; ".join(f"{name}: {ms:.2f}" for name, ms in result.widget_ms().items())
            problems = result.over_budget()
            slowest = statistics.mode(run.largest_cell for run in result.runs)
            cells = [
                f"{result.median('run_s'):.1f}",
                f"{result.median('largest_cell_s'):.1f} (cell {slowest})",
                f"{result.median('startup_s'):.1f}",
                f"{result.median('peak_mb'):.0f}",
                widgets or "—",
                "yes" if not problems else "NO: " + "; ".join(problems),
            ]
        rows.append("| " + " | ".join([result.notebook.name, *cells]) + " |")
    return "\n".join(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--repeats", type=int, default=1, help="runs per notebook; the median is reported")
    parser.add_argument("--strict", action="store_true", help="also exit 1 when a budget is exceeded")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if not args.notebooks:
        args.notebooks = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if re.fullmatch(r"\d\d_\w+\.ipynb", p.name))
        if not args.notebooks:
            parser.error(f"no notebooks found in {NOTEBOOKS}")
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"no such notebook: {path}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Benchmark the notebooks, print the table and return the exit status."""
    args = parse_args(argv)
    results = [benchmark(path.resolve(), args.repeats) for path in args.notebooks]
    print(
        f"Python {sys.version.split()[0]}, {args.repeats} run(s) per notebook (median shown); budgets: "
        f"≤ {BUDGET_RUN_S:.0f} s, ≤ {BUDGET_CELL_S:.0f} s per cell, ≤ {BUDGET_MEMORY_MB:.0f} MB, "
        f"≤ {BUDGET_WIDGET_MS:.0f} ms per widget.\n"
    )
    print(table(results))
    if any(result.error is not None for result in results):
        return 1
    if args.strict and any(result.over_budget() for result in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
