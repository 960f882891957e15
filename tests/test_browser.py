"""Real-browser test: what a lecturer and a learner do in JupyterLab, on four notebooks chosen to cover it all.

The test session executes every notebook once (``tests/notebook_runs.py``); this test runs four of them again,
in a real JupyterLab, chosen so that between them they use every kind of control the explorers have (a
drop-down, integer, float and logarithmic sliders), the course map, and training with live progress bars
(``BROWSER_NOTEBOOKS``; a test below checks that the choice still covers these). The explorers are one
class, :class:`cosp_helpers.widgets.Explorer`, so a control that works in these works in all of them; every
explorer's computation is timed at its sliders' corners by ``benchmarks/widgets.py``.

A JupyterLab server is started on loopback with a random token, serving a temporary copy of
``notebooks/`` (so nothing is ever saved into the repository), with autosave, news and update checks
switched off. Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright, with a fresh
profile) then, for each of the four notebooks: opens it (each of the two pages loads JupyterLab once and opens the
following notebooks in it, as a learner opens them from the file browser), runs all cells (JupyterLab's
*Run All Cells* command), waits for the kernel, and records

* every error output in any cell;
* every widget output, and whether it rendered as a live widget (not an error or a placeholder);
* the figure of the first explorer before and after moving its first slider (or choosing another item
  in its first drop-down, for a notebook whose explorer has no slider);
* a screenshot of the explorer after the change, in JupyterLab's presentation mode with the file
  browser hidden (as a lecturer shows it), saved as ``build/browser/<notebook>.png``.

Two notebooks run at a time (two kernels on a 2-core machine, each with one core's worth of threads, as
in the test session's own runs). The kernels run at ``COSP_SEED`` one above the test session's and on the
generic kernel path (``browser_run_env``): a second seed for these four notebooks' checks, and a check that
fails there fails the test. The server is stopped by its process id
at the end. The tests are skipped when no Chromium is installed, unless ``COSP_REQUIRE_BROWSER=1``
(set by ``.ci/run``), in which case a missing browser is a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from robustness import PATHS, thread_env  # noqa: E402
from web_pages import CHROMIUM, chromium_available  # noqa: E402
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if re.fullmatch(r"\d\d_\w+\.ipynb", p.name))
# 00: the course map and a drop-down; 03: a drop-down and an integer slider; 11: float, integer and logarithmic
# sliders, and the explorer with the most work per update; 14: training with live progress bars.
BROWSER_NOTEBOOKS = [p for p in NOTEBOOKS if p.name[:2] in ("00", "03", "11", "14")]
CONTROLS = ("cosp.dropdown", "cosp.int_slider", "cosp.float_slider", "cosp.log_slider")
SCREENSHOTS = ROOT / "build" / "browser"
PARALLEL_PAGES = 2
NOTEBOOK_TIMEOUT_S = 600.0  # a guard against a hung notebook, not a speed budget (benchmarks/notebooks.py measures speed)
BROWSER_ARGS = [
    # Chromium as root needs --no-sandbox; the rest stop background connections that a closed
    # network refuses (and that would slow the start-up), as in a kiosk or CI profile.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAB_SETTINGS = {
    # No news or update pop-ups, no autosave, every cell attached to the page.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


if not chromium_available():
    if os.environ.get("COSP_REQUIRE_BROWSER") == "1":
        raise RuntimeError(
            f"COSP_REQUIRE_BROWSER=1 but the browser test cannot run: it needs pip's playwright and Debian's chromium "
            f"at {CHROMIUM} (apt-get install chromium)"
        )
    pytest.skip(f"no Chromium at {CHROMIUM} (or playwright missing): the real-browser test is skipped", allow_module_level=True)

from playwright.async_api import Page, async_playwright  # noqa: E402


def browser_run_env() -> dict[str, str]:
    """The seed and kernel path of the browser's runs: ``COSP_SEED`` one above the test session's, on the
    ``generic`` path of ``benchmarks/robustness.py`` (PyTorch's baseline kernels, OpenBLAS's Sandy Bridge kernels).

    The test session executes every notebook at the environment's ``COSP_SEED`` on this machine's own kernels;
    the browser runs every notebook again, so they draw other data and initializations and round another way:
    between them, every notebook's checks are tried at two seeds on two kernel paths. A failed check raises in
    its cell, which the browser records as an error output.
    """
    import cosp_helpers as cosp

    env = {"COSP_SEED": str(cosp.base_seed() + 1)}
    env.update({key: value for key, value in PATHS["generic"].items() if value is not None})
    return env


@dataclass
class NotebookRun:
    """What the browser saw for one notebook."""

    name: str
    seconds: float = 0.0
    finished: bool = False
    code_cells: int = 0
    errors: list[str] = field(default_factory=list)
    widget_outputs: int = 0
    widgets_rendered: int = 0
    widget_problems: list[str] = field(default_factory=list)
    control: str = ""
    figure_changed: bool = False
    font_px: tuple[float, float] = (0.0, 0.0)  # notebook text size before and in presentation mode
    screenshot: Path | None = None
    seed_printed: int | None = None  # the COSP_SEED the set-up cell printed
    failure: str = ""


def _log(message: str) -> None:
    """Append a time-stamped line to build/browser/log.txt (what happened, for a failure's post-mortem)."""
    with open(SCREENSHOTS / "log.txt", "a", encoding="utf-8") as log:
        log.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab server on loopback, stopped by its process id."""

    def __init__(self, workdir: Path) -> None:
        self.root = workdir / "root"
        shutil.copytree(ROOT / "notebooks", self.root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        settings = workdir / "settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        env = dict(os.environ)
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"),
            JUPYTER_CONFIG_DIR=str(workdir / "config"),  # no user configuration
            JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
            MPLBACKEND="module://matplotlib_inline.backend_inline",
        )
        env.update(thread_env(PARALLEL_PAGES))  # two kernels at a time: each gets its share of the cores as threads
        env.update(browser_run_env())
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # JupyterLab refuses to run as root otherwise (e.g. in a container)
        self.log = open(workdir / "jupyterlab.log", "w", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root)
        self._wait_until_up()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_up(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        """SIGTERM by process id (the server then shuts its kernels down); SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


# JavaScript run in the page, against the application object JupyterLab exposes as window.jupyterapp.
_STATE_JS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext.session) return null;
  const cells = panel.content.model.cells;
  let code = 0, done = 0, widgets = 0;
  const errors = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    code += 1;
    if (cell.executionCount !== null) done += 1;
    for (const out of cell.outputs.toJSON()) {
      if (out.output_type === 'error') errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
      if (out.data && out.data['application/vnd.jupyter.widget-view+json']) widgets += 1;
    }
  }
  const kernel = panel.sessionContext.session.kernel;
  return {code, done, widgets, errors, status: kernel ? kernel.status : 'none'};
}
"""

_WIDGET_JS = """
() => {
  // A widget output that rendered holds a live view (.jupyter-widgets) as its direct child; one that
  // failed shows JupyterLab's "Error displaying widget" text, or stays at "Loading widget...".
  const outs = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output');
  let rendered = 0;
  const problems = [];
  outs.forEach((el, k) => {
    const text = el.innerText || '';
    if (text.includes('Error displaying widget') || text.includes('Loading widget')) {
      problems.push(`output ${k}: ${text.slice(0, 80)}`);
    } else if (el.querySelector(':scope > .jupyter-widgets')) {
      rendered += 1;
    }
  });
  return {rendered, problems};
}
"""

_PRESENT_JS = """
() => {
  // What a lecturer does before the class: hide the file browser, switch on View > Presentation Mode.
  // Returns the font size of the notebook's text before and after, in px.
  const app = window.jupyterapp;
  const text = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown p');
  const size = () => parseFloat(getComputedStyle(text).fontSize);
  if (app.shell.presentationMode) app.commands.execute('application:toggle-presentation-mode');  // left on by the previous notebook
  const before = size();
  if (!app.shell.leftCollapsed) app.shell.collapseLeft();
  if (!app.shell.presentationMode) app.commands.execute('application:toggle-presentation-mode');
  return app.shell.presentationMode ? [before, size()] : [before, 0];
}
"""

_FIGURE_JS = """
(control) => {
  const box = control.closest('.widget-vbox');
  const img = box ? box.querySelector('.widget-output img') : null;
  return img ? img.getAttribute('src') : null;
}
"""


_SHUTDOWN_JS = """
async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext) return;
  panel.context.model.dirty = false;  // no "save changes?" prompt when the page moves on
  await panel.sessionContext.shutdown();
}
"""


async def _wait_for_run(page: Page, run: NotebookRun, deadline: float) -> None:
    while time.monotonic() < deadline:
        state = await page.evaluate(_STATE_JS)
        if state is not None:
            run.code_cells = state["code"]
            run.errors = state["errors"]
            run.widget_outputs = state["widgets"]
            if run.errors:
                return  # Run All stops at the first error
            if state["code"] and state["done"] == state["code"] and state["status"] == "idle":
                run.finished = True
                return
        await asyncio.sleep(0.5)
    run.failure = f"not finished within {NOTEBOOK_TIMEOUT_S:.0f} s"


async def _move_first_control(page: Page, run: NotebookRun) -> None:
    """Move the first explorer's first slider (or change its drop-down) and wait for a new figure."""
    scope = ".jp-NotebookPanel:not(.lm-mod-hidden) .widget-vbox .widget-hbox"
    slider = page.locator(f"{scope} .widget-slider").first
    dropdown = page.locator(f"{scope} .widget-dropdown select").first
    if await slider.count():
        control = slider
        await control.scroll_into_view_if_needed()
        handle = control.locator(".noUi-handle").first
        before = await control.element_handle()
        old = await page.evaluate(_FIGURE_JS, before)
        await handle.focus()
        at_max = await handle.evaluate("(h) => h.getAttribute('aria-valuenow') === h.getAttribute('aria-valuemax')")
        await handle.press("ArrowLeft" if at_max else "ArrowRight")  # one step, as a keyboard user would
        run.control = "slider: " + (await control.inner_text()).replace("\n", " ").strip()
    elif await dropdown.count():
        control = dropdown
        await control.scroll_into_view_if_needed()
        before = await control.element_handle()
        old = await page.evaluate(_FIGURE_JS, before)
        options = await control.locator("option").all_inner_texts()
        current = await control.evaluate("(el) => el.options[el.selectedIndex].text")
        choice = options[-1] if options[-1] != current else options[0]  # the far end: the largest change
        await control.select_option(label=choice)
        run.control = f"drop-down: {current} -> {choice}"
    else:
        run.failure = "no slider or drop-down found in an explorer"
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        new = await page.evaluate(_FIGURE_JS, before)
        if new and new != old:
            run.figure_changed = True
            break
        await asyncio.sleep(0.25)
    run.font_px = tuple(await page.evaluate(_PRESENT_JS))
    await page.evaluate("(c) => (c.closest('.widget-vbox') || c).scrollIntoView({block: 'start'})", before)
    await page.wait_for_timeout(500)  # let the layout settle and the new image paint before the screenshot
    run.screenshot = SCREENSHOTS / (Path(run.name).stem + ".png")
    await page.screenshot(path=str(run.screenshot))


