"""The course kit (kit/build.py): the student versions hold no solution and no hidden test, the gradebook gives
one point per exercise, and nbgrader's autograder gives the worked solutions full marks, a blank notebook
zero, and a wrong answer zero for its question.

Every notebook is built and checked for what it contains; two fast notebooks (00 and 11) are graded, with the
three submissions each (about a minute); ``kit/build.py --verify`` grades the whole course the same way.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import nbformat
import pytest

from scripts import load_script

kit = load_script("kit/build.py")

NOTEBOOKS = kit.notebook_paths()
PLANT = f"planted-{uuid.uuid4().hex}"  # a marker no notebook contains, put into every worked solution


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """A copy of the notebooks with a unique marker in every worked solution."""
    folder = tmp_path_factory.mktemp("planted")
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for ex in kit.exercises(nb, path.name):
            cell = nb.cells[ex.solution]
            cell.source = f"# {PLANT}-{path.stem[:2]}-{ex.number}\n{cell.source}"
        nbformat.write(nb, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def course(tmp_path_factory, planted) -> Path:
    out = tmp_path_factory.mktemp("course")
    released = kit.build(out, notebooks=planted)
    assert [p.name for p in released] == [p.name for p in NOTEBOOKS]
    return out


def _released(course: Path, path: Path) -> nbformat.NotebookNode:
    return nbformat.read(course / "release" / path.stem / path.name, as_version=4)


def _solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Lines of the worked solutions that appear nowhere else in the notebook (long enough to be telling)."""
    solutions = {ex.solution for ex in kit.exercises(nb)}
    elsewhere = "\n".join(c.source for i, c in enumerate(nb.cells) if i not in solutions)
    lines = {line.strip() for i in solutions for line in nb.cells[i].source.splitlines()}
    return {line for line in lines if len(line) >= 25 and line not in elsewhere and line != kit.WORKED_HEADER}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_student_version_holds_no_solution_text(course, path) -> None:
    text = (course / "release" / path.stem / path.name).read_text()
    assert PLANT not in text, f"{path.name}: a planted solution marker reached the student version"
    original = nbformat.read(path, as_version=4)
    telling = _solution_lines(original)
    assert len(telling) >= 2, f"{path.name}: too few distinctive solution lines to test"
    released = "\n".join(c.source for c in _released(course, path).cells)
    leaked = [line for line in telling if line in released]
    assert not leaked, f"{path.name}: solution lines in the student version: {leaked[:3]}"
    assert kit.SOLUTION_BEGIN not in text and kit.SOLUTION_END not in text
    assert "Solution to exercise" not in released


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_hidden_tests_are_only_in_the_teacher_version(course, path) -> None:
    teacher = (course / "source" / path.stem / path.name).read_text()
    student = (course / "release" / path.stem / path.name).read_text()
    assert teacher.count(kit.HIDDEN_BEGIN) == len(kit.exercises(nbformat.read(path, as_version=4)))
    for marker in (kit.HIDDEN_BEGIN, kit.HIDDEN_END, "is not answered: its work cell"):
        assert marker in teacher
        assert marker not in student, f"{path.name}: {marker!r} is in the student version"
    assert PLANT in teacher, "the teacher version keeps the worked solutions"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_student_version_keeps_the_exercises_and_self_checks(course, path) -> None:
    original = nbformat.read(path, as_version=4)
    released = _released(course, path)
    sources = [c.source for c in released.cells]
    for ex in kit.exercises(original, path.name):
        assert original.cells[ex.check].source.strip() in sources, (
            f"{path.name}, exercise {ex.number}: self-check changed"
        )
        work = next(
            c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"exercise-{ex.number}-work"
        )
        assert work.source.startswith(original.cells[ex.work].source.rstrip()), (
            "the work cell starts as handed out before"
        )
        assert re.search(r"^answer = None", work.source, re.M)
    assert all(not c.get("outputs") for c in released.cells if c.cell_type == "code"), "outputs are cleared"
    assert kit.RELEASE_NOTE in sources


