"""Boolean circuits of 2-input gates, the fast Walsh–Hadamard transform, and spectra by degree.

Conventions (O'Donnell 2014, chapter 1). A bit ``b`` in {0, 1} is the number ``x = (-1)^b = 1 - 2b``
in {-1, 1}: False is +1, True is -1. A function of ``n`` bits is stored as its *truth table*, an
array of length ``2^n`` whose entry ``i`` is the value at the input whose bit ``j`` (``j = 0 .. n-1``,
least significant first) is bit ``j`` of ``i``; bit ``j`` is the variable ``x_{j+1}``. A subset ``S``
of ``{1, .., n}`` is the bitmask with bit ``j`` set when ``j + 1`` is in ``S``, and

    f^(S) = 2^{-n} sum_x f(x) chi_S(x),   chi_S(x) = prod_{i in S} x_i,   f = sum_S f^(S) chi_S.

References
----------
CBMM Memo 138, sections 6.7 and 6.7.1 (Boolean functions, Theorems 8-10); R. O'Donnell, *Analysis of
Boolean Functions* (2014), chapters 1, 4, 5; C. Shannon (1949), The synthesis of two-terminal switching
circuits; O. Lupanov (1958).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
import scipy.linalg

from ._checks import as_generator, check_array, check_int, check_open_interval
from .graphs import compositional_graph

__all__ = [
    "gate_names",
    "gate_function",
    "Circuit",
    "tree_circuit",
    "parity_circuit",
    "ripple_carry_adder",
    "comparator_circuit",
    "boolean_cube",
    "truth_table",
    "walsh_hadamard",
    "character_matrix",
    "subset_sizes",
    "degree_weights",
    "energy_count",
    "fourier_degree",
    "boolean_families",
    "function_table",
    "SpectrumSummary",
    "spectrum_summary",
    "circuit_count_log2",
    "shannon_gate_bound",
    "relu_node_weights",
]

# Gates on 0/1 arrays of dtype uint8; "andnot" is a AND (NOT b), "ornot" is a OR (NOT b).
_GATES: dict[str, tuple[int, Callable[..., np.ndarray]]] = {
    "and": (2, lambda a, b: a & b),
    "or": (2, lambda a, b: a | b),
    "xor": (2, lambda a, b: a ^ b),
    "nand": (2, lambda a, b: 1 - (a & b)),
    "nor": (2, lambda a, b: 1 - (a | b)),
    "xnor": (2, lambda a, b: 1 - (a ^ b)),
    "andnot": (2, lambda a, b: a & (1 - b)),
    "ornot": (2, lambda a, b: a | (1 - b)),
    "not": (1, lambda a: 1 - a),
}
_MAX_TABLE_BITS = 24  # truth tables of at most 2^24 entries (128 MB as float64)


def gate_names() -> tuple[str, ...]:
    """Names of the gates a :class:`Circuit` accepts (all take two inputs except ``"not"``).

    Examples
    --------
    >>> gate_names()
    ('and', 'or', 'xor', 'nand', 'nor', 'xnor', 'andnot', 'ornot', 'not')
    """
    return tuple(_GATES)


def gate_function(name: str) -> Callable[..., np.ndarray]:
    """The gate ``name`` as a function of 0/1 integer arrays (``"andnot"`` is ``a AND NOT b``).

    References
    ----------
    Shannon (1949): circuits over the basis of all 2-input gates.

    Examples
    --------
    >>> a, b = np.array([0, 0, 1, 1], dtype=np.uint8), np.array([0, 1, 0, 1], dtype=np.uint8)
    >>> gate_function("xor")(a, b), gate_function("ornot")(a, b)
    (array([0, 1, 1, 0], dtype=uint8), array([1, 0, 1, 1], dtype=uint8))
    """
    if name not in _GATES:
        raise ValueError(f"gate must be one of {gate_names()}, got {name!r}")
    return _GATES[name][1]


def _check_table_bits(name: str, n: int) -> int:
    return check_int(name, n, minimum=0, maximum=_MAX_TABLE_BITS)


class Circuit:
    """A Boolean circuit: gates of at most two inputs, each reading inputs or earlier gates.

    Gates are added in order, so the circuit is acyclic by construction. Its size is the number of
    gates; each output is a compositional function whose graph is the output's cone
    (:meth:`to_graph`), with constituents of at most 2 variables.

    Parameters
    ----------
    inputs : int or sequence of str
        The number of inputs (named ``x1 .. xn``) or their names.

    References
    ----------
    CBMM Memo 138, section 6.1 (a computation is a composition of sparse steps) and 6.7.1.

    Examples
    --------
    >>> c = Circuit(["a", "b", "cin"])
    >>> p = c.add("xor", "a", "b"); s = c.add("xor", p, "cin", name="sum")
    >>> c.set_outputs("sum"); c.n_gates
    2
    >>> c.evaluate(np.array([[1, 1, 1], [1, 0, 0]]))
    array([[1],
           [1]], dtype=uint8)
    >>> c.add("and", "a", "z")
    Traceback (most recent call last):
    ...
    ValueError: gate input 'z' is not an input or an earlier gate of the circuit
    """

    def __init__(self, inputs: int | Sequence[str]) -> None:
        if isinstance(inputs, numbers.Integral) and not isinstance(inputs, bool):
            names = [f"x{i}" for i in range(1, check_int("inputs", inputs, minimum=1) + 1)]
        elif isinstance(inputs, Sequence) and not isinstance(inputs, str):
            names = list(inputs)
            if not names or not all(isinstance(v, str) and v for v in names) or len(set(names)) != len(names):
                raise ValueError(f"inputs must be distinct non-empty strings, got {names!r}")
        else:
            raise TypeError(f"inputs must be an int or a sequence of names, got {type(inputs).__name__}")
        self._inputs = tuple(names)
        self._gates: list[tuple[str, str, tuple[str, ...]]] = []
        self._known = set(names)
        self._outputs: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names of the inputs, in column order."""
        return self._inputs

    @property
    def gates(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """The gates as ``(name, op, args)``, in the order they were added."""
        return tuple(self._gates)

    @property
    def outputs(self) -> tuple[str, ...]:
        """Names of the output nodes."""
        return self._outputs

    @property
    def n_inputs(self) -> int:
        """The number of inputs."""
        return len(self._inputs)

    @property
    def n_gates(self) -> int:
        """The size of the circuit: its number of gates."""
        return len(self._gates)

    def add(self, op: str, *args: str, name: str | None = None) -> str:
        """Add a gate ``op`` reading ``args`` (inputs or earlier gates); return its name (default ``g1, g2, ..``)."""
        if op not in _GATES:
            raise ValueError(f"op must be one of {gate_names()}, got {op!r}")
        arity = _GATES[op][0]
        if len(args) != arity:
            raise ValueError(f"gate {op!r} takes {arity} input(s), got {len(args)}: {args!r}")
        for arg in args:
            if arg not in self._known:
                raise ValueError(f"gate input {arg!r} is not an input or an earlier gate of the circuit")
        if len(set(args)) != len(args):
            raise ValueError(f"a gate's inputs must differ, got {args!r}")
        if name is None:
            name = f"g{len(self._gates) + 1}"
            while name in self._known:
                name += "'"
        elif not isinstance(name, str) or not name or name in self._known:
            raise ValueError(f"name must be a new non-empty string, got {name!r}")
        self._gates.append((name, op, tuple(args)))
        self._known.add(name)
        return name

    def set_outputs(self, *names: str) -> None:
        """Declare the outputs (inputs or gates), in the column order of :meth:`evaluate`."""
        if not names:
            raise ValueError("set_outputs needs at least one name, got none")
        unknown = [v for v in names if v not in self._known]
        if unknown:
            raise ValueError(f"outputs must be inputs or gates of the circuit, unknown {unknown!r}")
        self._outputs = tuple(names)

    def evaluate(self, bits: np.ndarray) -> np.ndarray:
        """Run the circuit on a batch of 0/1 inputs of shape ``(B, n_inputs)``; return ``(B, n_outputs)`` bits."""
        if not self._outputs:
            raise ValueError("the circuit has no outputs; call set_outputs first")
        if not isinstance(bits, np.ndarray):
            raise TypeError(f"bits must be a numpy array of shape (B, {self.n_inputs}), got {type(bits).__name__}")
        if bits.ndim != 2 or bits.shape[1] != self.n_inputs or bits.shape[0] < 1:
            raise ValueError(f"bits must have shape (B, {self.n_inputs}) with B >= 1, got shape {bits.shape}")
        if not np.all((bits == 0) | (bits == 1)):
            raise ValueError("bits must hold only 0 and 1")
        values = {name: bits[:, j].astype(np.uint8) for j, name in enumerate(self._inputs)}
        for name, op, args in self._gates:
            values[name] = _GATES[op][1](*(values[a] for a in args)).astype(np.uint8)
        return np.stack([values[v] for v in self._outputs], axis=1)

    def truth_table(self, output: str | None = None) -> np.ndarray:
        """The ±1 truth table (length ``2^n_inputs``) of one output (default: the only output)."""
        output = self._one_output(output)
        _check_table_bits("the circuit's number of inputs", self.n_inputs)
        column = self._outputs.index(output)
        bits = self.evaluate(boolean_cube(self.n_inputs, pm1=False))[:, column]
        return 1.0 - 2.0 * bits

    def depth(self) -> int:
        """The number of gates on the longest path from an input to an output."""
        level = dict.fromkeys(self._inputs, 0)
        for name, _, args in self._gates:
            level[name] = 1 + max(level[a] for a in args)
        return max((level[v] for v in self._outputs), default=0)

    def to_graph(self, output: str | None = None) -> nx.DiGraph:
        """The compositional graph of one output: its cone of gates, with node attributes ``gate`` and ``label``."""
        output = self._one_output(output)
        if output in self._inputs:
            raise ValueError(f"output {output!r} is an input; its graph has no constituent node")
        args_of = {name: args for name, _, args in self._gates}
        cone, stack = set(), [output]
        while stack:
            v = stack.pop()
            if v not in cone:
                cone.add(v)
                stack.extend(args_of.get(v, ()))
        edges = [(a, name) for name, _, args in self._gates if name in cone for a in args]
        g = compositional_graph(edges, inputs=[v for v in self._inputs if v in cone])
        for name, op, _ in self._gates:
            if name in cone:
                g.nodes[name]["gate"] = op
                g.nodes[name]["label"] = op.upper()
        return g

    def _one_output(self, output: str | None) -> str:
        if output is None:
            if len(self._outputs) != 1:
                raise ValueError(f"the circuit has outputs {self._outputs!r}; say which one with output=")
            return self._outputs[0]
        if output not in self._outputs:
            raise ValueError(f"output must be one of {self._outputs!r}, got {output!r}")
        return output

    def __repr__(self) -> str:
        return f"Circuit({self.n_inputs} inputs, {self.n_gates} gates, outputs={list(self._outputs)})"


def tree_circuit(n_inputs: int, gates: str | Sequence[str] = "xor", seed: Any = 0) -> Circuit:
    """A balanced binary tree of ``n - 1`` two-input gates over ``n`` inputs (depth ``ceil(log2 n)``).

    Each level pairs neighbours ``(1, 2), (3, 4), ...``; an odd node out moves up unchanged.

    Parameters
    ----------
    n_inputs : int
        ``n >= 2``.
    gates : str or sequence of str
        One gate name for every node, ``"random"`` (each node draws one of the eight 2-input gates),
        or a sequence of ``n - 1`` names in the order the gates are built (level by level).
    seed : int or numpy.random.Generator
        Used when ``gates="random"``.

    References
    ----------
    CBMM Memo 138, section 6.3.1 (binary trees: depth grows like ``log d``).

    Examples
    --------
    >>> c = tree_circuit(5, "and"); c.n_gates, c.depth()
    (4, 3)
    >>> tree_circuit(3, ["and"])
    Traceback (most recent call last):
    ...
    ValueError: gates must name 2 gates (n_inputs - 1), got 1
    """
    n = check_int("n_inputs", n_inputs, minimum=2)
    binary = [g for g in gate_names() if _GATES[g][0] == 2]
    if isinstance(gates, str):
        if gates == "random":
            rng = as_generator(seed)
            ops = [binary[i] for i in rng.integers(0, len(binary), size=n - 1)]
        elif gates in binary:
            ops = [gates] * (n - 1)
        else:
            raise ValueError(f"gates must be 'random' or one of {tuple(binary)}, got {gates!r}")
    else:
        ops = list(gates)
        if len(ops) != n - 1:
            raise ValueError(f"gates must name {n - 1} gates (n_inputs - 1), got {len(ops)}")
        bad = [g for g in ops if g not in binary]
        if bad:
            raise ValueError(f"gates must be 2-input gates {tuple(binary)}, got {bad!r}")
    c = Circuit(n)
    layer = list(c.inputs)
    k = 0
    while len(layer) > 1:
        nxt = []
        for i in range(0, len(layer) - 1, 2):
            nxt.append(c.add(ops[k], layer[i], layer[i + 1]))
            k += 1
        if len(layer) % 2:
            nxt.append(layer[-1])
        layer = nxt
    c.set_outputs(layer[0])
    return c


def parity_circuit(n_inputs: int) -> Circuit:
    """Parity of ``n`` bits as a balanced tree of ``n - 1`` XOR gates.

    References
    ----------
    O'Donnell (2014), section 1.2 (parity functions are the characters ``chi_S``).

    Examples
    --------
    >>> c = parity_circuit(8); c.n_gates, c.depth()
    (7, 3)
    >>> bool(np.all(c.truth_table() == np.prod(boolean_cube(8), axis=1)))
    True
    """
    return tree_circuit(n_inputs, "xor")


def ripple_carry_adder(n_bits: int, carry_in: bool = True) -> Circuit:
    """The ripple-carry adder of two ``n``-bit numbers: ``5`` gates per full adder.

    Inputs ``a0 .. a{n-1}, b0 .. b{n-1}`` (least significant first), then ``cin`` if ``carry_in``.
    Outputs ``s0 .. s{n-1}, cout``. Each full adder computes ``p = a XOR b``, ``s = p XOR c``,
    ``c' = (a AND b) OR (p AND c)``: 5 gates, so ``5n`` gates with a carry-in and ``5n - 3``
    without (the lowest bit is then a half adder: ``s0 = a0 XOR b0``, ``c1 = a0 AND b0``).

    References
    ----------
    CBMM Memo 138, section 6.1 (efficient computation as a composition of sparse steps).

    Examples
    --------
    >>> c = ripple_carry_adder(4); c.n_gates, c.n_inputs, c.outputs[-1]
    (20, 9, 'cout')
    >>> ripple_carry_adder(4, carry_in=False).n_gates
    17
    """
    n = check_int("n_bits", n_bits, minimum=1)
    if not isinstance(carry_in, bool):
        raise TypeError(f"carry_in must be a bool, got {type(carry_in).__name__}")
    names = [f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)] + (["cin"] if carry_in else [])
    c = Circuit(names)
    sums = []
    carry = "cin" if carry_in else None
    for i in range(n):
        a, b = f"a{i}", f"b{i}"
        if carry is None:  # half adder
            sums.append(c.add("xor", a, b, name=f"s{i}"))
            carry = c.add("and", a, b, name=f"c{i + 1}" if n > 1 else "cout")
            continue
        p = c.add("xor", a, b, name=f"p{i}")
        sums.append(c.add("xor", p, carry, name=f"s{i}"))
        g = c.add("and", a, b, name=f"g{i}")
        t = c.add("and", p, carry, name=f"t{i}")
        carry = c.add("or", g, t, name="cout" if i == n - 1 else f"c{i + 1}")
    c.set_outputs(*sums, carry)
    return c