_OPEN_JS = """
async (path) => {
  // Open the next notebook in the JupyterLab page that is already loaded, as a learner does from the file
  // browser; the previous notebook (its kernel already shut down, its changes marked as not to be saved) is
  // disposed first, so that the page holds one notebook at a time.
  const app = window.jupyterapp;
  const previous = app.shell.currentWidget;
  if (previous) previous.dispose();
  await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
}
"""


async def _run_notebook(page: Page, server: LabServer, workspace: str, notebook: Path, first: bool) -> NotebookRun:
    """Open ``notebook`` (loading JupyterLab in ``page`` when ``first``, else in the page already loaded), run all
    its cells, and record what the browser shows."""
    run = NotebookRun(notebook.name)
    start = time.monotonic()
    path = f"notebooks/{notebook.name}"
    try:
        _log(f"{notebook.name}: opening")
        if first:
            await page.goto(f"{server.base}/lab/workspaces/{workspace}/tree/{path}?reset&token={server.token}")
        else:
            await page.evaluate(_OPEN_JS, path)
        await page.wait_for_function(
            "(path) => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.context"
            " && window.jupyterapp.shell.currentWidget.context.path === path"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.isReady",
            arg=path,
            timeout=60_000,
        )
        _log(f"{notebook.name}: kernel ready, running all cells")
        await page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        await _wait_for_run(page, run, start + NOTEBOOK_TIMEOUT_S)
        _log(f"{notebook.name}: finished={run.finished} errors={len(run.errors)} {run.failure}")
        if run.finished:
            printed = await page.evaluate(
                "() => { const m = /COSP_SEED = (\\d+)/.exec("
                "[...document.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\\n'));"
                " return m ? Number(m[1]) : null; }"
            )
            run.seed_printed = printed
            for _ in range(40):  # widget views attach asynchronously, just after the kernel goes idle
                seen = await page.evaluate(_WIDGET_JS)
                if seen["problems"] or seen["rendered"] >= _explorers(notebook):
                    break
                await page.wait_for_timeout(250)
            run.widgets_rendered = seen["rendered"]
            run.widget_problems = seen["problems"]
            await _move_first_control(page, run)
            _log(f"{notebook.name}: {run.control}, figure changed: {run.figure_changed}")
    except Exception as exc:  # a broken page must not hide the other notebooks' results
        run.failure = f"{type(exc).__name__}: {exc}"
    finally:
        run.seconds = time.monotonic() - start
        try:  # shut the kernel down, so the next notebook has the core; never save the run's outputs
            await page.evaluate(_SHUTDOWN_JS)
        except Exception as exc:
            _log(f"{notebook.name}: kernel shutdown failed: {exc}")
    return run


