"""The course as a static site: Jupyter Book 1 builds it offline from the executed notebooks.

The build is the README's documented command, run once per test session into ``build/book``, on a copy
of the sources in which the notebooks are the copies the test session has already executed
(``executed_notebooks``, ``tests/notebook_runs.py``), excluded from execution by the configuration's
``execute.exclude_patterns``: the book renders the runs the notebook tests checked, and no notebook is
executed twice (the front page, which draws the course map, is still executed). The README's command
itself executes every notebook. Any download attempt during the build would go to a proxy address that
refuses connections, so a build that needs the network fails here. The tests then check what a reader of the site sees: a front page
with the course map and a link to every notebook, and for each notebook a page with all of the figures
that its executed run produced, and a Binder launch button that opens that notebook in JupyterLab.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from notebook_runs import EXECUTED as EXECUTED_ROOT

EXECUTED = EXECUTED_ROOT / "notebooks"

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if re.fullmatch(r"\d\d_\w+\.ipynb", p.name))
OUTPUT = ROOT / "build" / "book"
HTML = OUTPUT / "_build" / "html"
SOURCE = ROOT / "build" / "book-source"  # the sources with the executed notebooks in place of the stored ones
CONFIG = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
BUILD_COMMAND = [
    "build", ".", "--config", "book/_config.yml", "--toc", "book/_toc.yml", "--path-output", "build/book",
    "--warningiserror", "--keep-going",
]  # fmt: skip
IMAGE = re.compile(r'<img[^>]+src="(\.\./_images/[^"]+\.png)"')


STAGED_EXCLUDE = ["notebooks/*.ipynb"]


def staged_config() -> dict:
    """The book's configuration with the notebooks excluded from execution: the staged copies hold their outputs."""
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["exclude_patterns"] = STAGED_EXCLUDE
    return config


@pytest.fixture(scope="module")
def book(executed_notebooks) -> dict[str, float | str]:
    """Build the book once, offline, into build/book from the executed notebooks; return the build's time and log."""
    for directory in (OUTPUT, SOURCE):
        if directory.exists():
            shutil.rmtree(directory)
    shutil.copytree(ROOT / "book", SOURCE / "book")
    (SOURCE / "book" / "_config.yml").write_text(yaml.safe_dump(staged_config(), sort_keys=False), encoding="utf-8")
    (SOURCE / "notebooks").mkdir()
    for notebook in NOTEBOOKS:
        shutil.copy2(EXECUTED / notebook.name, SOURCE / "notebooks" / notebook.name)
    env = dict(os.environ)
    # Any HTTP(S) request from the build (a theme, an inventory, a font) goes to a closed port and fails.
    closed = "http://127.0.0.1:9"
    env.update(HTTP_PROXY=closed, HTTPS_PROXY=closed, http_proxy=closed, https_proxy=closed, NO_PROXY="", no_proxy="")
    exe = Path(sys.executable).parent / "jupyter-book"
    start = time.monotonic()
    command = [str(OUTPUT) if arg == "build/book" else arg for arg in BUILD_COMMAND]
    result = subprocess.run(
        [str(exe), *command], cwd=SOURCE, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    seconds = time.monotonic() - start
    log = result.stdout + result.stderr
    (OUTPUT / "build.log").parent.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "build.log").write_text(log, encoding="utf-8")
    assert result.returncode == 0, f"the book did not build (see {OUTPUT / 'build.log'}):\n{log[-4000:]}"
    return {"seconds": seconds, "log": log}


def test_readme_documents_the_build_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/jupyter-book " + " ".join(BUILD_COMMAND[:8]) in readme


def test_book_builds_without_warnings(book: dict[str, float | str]) -> None:
    # --warningiserror: a broken link or a missing figure is a failed build, not a warning in a log.
    assert "build succeeded" in str(book["log"])
    assert (HTML / "index.html").exists()


def test_book_executes_notebooks_at_build_time() -> None:
    # the README's command executes every notebook and stops at an error; the test's build differs only in
    # rendering the notebooks the session executed and checked
    assert CONFIG["execute"]["execute_notebooks"] == "force"
    assert CONFIG["execute"]["allow_errors"] is False
    assert CONFIG["execute"]["exclude_patterns"] == []
    assert staged_config() == dict(CONFIG, execute=dict(CONFIG["execute"], exclude_patterns=STAGED_EXCLUDE))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_page_has_its_figures(book: dict[str, float | str], notebook: Path) -> None:
    page = HTML / "notebooks" / f"{notebook.stem}.html"
    assert page.exists(), f"no page for {notebook.name}"
    executed = json.loads((EXECUTED / notebook.name).read_text(encoding="utf-8"))
    figures = sum(
        "image/png" in output.get("data", {})
        for cell in executed["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
    )
    assert figures >= 1, f"{notebook.name} produced no figure when executed"
    images = IMAGE.findall(page.read_text(encoding="utf-8"))
    assert len(images) == figures, f"{len(images)} figures on the page, {figures} in the executed notebook"
    for src in images:
        path = (page.parent / src).resolve()
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{src} is not a PNG"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_page_has_a_binder_button(book: dict[str, float | str], notebook: Path) -> None:
    text = (HTML / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    expected = f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/notebooks/{notebook.name}"
    assert expected in text


def test_front_page_is_the_course_map(book: dict[str, float | str]) -> None:
    import cosp_helpers as cosp

    front = (HTML / "book" / "intro.html").read_text(encoding="utf-8")
    assert len(IMAGE.findall(front)) == 1, "the front page shows the course map"
    for info in cosp.course.COURSE:
        stem = cosp.course.notebook_filename(info).removesuffix(".ipynb")
        assert f'href="../notebooks/{stem}.html"' in front, f"the front page does not link to {stem}"
        assert info.title in front, info.title
    # the site's root redirects to the front page
    assert "book/intro.html" in (HTML / "index.html").read_text(encoding="utf-8")
