"""Tests for cosp_helpers.course: the course data, its graph, reading paths and the map."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from cosp_helpers import course
from cosp_helpers.course import (  # noqa: E402
    CONCEPTS,
    COURSE,
    NotebookInfo,
    available_notebooks,
    draw_course_map,
    notebook_filename,
    reading_path,
)

NUMBERS = [info.number for info in COURSE]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _ancestors(number: int) -> set[int]:
    """Reference: every prerequisite of ``number``, directly or transitively, from COURSE alone."""
    by_number = {info.number: info for info in COURSE}
    found, todo = set(), list(by_number[number].prerequisites)
    while todo:
        n = todo.pop()
        if n not in found:
            found.add(n)
            todo.extend(by_number[n].prerequisites)
    return found


def _notebook_labels(ax: Axes) -> dict[int, object]:
    """The map's notebook labels (``"NN  title"``), by notebook number."""
    return {int(t.get_text()[:2]): t for t in ax.texts if re.match(r"^\d\d  ", t.get_text())}


# --- the data ----------------------------------------------------------------------------------


def test_course_numbers_are_0_to_14_in_order():
    assert NUMBERS == list(range(15))
    assert all(isinstance(info, NotebookInfo) for info in COURSE)


def test_course_slugs_titles_and_summaries():
    slugs = [info.slug for info in COURSE]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", slug) for slug in slugs)
    assert len({info.title for info in COURSE}) == len(COURSE)
    assert all(info.title and info.summary and info.seed_sections for info in COURSE)


def test_course_concepts_and_prerequisites_are_consistent():
    assert len(set(CONCEPTS)) == len(CONCEPTS)
    taught = set()
    for info in COURSE:
        assert set(info.concepts) <= set(CONCEPTS), info.number
        assert len(set(info.concepts)) == len(info.concepts)
        assert all(pre < info.number for pre in info.prerequisites), info.number
        assert len(set(info.prerequisites)) == len(info.prerequisites)
        taught |= set(info.concepts)
    assert taught == set(CONCEPTS)  # every concept is taught somewhere
    assert COURSE[0].prerequisites == ()  # the start has no prerequisite
    assert all(info.prerequisites for info in COURSE[1:])  # everything else hangs off it


# --- file names --------------------------------------------------------------------------------


@pytest.mark.parametrize("info", COURSE, ids=[info.slug for info in COURSE])
def test_notebook_filename_format(info):
    name = notebook_filename(info)
    assert name == f"{info.number:02d}_{info.slug}.ipynb"
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", name)


def test_notebook_filename_examples():
    assert notebook_filename(COURSE[0]) == "00_start_here.ipynb"
    assert notebook_filename(COURSE[1]) == "01_curse_of_dimensionality.ipynb"
    assert notebook_filename(COURSE[14]) == "14_open_questions.ipynb"
    assert len({notebook_filename(info) for info in COURSE}) == len(COURSE)


def test_available_notebooks_lists_existing_files(tmp_path):
    for n in (14, 0, 3):
        (tmp_path / notebook_filename(COURSE[n])).write_text("{}")
    (tmp_path / notebook_filename(COURSE[5])).mkdir()  # a folder, not a notebook
    (tmp_path / "1_curse_of_dimensionality.ipynb").write_text("{}")  # wrong number format
    (tmp_path / "02_kolmogorov_arnold_vitushkin.py").write_text("")  # wrong extension
    (tmp_path / "99_extra.ipynb").write_text("{}")  # not in the course
    assert available_notebooks(tmp_path) == [0, 3, 14]
    assert available_notebooks(str(tmp_path)) == [0, 3, 14]


def test_available_notebooks_empty_and_missing_folders(tmp_path):
    assert available_notebooks(tmp_path) == []
    assert available_notebooks(tmp_path / "missing") == []


def test_available_notebooks_all(tmp_path):
    for info in COURSE:
        (tmp_path / notebook_filename(info)).write_text("{}")
    assert available_notebooks(tmp_path) == NUMBERS


# --- the graph ---------------------------------------------------------------------------------


def test_course_graph_structure():
    g = course.graph()
    assert isinstance(g, nx.DiGraph) and nx.is_directed_acyclic_graph(g)
    kinds = dict(g.nodes(data="kind"))
    assert sorted(n for n, k in kinds.items() if k == "notebook") == NUMBERS
    assert {n for n, k in kinds.items() if k == "concept"} == set(CONCEPTS)
    assert g.number_of_nodes() == len(COURSE) + len(CONCEPTS)
    for info in COURSE:
        node = g.nodes[info.number]
        assert (node["title"], node["summary"], node["available"]) == (info.title, info.summary, True)
        assert {u for u, _, k in g.in_edges(info.number, data="kind") if k == "prerequisite"} == set(info.prerequisites)
        assert {v for _, v, k in g.out_edges(info.number, data="kind") if k == "teaches"} == set(info.concepts)
    for u, v, kind in g.edges(data="kind"):
        if kind == "prerequisite":
            assert kinds[u] == kinds[v] == "notebook" and u < v
        else:
            assert kind == "teaches" and kinds[u] == "notebook" and kinds[v] == "concept"
    assert g.number_of_edges() == sum(len(i.prerequisites) + len(i.concepts) for i in COURSE)


