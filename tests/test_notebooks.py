"""Structure of every notebook in notebooks/: the anatomy that DESIGN calls for, checked statically.

Running the notebooks is ``test_execution.py``'s job; these tests check what can be seen without
running them: no stored outputs, the required sections, the public API
only, at least one checked result, exercises with hidden solutions that call their self-check, and
a static fallback after every widget.
"""

from __future__ import annotations

import ast
import json
import inspect
import re
from pathlib import Path

import nbformat
import pytest

import cosp_helpers as cosp

ROOT = Path(__file__).resolve().parents[1]
# the course notebooks only, as the browser and book tests and the robustness runner glob them: a stray
# notebook (a learner's copy, "Untitled.ipynb") in notebooks/ neither breaks nor widens the run
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
COURSE_NOTEBOOK = re.compile(r"\d\d_\w+\.ipynb")  # as conftest.py's collection rule: no "-Copy1"
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob(NOTEBOOK_PATTERN) if COURSE_NOTEBOOK.fullmatch(p.name))
SEEDING_CALLS = {"default_rng", "manual_seed", "seed_everything", "RandomState", "seed", "SeedSequence"}
REQUIRED_HEADINGS = ("## Set-up", "## Exercises", "## Key takeaways", "## References", "## Where next")
EXERCISE_TAGS = {"exercise", "self-check", "solution"}


def _load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _headings(nb: nbformat.NotebookNode) -> list[str]:
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines += [line.strip() for line in cell.source.splitlines() if line.startswith("#")]
    return lines


def _info(path: Path) -> cosp.course.NotebookInfo:
    match = re.fullmatch(r"(\d\d)_(\w+)\.ipynb", path.name)
    assert match, f"{path.name} is not named NN_slug.ipynb"
    info = cosp.course.COURSE[int(match.group(1))]
    assert cosp.course.notebook_filename(info) == path.name, f"{path.name} does not match the course table"
    return info


def test_the_first_two_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"00_start_here.ipynb", "01_curse_of_dimensionality.ipynb"} <= names


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request: pytest.FixtureRequest) -> tuple[Path, nbformat.NotebookNode]:
    path = request.param
    nb = _load(path)
    nbformat.validate(nb)
    return path, nb


def test_no_stored_outputs(notebook) -> None:
    path, nb = notebook
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them before committing"


def test_every_cell_has_a_unique_id(notebook) -> None:
    # nbformat 4.5 requires cell ids (nbformat warns, and will refuse, without them); the course kit and the slides
    # name cells by them
    path, _ = notebook
    ids = [cell.get("id") for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]  # as stored: nbformat
    # fills in missing ids when it reads a notebook
    assert all(ids) and len(set(ids)) == len(ids), f"{path.name}: cells without an id or with a repeated one"


def test_kernel_is_python3(notebook) -> None:
    path, nb = notebook
    assert nb.metadata["kernelspec"]["name"] == "python3", path.name


