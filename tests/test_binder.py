"""Checks that the Binder environment (binder/) matches the pinned project environment.

The top-level requirements.txt is the source of truth. binder/requirements.txt must
pin the same packages at the same versions, with three deliberate differences:
torch is the CPU-only wheel (``+cpu`` from the PyTorch CPU index), the package
itself is installed by binder/postBuild rather than by an ``-e .`` line, and the
tools that only the tests, the book build, the course kit's grader and the course's own hub need (``NOT_ON_BINDER``) are left out.

The last test builds the Binder environment for real, in a fresh virtual environment:
it installs binder/requirements.txt, runs binder/postBuild, and executes a notebook there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import binder_build
import escapism
import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
TOP_REQUIREMENTS = ROOT / "requirements.txt"
BINDER_REQUIREMENTS = BINDER / "requirements.txt"
CPU_INDEX = binder_build.CPU_INDEX  # the line binder/requirements.txt must have, and the build leaves out
# Tools that only the test suite and the book build need; a Binder session has no browser to drive
# and no book to build, so its image leaves them out.
# the book build and the browser test; and the course kit's grader (nbgrader and what it adds), which the lecturer runs,
# not the students on Binder
NOT_ON_BINDER = (
    ("jupyter-book", "playwright", "nbgrader", "alembic", "mako", "rapidfuzz", "notebook")
    # the course's own hub: on Binder (or Zero to JupyterHub) the hub is the service's, and repo2docker's image brings
    # the jupyterhub-singleuser that it starts
    + ("jupyterhub", "jupyterhub-idle-culler", "jupyterhub-nativeauthenticator", "certipy", "oauthlib", "pamela",
       "pydantic", "pydantic-core", "bcrypt", "onetimepass", "annotated-types", "typing-inspection", "cryptography")
)
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)$")


def normalise(name: str) -> str:
    """Return the PEP 503 normalised form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def content_lines(path: Path) -> list[str]:
    """Return the lines of a requirements file without comments and blank lines."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def pins(path: Path) -> dict[str, str]:
    """Map normalised name -> full version (local label kept) for every ``==`` pin."""
    result: dict[str, str] = {}
    for line in content_lines(path):
        if line.startswith("-"):
            continue
        match = PIN.match(line)
        assert match, f"{path.relative_to(ROOT)}: not an exact pin: {line!r}"
        name = normalise(match["name"])
        assert name not in result, f"{path.relative_to(ROOT)}: {name} pinned twice"
        result[name] = match["version"]
    return result


def public(version: str) -> str:
    """Strip a local version label such as ``+cpu``."""
    return version.split("+", 1)[0]


def runtime_version() -> str:
    """Return the ``X.Y`` Python version named by binder/runtime.txt."""
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-\d+\.\d+", text), f"unexpected runtime.txt: {text!r}"
    return text.removeprefix("python-")


def test_top_level_requirements_are_exact_pins_then_editable_install() -> None:
    lines = content_lines(TOP_REQUIREMENTS)
    assert lines, "requirements.txt is empty"
    for line in lines:
        assert PIN.match(line) or line == "-e .", f"requirements.txt: unexpected line {line!r}"
        assert "index-url" not in line, "requirements.txt must use the default index only"
    assert lines[-1] == "-e .", "requirements.txt must end with '-e .'"
    assert lines.count("-e .") == 1
    assert "torch" in pins(TOP_REQUIREMENTS)


def test_binder_pins_match_top_level_pins() -> None:
    top = {name: v for name, v in pins(TOP_REQUIREMENTS).items() if name not in NOT_ON_BINDER}
    binder = pins(BINDER_REQUIREMENTS)
    assert {name: public(v) for name, v in binder.items()} == {
        name: public(v) for name, v in top.items()
    }
    assert set(NOT_ON_BINDER) <= set(pins(TOP_REQUIREMENTS)), "NOT_ON_BINDER names a package that is not pinned"


def test_binder_uses_cpu_only_torch() -> None:
    lines = content_lines(BINDER_REQUIREMENTS)
    assert CPU_INDEX in lines
    assert "-e ." not in lines, "binder/postBuild installs the package, not requirements.txt"
    torch = pins(BINDER_REQUIREMENTS)["torch"]
    assert torch.endswith("+cpu"), f"binder torch must be the CPU wheel, got {torch}"
    assert public(torch) == public(pins(TOP_REQUIREMENTS)["torch"])


def test_runtime_matches_tested_and_declared_python() -> None:
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    version = runtime_version()
    assert version == f"{sys.version_info.major}.{sys.version_info.minor}"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "requires-python"
    ]
    assert Version(version) in SpecifierSet(requires), f"{version} not in {requires!r}"


def test_post_build_is_executable_and_installs_package() -> None:
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    text = post_build.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash")
    assert "set -euo pipefail" in text
    commands = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    install = [c for c in commands if "pip install" in c]
    assert len(install) == 1, commands
    assert install[0].startswith("python -m pip install")
    assert "--no-deps" in install[0].split() and install[0].endswith("-e .")


@pytest.fixture(scope="module")
def repo2docker_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Render the Binder Dockerfile with repo2docker's dry run (no Docker engine needed).

    ``--no-build`` makes repo2docker detect the buildpack and print the Dockerfile it
    would build; no image is built and nothing is fetched. The user id and name are
    those mybinder.org uses.
    """
    exe = Path(sys.executable).parent / "jupyter-repo2docker"
    assert exe.exists(), f"{exe} not found: is jupyter-repo2docker installed?"
    result = subprocess.run(
        [str(exe), "--no-build", "--no-run", "--user-id", "1000", "--user-name", "jovyan", ROOT],
        cwd=tmp_path_factory.mktemp("r2d"),  # keep repo2docker from reading stray config
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def test_repo2docker_recipe_uses_binder_files(repo2docker_output: tuple[str, str]) -> None:
    dockerfile, _ = repo2docker_output
    assert dockerfile.lstrip().startswith("FROM "), dockerfile[:200]
    copy = "COPY --chown=1000:1000 src/binder/requirements.txt ${REPO_DIR}/binder/requirements.txt"
    assert copy in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    # The top-level requirements.txt and pyproject.toml are ignored when binder/ exists.
    assert '-r "requirements.txt"' not in dockerfile
    assert "pip install --no-cache-dir ." not in dockerfile


def test_repo2docker_recipe_uses_runtime_python(repo2docker_output: tuple[str, str]) -> None:
    dockerfile, log = repo2docker_output
    version = runtime_version()
    assert f"Building conda environment for python={version}" in log
    # The conda lock file copied into the image is named after the Python version.
    # Build-context names are "build_script_files/<escaped source path>-<hash>", escaped
    # with escapism ("." -> "-2e", "-" -> "-2d"); drop the hash before unescaping.
    copied = [
        escapism.unescape(word.rsplit("-", 1)[0], escape_char="-")
        for word in dockerfile.split()
        if word.startswith("build_script_files/")
    ]
    assert any(f"environment.py-{version}-linux-64.lock" in name for name in copied), copied


# The notebook the Binder check executes (binder_build.BINDER_NOTEBOOK, 06): it trains torch models, draws figures and
# builds a widget, so it needs every part of the environment.
BINDER_NOTEBOOK = binder_build.BINDER_NOTEBOOK


def test_binder_recipe_builds_an_environment_that_runs_a_notebook() -> None:
    """Install binder/requirements.txt into a fresh venv, run binder/postBuild, execute a notebook there.

    The install, the import check and the notebook's run happen in the background from the start of the session
    (``tests/binder_build.py``; this test is moved to the end of the session by ``tests/conftest.py``); the test
    waits for them and checks each step. The CPU index line is left out (that index is not reachable from every test
    machine); pip then takes ``torch==...+cpu`` from the local wheel cache or an index that has it, as on Binder.
    """
    build = binder_build.start()  # already running when the session collected this test
    assert build.done.wait(timeout=2700), "the Binder environment was not built and tried within 45 minutes"
    assert not build.error, build.error
    for step in build.steps:
        assert step.returncode == 0, f"{' '.join(step.command)} failed:\n{step.output}"
    commands = [" ".join(step.command) for step in build.steps]
    assert len(commands) == 5, commands
    assert commands[3].endswith(build.import_check()), commands[3]
    assert commands[4].endswith(f"notebooks/{BINDER_NOTEBOOK}") and "--nbval-lax" in commands[4], commands[4]
    assert re.search(r"\b\d+ passed\b", build.steps[4].output), build.steps[4].output  # nbval ran the notebook's cells