@pytest.mark.parametrize("available", [[0, 1, 4], (2,), {14, 0}, range(3), iter([5, 6]), []])
def test_course_graph_available_flag(available):
    wanted = set(available) if not hasattr(available, "__next__") else {5, 6}
    g = course.graph(available)
    flags = {n: g.nodes[n]["available"] for n in NUMBERS}
    assert flags == {n: n in wanted for n in NUMBERS}


@pytest.mark.parametrize("available, unknown", [([15], r"\[15\]"), ([0, -1, 20], r"\[-1, 20\]"), (["1"], r"\['1'\]")])
def test_course_graph_rejects_unknown_numbers(available, unknown):
    with pytest.raises(ValueError, match=rf"available must hold notebook numbers 0\.\.14, got unknown {unknown}"):
        course.graph(available)


# --- reading paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("number", NUMBERS)
def test_reading_path_is_a_valid_order_of_all_prerequisites(number):
    path = reading_path(number)
    assert path[-1] == number
    assert len(path) == len(set(path))
    assert set(path) == _ancestors(number) | {number}
    prerequisites = {info.number: info.prerequisites for info in COURSE}
    for i, n in enumerate(path):
        assert set(prerequisites[n]) <= set(path[:i])  # topologically valid


@pytest.mark.parametrize("number, expected", [(0, [0]), (1, [0, 1]), (6, [0, 1, 2, 3, 4, 5, 6]), (4, [0, 1, 2, 3, 4])])
def test_reading_path_examples(number, expected):
    assert reading_path(number) == expected


def test_reading_path_accepts_numpy_ints():
    import numpy as np

    assert reading_path(np.int64(2)) == [0, 1, 2]


@pytest.mark.parametrize(
    "number, error, match",
    [
        (-1, ValueError, "number must be >= 0"),
        (15, ValueError, "number must be <= 14"),
        (1.0, TypeError, "number must be an int"),
        (True, TypeError, "number must be an int"),
        ("3", TypeError, "number must be an int"),
    ],
)
def test_reading_path_errors(number, error, match):
    with pytest.raises(error, match=match):
        reading_path(number)


# --- the map -----------------------------------------------------------------------------------


def test_draw_course_map_one_text_per_node():
    rc_before = {k: repr(v) for k, v in plt.rcParams.items()}
    ax = draw_course_map()
    assert isinstance(ax, Axes)
    g = course.graph()
    assert len(ax.texts) == g.number_of_nodes()
    texts = {t.get_text() for t in ax.texts}
    assert set(CONCEPTS) <= texts
    assert {f"{info.number:02d}  {info.title}" for info in COURSE} <= texts
    assert not ax.axison
    assert {k: repr(v) for k, v in plt.rcParams.items()} == rc_before


def test_draw_course_map_on_given_axes_and_greyed_notebooks():
    _, ax = plt.subplots()
    out = draw_course_map(course.graph(available=[0, 1, 2]), ax=ax)
    assert out is ax
    labels = _notebook_labels(ax)
    assert sorted(labels) == NUMBERS
    for n, text in labels.items():
        assert text.get_color() == ("black" if n in (0, 1, 2) else "#888888")


@pytest.mark.parametrize("highlight", [reading_path(6), tuple(reading_path(6)), set(reading_path(6))])
def test_draw_course_map_highlight_sets_bold_labels(highlight):
    ax = draw_course_map(highlight=highlight)
    labels = _notebook_labels(ax)
    bold = {n for n, text in labels.items() if text.get_fontweight() == "bold"}
    assert bold == {0, 1, 2, 3, 4, 5, 6}
    assert len(ax.texts) == len(COURSE) + len(CONCEPTS)


def test_draw_course_map_without_highlight_has_no_bold_label():
    labels = _notebook_labels(draw_course_map())
    assert all(text.get_fontweight() == "normal" for text in labels.values())


def test_draw_course_map_highlight_from_a_generator():
    ax = draw_course_map(highlight=(n for n in reading_path(6)))
    bold = {n for n, text in _notebook_labels(ax).items() if text.get_fontweight() == "bold"}
    assert bold == {0, 1, 2, 3, 4, 5, 6}


def test_draw_course_map_rejects_non_axes():
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None"):
        draw_course_map(ax="not axes")
