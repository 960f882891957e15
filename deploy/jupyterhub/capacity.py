"""Memory limits and capacity of a JupyterHub for the course, from what was measured on this course.

``measured.json`` (beside this file) records two measurements:

* ``notebook_kernel_peak_mb``: each notebook's kernel at its peak (maximum resident set), from
  ``benchmarks/notebooks.py``;
* ``load_test``: the load test (``deploy/jupyterhub/loadtest.py``): per student, the peak memory of the whole server
  (the single-user Jupyter server and its kernel) while a notebook ran, for the light notebook 01 and for a training
  notebook, and the number of students and cores it ran with.

:func:`check_memory_limit` refuses a per-student limit below what the heaviest notebook needs (its kernel's peak plus
the measured server overhead); :func:`capacity_rows` turns the guarantee into students per node.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEASURED = HERE / "measured.json"
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
# Kubernetes nodes keep memory for the system and its daemons (kubelet, container runtime, the chart's pods): about
# 1 GiB on the small nodes of the capacity table and 6% of the rest, in the way the main clouds reserve it.
SYSTEM_RESERVE_GB = 1.0
SYSTEM_RESERVE_FRACTION = 0.06


def parse_bytes(value: str | int) -> int:
    """A memory size as JupyterHub writes it (``"1.5G"``, ``"512M"``, or a number of bytes) in bytes."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"a memory size must be a str like '1.5G' or an int of bytes, got {type(value).__name__}")
    if isinstance(value, int):
        size = value
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", value)
        if not match:
            raise ValueError(f"a memory size must look like '1.5G', '512M' or a number of bytes, got {value!r}")
        size = int(float(match.group(1)) * UNITS[match.group(2)])
    if size <= 0:
        raise ValueError(f"a memory size must be positive, got {value!r}")
    return size


def measured(path: Path = MEASURED) -> dict:
    """The measurements this module sizes from (see the module's docstring)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def required_mb(data: dict | None = None) -> tuple[float, str]:
    """The memory (MB) the heaviest notebook needs per student, and why: its kernel's peak plus the server's overhead.

    The overhead is what the load test measured beyond the kernel: the largest per-student peak of the light notebook
    (whose kernel is small) minus that kernel's own peak; at least 0.
    """
    data = measured() if data is None else data
    peaks = data["notebook_kernel_peak_mb"]
    heaviest = max(peaks, key=peaks.get)
    light = data["load_test"]["light_notebook"]
    overhead = max(0.0, data["load_test"]["per_student_peak_mb"][light] - peaks[light])
    return peaks[
        heaviest
    ] + overhead, f"notebook {heaviest}'s kernel peak {peaks[heaviest]:.0f} MB + {overhead:.0f} MB server"


def check_memory_limit(limit: str | int, data: dict | None = None) -> int:
    """``limit`` in bytes, if a student can run every notebook under it; otherwise a ValueError that says why."""
    size = parse_bytes(limit)
    need, why = required_mb(data)
    if size < need * 2**20:
        raise ValueError(
            f"memory limit {limit!r} ({size / 2**20:.0f} MB) is below what the heaviest notebook needs: {why} = "
            f"{need:.0f} MB; its kernel would be killed mid-run. Set it to at least {math.ceil(need / 100) / 10:.1f}G"
        )
    return size


def students_per_node(node_gb: float, guarantee: str | int) -> int:
    """How many students' guaranteed memory fits on a node with ``node_gb`` GB, after the system's reserve."""
    if not isinstance(node_gb, (int, float)) or isinstance(node_gb, bool) or not node_gb > 0:
        raise ValueError(f"node_gb must be a positive number of GB, got {node_gb!r}")
    usable = node_gb * (1 - SYSTEM_RESERVE_FRACTION) - SYSTEM_RESERVE_GB
    return max(0, math.floor(usable * 2**30 / parse_bytes(guarantee)))


NODES = (("4 vCPU, 16 GB", 4, 16), ("8 vCPU, 32 GB", 8, 32), ("16 vCPU, 64 GB", 16, 64))


def capacity_rows(guarantee: str | int, limit: str | int, data: dict | None = None) -> list[tuple[str, int, int, int]]:
    """Per node size: students by guaranteed memory, students whose limits all fit at once, and students by CPU.

    Students by CPU: the load test ran ``students`` at once on ``cores`` cores with every run finishing; the same
    students per core is assumed for a node (the kernels use one thread each).
    """
    data = measured() if data is None else data
    test = data["load_test"]
    per_core = test["students"] / test["cores"]
    rows = []
    for name, cores, gb in NODES:
        rows.append(
            (name, students_per_node(gb, guarantee), students_per_node(gb, limit), math.floor(cores * per_core))
        )
    return rows
