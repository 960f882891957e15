"""Every course notebook runs from top to bottom in a fresh kernel, and every check it makes holds.

The notebooks are executed once per test session (two at a time, at the environment's ``COSP_SEED``, on this
machine's kernels or the generic kernel path, alternating along the course) by the ``executed_notebooks`` fixture
(``tests/notebook_runs.py``); the book renders the executed copies. A notebook's checks are its tests: each ``cosp.check`` compares a
measurement with the theory's prediction, and ``cosp.sanity`` an identity. A notebook passes when it ran to
the end, logged at least one check, and none of them failed.
"""

from __future__ import annotations

import pytest

import json

from notebook_runs import EXECUTED, course_notebooks, kernel_path


@pytest.mark.parametrize("notebook", [p.name for p in course_notebooks()], ids=lambda name: name[:-6])
def test_notebook_runs_and_its_checks_hold(executed_notebooks, notebook: str) -> None:
    run = executed_notebooks[notebook]
    failed = [
        f"{c['claim']}: measured {c['measured']}, margin {c['margin']} (basis: {c['basis']})"
        for c in run.checks
        if not c["passed"]
    ]
    assert run.error is None, f"{notebook} stopped ({run.path} path): {run.error}" + (
        f"; failed checks: {failed}" if failed else ""
    )
    assert run.checks, f"{notebook} made no check"
    assert not failed, f"{notebook} ({run.path} path): {len(failed)} failed check(s):\n" + "\n".join(failed)


@pytest.mark.parametrize("notebook", [p.name for p in course_notebooks()], ids=lambda name: name[:-6])
def test_every_figure_of_the_run_has_alt_text(executed_notebooks, notebook: str) -> None:
    # what the book and the slides write into each image's alt attribute: one line per figure, from cosp.show
    assert executed_notebooks[notebook].error is None, f"{notebook} did not run to the end"
    cells = json.loads((EXECUTED / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
    figures = [(i, output) for i, cell in enumerate(cells) for output in cell.get("outputs", [])
               if "image/png" in output.get("data", {})]  # fmt: skip
    assert figures, f"{notebook} showed no figure"
    for i, output in figures:
        alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
        assert 10 <= len(alt) <= 300 and "\n" not in alt, f"{notebook}, cell {i}: a figure without alt text ({alt!r})"


def test_the_runs_alternate_between_two_kernel_paths() -> None:
    count = len(course_notebooks())
    for seed in (0, 1, 7):
        paths = [kernel_path(i, seed) for i in range(count)]
        assert set(paths) == {"current", "generic"}
        assert all(a != b for a, b in zip(paths, paths[1:])), paths
        assert [kernel_path(i, seed + 1) for i in range(count)] != paths  # the next seed swaps them
