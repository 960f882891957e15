"""Run notebooks under many seeds and CPU kernel paths; report every check's passes and smallest margin.

Usage::

    .venv/bin/python benchmarks/robustness.py [NOTEBOOK ...] [--seeds N] [--seed-start S]
                                              [--paths native,generic] [--jobs J]

Every notebook named (default: all of ``notebooks/[0-9][0-9]_*.ipynb``; ``04`` or a path both work)
is executed once for each ``COSP_SEED`` in ``S, S+1, ..., S+N-1`` and each kernel path:

* ``current`` -- the environment exactly as it is (the test command's run);
* ``native`` -- the machine's own kernels (``ATEN_CPU_CAPABILITY`` unset, OpenBLAS as detected);
* ``generic`` -- PyTorch's baseline kernels (``ATEN_CPU_CAPABILITY=default``) and OpenBLAS's
  Sandy Bridge kernels (``OPENBLAS_CORETYPE=Sandybridge``), which round differently from the
  AVX2/AVX-512 ones: a stand-in for "another CPU".

Each run is a fresh kernel (nbclient), with ``COSP_CHECK_LOG`` pointing at a log of its own and
``COSP_CHECK_KEEP_GOING=1``, so that a failed check is recorded and the run goes on to measure
the others. ``--jobs`` runs execute side by side (default: the number of cores), and each kernel gets
its share of the cores as its thread count (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and
``OPENBLAS_NUM_THREADS`` set to cores // jobs, at least 1, unless the environment already sets
``OMP_NUM_THREADS``), and the same share as ``COSP_WORKERS``: two kernels that each start one thread per
core on a 2-core machine spend much of their time waiting for each other (a numpy-only notebook ran 2.3x
slower so). The numbers a
notebook prints do not depend on its thread count beyond rounding, and its checks hold at either.
The report, on standard output and in ``build/robustness/``:

* per notebook: runs, runs that passed (ran to the end with every check passed), the smallest
  relative margin of any claim, and its run;
* per check: runs, passes, the smallest margin (absolute, and relative to its tolerance or limit),
  and the seed and path where it was smallest.

The exit status is 1 if any run failed (an error, or any check failed), else 0. The last line is
``robustness: P passed, F failed`` (runs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PATTERN = "[0-9][0-9]_*.ipynb"
OUT = ROOT / "build" / "robustness"
KERNEL_START_ATTEMPTS = 3  # a kernel that dies before running any cell is restarted, not counted
RUN_TIMEOUT_S = 900  # a whole run; a stalled kernel is ended and the run counted as failed
PATHS = {
    "current": {},  # the environment as it is: what the test command runs
    "native": {"ATEN_CPU_CAPABILITY": None},
    "generic": {"ATEN_CPU_CAPABILITY": "default", "OPENBLAS_CORETYPE": "Sandybridge"},
}
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def notebook_paths(names: list[str]) -> list[Path]:
    """Resolve notebook arguments: ``04``, ``04_deep_vs_shallow.ipynb`` or a path; default every course notebook."""
    every = sorted(p for p in NOTEBOOKS.glob(PATTERN) if re.fullmatch(r"\d\d_\w+\.ipynb", p.name))
    if not names:
        return every
    found = []
    for name in names:
        path = Path(name)
        if path.is_file():
            found.append(path.resolve())
            continue
        matches = [p for p in every if p.name == name or p.name.startswith(f"{name}_") or p.stem == name]
        if len(matches) != 1:
            raise SystemExit(f"robustness.py: no single notebook matches {name!r} in {NOTEBOOKS}")
        found.append(matches[0])
    return found


# --- one run, in a child process ---------------------------------------------------------------------------------------


def execute(path: Path, save: Path | None = None) -> dict:
    """Execute ``path`` in a fresh kernel with this process's environment; return status and timing.

    With ``save``, the executed notebook (outputs and all, as far as it ran) is written there.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from notebooks import notebook_client  # the benchmark's client: python3 is this interpreter, waits are sliced

    start = time.perf_counter()
    error = None
    for attempt in range(KERNEL_START_ATTEMPTS):
        nb = nbformat.read(path, as_version=4)
        # the run is over at the last cell: no graceful shutdown to wait for on a loaded machine
        client = notebook_client(nb, path, shutdown_kernel="immediate")
        error = None
        try:
            client.execute()
        except CellExecutionError as exc:
            lines = [line for line in ANSI_ESCAPE.sub("", str(exc)).strip().splitlines() if line.strip()]
            error = lines[-1] if lines else "CellExecutionError"
        except Exception as exc:  # noqa: BLE001 - a kernel that dies or hangs is a failed run, reported
            error = f"{type(exc).__name__}: {exc}"
            started = any(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
            if not started and attempt + 1 < KERNEL_START_ATTEMPTS:
                # the kernel failed to start (e.g. "Kernel died before replying to kernel_info" on a loaded
                # machine): no cell ran, so nothing was measured; start a fresh kernel
                print(f"kernel start failed ({error}); retrying", file=sys.stderr)
                if os.environ.get("COSP_CHECK_LOG"):
                    Path(os.environ["COSP_CHECK_LOG"]).write_text("")
                continue
        break
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save)
    return {"seconds": time.perf_counter() - start, "error": error}


