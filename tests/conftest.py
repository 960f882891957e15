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
    """Every course notebook executed once per test session (see ``notebook_runs``), waited for here."""
    import notebook_runs

    return notebook_runs.results()


# The Binder check installs a fresh environment (tests/binder_build.py): it starts in the background as soon as the
# session has collected it, and the test itself runs last, so that the install overlaps the rest of the session.
BINDER_BUILD_TEST = "test_binder_recipe_builds_an_environment_that_runs_a_notebook"


# Likewise the notebooks' runs (tests/notebook_runs.py): they start when collection ends, and the tests that read them
# run after the others, so that the two kernels share the machine with the unit tests instead of making them wait.
def _reads_the_runs(item: pytest.Item) -> bool:
    return "executed_notebooks" in getattr(item, "fixturenames", ())


# Tests marked ``heavy`` (the hub's load test: several kernels at once) wait for the notebooks' runs too, so that they
# do not compete with the two kernels of the runs for the cores.
def _after_the_runs(item: pytest.Item) -> bool:
    return _reads_the_runs(item) or item.get_closest_marker("heavy") is not None


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    binder = [item for item in items if item.name == BINDER_BUILD_TEST]
    runs = [item for item in items if _after_the_runs(item) and item not in binder]
    for item in binder + runs:
        items.remove(item)
    items.extend(runs + binder)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    if any(item.name == BINDER_BUILD_TEST for item in session.items):  # after -k and other deselection
        import binder_build

        binder_build.start()
    if any(_reads_the_runs(item) for item in session.items):
        import notebook_runs

        notebook_runs.start()
        # the builds that read the runs (the book, the slides) start as soon as the runs are done, beside the other tests
        import after_runs

        for name in after_runs.registered():
            if any(name in getattr(item, "fixturenames", ()) for item in session.items):
                after_runs.start(name)
        # the two kernels take one core's worth of threads each: the session's own torch code takes one thread
        # too, rather than a second pool of spinning threads on cores that are already busy
        torch.set_num_threads(1)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import after_runs
    import binder_build
    import notebook_runs

    notebook_runs.stop()
    after_runs.stop()

    build = binder_build.current()
    if build is not None:
        build.stop()

