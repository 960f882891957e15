"""benchmarks/robustness.py on two tiny notebooks: it runs each seed and path, counts passes, finds the smallest margin,
reports a failed check without stopping the run, and exits 1 when anything failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "benchmarks" / "robustness.py"

SETUP = "import cosp_helpers as cosp\nSEED = cosp.base_seed()\nrng = cosp.seed_everything(SEED)\n"
# passes for every seed, with a margin that depends on the seed: 1 - (SEED % 3) / 10
PASSING = "cosp.check('margin follows the seed', 1 + (SEED % 3) / 10, at_least=0.0, basis='test')\n"
# fails at COSP_SEED = 1 only; the next check must still be logged (keep-going), and the run counts as failed
FAILING = ("cosp.check('fails at seed 1', float(SEED), at_most=0.5, basis='test')\n"
           "cosp.sanity('reached after a failure', True)\n")


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def test_runner_counts_passes_margins_and_failures(tmp_path):
    threads = os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // 2)))
    workers = os.environ.get("COSP_WORKERS", str(max(1, (os.cpu_count() or 1) // 2)))
    # one notebook, 2 seeds x 2 paths: four kernels, the least that shows every column of the report
    notebook = _notebook(tmp_path / "90_tiny.ipynb", SETUP, PASSING, FAILING,
                         "import os\ncosp.sanity('generic path sets ATEN_CPU_CAPABILITY', "
                         "os.environ.get('OPENBLAS_CORETYPE') != 'Sandybridge' or os.environ['ATEN_CPU_CAPABILITY'] == 'default')",
                         # two kernels side by side: each gets half the cores as threads (unless the user set them)
                         f"cosp.sanity('two kernels share the cores', os.environ.get('OMP_NUM_THREADS') == {threads!r} "
                         f"and os.environ.get('OPENBLAS_NUM_THREADS') == {threads!r} "
                         f"and os.environ.get('COSP_WORKERS') == {workers!r})")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(RUNNER), str(notebook), "--seeds", "2", "--paths", "native,generic",
                           "--jobs", "2", "--out", str(out)], capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "robustness: 2 passed, 2 failed"
    summary = json.loads((out / "summary.json").read_text())
    (row,) = summary["notebooks"]
    assert row["notebook"] == "90_tiny" and row["runs"] == 4 and row["passed"] == 2
    checks = {c["claim"]: c for c in summary["checks"]}
    assert checks["margin follows the seed"]["passes"] == 4 and checks["margin follows the seed"]["margin"] == 1.0
    assert checks["margin follows the seed"]["where"].startswith("seed 0")
    failing = checks["fails at seed 1"]
    assert failing["runs"] == 4 and failing["passes"] == 2 and failing["margin"] == -0.5
    assert sorted(tuple(r) for r in failing["failed_runs"]) == [(1, "generic"), (1, "native")]
    assert checks["reached after a failure"]["runs"] == 4  # the failed check did not stop the run
    assert checks["generic path sets ATEN_CPU_CAPABILITY"]["passes"] == 4
    assert checks["two kernels share the cores"]["passes"] == 4
    assert "FAILED 90_tiny seed 1" in done.stdout and (out / "report.md").exists()


def test_runner_refuses_an_unknown_notebook_and_path():
    for args in (["99"], ["--paths", "fastest"]):
        done = subprocess.run([sys.executable, str(RUNNER), *args, "--seeds", "1"], capture_output=True, text=True, check=False)
        assert done.returncode != 0 and done.stdout == ""


def test_stopping_the_runner_ends_its_kernels(tmp_path):
    # the workers run in sessions of their own (so that a stalled run can be ended with its kernel); a SIGTERM to the
    # runner must end them too, and start no further run
    import os
    import signal
    import time

    marker = tmp_path / "kernel.pid"
    sleeper = _notebook(tmp_path / "91_sleeper.ipynb", SETUP,
                        f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)")
    runner = subprocess.Popen([sys.executable, str(RUNNER), str(sleeper), "--seeds", "3", "--paths", "native", "--jobs", "1",
                               "--out", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marker.exists(), "the kernel never started"
    kernel = int(marker.read_text())
    runner.send_signal(signal.SIGTERM)
    _, stderr = runner.communicate(timeout=60)
    assert runner.returncode == 128 + signal.SIGTERM
    assert "seed 1" not in stderr, "a run started after the stop"
    # the worker is killed at once; its kernel (in a session of its own, as jupyter_client starts kernels) watches its
    # parent and exits within a second or two of the worker's death
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"kernel {kernel} outlived the runner by 15 s")