def test_title_and_front_matter(notebook) -> None:
    path, nb = notebook
    info = _info(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith(f"# {info.number:02d} · {info.title}"), f"{path.name}: title must be '# {info.number:02d} · {info.title}'"
    for part in ("**Learning objectives.**", "**Prerequisites.**", "**Sources.**"):
        assert part in first.source, f"{path.name}: the first cell lacks {part}"


def test_required_sections_in_order(notebook) -> None:
    path, nb = notebook
    headings = _headings(nb)
    positions = []
    for wanted in REQUIRED_HEADINGS:
        found = [i for i, h in enumerate(headings) if h == wanted]
        assert found, f"{path.name}: missing the heading {wanted!r}"
        positions.append(found[0])
    assert positions == sorted(positions), f"{path.name}: sections out of order: {REQUIRED_HEADINGS}"


def test_setup_cell_imports_and_seeds(notebook) -> None:
    path, nb = notebook
    setup = _code(nb)[0].source
    assert "import cosp_helpers as cosp" in setup, f"{path.name}: the set-up cell must import cosp_helpers as cosp"
    assert "cosp.seed_everything(SEED)" in setup, f"{path.name}: the set-up cell must seed once, from SEED"
    assert "SEED = cosp.base_seed()" in setup, f"{path.name}: the set-up cell must read COSP_SEED as SEED"
    assert "cosp.versions()" in setup, f"{path.name}: the set-up cell must print versions"
    seeds = sum(c.source.count("seed_everything(") for c in _code(nb))
    assert seeds == 1, f"{path.name}: seed once, in the set-up cell (found {seeds} calls)"


def test_only_the_public_api(notebook) -> None:
    # cosp.<core name> or cosp.<namespace>.<name in that namespace's __all__>; never a private name
    path, nb = notebook
    public = set(cosp.__all__) | set(cosp.NAMESPACES)
    for cell in _code(nb):
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cosp_helpers"):
                pytest.fail(f"{path.name}: `from {node.module} import ...`; use `import cosp_helpers as cosp`")
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("cosp_helpers"):
                        assert alias.name == "cosp_helpers" and alias.asname == "cosp", f"{path.name}: import {alias.name}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "cosp":
                assert node.attr in public, f"{path.name}: cosp.{node.attr} is neither a core name nor a namespace"
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                    and isinstance(node.value.value, ast.Name) and node.value.value.id == "cosp"
                    and node.value.attr in cosp.NAMESPACES):
                namespace = getattr(cosp, node.value.attr)
                assert node.attr in namespace.__all__, f"{path.name}: cosp.{node.value.attr}.{node.attr} is not public"


def _calls(cell: nbformat.NotebookNode) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Call)]


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _is_literal_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def test_at_least_one_checked_result(notebook) -> None:
    # every notebook with an experiment checks a claim (cosp.check); 00, which has none, checks its course map (cosp.sanity)
    path, nb = notebook
    body = [c for c in _code(nb) if not (_tags(c) & EXERCISE_TAGS)]
    kinds = {ast.unparse(call.func) for c in body for call in _calls(c)} & {"cosp.check", "cosp.sanity"}
    wanted = {"cosp.sanity"} if path.name.startswith("00_") else {"cosp.check"}
    assert wanted <= kinds, f"{path.name}: no {' or '.join(wanted)} outside the exercises"


def test_every_check_goes_through_the_check_helper(notebook) -> None:
    # a bare assert prints nothing and names no claim; experiments use cosp.check, identities cosp.sanity
    path, nb = notebook
    for i, cell in enumerate(_code(nb)):
        if _tags(cell) & EXERCISE_TAGS:
            continue
        asserts = [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Assert)]
        assert not asserts, f"{path.name}, code cell {i}: bare assert on line {asserts[0].lineno}; use cosp.check or cosp.sanity"


def test_every_claim_says_where_its_tolerance_comes_from(notebook) -> None:
    path, nb = notebook
    for cell in _code(nb):
        for call in _calls(cell):
            if ast.unparse(call.func) == "cosp.check":
                assert any(k.arg == "basis" for k in call.keywords), f"{path.name}: cosp.check without basis=: {ast.unparse(call)[:80]}"


def test_no_literal_seed(notebook) -> None:
    # every seed is COSP_SEED-derived (SEED, SEEDS[i], cosp.derive_seed(k)), so that one variable moves every draw
    path, nb = notebook
    for cell in _code(nb):
        for call in _calls(cell):
            literal = [k for k in call.keywords if k.arg == "seed" and _is_literal_number(k.value)]
            assert not literal, f"{path.name}: literal seed in {ast.unparse(call)[:80]}; use cosp.derive_seed(...) or SEEDS[i]"
            if _callee(call) in SEEDING_CALLS and ast.unparse(call.func) != "cosp.derive_seed":
                assert not any(_is_literal_number(a) for a in call.args), (
                    f"{path.name}: literal seed in {ast.unparse(call)[:80]}; use cosp.derive_seed(...)")


