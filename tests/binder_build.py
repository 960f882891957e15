"""The Binder environment built for real, in the background of the test session.

Installing ``binder/requirements.txt`` into a fresh virtual environment takes a minute or two, most of it
unpacking wheels and writing files while a core is idle. ``tests/conftest.py`` starts :func:`start` as soon as
the session has collected the Binder test, and moves that test to the end of the session; the install, an import
check and a run of one notebook in the new environment then happen while the other tests run, and the test
(``test_binder.py``) waits for them and checks every step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
BINDER_NOTEBOOK = "06_depth_separation_and_takagi.ipynb"  # executed in the new environment, as a Binder user runs it
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "build", "_build", "__pycache__", "*.egg-info", ".ipynb_checkpoints"
)


@dataclass
class Step:
    """One command of the build, and what it printed."""

    command: list[str]
    returncode: int | None = None
    output: str = ""


@dataclass
class BinderBuild:
    """A copy of the repository as Binder sees it (sources only), and a fresh virtual environment built from
    ``binder/``: ``pip install -r binder/requirements.txt`` (without the CPU index line, which not every test
    machine can reach: pip then takes ``torch==...+cpu`` from the local wheel cache or an index that has it, as
    on Binder), then ``binder/postBuild``."""

    workdir: Path
    steps: list[Step] = field(default_factory=list)
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen | None = None

    @property
    def repo(self) -> Path:
        return self.workdir / "repo"

    @property
    def python(self) -> Path:
        return self.workdir / "venv" / "bin" / "python"

    def env(self) -> dict[str, str]:
        """The environment of a command run in the new virtual environment (postBuild's ``python`` is its own)."""
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        env["PATH"] = f"{self.python.parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, command: list[str], timeout: float) -> Step:
        """Run ``command`` in the copy of the repository, in the new environment; record it as a step."""
        step = Step(command)
        self.steps.append(step)
        if self.stopping.is_set():
            step.returncode, step.output = -1, "not run: the session ended"
            return step
        self.process = subprocess.Popen(command, cwd=self.repo, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            output, _ = self.process.communicate(timeout=timeout)
            step.returncode, step.output = self.process.returncode, output[-4000:]
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            step.returncode, step.output = -1, f"timed out after {timeout:.0f} s"
        return step

    def import_check(self) -> str:
        """A script that fails unless ``cosp_helpers`` is the repository's copy (installed by postBuild) and torch imports."""
        return f"import cosp_helpers, torch; assert cosp_helpers.__file__.startswith({str(self.repo)!r}); print(torch.__version__)"

    def stop(self) -> None:
        """At the end of the session: stop a command still running (e.g. after ``pytest -x``) and remove the files."""
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        self.done.wait(timeout=30)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def build(self) -> None:
        try:
            shutil.copytree(ROOT, self.repo, ignore=IGNORE)
            requirements = self.workdir / "binder-requirements.txt"
            lines = (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
            requirements.write_text("\n".join(ln for ln in lines if ln.strip() != CPU_INDEX) + "\n", encoding="utf-8")
            for command, timeout in (
                ([sys.executable, "-m", "venv", str(self.workdir / "venv")], 300),
                ([str(self.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(requirements)], 1200),
                (["bash", "binder/postBuild"], 300),
                # then what a Binder user does: the package imports from the repository, and a notebook runs
                ([str(self.python), "-c", self.import_check()], 120),
                ([str(self.python), "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval-lax", "--nbval-current-env",
                  "--nbval-cell-timeout=300", "-q", f"notebooks/{BINDER_NOTEBOOK}"], 900),
            ):  # fmt: skip
                if self.run(command, timeout).returncode != 0:
                    return
        except Exception as exc:  # reported by the test, not lost in a thread
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.set()


_BUILD: BinderBuild | None = None


def start() -> BinderBuild:
    """Start the build in a background thread (once per session); return it."""
    global _BUILD
    if _BUILD is None:
        _BUILD = BinderBuild(Path(tempfile.mkdtemp(prefix="cosp-binder-")))
        threading.Thread(target=_BUILD.build, name="binder-build", daemon=True).start()
    return _BUILD


def current() -> BinderBuild | None:
    return _BUILD
