"""Fixtures shared by several test modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run a module's torch code on one thread: the models are tiny, and on shared cores a second
    thread only adds contention. Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def executed_notebooks() -> dict[str, Any]:
    """Every course notebook executed once per test session (see ``notebook_runs.execute_all``)."""
    import notebook_runs

    return notebook_runs.execute_all()