def test_every_random_helper_gets_its_seed(notebook) -> None:
    # a cosp function that draws random numbers takes seed=; leaving it at its default would not follow COSP_SEED
    path, nb = notebook
    for cell in _code(nb):
        for call in _calls(cell):
            if not (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.func.value.id == "cosp"):
                continue
            target = getattr(cosp, call.func.attr, None)
            try:
                params = list(inspect.signature(target).parameters)
            except (TypeError, ValueError):
                continue
            if "seed" not in params or any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
                continue
            passed = any(k.arg == "seed" for k in call.keywords) or len(call.args) > params.index("seed")
            assert passed, f"{path.name}: {ast.unparse(call)[:80]} leaves seed= at its default; pass a derived seed"


def test_exercises_have_self_checks_and_hidden_solutions(notebook) -> None:
    path, nb = notebook
    cells = nb.cells
    starts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("### Exercise")]
    assert 2 <= len(starts) <= 4, f"{path.name}: {len(starts)} exercises; the anatomy asks for 2-4"
    for n, start in enumerate(starts, 1):
        assert cells[start].source.startswith(f"### Exercise {n}:"), f"{path.name}: exercises must be numbered 1, 2, ..."
        stop = starts[n] if n < len(starts) else len(cells)
        code = [c for c in cells[start:stop] if c.cell_type == "code"]
        by_tag = {tag: [c for c in code if tag in _tags(c)] for tag in EXERCISE_TAGS}
        for tag, found in by_tag.items():
            assert len(found) == 1, f"{path.name}, exercise {n}: expected one cell tagged {tag!r}, got {len(found)}"
        learner, check, solution = by_tag["exercise"][0], by_tag["self-check"][0], by_tag["solution"][0]
        assert re.search(r"^answer = None", learner.source, re.M), f"{path.name}, exercise {n}: the work cell must run as given"
        assert "check_answer(" in check.source or "NOT_ANSWERED" in check.source, f"{path.name}, exercise {n}: no self-check"
        assert "check_answer(" in solution.source, f"{path.name}, exercise {n}: the solution must pass through check_answer"
        # the course kit moves the solution into the work cell of the teacher's version, and grades what it leaves in `answer`
        assert re.search(r"^answer = \S", solution.source.rstrip().splitlines()[-1]), (
            f"{path.name}, exercise {n}: the solution must end by setting `answer`, as the work cell would")
        assert solution.metadata.get("jupyter", {}).get("source_hidden") is True, f"{path.name}, exercise {n}: hide the solution"
        # ...and in the book too, where the tag "hide-input" collapses a cell's source behind a toggle
        assert "hide-input" in solution.metadata.get("tags", []), f"{path.name}, exercise {n}: tag the solution 'hide-input'"
        order = [code.index(learner), code.index(check), code.index(solution)]
        assert order == sorted(order), f"{path.name}, exercise {n}: cells must go work, self-check, solution"


def test_every_widget_has_a_static_fallback(notebook) -> None:
    path, nb = notebook
    code = _code(nb)
    built = [i for i, c in enumerate(code) if "cosp.Explorer(" in c.source]
    assert built, f"{path.name}: the anatomy asks for at least one widget"
    for i in built:
        name = re.search(r"^(\w+)\s*=\s*cosp\.Explorer\(", code[i].source, re.M)
        assert name, f"{path.name}: assign the explorer to a variable so that it can be timed and redrawn"
        following = code[i + 1].source if i + 1 < len(code) else ""
        assert f"{name.group(1)}.show_static()" in following, f"{path.name}: follow {name.group(1)} with a static call"


def test_every_figure_is_shown_with_alt_text(notebook) -> None:
    # cosp.show attaches the one-line text alternative; plt.show, fig.show and a figure left for the inline
    # backend to show at the end of a cell would not (test_execution checks the executed outputs too)
    path, nb = notebook
    for cell in _code(nb):
        for call in _calls(cell):
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "show" and ast.unparse(func.value) != "cosp":
                raise AssertionError(f"{path.name}: {ast.unparse(call)} shows a figure without alt text; use cosp.show")
            if ast.unparse(func) in ("cosp.show", "cosp.Explorer"):
                assert any(k.arg == "alt" for k in call.keywords), f"{path.name}: {ast.unparse(call)[:80]} has no alt"


