"""The course as a static site: Jupyter Book 1 builds it offline from the executed notebooks.

The build is the README's documented command, run once per test session into ``build/book`` (in the background as
soon as the notebooks' runs are done: ``tests/after_runs.py``), on a copy
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
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import after_runs
from notebook_runs import EXECUTED as EXECUTED_ROOT
from web_pages import CDN_HOSTS, CHROMIUM, CHROMIUM_ARGS, loaded_resources, only_from, remote, require_chromium, serve

EXECUTED = EXECUTED_ROOT / "notebooks"

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if re.fullmatch(r"\d\d_\w+\.ipynb", p.name)
)
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


def _build_book() -> dict[str, float | str]:
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
    result = after_runs.run([str(exe), *command], cwd=SOURCE, env=env, timeout=1800)
    seconds = time.monotonic() - start
    log = result.stdout + result.stderr
    (OUTPUT / "build.log").parent.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "build.log").write_text(log, encoding="utf-8")
    assert result.returncode == 0, f"the book did not build (see {OUTPUT / 'build.log'}):\n{log[-4000:]}"
    return {"seconds": seconds, "log": log}


# built in the background as soon as the notebooks' runs are done, beside the session's other tests (tests/after_runs.py)
after_runs.register("book", _build_book)


@pytest.fixture(scope="module")
def book(executed_notebooks) -> dict[str, float | str]:
    """The book built offline into build/book from the executed notebooks: the build's time and log."""
    return after_runs.result("book")


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


# --- offline: nothing is loaded from the web -------------------------------------------------------------------

WIDGET_MODULES_BUILT_IN = {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}


def _site_pages() -> list[Path]:
    return sorted(HTML.rglob("*.html"))


def test_the_parser_finds_a_cdn_script() -> None:
    page = (
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script><a href="https://x">'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css"><link rel="next" href="https://y"><img src="a.png">'
    )
    found = loaded_resources(page)
    assert found == [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "//fonts.googleapis.com/css",
        "a.png",
    ]
    assert remote(found) == found[:2]


def test_no_page_loads_anything_from_the_web(book: dict[str, float | str]) -> None:
    pages = _site_pages()
    assert len(pages) >= len(NOTEBOOKS) + 2
    for page in pages:
        text = page.read_text(encoding="utf-8")
        fetched = remote(loaded_resources(text))
        assert not fetched, f"{page.relative_to(HTML)} loads {fetched}"
        cdn = [host for host in CDN_HOSTS if host in text]
        assert not cdn, f"{page.relative_to(HTML)} names a CDN: {cdn}"
    for sheet in (HTML / "_static").rglob("*.css"):
        imports = re.findall(r"""(?:url\(|@import\s+)["']?((?:https?:)?//[^"')]+)""", sheet.read_text(encoding="utf-8"))
        assert not imports, f"{sheet.relative_to(HTML)} fetches {imports}"


def test_formulas_and_widgets_load_from_the_site(book: dict[str, float | str]) -> None:
    vendor = HTML / "_static" / "vendor"
    for required in ("mathjax/tex-mml-chtml.js", "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
                     "mathjax/input/tex/extensions/boldsymbol.js", "requirejs/require.js", "html-manager/embed-amd.js"):  # fmt: skip
        assert (vendor / required).is_file(), f"_static/vendor/{required} is missing"
    page = (HTML / "notebooks" / "04_deep_vs_shallow.html").read_text(encoding="utf-8")
    scripts = loaded_resources(page)
    assert "../_static/vendor/mathjax/tex-mml-chtml.js" in scripts
    assert {"../_static/vendor/requirejs/require.js", "../_static/vendor/html-manager/embed-amd.js"} <= set(scripts)


