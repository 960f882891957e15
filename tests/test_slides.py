"""The slides (``kit/slides.py``): every notebook as a reveal.js slideshow that needs no network.

The rules that cut a notebook into slides are tested on small notebooks written here. Then the README's command
builds the slides of every course notebook from the copies the test session executed (``--executed``; in the
background as soon as those runs are done, ``tests/after_runs.py``), and the
tests check each file: nothing loaded from the web, the scripts it loads present beside it, one slide per section,
heading and figure, and every figure's text alternative. Chromium (network refused) opens the slides of three
notebooks, counts the slides reveal.js made, checks that the formulas were typeset as math, and saves a screenshot
of each to ``build/browser/slides-NN.png``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

import after_runs
from notebook_runs import EXECUTED
from scripts import load_script
from web_pages import CDN_HOSTS, CHROMIUM, CHROMIUM_ARGS, loaded_resources, only_from, remote, require_chromium

ROOT = Path(__file__).resolve().parents[1]
slides = load_script("kit/slides.py")
OUT = ROOT / "build" / "slides"
NOTEBOOKS = slides.notebook_paths()
BROWSER_SLIDES = ("00", "04", "11")  # the course map; formulas and training widgets; formulas and the most figures
SHOTS = ROOT / "build" / "browser"


def _notebook(*cells: tuple[str, str] | nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        if isinstance(cell, tuple):
            kind, source = cell
            cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)
    return nb


def _figure_cell(source: str = "show(fig)") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBO", "text/plain": "<Figure>"})]
    return cell


def _types(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.metadata["slideshow"]["slide_type"], c.source.split("\n")[0]) for c in nb.cells]


# --- the rules ---------------------------------------------------------------------------------------------------


def test_headings_and_figures_open_slides() -> None:
    nb = _notebook(
        ("md", "# 99 · A title\n\nLearning objectives."),
        ("md", "## 1. First section\nText."),
        ("code", "x = 1"),
        _figure_cell(),
        ("md", "### A subsection"),
        ("md", "More text."),
    )
    assert _types(slides.as_slides(nb)) == [
        ("slide", "# 99 · A title"),
        ("slide", "## 1. First section"),
        ("-", "x = 1"),
        ("subslide", "show(fig)"),
        ("subslide", "### A subsection"),
        ("-", "More text."),
    ]
    assert slides.count_slides(slides.as_slides(nb)) == 4
    assert "slideshow" not in nb.cells[0].metadata  # the notebook itself is left as it was


def test_a_section_that_opens_inside_a_cell_starts_its_own_slide() -> None:
    nb = _notebook(
        ("md", "End of section 1.\n\n## 2. Next\nIntro.\n```python\n# a comment, not a heading\n```\n### 2.1 Sub")
    )
    result = slides.as_slides(nb)
    assert _types(result) == [("slide", "End of section 1."), ("slide", "## 2. Next"), ("subslide", "### 2.1 Sub")]
    assert "# a comment, not a heading" in result.cells[1].source  # fenced code is not cut
    assert "".join(c.source for c in result.cells).replace("\n", "") == nb.cells[0].source.replace("\n", "")


def test_worked_solutions_are_left_out() -> None:
    solution = nbformat.v4.new_code_cell("answer = 42")
    solution.metadata["tags"] = ["solution", "hide-input"]
    exercise = nbformat.v4.new_code_cell("answer = None")
    exercise.metadata["tags"] = ["exercise"]
    nb = _notebook(
        ("md", "# 99 · T"),
        ("md", "### Exercise 1"),
        exercise,
        ("md", "**Solution to exercise 1.** The next cell holds a worked solution."),
        solution,
    )
    assert [t for t, _ in _types(slides.as_slides(nb))] == ["slide", "subslide", "-", "skip", "skip"]


@pytest.mark.parametrize(
    "selection, error, match",
    [
        (["99"], ValueError, "no course notebook '99'"),
        (["deep"], ValueError, "give a two-digit number"),
        ([4], TypeError, "two-digit numbers or names \\(str\\), got int"),
    ],
)
def test_a_bad_selection_is_refused(selection, error, match) -> None:
    with pytest.raises(error, match=match):
        slides.notebook_paths(selection)


def test_a_missing_folder_of_executed_notebooks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="executed must be a folder of executed notebooks"):
        slides.build(["00"], executed=tmp_path / "nowhere", out=tmp_path / "slides")
    with pytest.raises(FileNotFoundError, match="execute 00_start_here.ipynb into"):
        slides.build(["00"], executed=tmp_path, out=tmp_path / "slides")


def test_the_readme_documents_the_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/python kit/slides.py" in readme
    assert "build/course/slides/" in readme


@pytest.mark.heavy
def test_without_executed_copies_the_notebook_is_executed_first(tmp_path: Path) -> None:
    # the lecturer's default: run the notebook in a fresh kernel, then cut it into slides with its outputs
    report = slides.build(["00"], out=tmp_path)
    page = (tmp_path / "00_start_here.slides.html").read_text(encoding="utf-8")
    assert report["00_start_here"]["slides"] >= 8
    assert page.count("<img") >= 2 and "CHECK ✓" in page  # its figures and its checks' lines, from the run


# --- the slides of every notebook ----------------------------------------------------------------------------------


def _build_slides() -> dict:
    """The README's command, run on the session's executed notebooks: every notebook's slides, in build/slides (apart
    from a lecturer's kit in build/course)."""
    start = time.monotonic()
    result = after_runs.run(
        [sys.executable, str(ROOT / "kit" / "slides.py"), "--executed", str(EXECUTED / "notebooks"), "--out", str(OUT)],
        cwd=ROOT, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return {"log": result.stdout, "seconds": time.monotonic() - start}


# built in the background as soon as the notebooks' runs are done, beside the session's other tests (tests/after_runs.py)
after_runs.register("built", _build_slides)


@pytest.fixture(scope="module")
def built(executed_notebooks) -> dict:
    """Every notebook's slides, built from the session's executed notebooks: the build's log and time."""
    value = after_runs.result("built")
    print(f"slides of {len(NOTEBOOKS)} notebooks built in {value['seconds']:.1f} s")
    return value


def _expected_slides(notebook: Path) -> int:
    """Slides by the rules, counted from the executed notebook: headings outside fences, and figure cells, not in a
    worked solution (every course notebook opens with its ``#`` title, the first slide)."""
    cells = json.loads((EXECUTED / "notebooks" / notebook.name).read_text(encoding="utf-8"))["cells"]
    count = 0
    for cell in cells:
        source = "".join(cell["source"])
        if "solution" in cell.get("metadata", {}).get("tags", []) or source.lstrip().startswith(
            "**Solution to exercise"
        ):
            continue
        if cell["cell_type"] == "markdown":
            fenced = False
            for line in source.split("\n"):
                if re.match(r"\s*(```|~~~)", line):
                    fenced = not fenced
                elif not fenced and re.match(r"#{1,3} ", line):
                    count += 1
        elif any("image/png" in output.get("data", {}) for output in cell.get("outputs", [])):
            count += 1
    return count


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_slides_that_load_nothing_from_the_web(built: dict, notebook: Path) -> None:
    page = OUT / f"{notebook.stem}.slides.html"
    assert page.is_file(), f"no slides for {notebook.name}"
    text = page.read_text(encoding="utf-8")
    fetched = loaded_resources(text)
    assert not remote(fetched), f"{page.name} loads {remote(fetched)}"
    for host in CDN_HOSTS:
        assert host not in text, f"{page.name} names {host}"
    for url in fetched:
        if not url.startswith("data:"):
            assert (OUT / url).is_file(), f"{page.name} loads {url}, which is not in build/slides"
    for script in ("vendor/reveal.js/dist/reveal.js", "vendor/reveal.js/plugin/notes/notes.js",
                   "vendor/html-manager/embed-amd.js"):  # fmt: skip
        assert script in text and (OUT / script).is_file(), script  # loaded by RequireJS, after the page
    sections = len(re.findall(r"<section\b", text))
    expected = _expected_slides(notebook)
    assert f"{notebook.stem}: {expected} slides" in built["log"]
    assert sections >= expected  # each horizontal slide with vertical ones is a section around theirs


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_in_the_slides_has_its_alt_text(built: dict, notebook: Path) -> None:
    import html

    text = (OUT / f"{notebook.stem}.slides.html").read_text(encoding="utf-8")
    cells = json.loads((EXECUTED / "notebooks" / notebook.name).read_text(encoding="utf-8"))["cells"]
    expected = [
        output["metadata"]["image/png"]["alt"]
        for cell in cells
        if "solution" not in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    found = [html.unescape(alt) for alt in re.findall(r'<img\s[^>]*?alt="([^"]*)"', text)]
    assert found == expected


def test_slides_open_offline_with_typeset_formulas(built: dict) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    seen = {}
    refused: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for number in BROWSER_SLIDES:
                (notebook,) = [p for p in NOTEBOOKS if p.name.startswith(number)]
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.route("**/*", only_from(("file://", "data:"), refused))
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto((OUT / f"{notebook.stem}.slides.html").as_uri(), wait_until="load")
                page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=60_000)
                page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
                page.evaluate("MathJax.startup.promise")
                views = page.evaluate(
                    "document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]').length"
                )
                page.wait_for_function(
                    f"document.querySelectorAll('.jupyter-widgets').length >= {views}", timeout=60_000
                )
                seen[number] = page.evaluate(
                    """() => ({
                        total: Reveal.getTotalSlides(),
                        typeset: document.querySelectorAll('.reveal mjx-container').length,
                        raw: Array.from(document.querySelectorAll('.jp-RenderedMarkdown'))
                                  .filter(e => /\\$[^$\\s][^$]*\\$|\\\\(frac|varepsilon|sum|mathbb)/.test(e.innerText)).length,
                        unlabelled: Array.from(document.querySelectorAll('.reveal img')).filter(i => !i.alt).length,
                    })"""
                )
                page.keyboard.press("ArrowRight")  # the first section, past the title
                page.wait_for_timeout(300)
                page.screenshot(path=str(SHOTS / f"slides-{number}.png"))
                page.close()
        finally:
            browser.close()
    assert not refused, f"the slides asked the web for {refused}"
    assert not errors, errors
    for number, found in seen.items():
        (notebook,) = [p for p in NOTEBOOKS if p.name.startswith(number)]
        assert found["total"] == _expected_slides(notebook), (number, found)
        assert found["typeset"] >= 5 and found["raw"] == 0, (number, found)
        assert found["unlabelled"] == 0, (number, found)
