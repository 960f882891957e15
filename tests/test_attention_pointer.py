"""Tests for cosp_helpers.attention (the pointer task): the task's labels and graphs, graph recovery on known graphs, the drawing."""

from __future__ import annotations

import itertools
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cosp_helpers.attention import draw_pointer_graph, graph_recovery, pointer_task  # noqa: E402

# --- the task ---------------------------------------------------------------------------------------


def test_pointer_task_labels_match_a_loop():
    task = pointer_task(20, seq_len=7, vocab=6, n_pointers=3, seed=4)
    for i, t in itertools.product(range(20), range(7)):
        values = [task.tokens[i, p, 0] for p in task.parents[i, t]]
        assert task.labels[i, t] == max(values) - min(values)
        assert list(task.tokens[i, t, 1:]) == list(task.parents[i, t])  # the pointers are the token's own fields
        assert len(set(task.parents[i, t])) == 3  # distinct parents


def test_pointer_task_one_pointer_copies_and_seed_is_reproducible():
    task = pointer_task(10, seq_len=5, vocab=4, n_pointers=1, seed=0)
    values = task.tokens[..., 0]
    assert np.array_equal(task.labels, np.take_along_axis(values, task.parents[..., 0], axis=1))
    again = pointer_task(10, seq_len=5, vocab=4, n_pointers=1, seed=0)
    assert np.array_equal(task.tokens, again.tokens)
    assert task.field_sizes == (4, 5)


def test_pointer_task_parents_cover_all_positions():
    # with q = 2 of T = 4 positions, every position is a parent of some row in 2000 sequences (probability ~ 1)
    task = pointer_task(2000, seq_len=4, vocab=3, n_pointers=2, seed=1)
    counts = np.bincount(task.parents.reshape(-1), minlength=4) / task.parents.size
    assert np.allclose(counts, 0.25, atol=0.02)  # uniform; 16 000 draws give a standard error ~0.004


@pytest.mark.parametrize(
    "kwargs, error",
    [({"n": 0}, ValueError), ({"n": 2.5}, TypeError), ({"n": 3, "seq_len": 1}, ValueError),
     ({"n": 3, "vocab": 1}, ValueError), ({"n": 3, "seq_len": 4, "n_pointers": 5}, ValueError),
     ({"n": 3, "seed": -1}, ValueError)],
)
def test_pointer_task_errors(kwargs, error):
    with pytest.raises(error):
        pointer_task(**kwargs)


# --- graph recovery ---------------------------------------------------------------------------------


def test_graph_recovery_on_known_graphs():
    task = pointer_task(50, seq_len=6, vocab=3, n_pointers=2, seed=0)
    truth = np.zeros((50, 6, 6))
    np.put_along_axis(truth, task.parents, 0.5, axis=-1)
    perfect = graph_recovery(truth, task.parents)
    assert perfect.precision == perfect.recall == 1.0
    # attention on the complement of the true edges: nothing recovered
    wrong = (1 - 2 * truth) / 4  # weight 1/4 on each of the 4 non-parents, 0 on the parents
    assert graph_recovery(wrong, task.parents).precision == 0.0
    # uniform attention with a threshold: every edge predicted, recall 1, precision q / T = 1/3
    uniform = np.full((50, 6, 6), 1 / 6)
    r = graph_recovery(uniform, task.parents, threshold=0.1)
    assert r.recall == 1.0 and math.isclose(r.precision, 2 / 6)
    # nothing above the threshold: precision 0 by convention, recall 0
    r = graph_recovery(uniform, task.parents, threshold=0.5)
    assert r.precision == 0.0 and r.recall == 0.0 and np.all(np.isnan(r.per_example_precision))
    # examples without a predicted edge are left out of the precision mean, but count (as 0) in recall
    mixed = np.concatenate([truth[:1], uniform[:1]])
    r = graph_recovery(mixed, task.parents[:2], threshold=0.4)
    assert r.precision == 1.0 and r.recall == 0.5


def test_graph_recovery_hand_example_with_k():
    parents = np.array([[[1, 2], [0, 2], [0, 1]]])
    att = np.array([[[0.1, 0.6, 0.3], [0.5, 0.1, 0.4], [0.2, 0.3, 0.5]]])
    # rows 0 and 1 put their top 2 on the parents; row 2's top 2 are {2, 1}: one hit of 2
    r = graph_recovery(att, parents)
    assert math.isclose(r.precision, 5 / 6) and math.isclose(r.recall, 5 / 6)
    r1 = graph_recovery(att, parents, k=1)  # top-1 of each row is a parent in rows 0 and 1, not in row 2
    assert math.isclose(r1.precision, 2 / 3) and math.isclose(r1.recall, 2 / 6)


def test_graph_recovery_errors():
    parents = np.zeros((2, 3, 1), dtype=int)
    att = np.full((2, 3, 3), 1 / 3)
    with pytest.raises(ValueError, match="attention must"):
        graph_recovery(np.ones((2, 3, 4)), parents)
    with pytest.raises(ValueError, match="parents must have shape"):
        graph_recovery(att, np.zeros((2, 4, 1), dtype=int))
    with pytest.raises(ValueError, match="positions"):
        graph_recovery(att, parents + 3)
    with pytest.raises(TypeError, match="integer"):
        graph_recovery(att, parents.astype(float))
    with pytest.raises(ValueError, match="not both"):
        graph_recovery(att, parents, k=1, threshold=0.2)
    with pytest.raises(ValueError, match="k must"):
        graph_recovery(att, parents, k=4)
    with pytest.raises(ValueError, match="threshold"):
        graph_recovery(att, parents, threshold=0.0)


# --- pictures -------------------------------------------------------------------------------------------


def test_draw_pointer_graph_draws_and_checks_shapes():
    att = np.full((3, 3), 0.1) + np.eye(3)[[1, 2, 0]] * 0.7
    ax = draw_pointer_graph(np.array([[1], [2], [1]]), values=np.array([0, 1, 2]), attention=att)
    assert len(ax.texts) == 9  # 3 values, 3 outputs, 3 position labels
    plt.close("all")
    with pytest.raises(ValueError, match="parents must"):
        draw_pointer_graph(np.array([1, 2]))
    with pytest.raises(ValueError, match="attention must"):
        draw_pointer_graph(np.array([[1], [0]]), attention=np.ones((3, 3)))