def comparator_circuit(n_bits: int) -> Circuit:
    """The comparison ``[a >= b]`` of two ``n``-bit numbers with ``4n - 3`` gates.

    From the least significant bit up, ``c_1 = a_0 OR NOT b_0`` and
    ``c_{i+1} = ((c_i XOR a_i) AND (a_i XOR b_i)) XOR c_i``: where ``a_i != b_i`` the answer so
    far becomes ``a_i``, elsewhere it stays ``c_i``. Inputs ``a0 .. , b0 ..``; output ``ge``.

    References
    ----------
    CBMM Memo 138, section 6.1; the carry chain of ``a + NOT b + 1`` computes the same bit.

    Examples
    --------
    >>> c = comparator_circuit(3); c.n_gates
    9
    >>> c.evaluate(np.array([[1, 0, 1, 0, 1, 1]]))  # a = 5, b = 6: a >= b is false
    array([[0]], dtype=uint8)
    """
    n = check_int("n_bits", n_bits, minimum=1)
    c = Circuit([f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)])
    ge = c.add("ornot", "a0", "b0", name="ge" if n == 1 else "c1")
    for i in range(1, n):
        d = c.add("xor", f"a{i}", f"b{i}", name=f"d{i}")
        u = c.add("xor", ge, f"a{i}", name=f"u{i}")
        v = c.add("and", u, d, name=f"v{i}")
        ge = c.add("xor", v, ge, name="ge" if i == n - 1 else f"c{i + 1}")
    c.set_outputs(ge)
    return c


