"""Build reveal.js slides of the course notebooks in ``build/course/slides/``, to present without a network.

Usage::

    .venv/bin/python kit/slides.py [NN ...]                      # execute each notebook, then make its slides
    .venv/bin/python kit/slides.py --executed DIR [NN ...]       # slides of notebooks already executed into DIR

``kit/build.py`` makes them too, with the graded kit. Open ``build/course/slides/NN_slug.slides.html`` in a browser (double-click it, or serve the folder): the arrow keys move
through the slides, ``S`` opens the speaker view, ``F`` goes full screen and ``Esc`` shows the overview.

**How a notebook becomes slides.** The cells keep their order and their content; the headings decide where a
slide starts, so that the notebooks need no slide metadata of their own:

* the title and every ``##`` section open a new slide (left and right arrows);
* a ``###`` heading, and every code cell that draws a figure, open a slide below the current one (down arrow), so
  that each figure has a slide of its own with the code that drew it;
* every other cell continues the current slide, which scrolls when it is taller than the screen;
* the worked solutions of the exercises, and the note that announces each of them, are left out.

**What the slides show** is what the notebook printed and drew: by default each notebook is executed first (one
at a time, in a fresh kernel, as ``jupyter nbconvert --execute`` would), which takes about as long as running
the course once; ``--executed DIR`` takes the notebooks from a folder of executed copies instead (the test
session leaves them in ``build/executed/notebooks``).

**Offline.** reveal.js, MathJax, RequireJS and the widget manager are copied from ``node_modules`` (``npm ci`` at
the repository's root installs the versions that ``package.json`` pins) into ``slides/vendor``, and the
slides load them by relative paths: the folder can be copied to a USB stick and presented anywhere.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "build" / "course" / "slides"  # beside the graded kit, which kit/build.py builds with them
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "cosp_reveal"
WIDTH, HEIGHT = 1280, 800  # reveal.js scales this canvas to the screen; the lecture figures are 800 px wide

# (npm package, folder inside it, a file that must exist there, destination under vendor/): what the book's extension
# (book/_ext/cosp_offline.py) copies, with reveal.js added; that extension's functions find and copy them
VENDOR = (
    ("reveal.js", "dist", "reveal.js", "reveal.js/dist"),
    ("reveal.js", "plugin", "notes/notes.js", "reveal.js/plugin"),
    ("mathjax", "es5", "tex-mml-chtml.js", "mathjax"),
    ("requirejs", "", "require.js", "requirejs"),
    ("@jupyter-widgets/html-manager", "dist", "embed-amd.js", "html-manager"),
)
# the widget manager's needs on a MathJax 3 page (labels, figures' alt text): the same script as the book's
WIDGET_SCRIPT = ROOT / "book" / "_ext" / "static" / "cosp-widgets.js"

SOLUTION_NOTE = re.compile(r"\s*\*\*Solution to exercise")


def slide_type(cell: nbformat.NotebookNode, first: bool) -> str:
    """reveal.js's slide type for a cell: ``slide``, ``subslide``, ``skip`` or ``-`` (continue the slide)."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    source = cell.source
    if "solution" in tags or (cell.cell_type == "markdown" and SOLUTION_NOTE.match(source)):
        return "skip"
    if cell.cell_type == "markdown":
        heading = source.lstrip().split("\n", 1)[0]
        if first or heading.startswith("# ") or heading.startswith("## "):
            return "slide"
        if heading.startswith("### "):
            return "subslide"
    if cell.cell_type == "code" and any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
        return "subslide"
    return "slide" if first else "-"


HEADING = re.compile(r"#{1,3} ")
FENCE = re.compile(r"\s*(```|~~~)")