async def _run_all(server: LabServer, profile: Path) -> dict[str, NotebookRun]:
    queue: asyncio.Queue[Path] = asyncio.Queue()
    for notebook in BROWSER_NOTEBOOKS:
        queue.put_nowait(notebook)
    results: dict[str, NotebookRun] = {}
    async with async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS,
            viewport={"width": 1400, "height": 900},
        )  # fmt: skip

        async def worker(k: int) -> None:
            page = await context.new_page()
            page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))  # e.g. "leave this page?"
            first = True
            while not queue.empty():
                notebook = queue.get_nowait()
                run = await _run_notebook(page, server, f"w{k}", notebook, first)
                results[notebook.name] = run
                first = bool(run.failure)  # after a broken page, start the next notebook on a fresh load
            await page.close()

        try:
            await asyncio.gather(*(worker(k) for k in range(PARALLEL_PAGES)))
        finally:
            await context.close()
    return results


@pytest.fixture(scope="module")
def browser_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NotebookRun]:
    """Run the chosen notebooks in JupyterLab in headless Chromium once; the tests below read the results."""
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    workdir = tmp_path_factory.mktemp("jupyterlab")
    server = LabServer(workdir)
    start = time.monotonic()
    try:
        results = asyncio.run(_run_all(server, workdir / "chromium-profile"))
    finally:
        server.stop()
    results["__total__"] = NotebookRun("__total__", seconds=time.monotonic() - start)
    # wall-clock time depends on the machine and its load: reported here, budgeted in benchmarks/notebooks.py
    print(f"browser test: {len(BROWSER_NOTEBOOKS)} notebooks in {time.monotonic() - start:.0f} s, {PARALLEL_PAGES} at a time")
    summary = {
        name: {"seconds": round(r.seconds, 1), "control": r.control, "widget outputs": r.widget_outputs,
               "live widgets": r.widgets_rendered}
        for name, r in results.items()
    }  # fmt: skip
    (SCREENSHOTS / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return results


@pytest.mark.parametrize("notebook", BROWSER_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_jupyterlab_without_errors(browser_runs: dict[str, NotebookRun], notebook: Path) -> None:
    run = browser_runs[notebook.name]
    assert not run.failure, run.failure
    assert not run.errors, run.errors
    assert run.finished and run.code_cells > 0
    expected = int(browser_run_env()["COSP_SEED"])
    assert run.seed_printed == expected, f"the set-up cell printed COSP_SEED = {run.seed_printed}, expected {expected}"


def _code(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


def test_the_chosen_notebooks_cover_every_control_the_map_and_training() -> None:
    assert len(BROWSER_NOTEBOOKS) == 4
    code = "\n".join(_code(notebook) for notebook in BROWSER_NOTEBOOKS)
    used = {control for notebook in NOTEBOOKS for control in CONTROLS if control in _code(notebook)}
    assert used == set(CONTROLS), f"the notebooks use {sorted(used)}; CONTROLS lists {CONTROLS}"
    assert all(control in code for control in CONTROLS), [c for c in CONTROLS if c not in code]
    assert "cosp.course.draw_course_map(" in code
    assert "cosp.train(" in code or "cosp.train_ensemble(" in code


def _explorers(notebook: Path) -> int:
    """How many explorers the notebook displays (each is built in a code cell of its own)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum("cosp.Explorer(" in "".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


@pytest.mark.parametrize("notebook", BROWSER_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_widget_renders(browser_runs: dict[str, NotebookRun], notebook: Path) -> None:
    run = browser_runs[notebook.name]
    assert run.finished, run.failure or run.errors
    assert _explorers(notebook) >= 1, "every notebook has at least one explorer"
    assert not run.widget_problems, run.widget_problems
    # Progress bars (tqdm) are widgets too, and close themselves when their loop ends; every explorer
    # stays open, so at least that many live widget views must be on the page.
    assert run.widgets_rendered >= _explorers(notebook), f"{run.widgets_rendered} live widgets on the page"


@pytest.mark.parametrize("notebook", BROWSER_NOTEBOOKS, ids=lambda p: p.stem)
def test_moving_a_control_redraws_the_figure(browser_runs: dict[str, NotebookRun], notebook: Path) -> None:
    run = browser_runs[notebook.name]
    assert run.finished, run.failure or run.errors
    assert run.control, run.failure
    assert run.figure_changed, f"the figure did not change after {run.control}"
    assert run.screenshot is not None and run.screenshot.stat().st_size > 10_000
    before, presenting = run.font_px
    assert presenting > before > 0, f"presentation mode should enlarge the text: {before} px -> {presenting} px"
