"""Collection rule for nbval on notebooks/ (the Binder check runs one notebook that way; so can a user).

A notebook in notebooks/ is collected when its name is ``NN_slug.ipynb`` (two digits, an
underscore, letters, digits and underscores), the pattern the test session's executor
(``tests/notebook_runs.py``), the structure, browser and book tests and ``benchmarks/robustness.py`` use. A learner's ``Untitled.ipynb`` or JupyterLab's
``04_deep_vs_shallow-Copy1.ipynb`` is skipped: it can neither break nor widen the run.
"""

from __future__ import annotations

import re
from pathlib import Path

COURSE_NOTEBOOK = re.compile(r"\d\d_\w+\.ipynb")
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """Skip stray notebooks in notebooks/ (return True); leave everything else to pytest (None)."""
    if collection_path.suffix == ".ipynb" and collection_path.parent == NOTEBOOKS:
        return None if COURSE_NOTEBOOK.fullmatch(collection_path.name) else True
    return None