def test_gradebook_has_one_point_per_exercise(course) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for path in NOTEBOOKS:
            nb = nbformat.read(path, as_version=4)
            count = sum(
                "exercise" in c.metadata.get("tags", []) for c in nb.cells
            )  # counted from the tags, not the kit
            assert count >= 2, f"{path.name}: the anatomy asks for 2-4 exercises"
            notebook = gradebook.find_notebook(path.stem, path.stem)
            assert [(c.name, c.max_score) for c in sorted(notebook.grade_cells, key=lambda c: c.name)] == [
                (f"exercise-{k}-check", 1.0) for k in range(1, count + 1)
            ]
            assert gradebook.find_assignment(path.stem).max_score == count


def test_rebuild_keeps_submissions_and_refuses_a_foreign_folder(tmp_path) -> None:
    out = tmp_path / "course"
    kit.build(out, ["00"])
    kept = out / "submitted" / "someone" / "00_start_here" / "00_start_here.ipynb"
    kept.parent.mkdir(parents=True)
    kept.write_text("{}")
    kit.build(out, ["00"])
    assert kept.exists(), "a rebuild must not delete collected work"
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="out must be a new folder or a course kit"):
        kit.build(other, ["00"])
    assert (other / "notes.txt").exists()


@pytest.mark.parametrize(("number", "wrong"), [("00", 1), ("11", 2)])
def test_grading(course, tmp_path, number, wrong) -> None:
    path = next(p for p in NOTEBOOKS if p.stem.startswith(number))
    grading = tmp_path / "course"
    grading.mkdir()
    for part in ("nbgrader_config.py", "gradebook.db", "source", "release"):
        (shutil.copytree if (course / part).is_dir() else shutil.copy)(course / part, grading / part)
    result = kit.verify(grading, path.stem, wrong, timeout=600)  # these notebooks take seconds; a stuck cell fails here
    assert result["scores"] == result["expected"], f"{path.name}: scores {result['scores']}"
    # the reference runs without an error; the blank one fails only in its graded cells (the removed solutions
    # left nothing that later cells need)
    for who, allowed in (("reference", set()), ("blank", {f"exercise-{k}-check" for k in result["expected"]["blank"]})):
        graded = nbformat.read(grading / "autograded" / who / path.stem / path.name, as_version=4)
        failed = {
            c.metadata.get("nbgrader", {}).get("grade_id", f"cell {i}")
            for i, c in enumerate(graded.cells)
            if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.outputs)
        }
        assert failed <= allowed, f"{path.name}, {who}: errors in {sorted(failed - allowed)}"
    assert "exercise 1 is not answered" in nbformat.writes(
        nbformat.read(grading / "autograded" / "blank" / path.stem / path.name, as_version=4)
    )


def test_malformed_exercises_are_refused() -> None:
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    first = kit.exercises(nb)[0]
    no_answer = nbformat.from_dict(nb)
    no_answer.cells[first.solution].source += "\nprint('done')"
    with pytest.raises(kit.KitError, match="must end by setting `answer`"):
        kit.exercises(no_answer, "x")
    untagged = nbformat.from_dict(nb)
    untagged.cells[first.check].metadata["tags"] = []
    with pytest.raises(kit.KitError, match="one cell of each tag"):
        kit.exercises(untagged, "x")
    with pytest.raises(ValueError, match="notebooks must be two-digit numbers or names"):
        kit.notebook_paths(["99"])


def test_the_kit_command_makes_the_slides_too(executed_notebooks, tmp_path: Path) -> None:
    # one command for the whole kit: the graded course and the slides (kit/slides.py, tested in test_slides.py)
    from notebook_runs import EXECUTED

    assert executed_notebooks["00_start_here.ipynb"].error is None
    out = tmp_path / "course"
    assert kit.main(["--out", str(out), "--executed", str(EXECUTED / "notebooks"), "00"]) == 0
    assert (out / "release" / "00_start_here" / "00_start_here.ipynb").is_file()
    assert (out / "slides" / "00_start_here.slides.html").is_file()
    assert (out / "slides" / "vendor" / "reveal.js" / "dist" / "reveal.js").is_file()
    assert "slides/NN_slug.slides.html" in (out / "README.md").read_text(encoding="utf-8")
    # slides made first by kit/slides.py do not make the folder look foreign to a later build of the kit
    alone = tmp_path / "slides-first"
    (alone / "slides").mkdir(parents=True)
    assert kit.main(["--out", str(alone), "--no-slides", "00"]) == 0
