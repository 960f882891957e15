"""Tests for cosp_helpers.circuits (Boolean circuits and spectra): circuits checked against integer arithmetic, the fast transform
against the explicit character sum, spectra against closed forms, and the counting bound against
exhaustive enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from cosp_helpers import circuits
from cosp_helpers.circuits import (
    Circuit,
    boolean_cube,
    boolean_families,
    character_matrix,
    comparator_circuit,
    degree_weights,
    energy_count,
    fourier_degree,
    function_table,
    gate_function,
    gate_names,
    parity_circuit,
    relu_node_weights,
    ripple_carry_adder,
    shannon_gate_bound,
    spectrum_summary,
    subset_sizes,
    tree_circuit,
    truth_table,
    walsh_hadamard,
)
from cosp_helpers.circuits import constituent_dimensions, evaluate_graph, graph_depth, graph_inputs

# Summing 2^n terms of size <= 1 in floating point errs by at most about n * 2^n * eps before the
# division by 2^n, i.e. ~ n * 1e-16; 1e-12 leaves a wide margin and still catches any wrong sign.
ATOL = 1e-12


def _integers(bits: np.ndarray) -> np.ndarray:
    """Rows of bits (least significant first) as integers."""
    return (bits.astype(np.int64) << np.arange(bits.shape[1])).sum(axis=1)


# --- gates and circuits -------------------------------------------------------------------------

REFERENCE_GATES = {
    "and": lambda a, b: a and b,
    "or": lambda a, b: a or b,
    "xor": lambda a, b: a != b,
    "nand": lambda a, b: not (a and b),
    "nor": lambda a, b: not (a or b),
    "xnor": lambda a, b: a == b,
    "andnot": lambda a, b: a and not b,
    "ornot": lambda a, b: a or not b,
}


@pytest.mark.parametrize("name", list(REFERENCE_GATES))
def test_two_input_gates_match_their_truth_tables(name):
    a = np.array([0, 0, 1, 1], dtype=np.uint8)
    b = np.array([0, 1, 0, 1], dtype=np.uint8)
    expected = [int(REFERENCE_GATES[name](bool(p), bool(q))) for p, q in zip(a, b)]
    assert gate_function(name)(a, b).tolist() == expected


def test_not_gate_and_gate_names():
    assert gate_function("not")(np.array([0, 1], dtype=np.uint8)).tolist() == [1, 0]
    assert set(gate_names()) == set(REFERENCE_GATES) | {"not"}
    with pytest.raises(ValueError, match="gate must be one of"):
        gate_function("mux")


@pytest.mark.parametrize("k", range(1, 6))
@pytest.mark.parametrize("carry_in", [True, False])
def test_ripple_carry_adder_adds_exhaustively(k, carry_in):
    c = ripple_carry_adder(k, carry_in=carry_in)
    bits = boolean_cube(c.n_inputs, pm1=False)
    a, b = _integers(bits[:, :k]), _integers(bits[:, k : 2 * k])
    cin = bits[:, 2 * k].astype(np.int64) if carry_in else 0
    assert np.array_equal(_integers(c.evaluate(bits)), a + b + cin)
    assert c.n_gates == (5 * k if carry_in else 5 * k - 3)
    assert c.outputs == tuple(f"s{i}" for i in range(k)) + ("cout",)


@pytest.mark.parametrize("k", range(1, 7))
def test_comparator_compares_exhaustively(k):
    c = comparator_circuit(k)
    bits = boolean_cube(2 * k, pm1=False)
    assert np.array_equal(c.evaluate(bits)[:, 0], (_integers(bits[:, :k]) >= _integers(bits[:, k:])).astype(np.uint8))
    assert c.n_gates == 4 * k - 3


@pytest.mark.parametrize("n", range(2, 11))
def test_parity_and_tree_circuits(n):
    c = parity_circuit(n)
    assert c.n_gates == n - 1 and c.depth() == math.ceil(math.log2(n))
    assert np.array_equal(c.truth_table(), np.prod(boolean_cube(n), axis=1).astype(float))
    t = tree_circuit(n, "and")
    # AND (True = -1): -1 only on the all-ones input
    assert np.array_equal(t.truth_table(), function_table("and", n))


def test_tree_circuit_random_gates_are_seeded():
    a = tree_circuit(9, "random", seed=3)
    b = tree_circuit(9, "random", seed=np.random.default_rng(3))
    assert [op for _, op, _ in a.gates] == [op for _, op, _ in b.gates]
    ops = {op for s in range(20) for _, op, _ in tree_circuit(9, "random", seed=s).gates}
    assert ops == set(REFERENCE_GATES)
    listed = tree_circuit(3, ["xor", "and"])
    assert [op for _, op, _ in listed.gates] == ["xor", "and"]


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((1,), {}, "n_inputs must be >= 2"),
        ((4, "mux"), {}, "gates must be 'random' or one of"),
        ((4, ["and", "or"]), {}, "gates must name 3 gates"),
        ((3, ["and", "not"]), {}, "gates must be 2-input gates"),
    ],
)
def test_tree_circuit_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tree_circuit(*args, **kwargs)


def test_circuit_graph_is_the_compositional_graph_of_the_output():
    c = ripple_carry_adder(3)
    g = c.to_graph("cout")
    dims = constituent_dimensions(g)
    assert max(dims.values()) == 2
    assert graph_inputs(g) == c.inputs  # the carry-out depends on every input
    functions = {v: gate_function(g.nodes[v]["gate"]) for v in dims}
    bits = boolean_cube(c.n_inputs, pm1=False).astype(np.uint8)
    assert np.array_equal(evaluate_graph(g, functions, bits), c.evaluate(bits)[:, -1])
    assert g.nodes["cout"]["label"] == "OR"
    p = parity_circuit(8)
    assert graph_depth(p.to_graph()) == p.depth() == 3


def test_circuit_cone_drops_unused_inputs():
    c = Circuit(3)
    g1 = c.add("and", "x1", "x2")
    c.set_outputs(g1)
    assert graph_inputs(c.to_graph()) == ("x1", "x2")


def test_circuit_names_and_repr():
    c = Circuit(2)
    assert c.inputs == ("x1", "x2")
    first = c.add("not", "x1")
    second = c.add("or", first, "x2", name="out")
    assert (first, second) == ("g1", "out")
    c.set_outputs("out", "x1")
    assert c.evaluate(np.array([[0, 0], [1, 0]])).tolist() == [[1, 0], [0, 1]]
    assert "2 gates" in repr(c)


@pytest.mark.parametrize(
    "inputs, error, match",
    [
        (0, ValueError, "inputs must be >= 1"),
        ([], ValueError, "distinct non-empty strings"),
        (["a", "a"], ValueError, "distinct non-empty strings"),
        (["a", 3], ValueError, "distinct non-empty strings"),
        ("ab", TypeError, "inputs must be an int or a sequence"),
        (2.0, TypeError, "inputs must be an int or a sequence"),
        (True, TypeError, "inputs must be an int or a sequence"),
    ],
)
def test_circuit_constructor_errors(inputs, error, match):
    with pytest.raises(error, match=match):
        Circuit(inputs)


def test_circuit_add_errors():
    c = Circuit(["a", "b"])
    with pytest.raises(ValueError, match="op must be one of"):
        c.add("mux", "a", "b")
    with pytest.raises(ValueError, match="takes 2 input"):
        c.add("and", "a")
    with pytest.raises(ValueError, match="takes 1 input"):
        c.add("not", "a", "b")
    with pytest.raises(ValueError, match="'z' is not an input or an earlier gate"):
        c.add("and", "a", "z")
    with pytest.raises(ValueError, match="inputs must differ"):
        c.add("xor", "a", "a")
    with pytest.raises(ValueError, match="name must be a new non-empty string"):
        c.add("and", "a", "b", name="a")
    with pytest.raises(ValueError, match="name must be a new non-empty string"):
        c.add("and", "a", "b", name="")


def test_circuit_evaluate_and_output_errors():
    c = Circuit(2)
    g = c.add("and", "x1", "x2")
    with pytest.raises(ValueError, match="no outputs"):
        c.evaluate(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="at least one name"):
        c.set_outputs()
    with pytest.raises(ValueError, match="unknown"):
        c.set_outputs("y")
    c.set_outputs(g, "x1")
    with pytest.raises(TypeError, match="bits must be a numpy array"):
        c.evaluate([[0, 1]])
    with pytest.raises(ValueError, match=r"shape \(B, 2\)"):
        c.evaluate(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        c.evaluate(np.array([[0, 2]]))
    with pytest.raises(ValueError, match="say which one"):
        c.truth_table()
    with pytest.raises(ValueError, match="output must be one of"):
        c.truth_table("g9")
    with pytest.raises(ValueError, match="is an input"):
        c.to_graph("x1")
    big = Circuit(25)
    big.set_outputs(big.add("and", "x1", "x2"))
    with pytest.raises(ValueError, match="must be <= 24"):
        big.truth_table()


# --- the cube, truth tables and the transform ---------------------------------------------------


@pytest.mark.parametrize("n", range(0, 7))
def test_boolean_cube(n):
    bits = boolean_cube(n, pm1=False)
    x = boolean_cube(n)
    assert bits.shape == x.shape == (2**n, n)
    assert np.array_equal(x, 1 - 2 * bits)
    assert np.array_equal(_integers(bits) if n else np.zeros(1, dtype=np.int64), np.arange(2**n))


def test_boolean_cube_errors():
    with pytest.raises(ValueError, match="n must be >= 0"):
        boolean_cube(-1)
    with pytest.raises(ValueError, match="n must be <= 24"):
        boolean_cube(25)


def test_truth_table_and_errors():
    assert truth_table(lambda x: x[:, 0] * x[:, 2], 3).tolist() == [1, -1, 1, -1, -1, 1, -1, 1]
    with pytest.raises(TypeError, match="func must be callable"):
        truth_table(3, 2)
    with pytest.raises(ValueError, match=r"return shape \(4,\)"):
        truth_table(lambda x: x, 2)


@pytest.mark.parametrize("n", range(0, 11))
def test_fast_transform_equals_the_explicit_character_sum(n):
    f = np.random.default_rng(n).normal(size=2**n)
    explicit = character_matrix(n) @ f / 2**n
    np.testing.assert_allclose(walsh_hadamard(f), explicit, rtol=0, atol=ATOL)


def test_transform_is_its_own_inverse_up_to_scale_and_works_on_batches():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(3, 5, 64))
    coeffs = walsh_hadamard(f)
    assert coeffs.shape == f.shape
    np.testing.assert_allclose(walsh_hadamard(coeffs) * 64, f, rtol=0, atol=ATOL)  # H H = 2^n I
    np.testing.assert_allclose(coeffs[1, 2], walsh_hadamard(f[1, 2]), rtol=0, atol=0)


def test_fourier_expansion_reconstructs_the_function():
    f = function_table("random", 6, seed=2)
    coeffs = walsh_hadamard(f)
    x = boolean_cube(6).astype(float)
    rebuilt = sum(coeffs[m] * np.prod(x[:, [j for j in range(6) if m >> j & 1]], axis=1) for m in range(64))
    np.testing.assert_allclose(rebuilt, f, rtol=0, atol=ATOL)


@pytest.mark.parametrize(
    "values, match", [(np.ones(3), "power-of-2 length"), (np.ones(0), "power-of-2 length"), (1.0, "scalar")]
)
def test_walsh_hadamard_errors(values, match):
    with pytest.raises(ValueError, match=match):
        walsh_hadamard(values)


@pytest.mark.parametrize("n", range(0, 9))
def test_characters_are_orthogonal(n):
    chi = character_matrix(n).astype(np.int64)
    assert np.array_equal(chi @ chi.T, 2**n * np.eye(2**n, dtype=np.int64))


def test_character_matrix_errors():
    with pytest.raises(ValueError, match="n must be <= 12"):
        character_matrix(13)


@pytest.mark.parametrize("n", range(0, 9))
def test_subset_sizes_count_bits(n):
    assert subset_sizes(n).tolist() == [bin(m).count("1") for m in range(2**n)]


# --- spectra ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 11))
def test_parseval_for_real_and_boolean_functions(n):
    f = np.random.default_rng(n).normal(size=2**n)
    assert degree_weights(walsh_hadamard(f)).sum() == pytest.approx(np.mean(f**2), rel=1e-12)
    for family in boolean_families():
        if n >= 2 or family not in ("carry", "tree"):
            assert degree_weights(walsh_hadamard(function_table(family, n))).sum() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("n", range(1, 12))
def test_parity_has_one_coefficient_at_degree_n(n):
    s = spectrum_summary("parity", n)
    assert s.weights[-1] == 1.0 and s.weights[:-1].sum() == 0.0
    assert s.n_nonzero == 1 and s.energy_99 == 1 and s.degree == n


@pytest.mark.parametrize("n", range(2, 12))
def test_and_coefficients_closed_form(n):
    # AND with True = -1 is 1 - 2 * 1[x = (-1, ..., -1)], so f^(S) = [S empty] - 2^(1-n) (-1)^|S|
    expected = (np.arange(2**n) == 0) - 2.0 ** (1 - n) * (-1.0) ** subset_sizes(n)
    np.testing.assert_allclose(walsh_hadamard(function_table("and", n)), expected, rtol=0, atol=ATOL)
    s = spectrum_summary("and", n)
    assert s.n_nonzero == 2**n and s.degree == n
    assert s.energy_99 == (1 if (1 - 2.0 ** (1 - n)) ** 2 >= 0.99 else s.energy_99)  # one coefficient from n = 9 on
    assert (s.energy_99 == 1) == (n >= 9)


@pytest.mark.parametrize("n", [1, 3, 5, 7, 9, 11, 13])
def test_majority_degree_one_weight_closed_form(n):
    # O'Donnell (2014), section 5.3: Maj_n^(i) = C(n-1, (n-1)/2) / 2^(n-1) for odd n
    weights = spectrum_summary("majority", n).weights
    coefficient = math.comb(n - 1, (n - 1) // 2) / 2 ** (n - 1)
    assert weights[1] == pytest.approx(n * coefficient**2, rel=1e-12)
    assert np.all(weights[0::2] < 1e-24)  # an odd function has weight on odd degrees only


def test_majority_matches_sign_of_sum_and_breaks_ties_with_x1():
    x = boolean_cube(4).astype(float)
    table = function_table("majority", 4)
    total = x.sum(axis=1)
    assert np.array_equal(table[total != 0], np.sign(total[total != 0]))
    assert np.array_equal(table[total == 0], x[total == 0, 0])


@pytest.mark.parametrize("n", range(2, 10))
def test_carry_family_is_the_integer_carry(n):
    k, with_cin = n // 2, n % 2 == 1
    bits = boolean_cube(n, pm1=False)
    a, b = _integers(bits[:, :k]), _integers(bits[:, k : 2 * k])
    cin = bits[:, 2 * k].astype(np.int64) if with_cin else 0
    carry = (a + b + cin) >= 2**k
    assert np.array_equal(function_table("carry", n), np.where(carry, -1.0, 1.0))


def test_random_and_tree_families_are_seeded():
    same_seed = function_table("random", 8, seed=np.random.default_rng(4))
    assert np.array_equal(function_table("random", 8, seed=4), same_seed)
    assert not np.array_equal(function_table("random", 8, seed=4), function_table("random", 8, seed=5))
    assert np.array_equal(function_table("tree", 8, seed=1), tree_circuit(8, "random", seed=1).truth_table())


def test_random_function_spectrum_is_flat_on_average():
    # For a uniformly random f, each 2^n f^(S)^2 is a square of a sum of 2^n independent signs:
    # E[W^k] = C(n, k) / 2^n exactly. Averaging over 200 seeds at n = 8, the standard error of
    # each mean is below 0.1 * C(n, k) / 2^n + 3e-4, so a 5-SE band cannot fail by chance (p < 1e-6 each).
    n, seeds = 8, 200
    mean = np.mean([degree_weights(walsh_hadamard(function_table("random", n, seed=s))) for s in range(seeds)], axis=0)
    expected = np.array([math.comb(n, k) for k in range(n + 1)]) / 2**n
    se = np.sqrt(2 * expected / 2**n / seeds)  # Var(W^k) ~ 2 C(n,k) / 4^n
    assert np.all(np.abs(mean - expected) <= 5 * se)


def test_degree_weights_examples_and_errors():
    dictator = walsh_hadamard(boolean_cube(3)[:, 1].astype(float))
    assert degree_weights(dictator).tolist() == [0.0, 1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="1-D"):
        degree_weights(np.ones((2, 2)))
    with pytest.raises(ValueError, match="power-of-2 length"):
        degree_weights(np.ones(6))
    with pytest.raises(ValueError, match="finite"):
        degree_weights(np.array([1.0, np.nan]))


@pytest.mark.parametrize("seed", range(20))
def test_energy_count_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=8) * rng.integers(0, 2, size=8)
    if not c.any():
        c[0] = 1.0
    for fraction in (0.1, 0.5, 0.9, 0.99, 1.0):
        # brute force: the smallest subset (any, not only the largest ones) reaching the fraction
        best = min(
            len(subset)
            for r in range(1, 9)
            for subset in itertools.combinations(range(8), r)
            if np.sum(c[list(subset)] ** 2) >= fraction * np.sum(c**2) * (1 - 1e-12)
        )
        assert energy_count(c, fraction) == best


def test_energy_count_errors():
    with pytest.raises(ValueError, match="all zero"):
        energy_count(np.zeros(4))
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        energy_count(np.ones(4), 0.0)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        energy_count(np.ones(4), 1.5)
    with pytest.raises(TypeError, match="fraction must be a real number"):
        energy_count(np.ones(4), "0.9")


def test_fourier_degree():
    assert fourier_degree(walsh_hadamard(truth_table(lambda x: x[:, 0] * x[:, 1], 4))) == 2
    assert fourier_degree(walsh_hadamard(function_table("and", 6))) == 6
    assert fourier_degree(np.array([1.0, 0.0])) == 0
    with pytest.raises(ValueError, match="degree is undefined"):
        fourier_degree(np.zeros(4))


def test_function_table_errors():
    with pytest.raises(ValueError, match="family must be one of"):
        function_table("xor", 3)
    with pytest.raises(ValueError, match="n must be >= 2"):
        function_table("carry", 1)
    with pytest.raises(ValueError, match="n must be >= 2"):
        function_table("tree", 1)
    with pytest.raises(ValueError, match="n must be >= 1"):
        function_table("parity", 0)
    with pytest.raises(ValueError, match="n must be <= 20"):
        spectrum_summary("parity", 21)


# --- counting circuits --------------------------------------------------------------------------


def _gate_from_code(t: int):
    """The two-input gate whose truth table is the 4 bits of t (bit 2p + q is the output at inputs p, q)."""
    return lambda a, b: np.array([(t >> (2 * int(p) + int(q))) & 1 for p, q in zip(a, b)], dtype=bool)


def _functions_with_at_most(n: int, s: int) -> int:
    """Exhaustive count of the functions of n bits computed by some gate of a circuit with <= s gates
    (16 gate types, inputs among all earlier nodes), plus the n projections."""
    x = boolean_cube(n, pm1=False).astype(bool).T  # (n, 2^n): the projections
    all_gates = [_gate_from_code(t) for t in range(16)]
    found = {tuple(row) for row in x}

    def extend(nodes, budget):
        if budget == 0:
            return
        for i, j in itertools.product(range(len(nodes)), repeat=2):
            for gate in all_gates:
                value = gate(nodes[i], nodes[j])
                found.add(tuple(value))
                extend(nodes + [value], budget - 1)

    extend(list(x), s)
    return len(found)


@pytest.mark.parametrize("n, s", [(1, 1), (2, 1), (3, 1), (2, 2)])
def test_counting_bound_exceeds_the_exhaustive_count(n, s):
    exact = _functions_with_at_most(n, s)
    assert exact <= 2 ** circuits.count_log2(n, s)
    if (n, s) == (2, 1):
        assert exact == 16  # every function of 2 bits is one gate


def test_circuit_count_values_and_monotonicity():
    assert circuits.count_log2(5, 0) == math.log2(5)
    assert circuits.count_log2(3, 2) == pytest.approx(math.log2(3) + 2 * math.log2(16 * 25), rel=1e-12)  # (s-1)! = 1
    values = [circuits.count_log2(10, s) for s in range(0, 200)]
    assert all(b > a for a, b in zip(values, values[1:]))
    with pytest.raises(ValueError, match="n_inputs must be >= 1"):
        circuits.count_log2(0, 3)
    with pytest.raises(ValueError, match="n_gates must be >= 0"):
        circuits.count_log2(3, -1)


@pytest.mark.parametrize("n", [4, 6, 10, 16, 25, 40])
@pytest.mark.parametrize("fraction", [0.5, 2.0**-40])
def test_shannon_bound_is_the_largest_size_within_the_fraction(n, fraction):
    s = shannon_gate_bound(n, fraction)
    budget = 2.0**n + math.log2(fraction)
    if s == -1:  # even the n projections exceed the fraction
        assert circuits.count_log2(n, 0) > budget and n == 4
    else:
        assert circuits.count_log2(n, s) <= budget < circuits.count_log2(n, s + 1)


@pytest.mark.parametrize("n", [12, 16, 20, 30, 40, 50])
def test_shannon_bound_approaches_2_to_the_n_over_n(n):
    # Leading order of s log2(16 (n+s)^2) - log2 (s-1)! = 2^n is s (log2 s + 4 + log2 e) = 2^n, so
    # s ~ 2^n / (n - log2 n + 4 + log2 e); the neglected terms change s by under 2% for n >= 12.
    s = shannon_gate_bound(n)
    predicted = 2**n / (n - math.log2(n) + 4 + math.log2(math.e))
    assert s == pytest.approx(predicted, rel=0.02)


def test_shannon_bound_errors_and_tiny_cases():
    assert shannon_gate_bound(2) == 0
    assert shannon_gate_bound(1, fraction=0.5) == 0  # 1 projection <= half of the 4 functions of 1 bit
    assert shannon_gate_bound(1, fraction=0.2) == -1  # but it is more than a fifth of them
    with pytest.raises(ValueError, match="n_inputs must be <= 50"):
        shannon_gate_bound(51)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        shannon_gate_bound(5, 0.0)


# --- ReLU constituents --------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(1, 7))
def test_relu_node_is_exact_on_the_cube(k):
    table = np.random.default_rng(k).normal(size=2**k)
    W, b, a = relu_node_weights(table)
    z = boolean_cube(k).astype(float)
    np.testing.assert_allclose(np.maximum(z @ W.T + b, 0) @ a, table, rtol=0, atol=1e-12)
    assert W.size + b.size + a.size == 2**k * (k + 2)


def test_relu_node_errors():
    with pytest.raises(ValueError, match="1-D"):
        relu_node_weights(np.ones((2, 2)))
    with pytest.raises(ValueError, match="power-of-2 length"):
        relu_node_weights(np.ones(3))
    with pytest.raises(ValueError, match="1 <= k <= 16"):
        relu_node_weights(np.ones(1))


@pytest.mark.parametrize("n", range(0, 7))
def test_character_matrix_is_the_character_table(n):
    # chi_S(x) = prod over j in S of (-1)^{x_j}: row S and column x are bitmasks
    chi = character_matrix(n)
    for s in range(2**n):
        for x in range(2**n):
            expected = 1
            for j in range(n):
                if (s >> j) & 1 and (x >> j) & 1:
                    expected = -expected
            assert chi[s, x] == expected
