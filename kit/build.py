"""Build the course kit: an nbgrader course in ``build/course/`` with every notebook's teacher version,
student version and autograder.

Usage::

    .venv/bin/python kit/build.py [--out DIR] [NN ...]            # build (all notebooks by default)
    .venv/bin/python kit/build.py --executed DIR [NN ...]         # slides from notebooks already executed into DIR
    .venv/bin/python kit/build.py --no-slides [NN ...]            # the graded part only (about 10 s)
    .venv/bin/python kit/build.py --verify [--out DIR] [NN ...]   # build, then grade three test submissions

The course directory is an ordinary nbgrader course (https://nbgrader.readthedocs.io), so that its commands
(``nbgrader autograde``, ``generate_feedback``, ``export``, ``zip_collect``) work in it unchanged::

    build/course/
      nbgrader_config.py             the course's settings (a generous cell time-out for the training notebooks)
      source/NN_slug/NN_slug.ipynb   teacher version: every worked solution inside its work cell, between
                                     solution markers, and a hidden test in every self-check
      release/NN_slug/NN_slug.ipynb  student version: solutions and hidden tests removed, self-checks kept
      gradebook.db                   the autograder's record of the graded cells and their points
      README.md                      release, collect, grade
      slides/NN_slug.slides.html     every notebook as reveal.js slides, offline (kit/slides.py; vendor/ holds
                                     reveal.js and MathJax); made from the notebooks executed afresh, or from --executed

Every exercise is one point. A self-check is the graded cell: it raises for a wrong answer, and its hidden
test fails while the work cell still holds ``answer = None``, so a blank exercise scores zero as well. At
grading nbgrader restores every graded cell from the teacher version, so a student's edits to a self-check
do not count.

``--verify`` grades, in a scratch copy of the kit, three submissions of each notebook: the teacher version (every
question must score its point), the student version as handed out (every question must score zero) and a
submission with one wrong answer and the other answers right (that question alone must score zero); the exit
status is 1 otherwise.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "build" / "course"
COURSE_ID = "compositional-sparsity"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
WORKED_HEADER = "# Worked solution: expand the cell to read it."
CODE_STUB = "# your work here: set `answer` in the line above"
CELL_TIMEOUT = 1800  # seconds per cell when grading: a training notebook on a slow, busy machine

RELEASE_NOTE = (
    "**Course version.** The worked solutions are not in this copy. Work each exercise in its work cell (the one that sets "
    "`answer`), run the self-check below it, and hand in the notebook as your course asks. Each exercise is one point: the "
    "self-check is what grades it, so a self-check that says *Correct* has earned the point."
)

CONFIG = f'''"""nbgrader settings of the Compositional Sparsity course kit (made by kit/build.py)."""

import os

c = get_config()  # noqa: F821 -- provided by nbgrader when it reads this file
c.CourseDirectory.course_id = "{COURSE_ID}"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))  # this folder, wherever nbgrader is run from
# the training notebooks run for a minute or more; a busy grading machine can be several times slower
c.Execute.timeout = {CELL_TIMEOUT}
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}

# nbclient, which nbgrader uses to run a submission, now and then misses a kernel's reply and waits until the
# time-out (jupyter/nbclient#312): when the repository that made this kit is where it was, use its executor,
# which waits for replies in one-second slices
_kit = {str(ROOT / "kit" / "build.py")!r}
if os.path.exists(_kit):
    import importlib.util
    import sys

    _spec = importlib.util.spec_from_file_location("cosp_kit_build", _kit)
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = _module
    _spec.loader.exec_module(_module)
    _module.use_steady_kernels()
'''

README = """# The course kit

An nbgrader course directory, made by `kit/build.py` from the notebooks. `source/` holds the teacher versions (worked
solutions inside the work cells, hidden tests in the self-checks), `release/` the student versions, `gradebook.db` the
graded cells. Every exercise is worth one point; its self-check is the graded cell.

