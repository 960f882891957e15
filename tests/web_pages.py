"""Checks shared by the tests of the course's web pages (the book, the slides): what a page loads, and a browser.

* :func:`loaded_resources` lists what a browser fetches to show a page (scripts, stylesheets, images, frames);
* :data:`CDN_HOSTS` names the hosts that serve scripts, styles and fonts to pages by default;
* :func:`require_chromium` skips a browser test where there is no Chromium, unless ``COSP_REQUIRE_BROWSER=1`` (as in
  ``.ci/run``), where a missing browser fails it;
* :func:`serve` serves a folder on a loopback HTTP server, as a reader's browser gets a site from a web server.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]

# Hosts that serve scripts, styles and fonts to pages (the defaults of Sphinx, MyST-NB, sphinx-thebe, nbconvert's
# templates, and web fonts).
CDN_HOSTS = ("jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "googleapis.com", "gstatic.com",
             "bootstrapcdn.com", "code.jquery.com", "polyfill.io", "mathjax.org", "rawgit")  # fmt: skip
LOADING = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src",
           "embed": "src", "link": "href"}  # fmt: skip
RESOURCE_LINKS = {"stylesheet", "preload", "icon", "modulepreload", "manifest"}


def loaded_resources(page: str) -> list[str]:
    """What a browser fetches to show ``page``: the src of scripts, images and frames; stylesheets and icons."""
    found: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes = dict(attrs)
            if tag == "link" and not RESOURCE_LINKS & set((attributes.get("rel") or "").split()):
                return  # a link to another page, not a resource of this one
            if tag in LOADING and attributes.get(LOADING[tag]):
                found.append(attributes[LOADING[tag]])

    Collector().feed(page)
    return found


def remote(urls: list[str]) -> list[str]:
    """The URLs of ``urls`` that point to another host (http, https or protocol-relative)."""
    return [url for url in urls if url.startswith(("http:", "https:", "//"))]


def chromium_available() -> bool:
    """Whether pip's playwright and Debian's Chromium are both installed."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists()


def require_chromium() -> None:
    if not chromium_available():
        if os.environ.get("COSP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"COSP_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM} or no playwright")
        pytest.skip(f"no Chromium at {CHROMIUM} (or playwright missing)")


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a loopback HTTP server for the duration of the block; yield its URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def only_from(prefixes: tuple[str, ...], refused: list[str]):
    """A Playwright route handler that lets requests to ``prefixes`` through and refuses (and records) the rest."""

    def handle(route) -> None:
        if route.request.url.startswith(prefixes):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    return handle