def split_at_headings(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """A markdown cell cut before each heading that is not its first line (a section often opens at the end of
    the previous section's last cell); headings inside fenced code do not count. Other cells are returned as they are.
    """
    if cell.cell_type != "markdown":
        return [cell]
    lines = cell.source.split("\n")
    starts, fenced = [0], False
    for j, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
        elif j > 0 and not fenced and HEADING.match(line):
            starts.append(j)
    if len(starts) == 1:
        return [cell]
    parts = []
    for k, (begin, end) in enumerate(zip(starts, starts[1:] + [len(lines)])):
        text = "\n".join(lines[begin:end]).strip("\n")
        if text:
            part = copy.deepcopy(cell)
            part.source = text
            if "id" in part:
                part.id = f"{cell.id}-{k}"
            parts.append(part)
    return parts


def as_slides(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with its markdown cells cut at headings and each cell's ``slideshow`` metadata set by
    :func:`slide_type`."""
    nb = copy.deepcopy(nb)
    nb.cells = [part for cell in nb.cells for part in split_at_headings(cell)]
    shown = 0
    for cell in nb.cells:
        kind = slide_type(cell, first=shown == 0)
        cell.metadata["slideshow"] = {"slide_type": kind}
        shown += kind != "skip"
    return nb


def count_slides(nb: nbformat.NotebookNode) -> int:
    """How many slides (horizontal and vertical) reveal.js shows for a notebook with slide metadata."""
    return sum(cell.metadata.get("slideshow", {}).get("slide_type") in ("slide", "subslide") for cell in nb.cells)


def _load(name: str, path: Path):
    """The script at ``path`` loaded as the module ``name`` (once per process)."""
    if name not in sys.modules:
        import importlib.util

        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _offline():
    """``book/_ext/cosp_offline.py``, the book's extension, loaded as a module."""
    return _load("cosp_offline", WIDGET_SCRIPT.parent.parent / "cosp_offline.py")


def copy_vendor(out: Path) -> Path:
    """Copy reveal.js, MathJax, RequireJS and the widget manager into ``out/vendor``; return that folder."""
    offline = _offline()
    modules = offline.find_packages(ROOT, VENDOR)
    if modules is None:
        raise FileNotFoundError(
            f"the slides' scripts ({', '.join(sorted({p for p, *_ in VENDOR}))}) are not installed in a node_modules "
            f"folder at or above {ROOT}: run `npm ci` at the repository's root (package.json pins them)"
        )
    vendor = out / "vendor"
    offline.copy_packages(modules, vendor, VENDOR)
    (vendor / "cosp").mkdir(exist_ok=True)
    shutil.copy2(WIDGET_SCRIPT, vendor / "cosp" / WIDGET_SCRIPT.name)
    return vendor


def exporter():
    """nbconvert's slide exporter with the course template: every script from ``vendor/``, MathJax 3."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.SlidesExporter.template_name = TEMPLATE
    config.SlidesExporter.reveal_url_prefix = "vendor/reveal.js"
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_transition = "none"  # a projector and a sleepy class: no animation
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.reveal_width = str(WIDTH)
    config.SlidesExporter.reveal_height = str(HEIGHT)
    config.SlidesExporter.reveal_scroll = True
    config.SlidesExporter.require_js_url = "vendor/requirejs/require.js"
    config.SlidesExporter.mathjax_url = "vendor/mathjax/tex-mml-chtml.js"
    config.SlidesExporter.widget_renderer_url = "vendor/html-manager/embed-amd.js"
    config.SlidesExporter.jquery_url = ""  # the course template does not use jQuery
    config.SlidesExporter.mermaid_js_url = ""  # nor Mermaid
    return SlidesExporter(config=config)


def execute(path: Path) -> nbformat.NotebookNode:
    """``path`` executed top to bottom in a fresh kernel of this environment, in the notebooks' folder (as a learner
    runs it), with the benchmark's client (``benchmarks/notebooks.py``), which waits for the kernel in slices and so
    never stalls on a lost wake-up (nbclient issue 312)."""
    benchmark = _load("cosp_benchmark_notebooks", ROOT / "benchmarks" / "notebooks.py")
    nb = nbformat.read(path, as_version=4)
    benchmark.notebook_client(nb, path).execute()
    return nb


def notebook_paths(selection: list[str] | None = None) -> list[Path]:
    """The course notebooks, or those whose two-digit number or name is in ``selection``."""
    paths = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if re.fullmatch(r"\d\d_\w+\.ipynb", p.name))
    if not selection:
        return paths
    chosen = []
    for key in selection:
        if not isinstance(key, str):
            raise TypeError(f"notebooks must be given as two-digit numbers or names (str), got {type(key).__name__}")
        matches = [p for p in paths if p.name[:2] == key or p.stem == key or p.name == key]
        if not matches:
            raise ValueError(
                f"no course notebook {key!r}: give a two-digit number (00-14) or a name like 04_deep_vs_shallow"
            )
        chosen += matches
    return chosen


def build(selection: list[str] | None = None, executed: Path | None = None, out: Path = DEFAULT_OUT) -> dict[str, dict]:
    """Write the slides of the chosen notebooks into ``out``; return, per notebook, its file, slide count and time."""
    if executed is not None and not Path(executed).is_dir():
        raise ValueError(f"executed must be a folder of executed notebooks, got {executed}")
    paths = notebook_paths(selection)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    copy_vendor(out)
    slides = exporter()
    report = {}
    for path in paths:
        start = time.monotonic()
        if executed is None:
            nb = execute(path)
        else:
            source = Path(executed) / path.name
            if not source.is_file():
                raise FileNotFoundError(f"{source} does not exist: execute {path.name} into {executed} first")
            nb = nbformat.read(source, as_version=4)
        nb = as_slides(nb)
        body, _ = slides.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        target = out / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        report[path.stem] = {"file": target, "slides": count_slides(nb), "seconds": time.monotonic() - start}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="two-digit numbers or names (default: every notebook)")
    parser.add_argument("--executed", type=Path, help="a folder of executed notebooks to take the outputs from")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"where to write the slides (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    try:
        report = build(args.notebooks, args.executed, args.out)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name, row in report.items():
        print(f"{name}: {row['slides']} slides, {row['seconds']:.1f} s -> {row['file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
