"""Serve the book's scripts from the site itself, so that every page works without a network.

A Jupyter Book page loads three things from the web by default: MathJax (formulas), RequireJS and the ipywidgets
HTML manager (the explorers' widgets). ``book/_config.yml`` points all three at ``_static/vendor/``, and this
extension fills that folder from the npm packages that ``package.json`` at the repository's root pins (install them
with ``npm ci`` there). The extension stops the build, naming the missing file, if a package is not installed: a site
that would quietly fall back to a CDN is not built.

The packages are found as Node.js finds them: in ``node_modules`` of the source folder or of any folder above it.

It also gives every figure on a notebook's page its text alternative: ``cosp.show`` puts it in the PNG output's
metadata, which MyST-NB does not read (it writes the image's path as its ``alt``); the extension finds each image's
output in the executed notebook by the image's name, which is the SHA-256 of its bytes.

The extension also adds ``static/cosp-widgets.js``, which the widget manager needs on a page with MathJax 3: the
MathJax 2 call it uses to typeset labels, and the text alternative of the figures it draws (an explorer's first
view), which it leaves out; the script takes them from the widget state.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ConfigError

VENDOR = "vendor"  # under the site's _static folder

# (npm package, folder inside it, file that must exist there, destination under _static/vendor)
ASSETS = (
    ("mathjax", "es5", "tex-mml-chtml.js", "mathjax"),
    ("requirejs", "", "require.js", "requirejs"),
    ("@jupyter-widgets/html-manager", "dist", "embed-amd.js", "html-manager"),
)
SKIP = shutil.ignore_patterns("*.map", "*.esm.js", "node-main.js", "*.md", "package.json", "bin", "test*")


def find_packages(start: Path, assets: tuple = ASSETS) -> Path | None:
    """The nearest ``node_modules`` folder at or above ``start`` that holds every package of ``assets`` (tuples as
    in ``ASSETS``), or None. The slides (``kit/slides.py``) use this and :func:`copy_packages` too."""
    for folder in (start, *start.parents):
        candidate = folder / "node_modules"
        if all((candidate / package / sub / required).is_file() for package, sub, required, _ in assets):
            return candidate
    return None


def copy_packages(modules: Path, target: Path, assets: tuple = ASSETS) -> None:
    """Copy each package's part of ``assets`` from ``modules`` into ``target / destination``, with its licence."""
    for package, sub, required, destination in assets:
        if sub:  # a folder of files that load each other by relative paths: copied whole
            shutil.copytree(modules / package / sub, target / destination, ignore=SKIP, dirs_exist_ok=True)
        else:  # one file, with its licence in its header
            (target / destination).mkdir(parents=True, exist_ok=True)
            shutil.copy2(modules / package / required, target / destination / required)
        licence = modules / package / "LICENSE"
        if licence.is_file():
            shutil.copy2(licence, target / destination / "LICENSE")


def node_modules(start: Path) -> Path:
    """The nearest ``node_modules`` folder at or above ``start`` that holds every package of ``ASSETS``."""
    found = find_packages(start)
    if found is None:
        missing = ", ".join(package for package, *_ in ASSETS)
        raise ConfigError(
            f"the book's scripts ({missing}) are not installed in a node_modules folder at or above {start}: "
            "run `npm ci` at the repository's root (package.json pins them), then build again"
        )
    return found


def check_config(app: Sphinx, config) -> None:
    """Refuse a configuration that would load MathJax or the widget scripts from anywhere but ``_static/vendor``."""
    node_modules(Path(app.srcdir).resolve())
    if hasattr(config, "html_static_path"):
        config.html_static_path = [*config.html_static_path, str(Path(__file__).parent / "static")]
    if not str(config.mathjax_path).startswith(f"{VENDOR}/mathjax/"):
        raise ConfigError(f"mathjax_path must point into _static/{VENDOR}/mathjax/, not {config.mathjax_path!r}")
    for uri in config.nb_ipywidgets_js:
        if not uri.startswith(f"{VENDOR}/"):
            raise ConfigError(f"nb_ipywidgets_js must load from _static/{VENDOR}/, not {uri!r}")


def copy_assets(app: Sphinx, exception: Exception | None) -> None:
    """Copy the pinned packages' files into the built site's ``_static/vendor``."""
    if exception is not None or app.builder.format != "html":
        return
    copy_packages(node_modules(Path(app.srcdir).resolve()), Path(app.outdir) / "_static" / VENDOR)


def figure_alts(notebook: dict) -> dict[str, str]:
    """The text alternative of every PNG output of an executed notebook, by the SHA-256 of the image's bytes."""
    alts = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            alt = output.get("metadata", {}).get("image/png", {}).get("alt")
            if png and alt:
                data = base64.b64decode("".join(png) if isinstance(png, list) else png)
                alts[hashlib.sha256(data).hexdigest()] = alt
    return alts


def set_figure_alts(app: Sphinx, doctree: nodes.document) -> None:
    """Write each notebook figure's text alternative into its image node (MyST-NB names the image by its hash)."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{app.env.docname}.ipynb"
    if not executed.is_file():
        return
    alts = figure_alts(json.loads(executed.read_text(encoding="utf-8")))
    for image in doctree.findall(nodes.image):
        alt = alts.get(Path(image["uri"]).stem)
        if alt:
            image["alt"] = alt


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", check_config)
    app.connect("doctree-read", set_figure_alts)
    app.add_js_file("cosp-widgets.js", defer="defer", priority=800)  # after MathJax (priority 500) in the page
    app.connect("build-finished", copy_assets)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
