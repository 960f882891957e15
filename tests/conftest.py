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


# The Binder check installs a fresh environment (tests/binder_build.py): it starts in the background as soon as the
# session has collected it, and the test itself runs last, so that the install overlaps the rest of the session.
BINDER_BUILD_TEST = "test_binder_recipe_builds_an_environment_that_runs_a_notebook"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    last = [item for item in items if item.name == BINDER_BUILD_TEST]
    for item in last:
        items.remove(item)
    items.extend(last)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    if any(item.name == BINDER_BUILD_TEST for item in session.items):  # after -k and other deselection
        import binder_build

        binder_build.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import binder_build

    build = binder_build.current()
    if build is not None:
        build.stop()

