"""Builds that read the notebooks' runs, started in the background as soon as the runs are done.

The book (``tests/test_book.py``) and the slides (``tests/test_slides.py``) are each built by one single-threaded
process from the executed copies. Built when their first test asks, one after the other and after the hub's load
test, they left a core idle for about a minute of the session. Here each test module registers its build
(:func:`register`); when the session has collected a test that uses the build's fixture, :func:`start` runs it in a
thread that waits for the notebooks' runs and then starts the process, all the builds side by side, while the session
goes on with its other tests; the fixture then only waits for the result (:func:`result`).

A build is a function that starts its process through :func:`run` (so that the end of the session can stop it) and
returns what its fixture returns; an exception it raises, an assertion included, is raised again by :func:`result`
in the test that asks, so a failed build fails its tests as before.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from typing import Any

_BUILDS: dict[str, Callable[[], Any]] = {}
_STARTED: dict[str, _Build] = {}
_PROCESSES: list[subprocess.Popen] = []
_LOCK = threading.Lock()
_STOPPING = threading.Event()


class _Build:
    def __init__(self, name: str, build: Callable[[], Any]) -> None:
        self.name, self.build = name, build
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"after-runs-{name}", daemon=True)

    def _run(self) -> None:
        import notebook_runs

        try:
            notebook_runs.results()  # the executed copies the build reads (raises if the runs failed)
            if _STOPPING.is_set():
                raise RuntimeError("the session ended before the build started")
            self.value = self.build()
        except BaseException as exc:  # raised again in the test that asks, by result()
            self.error = exc
        finally:
            self.done.set()


def register(name: str, build: Callable[[], Any]) -> None:
    """Make ``build`` the build behind the fixture called ``name`` (at the import of its test module)."""
    _BUILDS[name] = build


def registered() -> list[str]:
    """The fixture names with a registered build."""
    return list(_BUILDS)


def start(name: str) -> None:
    """Start the build behind fixture ``name`` in the background (once per session)."""
    with _LOCK:
        if name not in _STARTED:
            _STARTED[name] = _Build(name, _BUILDS[name])
            _STARTED[name].thread.start()


def result(name: str) -> Any:
    """Wait for the build behind fixture ``name`` (starting it if nobody has) and return its value."""
    start(name)
    build = _STARTED[name]
    build.done.wait()
    if build.error is not None:
        raise build.error
    return build.value


def run(command: list[str], timeout: float, **options: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(command, capture_output=True, text=True)``, with the process stopped at the end of the session."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)
    with _LOCK:
        _PROCESSES.append(process)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def stop() -> None:
    """At the end of the session: stop builds still going (after ``-x`` or an interrupt)."""
    _STOPPING.set()
    with _LOCK:
        processes = list(_PROCESSES)
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