def boolean_cube(n: int, pm1: bool = True) -> np.ndarray:
    """All ``2^n`` points of the cube, row ``i`` holding the bits of ``i`` (least significant first).

    Parameters
    ----------
    n : int
        ``0 <= n <= 24``.
    pm1 : bool
        Return ``x = 1 - 2b`` in {-1, 1} (default) or the bits ``b`` in {0, 1}.

    Returns
    -------
    numpy.ndarray of shape (2^n, n), dtype int8

    References
    ----------
    O'Donnell (2014), section 1.1.

    Examples
    --------
    >>> boolean_cube(2)
    array([[ 1,  1],
           [-1,  1],
           [ 1, -1],
           [-1, -1]], dtype=int8)
    """
    n = _check_table_bits("n", n)
    bits = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(np.int8)
    return (1 - 2 * bits).astype(np.int8) if pm1 else bits


def truth_table(func: Callable[[np.ndarray], np.ndarray], n: int) -> np.ndarray:
    """Evaluate ``func`` on every point of ``{-1, 1}^n``; ``func`` maps a ``(2^n, n)`` array to ``(2^n,)``.

    References
    ----------
    O'Donnell (2014), section 1.1.

    Examples
    --------
    >>> truth_table(lambda x: x.min(axis=1), 2)  # min of ±1 bits: OR when True is -1
    array([ 1., -1., -1., -1.])
    """
    n = _check_table_bits("n", n)
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    values = np.asarray(func(boolean_cube(n)), dtype=float)
    if values.shape != (2**n,):
        raise ValueError(f"func must return shape ({2**n},) on the (2^n, n) cube, got {values.shape}")
    return values