1. **Release.** Hand out `release/NN_slug/NN_slug.ipynb` (on a JupyterHub with nbgrader's exchange: `nbgrader
   release_assignment NN_slug`; otherwise through your course's site).
2. **Collect.** Put each student's notebook at `submitted/<student id>/NN_slug/NN_slug.ipynb` (`nbgrader collect NN_slug`
   on a hub; `nbgrader zip_collect NN_slug` for the zip file a learning-management system gives you).
3. **Grade.** From this folder: `nbgrader autograde NN_slug` runs every submission in a fresh kernel, locally, with the
   graded cells restored from the teacher version; then `nbgrader generate_feedback NN_slug` writes one HTML report per
   student in `feedback/`, and `nbgrader export` writes all the grades to `grades.csv`.

**Slides.** `slides/NN_slug.slides.html` presents each notebook as reveal.js slides (arrow keys; `S` for the speaker
view, `F` for full screen). They load nothing from the web: copy the `slides/` folder, `vendor/` included, to any machine.

The course environment must be installed where grading runs (`pip install -r requirements.txt` in the repository).
"""


class KitError(ValueError):
    """A notebook whose exercises do not have the shape the kit needs."""


@dataclass
class Exercise:
    number: int
    work: int  # cell indices in the original notebook
    check: int
    solution: int
    note: int | None  # the markdown cell that introduces the worked solution


def exercises(nb: nbformat.NotebookNode, name: str = "notebook") -> list[Exercise]:
    """The exercises of ``nb``: each a work cell, its self-check and its worked solution, in that order."""
    tagged = {"exercise": [], "self-check": [], "solution": []}
    for i, cell in enumerate(nb.cells):
        for tag in tagged:
            if tag in cell.get("metadata", {}).get("tags", []):
                tagged[tag].append(i)
    counts = {tag: len(found) for tag, found in tagged.items()}
    if len(set(counts.values())) != 1 or counts["exercise"] == 0:
        raise KitError(f"{name}: exercises need one cell of each tag, got {counts}")
    found = []
    previous = -1
    for n, (work, check, solution) in enumerate(zip(*tagged.values()), 1):
        if not previous < work < check < solution:
            raise KitError(
                f"{name}, exercise {n}: the cells must go work, self-check, solution, after the exercise before"
            )
        solution_source = nb.cells[solution].source.rstrip().splitlines()
        if not solution_source or not solution_source[-1].startswith("answer = "):
            raise KitError(f"{name}, exercise {n}: the worked solution must end by setting `answer`")
        notes = [
            i
            for i in range(check + 1, solution)
            if nb.cells[i].cell_type == "markdown" and nb.cells[i].source.startswith("**Solution to exercise")
        ]
        found.append(Exercise(n, work, check, solution, notes[0] if notes else None))
        previous = solution
    return found


def _grading(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": grade,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def teacher_version(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """``nb`` as nbgrader's source: each worked solution moved into its work cell between solution markers,
    each self-check a graded cell of one point with a hidden test that fails while ``answer`` is ``None``."""
    found = exercises(nb, name)
    out = copy.deepcopy(nb)
    drop = set()
    for ex in found:
        work, check = out.cells[ex.work], out.cells[ex.check]
        body = [line for line in nb.cells[ex.solution].source.rstrip().splitlines() if line.strip() != WORKED_HEADER]
        work.source = "\n".join([work.source.rstrip(), SOLUTION_BEGIN, *body, SOLUTION_END])
        work.metadata["nbgrader"] = _grading(f"exercise-{ex.number}-work", solution=True, grade=False)
        hidden = (
            f'assert answer is not None, "exercise {ex.number} is not answered: its work cell still sets answer = None"'
        )
        check.source = "\n".join([check.source.rstrip(), HIDDEN_BEGIN, hidden, HIDDEN_END])
        check.metadata["nbgrader"] = _grading(f"exercise-{ex.number}-check", solution=False, grade=True, points=1)
        drop.add(ex.solution)
        if ex.note is not None:
            drop.add(ex.note)
    out.cells = [cell for i, cell in enumerate(out.cells) if i not in drop]
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    title = next(i for i, cell in enumerate(out.cells) if cell.cell_type == "markdown")
    out.cells.insert(title + 1, nbformat.v4.new_markdown_cell(RELEASE_NOTE))
    for i, cell in enumerate(out.cells):  # stable, unique ids for nbgrader's cell bookkeeping
        cell["id"] = f"cell-{i}"
    return out


def use_steady_kernels() -> None:
    """Make nbgrader's executor, in this process, wait for each kernel reply in one-second slices.

    nbgrader executes a notebook with nbclient, which waits for a cell's reply with one ``poll`` as long as the
    cell's time limit; now and then that ``poll`` misses a reply that has arrived (jupyter/nbclient#312), and the
    grading of a notebook stalls, its kernel idle, until the limit. The kernel manager of
    ``benchmarks/notebooks.py`` waits in one-second slices instead, and runs ``python3`` in this environment.
    """
    from nbgrader.preprocessors import execute

    if getattr(execute.Execute, "_steady_kernels", False):
        return
    manager = _load("cosp_benchmark_notebooks", ROOT / "benchmarks" / "notebooks.py").CurrentEnvKernelManager
    original = execute.Execute.__init__

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = manager  # nbgrader would set AsyncKernelManager here
        original(self, *args, **kwargs)

    execute.Execute.__init__ = __init__
    execute.Execute._steady_kernels = True


def _api(course: Path, timeout: int = CELL_TIMEOUT):
    """nbgrader's Python API on the course directory ``course`` (one process: its start-up is paid once), with
    ``timeout`` seconds per cell when it executes a notebook."""
    # nbgrader runs the `alembic` command of its own environment: put this interpreter's scripts on the PATH
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    use_steady_kernels()

    config = Config()
    config.CourseDirectory.root = str(Path(course).resolve())
    config.CourseDirectory.course_id = COURSE_ID
    config.Execute.timeout = timeout
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    return NbGraderAPI(config=config)


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('error', '')}\n{result.get('log', '')[-3000:]}")


def notebook_paths(selection: list[str] | None = None, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """The course's notebooks (``NN_slug.ipynb`` in ``notebooks``), or those whose number or name is in ``selection``."""
    paths = sorted(p for p in Path(notebooks).glob("[0-9][0-9]_*.ipynb"))
    if not selection:
        return paths
    chosen = [p for p in paths if p.stem[:2] in selection or p.stem in selection]
    unknown = set(selection) - {p.stem[:2] for p in chosen} - {p.stem for p in chosen}
    if unknown:
        raise ValueError(
            f"notebooks must be two-digit numbers or names of notebooks/NN_slug.ipynb, got {sorted(unknown)}"
        )
    return chosen


def build(out: Path = DEFAULT_OUT, selection: list[str] | None = None, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Write the course directory ``out`` for the chosen notebooks of the folder ``notebooks``: the teacher and
    student versions are made afresh, anything else already in ``out`` (submissions, grades) is kept; return the
    student versions' paths."""
    out = Path(out)
    paths = notebook_paths(selection, notebooks)
    config = out / "nbgrader_config.py"
    if (
        out.exists()
        and any(p.name != "slides" for p in out.iterdir())  # slides alone: made by kit/slides.py before the kit
        and not (config.exists() and config.read_text().startswith(CONFIG.split("\n")[0]))
    ):
        raise ValueError(f"out must be a new folder or a course kit made before, got {out}, which holds other files")
    # rebuilt: the teacher and student versions; kept: submissions, grades and feedback of an earlier build
    for part in ("source", "release"):
        shutil.rmtree(out / part, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(CONFIG)
    (out / "README.md").write_text(README)
    for path in paths:
        source = out / "source" / path.stem / path.name
        source.parent.mkdir(parents=True)
        nbformat.write(teacher_version(nbformat.read(path, as_version=4), path.name), source)
    api = _api(out)
    for path in paths:
        _check(api.generate_assignment(path.stem, force=True), f"generate_assignment {path.stem}")
    return [out / "release" / path.stem / path.name for path in paths]


# ---- verification: three submissions per notebook, graded by nbgrader ------------------------------------------

WRONG = '''
def _kit_wrong(value):
    """A wrong answer of the same kind as ``value``: numbers moved far, truth values negated, each part changed."""
    import numbers
    import numpy as np
    if isinstance(value, (bool, np.bool_)):
        return not value
    if isinstance(value, numbers.Number) or isinstance(value, np.ndarray):
        return 10 * value + 1
    if isinstance(value, (tuple, list)):
        return type(value)(_kit_wrong(v) for v in value)
    if isinstance(value, dict):
        return {k: _kit_wrong(v) for k, v in value.items()}
    if callable(value):
        return lambda *args: 0
    return "a wrong answer"


answer = _kit_wrong(answer)'''


def submissions(
    teacher: nbformat.NotebookNode, student: nbformat.NotebookNode, wrong: int
) -> dict[str, nbformat.NotebookNode]:
    """The test submissions: ``reference`` (the teacher version), ``blank`` (the student version as handed out), and
    ``wrong`` (the worked answers, with exercise ``wrong`` answered wrongly)."""
    mixed = copy.deepcopy(teacher)
    for cell in mixed.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("solution") and grading["grade_id"] == f"exercise-{wrong}-work":
            cell.source = cell.source.replace(SOLUTION_END, WRONG.strip("\n") + "\n" + SOLUTION_END)
    return {"reference": copy.deepcopy(teacher), "blank": copy.deepcopy(student), "wrong": mixed}


def scores(course: Path, assignment: str, students: list[str]) -> dict[str, dict[int, float]]:
    """Points per student and exercise number, read from the gradebook."""
    from nbgrader.api import Gradebook

    table: dict[str, dict[int, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            notebook = gradebook.find_submission_notebook(assignment, assignment, student)
            table[student] = {int(grade.name.split("-")[1]): float(grade.score) for grade in notebook.grades}
    return table


def verify(course: Path, assignment: str, wrong: int = 1, timeout: int = CELL_TIMEOUT) -> dict:
    """Grade the three submissions of ``assignment`` in ``course`` (built by :func:`build`), with ``timeout`` seconds
    per cell; return the scores, the expected scores and the grading time."""
    teacher = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    student = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    n = len(exercises_of(teacher))
    if not 1 <= wrong <= n:
        raise ValueError(f"wrong must be an exercise number from 1 to {n}, got {wrong}")
    made = submissions(teacher, student, wrong)
    expected_students = list(made)
    for who, nb in made.items():
        path = course / "submitted" / who / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    api = _api(course, timeout)
    start = time.perf_counter()
    for who in expected_students:
        _check(api.autograde(assignment, who, force=True, create=True), f"autograde {assignment} for {who}")
    seconds = time.perf_counter() - start
    expected = {
        "reference": {k: 1.0 for k in range(1, n + 1)},
        "blank": {k: 0.0 for k in range(1, n + 1)},
        "wrong": {k: 0.0 if k == wrong else 1.0 for k in range(1, n + 1)},
    }
    return {"scores": scores(course, assignment, list(expected)), "expected": expected, "seconds": seconds}


def _load(name: str, path: Path):
    """The script at ``path`` loaded as the module ``name`` (once per process)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _slides_module():
    """``kit/slides.py``, loaded as a module."""
    return _load("cosp_kit_slides", Path(__file__).resolve().parent / "slides.py")


def exercises_of(teacher: nbformat.NotebookNode) -> list[str]:
    """The graded cells' ids of a teacher version, in order."""
    return [c.metadata["nbgrader"]["grade_id"] for c in teacher.cells if c.metadata.get("nbgrader", {}).get("grade")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="two-digit numbers or names (default: every notebook)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the course directory (default {DEFAULT_OUT})")
    parser.add_argument(
        "--verify", action="store_true", help="grade a reference, a blank and a wrong submission per notebook"
    )
    parser.add_argument("--no-slides", action="store_true", help="do not make the slides (kit/slides.py)")
    parser.add_argument("--executed", type=Path, help="make the slides from this folder of executed notebooks")
    args = parser.parse_args(argv)
    # notes for nbgrader's and nbformat's developers (cell ids of older notebooks, SQLAlchemy sessions), not for a lecturer
    warnings.filterwarnings("ignore", module="nbformat")
    warnings.filterwarnings("ignore", module="nbgrader")
    try:
        paths = notebook_paths(args.notebooks)
    except ValueError as error:
        parser.error(str(error))
    start = time.perf_counter()
    released = build(args.out, args.notebooks)
    print(
        f"built {args.out} in {time.perf_counter() - start:.1f} s: {len(released)} notebooks, teacher and student versions"
    )
    if not args.no_slides:
        slides = _slides_module()
        start = time.perf_counter()
        how = f"from {args.executed}" if args.executed else "each notebook executed first"
        print(f"making the slides in {args.out / 'slides'} ({how})", flush=True)
        try:
            made = slides.build(args.notebooks, args.executed, args.out / "slides")
        except (ValueError, FileNotFoundError) as error:
            parser.error(str(error))
        count = sum(row["slides"] for row in made.values())
        print(f"slides: {len(made)} notebooks, {count} slides, in {time.perf_counter() - start:.1f} s")
    if not args.verify:
        return 0
    # the test submissions are graded in a copy, so that the kit's gradebook holds only real students
    scratch = Path(tempfile.mkdtemp(prefix="cosp-kit-check-"))
    build(scratch, args.notebooks)
    failures = 0
    print("| notebook | reference | blank | wrong (exercise) | grading time (s) |")
    print("| --- | --- | --- | --- | ---: |")
    for index, path in enumerate(paths):
        teacher = nbformat.read(scratch / "source" / path.stem / path.name, as_version=4)
        wrong = 1 + index % len(exercises_of(teacher))  # every position of a wrong answer is tried across the course
        result = verify(scratch, path.stem, wrong)
        got = result["scores"]
        ok = all(got.get(who) == want for who, want in result["expected"].items())
        failures += not ok
        show = {
            who: " ".join(f"{got.get(who, {}).get(k, float('nan')):g}" for k in sorted(want))
            for who, want in result["expected"].items()
        }
        print(
            f"| {path.stem} | {show['reference']} | {show['blank']} | {show['wrong']} ({wrong}) | {result['seconds']:.0f} |"
            + ("" if ok else " **unexpected**"),
            flush=True,
        )
    shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