def test_every_widget_is_drawn_by_the_local_manager(book: dict[str, float | str]) -> None:
    # The HTML manager fetches a widget's code from a CDN only for a module it does not bundle; it bundles these.
    modules = set()
    for page in (HTML / "notebooks").glob("*.html"):
        modules |= set(re.findall(r'"model_module": "([^"]+)"', page.read_text(encoding="utf-8")))
    assert modules, "no widget state on any page"
    assert modules <= WIDGET_MODULES_BUILT_IN, modules - WIDGET_MODULES_BUILT_IN


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_on_the_page_has_its_alt_text(book: dict[str, float | str], notebook: Path) -> None:
    page = (HTML / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
    executed = json.loads((EXECUTED / notebook.name).read_text(encoding="utf-8"))
    expected = [
        output["metadata"]["image/png"]["alt"]
        for cell in executed["cells"]
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    found = re.findall(r'<img[^>]*\salt="([^"]*)"[^>]*src="\.\./_images/[^"]+\.png"', page)
    import html

    assert [html.unescape(alt) for alt in found] == expected


def _load_offline_extension():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cosp_offline", ROOT / "book" / "_ext" / "cosp_offline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_stops_when_the_scripts_are_not_installed(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from sphinx.errors import ConfigError

    offline = _load_offline_extension()
    config = SimpleNamespace(mathjax_path="vendor/mathjax/tex-mml-chtml.js", nb_ipywidgets_js={})
    with pytest.raises(ConfigError, match=r"run `npm ci` at the repository's root"):
        offline.check_config(SimpleNamespace(srcdir=str(tmp_path)), config)
    # installed (the repository's own node_modules): a configuration that points elsewhere is refused
    app = SimpleNamespace(srcdir=str(ROOT))
    offline.check_config(app, config)
    with pytest.raises(ConfigError, match="mathjax_path must point into _static/vendor/mathjax/"):
        offline.check_config(
            app, SimpleNamespace(mathjax_path="https://cdn.jsdelivr.net/npm/mathjax@3", nb_ipywidgets_js={})
        )
    with pytest.raises(ConfigError, match="nb_ipywidgets_js must load from _static/vendor/"):
        offline.check_config(
            app, SimpleNamespace(mathjax_path=config.mathjax_path, nb_ipywidgets_js={"https://x/a.js": {}})
        )


def test_the_scripts_are_pinned_exactly() -> None:
    manifest = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for name, version in manifest["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is a range, not a pin"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    offline = _load_offline_extension()
    assert {package for package, *_ in offline.ASSETS} <= set(manifest["dependencies"])


# --- a page in a real browser, with the network cut off ------------------------------------------------------

BROWSER_PAGE = "notebooks/04_deep_vs_shallow.html"  # formulas, training progress widgets, line figures only


@pytest.fixture(scope="module")
def served_site(book: dict[str, float | str]) -> Iterator[str]:
    """The built site on a loopback HTTP server, as a reader's browser gets it from a web server; yields its URL."""
    with serve(HTML) as url:
        yield url


def test_a_page_shows_formulas_widgets_and_described_figures_offline(served_site: str) -> None:
    """Chromium opens a notebook page with every request outside the site refused, and records what it shows."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    from figure_colours import OFF_PALETTE_MAX, off_palette_fraction

    refused: list[str] = []
    errors: list[str] = []

    shots = ROOT / "build" / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_from((served_site,), refused))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(served_site + BROWSER_PAGE, wait_until="load")
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
            page.evaluate("MathJax.startup.promise")
            math = page.evaluate(
                """() => { const all = Array.from(document.querySelectorAll('.math'));
                           return [all.length, all.filter(e => e.querySelector('mjx-container')).length,
                                   all.filter(e => /\\\\[a-zA-Z]+|\\$\\$/.test(e.innerText)).length]; }"""
            )
            views = page.evaluate(
                "document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]').length"
            )
            page.wait_for_function(f"document.querySelectorAll('.jupyter-widgets').length >= {views}", timeout=60_000)
            figures = page.locator("article img")
            page.wait_for_function("Array.from(document.querySelectorAll('article img')).every(i => i.complete && i.alt)",
                                   timeout=30_000)  # fmt: skip
            alts = [figures.nth(i).get_attribute("alt") for i in range(figures.count())]
            colours = []
            for i in range(figures.count()):
                figure = figures.nth(i)
                figure.scroll_into_view_if_needed()
                colours.append(off_palette_fraction(figure.screenshot()))
            page.locator("article img").first.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "book-04.png"))
        finally:
            browser.close()
    assert not refused, f"the page asked the web for {refused}"
    assert not errors, errors
    total, typeset, raw = math
    assert total >= 20 and typeset == total and raw == 0, f"{typeset} of {total} formulas typeset, {raw} left as TeX"
    assert views >= 1
    executed = json.loads((EXECUTED / "04_deep_vs_shallow.ipynb").read_text(encoding="utf-8"))
    static = [o["metadata"]["image/png"]["alt"] for c in executed["cells"] for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]  # fmt: skip
    assert len(alts) >= len(static) and all(alt and not alt.endswith(".png") for alt in alts), alts
    assert set(static) <= set(alts)
    for i, (fraction, coloured) in enumerate(colours):
        assert coloured > 200, f"figure {i} has almost no colour ({coloured} coloured pixels)"
        assert fraction <= OFF_PALETTE_MAX, f"figure {i}: {fraction:.1%} of its coloured pixels are off the palette"