COLOUR_KEYWORDS = {"color", "colors", "c", "facecolor", "edgecolor", "fc", "ec", "mfc", "mec", "markerfacecolor",
                   "markeredgecolor", "colour"}  # fmt: skip


def _safe_colour(value: str) -> bool:
    """A colour of the lecture palette (C0-C7 or its hex codes), a grey, or no colour."""
    import matplotlib.colors as mcolors

    if value.lower() == "none" or re.fullmatch(r"C[0-7]", value):
        return True
    if value.upper() in {h.upper() for h in cosp.plotting.OKABE_ITO.values()}:
        return True
    try:
        r, g, b = mcolors.to_rgb(value)
    except ValueError:
        return False
    return r == g == b


def test_every_colour_is_colour_blind_safe(notebook) -> None:
    # literal colours are the palette's or greys, and colour maps come from cosp.plotting.COLOUR_MAPS
    # (tests/test_plotting.py checks both under simulated protanopia, deuteranopia and tritanopia)
    path, nb = notebook
    for cell in _code(nb):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.keyword) and node.arg in COLOUR_KEYWORDS | {"cmap"}:
                values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
                for value in values:
                    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                        continue  # a variable: its literal is checked where it is written
                    if node.arg == "cmap":
                        assert value.value in cosp.plotting.COLOUR_MAPS, f"{path.name}: colour map {value.value!r}"
                    else:
                        assert _safe_colour(value.value), f"{path.name}: colour {value.value!r} is not in the palette"
            if isinstance(node, ast.Dict):  # colour tables such as {"tree": "C0", ...}
                for value in node.values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        if re.fullmatch(r"#[0-9A-Fa-f]{6}|C\d|tab:\w+|(?:red|green|blue|orange|purple)", value.value):
                            assert _safe_colour(value.value), f"{path.name}: colour {value.value!r} in a table"


def test_the_colour_rule_rejects_colours_outside_the_palette() -> None:
    assert all(_safe_colour(c) for c in ("C0", "C7", "#0072b2", "k", "black", "white", "0.5", "#999999", "none"))
    assert not any(_safe_colour(c) for c in ("C8", "red", "tab:green", "#00FF00", "orange", "not a colour"))


def test_links_to_notebooks_resolve_or_say_in_preparation(notebook) -> None:
    path, nb = notebook
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", line):
                assert target in {cosp.course.notebook_filename(info) for info in cosp.course.COURSE}, f"{path.name}: link to {target}"
                if not (path.parent / target).exists():
                    assert "(in preparation)" in line, f"{path.name}: {target} does not exist yet; say '(in preparation)'"



def test_stray_notebooks_are_not_collected(tmp_path) -> None:
    # a learner's scratch notebook and JupyterLab's copy are neither structure-checked nor executed by the
    # test session, nor collected when nbval is run on notebooks/ (as the Binder check does)
    import subprocess
    import sys

    from notebook_runs import course_notebooks

    names = ["Untitled.ipynb", "04_deep_vs_shallow-Copy1.ipynb", "scratch.ipynb"]
    strays = [ROOT / "notebooks" / name for name in names]
    assert not any(p.exists() for p in strays)
    try:
        for stray in strays:
            stray.write_text("not a notebook")  # would fail to parse if collected
        assert not any(p.name in names for p in sorted((ROOT / "notebooks").glob(NOTEBOOK_PATTERN)) if COURSE_NOTEBOOK.fullmatch(p.name))
        assert [p.name for p in course_notebooks()] == [p.name for p in NOTEBOOKS]
        listed = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "--nbval-lax", "notebooks"], cwd=ROOT,
                                capture_output=True, text=True, check=False).stdout
        assert "Untitled" not in listed and "Copy1" not in listed and "scratch" not in listed
        assert "00_start_here.ipynb" in listed
    finally:
        for stray in strays:
            stray.unlink(missing_ok=True)