def _n_from_length(name: str, length: int) -> int:
    if length < 1 or length & (length - 1):
        raise ValueError(f"{name} must have a power-of-2 length 2^n, got length {length}")
    return length.bit_length() - 1


def walsh_hadamard(values: np.ndarray) -> np.ndarray:
    """Fourier coefficients ``f^(S) = 2^{-n} sum_x f(x) chi_S(x)`` by the fast Walsh–Hadamard transform.

    ``n`` butterfly passes over the last axis: ``O(n 2^n)`` operations instead of ``4^n``.
    Entry ``m`` of the result is the coefficient of the subset with bitmask ``m``.

    Parameters
    ----------
    values : array_like, shape (..., 2^n)
        Truth tables (any real values), along the last axis.

    Returns
    -------
    numpy.ndarray, same shape, float64

    References
    ----------
    O'Donnell (2014), sections 1.2-1.4 and exercise 1.12 (Walsh–Hadamard matrices).

    Examples
    --------
    >>> walsh_hadamard([1, 1, 1, -1])  # max(x1, x2): AND when True is -1
    array([ 0.5,  0.5,  0.5, -0.5])
    """
    f = check_array("values", values)
    if f.ndim == 0:
        raise ValueError("values must be an array with a last axis of length 2^n, got a scalar")
    size = f.shape[-1]
    _n_from_length("values", size)
    out = f.reshape(-1, size)
    h = 1
    while h < size:
        blocks = out.reshape(out.shape[0], size // (2 * h), 2, h)
        a, b = blocks[:, :, 0, :], blocks[:, :, 1, :]
        out = np.stack((a + b, a - b), axis=2).reshape(-1, size)
        h *= 2
    return out.reshape(f.shape) / size


def character_matrix(n: int) -> np.ndarray:
    """The ``2^n x 2^n`` matrix of characters ``chi_S(x)``: row = subset bitmask, column = input index.

    ``character_matrix(n) @ table / 2^n`` is the explicit character sum that :func:`walsh_hadamard` computes fast. It is Sylvester's
    Hadamard matrix, built by :func:`scipy.linalg.hadamard`.

    Parameters
    ----------
    n : int
        ``0 <= n <= 12``.

    References
    ----------
    O'Donnell (2014), section 1.3 (the characters are orthonormal).

    Examples
    --------
    >>> character_matrix(2)
    array([[ 1,  1,  1,  1],
           [ 1, -1,  1, -1],
           [ 1,  1, -1, -1],
           [ 1, -1, -1,  1]], dtype=int8)
    """
    n = check_int("n", n, minimum=0, maximum=12)
    # Sylvester's Hadamard matrix: entry (S, x) is (-1)^popcount(S & x), the character chi_S at x
    return scipy.linalg.hadamard(2**n, dtype=np.int8)


def subset_sizes(n: int) -> np.ndarray:
    """``|S|`` for every subset bitmask ``0 .. 2^n - 1`` (the number of set bits).

    References
    ----------
    O'Donnell (2014), section 1.4 (the degree of a character).

    Examples
    --------
    >>> subset_sizes(3)
    array([0, 1, 1, 2, 1, 2, 2, 3])
    """
    n = _check_table_bits("n", n)
    idx = np.arange(2**n)
    return sum(((idx >> j) & 1) for j in range(n)) if n else np.zeros(1, dtype=idx.dtype)


def _coefficients(coeffs: object) -> tuple[np.ndarray, int]:
    c = check_array("coeffs", coeffs)
    if c.ndim != 1:
        raise ValueError(f"coeffs must be a 1-D array of length 2^n, got shape {c.shape}")
    n = _n_from_length("coeffs", c.size)
    if not np.all(np.isfinite(c)):
        raise ValueError("coeffs must be finite")
    return c, n


def degree_weights(coeffs: np.ndarray) -> np.ndarray:
    """Fourier weight at each degree: ``W^k = sum_{|S| = k} f^(S)^2`` for ``k = 0 .. n``.

    By Parseval the weights sum to ``E[f^2]``, which is 1 for a ±1-valued function.

    References
    ----------
    O'Donnell (2014), section 1.4 (Fourier weight by degree).

    Examples
    --------
    >>> degree_weights(walsh_hadamard([1, 1, 1, -1]))
    array([0.25, 0.5 , 0.25])
    """
    c, n = _coefficients(coeffs)
    return np.bincount(subset_sizes(n), weights=c * c, minlength=n + 1)


def energy_count(coeffs: np.ndarray, fraction: float = 0.99) -> int:
    """The fewest coefficients whose squares carry at least ``fraction`` of the total energy.

    References
    ----------
    O'Donnell (2014), chapter 3 (epsilon-concentration of a spectrum).

    Examples
    --------
    >>> energy_count([0.6, 0.8, 0.0, 0.0], fraction=0.5)  # 0.64 >= 0.5 with one coefficient
    1
    >>> energy_count([0.5, 0.5, 0.5, -0.5], fraction=0.99)
    4
    """
    c, _ = _coefficients(coeffs)
    fraction = check_open_interval("fraction", fraction, 0.0, 1.0, closed_right=True)
    energy = np.sort(c * c)[::-1]
    total = energy.sum()
    if total == 0:
        raise ValueError("coeffs are all zero: the energy fraction is undefined")
    cumulative = np.cumsum(energy) / total
    # a relative slack of 1e-12 absorbs round-off when a prefix carries exactly `fraction`
    return int(np.searchsorted(cumulative, fraction - 1e-12) + 1)


def fourier_degree(coeffs: np.ndarray, atol: float = 1e-12) -> int:
    """The degree: the largest ``|S|`` with ``|f^(S)| > atol``.

    References
    ----------
    O'Donnell (2014), section 1.4.

    Examples
    --------
    >>> fourier_degree(walsh_hadamard(np.prod(boolean_cube(5), axis=1)))  # parity of 5 bits
    5
    """
    c, n = _coefficients(coeffs)
    nonzero = np.abs(c) > atol
    if not nonzero.any():
        raise ValueError(f"all coefficients are within atol={atol} of zero: the degree is undefined")
    return int(subset_sizes(n)[nonzero].max())


def boolean_families() -> tuple[str, ...]:
    """Names of the function families of :func:`function_table`.

    Examples
    --------
    >>> boolean_families()
    ('parity', 'majority', 'and', 'carry', 'tree', 'random')
    """
    return ("parity", "majority", "and", "carry", "tree", "random")


def function_table(family: str, n: int, seed: Any = 0) -> np.ndarray:
    """The ±1 truth table of a function of ``n`` bits from a named family.

    * ``"parity"``: ``x_1 x_2 ... x_n`` (a tree of ``n - 1`` XOR gates);
    * ``"majority"``: ``sign(x_1 + ... + x_n)``, ties (even ``n``) broken by ``x_1``;
    * ``"and"``: True (-1) only when every bit is True (a tree of ``n - 1`` AND gates);
    * ``"carry"``: the carry-out of the ripple-carry adder of two ``floor(n/2)``-bit numbers,
      with a carry-in when ``n`` is odd;
    * ``"tree"``: a balanced tree of ``n - 1`` random 2-input gates (``seed``);
    * ``"random"``: a uniformly random truth table (``seed``).

    Parameters
    ----------
    family : str
        One of :func:`boolean_families`.
    n : int
        ``1 <= n <= 24`` (``"carry"`` and ``"tree"`` need ``n >= 2``).
    seed : int or numpy.random.Generator

    References
    ----------
    O'Donnell (2014), chapters 1 and 5; CBMM Memo 138, section 6.7.

    Examples
    --------
    >>> function_table("and", 2), function_table("majority", 3)[:4]
    (array([ 1.,  1.,  1., -1.]), array([ 1.,  1.,  1., -1.]))
    """
    if family not in boolean_families():
        raise ValueError(f"family must be one of {boolean_families()}, got {family!r}")
    n = check_int("n", n, minimum=2 if family in ("carry", "tree") else 1, maximum=_MAX_TABLE_BITS)
    if family == "parity":
        return np.prod(boolean_cube(n), axis=1).astype(float)
    if family == "majority":
        x = boolean_cube(n).astype(float)
        return np.sign(x.sum(axis=1) + 0.5 * x[:, 0])
    if family == "and":
        table = np.ones(2**n)
        table[-1] = -1.0  # the all-True input is the last row
        return table
    if family == "carry":
        return ripple_carry_adder(n // 2, carry_in=bool(n % 2)).truth_table("cout")
    if family == "tree":
        return tree_circuit(n, "random", seed=seed).truth_table()
    rng = as_generator(seed)
    return rng.choice(np.array([-1.0, 1.0]), size=2**n)


class SpectrumSummary(NamedTuple):
    """The Fourier spectrum of one function, in numbers (see :func:`spectrum_summary`).

    Examples
    --------
    >>> spectrum_summary("parity", 4).weights.tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0]
    """

    family: str
    n: int
    weights: np.ndarray  # W^k for k = 0..n
    n_nonzero: int  # coefficients with |f^(S)| > 1e-12
    energy_99: int  # fewest coefficients carrying 99% of the energy
    degree: int
    parseval: float  # sum of squared coefficients (E f^2 = 1)


def spectrum_summary(family: str, n: int, seed: Any = 0) -> SpectrumSummary:
    """Spectrum of a family's function of ``n <= 20`` bits: weights by degree and sparsity counts.

    This is the widget's compute function: at ``n = 14`` it takes a few milliseconds.

    References
    ----------
    CBMM Memo 138, section 6.7; O'Donnell (2014), sections 1.4 and 3.1.

    Examples
    --------
    >>> s = spectrum_summary("and", 10)
    >>> s.n_nonzero, s.energy_99, s.degree, round(s.parseval, 12)
    (1024, 1, 10, 1.0)
    """
    n = check_int("n", n, minimum=1, maximum=20)
    coeffs = walsh_hadamard(function_table(family, n, seed=seed))
    return SpectrumSummary(
        family=family,
        n=n,
        weights=degree_weights(coeffs),
        n_nonzero=int(np.count_nonzero(np.abs(coeffs) > 1e-12)),
        energy_99=energy_count(coeffs, 0.99),
        degree=fourier_degree(coeffs),
        parseval=float(np.sum(coeffs * coeffs)),
    )


def circuit_count_log2(n_inputs: int, n_gates: int) -> float:
    """log2 of an upper bound on how many functions of ``n`` bits circuits of ``<= s`` gates compute.

    A circuit with ``t`` gates is described by each gate's type (16 two-input functions) and its two
    inputs among ``n + t`` nodes: at most ``(16 (n+t)^2)^t`` descriptions. In a smallest circuit all
    gates compute different functions, so the ``(t-1)!`` relabellings of its non-output gates give
    distinct descriptions of the same function; hence at most ``a_t = (16 (n+t)^2)^t / (t-1)!``
    functions have circuit size exactly ``t``. Since ``a_t`` increases with ``t`` and ``a_1 > n``,
    the ``n`` projections plus sizes ``1 .. s`` number at most ``(s + 1) a_s``. With ``s = 0`` the
    bound is ``n`` (the projections).

    References
    ----------
    Shannon (1949); Jukna, *Boolean Function Complexity* (2012), chapter 1; CBMM Memo 138, section 6.3.1.

    Examples
    --------
    >>> circuit_count_log2(3, 0) == math.log2(3)
    True
    >>> round(circuit_count_log2(2, 1), 3)  # log2(2 * 16 * 3**2)
    8.17
    """
    n = check_int("n_inputs", n_inputs, minimum=1)
    s = check_int("n_gates", n_gates, minimum=0)
    if s == 0:
        return math.log2(n)
    return math.log2(s + 1) + s * math.log2(16 * (n + s) ** 2) - math.lgamma(s) / math.log(2)


def shannon_gate_bound(n_inputs: int, fraction: float = 0.5) -> int:
    """The largest ``s`` such that circuits of ``<= s`` gates compute at most ``fraction`` of all ``2^(2^n)`` functions.

    So at least ``1 - fraction`` of the functions of ``n`` bits need more than ``s`` gates; ``-1``
    means that even the ``n`` projections are more than ``fraction`` of all functions. As ``n``
    grows, ``s n / 2^n`` tends to 1 (slowly): most functions need about ``2^n / n`` gates (Shannon),
    and every function can be built with ``(1 + o(1)) 2^n / n`` (Lupanov).

    Parameters
    ----------
    n_inputs : int
        ``1 <= n <= 50``.
    fraction : float
        In ``(0, 1]``.

    References
    ----------
    Shannon (1949); Lupanov (1958); Jukna (2012), chapter 1.

    Examples
    --------
    >>> shannon_gate_bound(2)  # with 1 gate the bound (146 functions) exceeds the 16 that exist
    0
    >>> s = shannon_gate_bound(20); s, round(s * 20 / 2**20, 3)
    (49816, 0.95)
    """
    n = check_int("n_inputs", n_inputs, minimum=1, maximum=50)
    fraction = check_open_interval("fraction", fraction, 0.0, 1.0, closed_right=True)
    budget = 2.0**n + math.log2(fraction)
    if circuit_count_log2(n, 0) > budget:
        return -1  # even the projections exceed the fraction (only for tiny n and fraction)
    low, high = 0, 2**n  # count(low) <= budget < count(high), since count(2^n) > 2^n
    while high - low > 1:
        mid = (low + high) // 2
        if circuit_count_log2(n, mid) <= budget:
            low = mid
        else:
            high = mid
    return low


def relu_node_weights(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A one-hidden-layer ReLU network equal to a function of ``k`` ±1 bits on the cube: ``2^k`` units.

    For each point ``s`` of ``{-1, 1}^k`` a unit computes ``relu(<s, z> - (k - 1))``, which is 1 at
    ``z = s`` and 0 at every other point of the cube (there ``<s, z> <= k - 2``). Weighting unit
    ``s`` by ``g(s)`` gives ``g(z) = a . relu(W z + b)`` exactly; it has ``2^k (k + 2)`` parameters.

    Parameters
    ----------
    table : array_like, shape (2^k,)
        The values of ``g`` in truth-table order, ``1 <= k <= 16``.

    Returns
    -------
    W : numpy.ndarray, shape (2^k, k)
    b : numpy.ndarray, shape (2^k,)
    a : numpy.ndarray, shape (2^k,)

    References
    ----------
    CBMM Memo 138, section 6.7.1, Theorem 8 (deep networks with the graph of ``f``).

    Examples
    --------
    >>> W, b, a = relu_node_weights([1, 1, 1, -1])  # AND of two bits
    >>> z = boolean_cube(2).astype(float)
    >>> np.maximum(z @ W.T + b, 0) @ a
    array([ 1.,  1.,  1., -1.])
    """
    values = check_array("table", table)
    if values.ndim != 1:
        raise ValueError(f"table must be 1-D of length 2^k, got shape {values.shape}")
    k = _n_from_length("table", values.size)
    if not 1 <= k <= 16:
        raise ValueError(f"table must have length 2^k with 1 <= k <= 16, got length {values.size}")
    W = boolean_cube(k).astype(float)
    return W, np.full(2**k, -(k - 1.0)), values.copy()