@dataclass
class RunResult:
    """One execution of one notebook at one seed on one kernel path."""

    notebook: str
    seed: int
    path: str
    seconds: float
    error: str | None
    checks: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Ran to the end, logged at least one check, and every check passed."""
        return self.error is None and bool(self.checks) and all(c["passed"] for c in self.checks)


RUNNING: set[subprocess.Popen] = set()  # the workers now running; each leads a process group with its kernel
STOPPING = threading.Event()  # set on SIGTERM or SIGINT: no new run starts


def stop_all() -> None:
    """Start no further run, and end every running worker with its kernel (they run in sessions of their own)."""
    STOPPING.set()
    for child in list(RUNNING):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


def _stop_workers(signum: int, frame: object) -> None:
    """On SIGTERM or SIGINT: :func:`stop_all`, then exit."""
    stop_all()
    raise SystemExit(128 + signum)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def thread_env(side_by_side: int) -> dict[str, str]:
    """The thread-count variables for one of ``side_by_side`` kernels sharing this machine's cores, and
    ``COSP_WORKERS``, the processes ``cosp.parallel_map`` may use, set to the same share.

    Empty when one kernel runs alone (it keeps every core, as a learner's kernel does); a variable the
    environment already sets is left to it (``OMP_NUM_THREADS`` for the thread counts: the user's choice wins).
    """
    if side_by_side <= 1:
        return {}
    share = str(max(1, (os.cpu_count() or 1) // side_by_side))
    env = {} if "OMP_NUM_THREADS" in os.environ else dict.fromkeys(THREAD_VARIABLES, share)
    if "COSP_WORKERS" not in os.environ:
        env["COSP_WORKERS"] = share  # the runs are the same wherever they run: only the time changes
    return env


def run_one(
    notebook: Path, seed: int, path: str, workdir: Path, save: Path | None = None, side_by_side: int = 1
) -> RunResult:
    """Run one notebook in a child process with ``COSP_SEED=seed`` and the environment of kernel path ``path``.

    With ``save``, the executed notebook is written to that file. ``side_by_side`` is how many runs share
    the machine: the kernel's thread count is set from it (:func:`thread_env`).
    """
    log = workdir / f"{notebook.stem}.{seed}.{path}.jsonl"
    log.unlink(missing_ok=True)
    if STOPPING.is_set():
        return RunResult(notebook.stem, seed, path, 0.0, "not run: the runner was stopped", [])
    env = dict(os.environ)
    for key, value in PATHS[path].items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env.update(COSP_SEED=str(seed), COSP_CHECK_LOG=str(log), COSP_CHECK_KEEP_GOING="1")
    env.update(thread_env(side_by_side))
    if save is None:
        env["MPLBACKEND"] = "Agg"  # nobody sees this run's figures: draw them, but do not encode them inline
    else:
        env.pop("MPLBACKEND", None)  # the kept copy carries its figures, as in JupyterLab
    started = time.perf_counter()
    # a session of its own, so that a run past its time limit can be killed as a group; its kernel (started by
    # jupyter_client in a session of its own) exits when it sees its parent, the worker, die
    command = [sys.executable, __file__, "--worker", str(notebook)] + (["--save", str(save)] if save else [])
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    RUNNING.add(child)
    try:
        stdout, stderr = child.communicate(timeout=RUN_TIMEOUT_S)
        status = json.loads(stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        status = {"seconds": time.perf_counter() - started, "error": f"timed out after {RUN_TIMEOUT_S} s"}
    except (IndexError, json.JSONDecodeError):
        status = {"seconds": time.perf_counter() - started, "error": f"worker died: {stderr.strip()[-300:]}"}
    finally:
        RUNNING.discard(child)
    checks = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    if status["error"] is None and not checks:
        status["error"] = "no check was logged"
    return RunResult(notebook.stem, seed, path, status["seconds"], status["error"], checks)


# --- the report --------------------------------------------------------------------------------------------------------


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.3g}"
    return f"{x:.2e}"


def summarize(results: list[RunResult]) -> tuple[list[dict], list[dict]]:
    """Per-notebook and per-check rows."""
    notebooks, checks = [], {}
    for name in dict.fromkeys(r.notebook for r in results):
        runs = [r for r in results if r.notebook == name]
        worst = None
        for r in runs:
            for c in r.checks:
                key = (name, c["kind"], c["claim"])
                row = checks.setdefault(key, {"notebook": name, "kind": c["kind"], "claim": c["claim"], "runs": set(),
                                              "failed_runs": set(), "margin": None, "relative": None, "where": None})
                row["runs"].add((r.seed, r.path))
                if not c["passed"]:
                    row["failed_runs"].add((r.seed, r.path))
                if c["margin"] is not None and (row["margin"] is None or c["margin"] < row["margin"]):
                    row["margin"] = c["margin"]
                    row["where"] = f"seed {r.seed}, {r.path}"
                if c["relative_margin"] is not None and (row["relative"] is None or c["relative_margin"] < row["relative"]):
                    row["relative"] = c["relative_margin"]
                if c["kind"] == "claim" and c["relative_margin"] is not None:
                    if worst is None or c["relative_margin"] < worst[0]:
                        worst = (c["relative_margin"], c["claim"], r.seed, r.path)
        errors = sorted({r.error for r in runs if r.error})
        notebooks.append({
            "notebook": name, "runs": len(runs), "passed": sum(r.passed for r in runs),
            "median_s": sorted(r.seconds for r in runs)[len(runs) // 2],
            "worst": worst, "errors": errors,
        })
    rows = []
    for row in checks.values():
        row["passes"] = len(row["runs"] - row["failed_runs"])
        row["runs"] = len(row["runs"])
        row["failed_runs"] = sorted(row["failed_runs"])
        rows.append(row)
    return notebooks, rows


def report(notebooks: list[dict], checks: list[dict]) -> str:
    """Markdown tables: notebooks, then checks."""
    lines = ["| notebook | runs | passed | median run (s) | smallest relative margin of a claim | errors |",
             "| --- | ---: | ---: | ---: | --- | --- |"]
    for n in notebooks:
        worst = "—" if n["worst"] is None else f"{n['worst'][0]:.2f}: {n['worst'][1]} (seed {n['worst'][2]}, {n['worst'][3]})"
        errors = "; ".join(e[:120].replace("|", "/") for e in n["errors"][:3]) or "—"
        lines.append(f"| {n['notebook']} | {n['runs']} | {n['passed']} | {n['median_s']:.1f} | {worst.replace('|', '/')} | {errors} |")
    lines += ["", "| notebook | kind | check | runs | passes | smallest margin | smallest relative | where smallest |",
              "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for c in checks:
        rel = "—" if c["relative"] is None else f"{c['relative']:.2f}"
        lines.append(f"| {c['notebook'][:2]} | {c['kind']} | {c['claim'].replace('|', '/')} | {c['runs']} | {c['passes']} "
                     f"| {_fmt(c['margin'])} | {rel} | {c['where'] or '—'} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="numbers (04), file names or paths; default: every notebook")
    parser.add_argument("--seeds", type=int, default=20, help="how many values of COSP_SEED (default 20)")
    parser.add_argument("--seed-start", type=int, default=0, help="the first COSP_SEED (default 0)")
    parser.add_argument("--paths", default="native,generic", help=f"comma-separated kernel paths from {sorted(PATHS)}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs side by side (default: cores)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the report and logs go (default {OUT})")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is None:
        if args.seeds < 1 or args.seed_start < 0 or args.jobs < 1:
            parser.error("--seeds and --jobs must be >= 1, --seed-start >= 0")
        args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
        unknown = [p for p in args.paths if p not in PATHS]
        if unknown or not args.paths:
            parser.error(f"--paths must name some of {sorted(PATHS)}, got {unknown or 'nothing'}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the matrix, print the report and return the exit status."""
    args = parse_args(argv)
    if args.worker is not None:
        print(json.dumps(execute(args.worker, args.save)))
        return 0
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop_workers)
    paths = notebook_paths(args.notebooks)
    seeds = list(range(args.seed_start, args.seed_start + args.seeds))
    jobs = [(nb, seed, path) for nb in paths for seed in seeds for path in args.paths]
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="logs-", dir=args.out))
    threads = thread_env(min(args.jobs, len(jobs))).get("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "default"))
    print(f"robustness: {len(paths)} notebook(s) x {len(seeds)} seed(s) x {len(args.paths)} path(s) = {len(jobs)} runs, "
          f"{args.jobs} at a time, threads per kernel: {threads}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    results: list[RunResult] = []

    def one(job):
        result = run_one(*job, workdir, side_by_side=min(args.jobs, len(jobs)))
        state = "ok" if result.passed else f"FAILED ({result.error or 'a check failed'})"
        print(f"  {result.notebook} seed {result.seed} {result.path}: {result.seconds:.1f} s {state}", file=sys.stderr, flush=True)
        return result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, jobs))
    notebooks, checks = summarize(results)
    text = report(notebooks, checks)
    (args.out / "report.md").write_text(text + "\n")
    (args.out / "summary.json").write_text(json.dumps({"notebooks": notebooks, "checks": checks,
                                                       "seeds": seeds, "paths": args.paths}, indent=1, default=str))
    print(text)
    for r in results:
        for c in r.checks:
            if not c["passed"]:
                print(f"FAILED {r.notebook} seed {r.seed} {r.path}: {c['claim']} (margin {_fmt(c['margin'])})")
        if r.error:
            print(f"ERROR {r.notebook} seed {r.seed} {r.path}: {r.error}")
    passed = sum(r.passed for r in results)
    print(f"\n{len(results)} runs in {time.perf_counter() - start:.0f} s; logs in {workdir}")
    print(f"robustness: {passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
