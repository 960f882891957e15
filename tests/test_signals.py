"""Tests for cosp_helpers.signals: the covariance on the ring, the closed-form covariance after the
nonlinearity against Monte Carlo, the two-class data set, and every error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosp_helpers import signals
from cosp_helpers.signals import nlgp_covariance, nlgp_dataset, nlgp_samples, periodic_covariance


# --- the covariance and the samples -----------------------------------------------------------------------------------------


def test_periodic_covariance_is_circulant_and_positive_semidefinite():
    C = periodic_covariance(12, 2.5)
    assert np.allclose(C, C.T)
    for shift in range(12):  # circulant: every row is the first row rolled
        assert np.allclose(C[shift], np.roll(C[0], shift))
    assert C[0, 6] == pytest.approx(math.exp(-36 / 2.5**2))  # distance 6 = d/2, the farthest pixel
    # wrapping the distance costs positive definiteness when xi is not small against d (as documented) ...
    assert -0.01 < np.linalg.eigvalsh(C).min() < 0
    # ... but not at the notebook's sizes (d = 40, xi <= 3): all eigenvalues positive
    assert np.linalg.eigvalsh(periodic_covariance(40, 3.0)).min() > 0


def test_nlgp_covariance_matches_monte_carlo():
    # 200 000 samples: the standard error of a sample correlation is <= 1/sqrt(n) ~ 0.0022; 0.01 is 4.5 of them
    d, xi, gain = 10, 2.0, 3.0
    x = nlgp_samples(200_000, d, xi, gain, seed=1)
    empirical = x.T @ x / len(x)
    assert np.abs(empirical - nlgp_covariance(d, xi, gain)).max() < 0.01


def test_gaussian_control_has_the_same_covariance_but_no_excess_kurtosis():
    d, xi, gain = 10, 2.0, 3.0
    x = nlgp_samples(200_000, d, xi, gain, seed=2, gaussian=True)
    assert np.abs(x.T @ x / len(x) - nlgp_covariance(d, xi, gain)).max() < 0.01  # as above
    kurt_gauss = (x**4).mean() / (x**2).mean() ** 2 - 3
    kurt_nlgp = (nlgp_samples(200_000, d, xi, gain, seed=3) ** 4).mean() - 3
    # Gaussian: 0 within a few standard errors (sd of the kurtosis estimate ~ sqrt(24/n) ~ 0.011 per pixel)
    assert abs(kurt_gauss) < 0.05
    # erf(3 z) is nearly sign(z): platykurtic, kurtosis near 1 - 3 = -2; measured about -1.6
    assert kurt_nlgp < -1.0


def test_nlgp_covariance_small_gain_is_the_gp_covariance():
    # erf(g z) ~ 2 g z / sqrt(pi) for small g: the non-linearity disappears and S -> C
    assert np.allclose(nlgp_covariance(8, 1.5, 1e-4), periodic_covariance(8, 1.5), atol=1e-6)


def test_nlgp_dataset_is_balanced_seeded_and_classes_differ_in_correlation():
    x, y = nlgp_dataset(4000, 16, (1.0, 3.0), 3.0, seed=5)
    x2, y2 = nlgp_dataset(4000, 16, (1.0, 3.0), 3.0, seed=5)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert y.dtype == np.int64 and x.dtype == np.float32 and int(y.sum()) == 2000
    neighbour = [(x[y == c] * np.roll(x[y == c], 1, axis=1)).mean() for c in (0, 1)]
    expected = [nlgp_covariance(16, xi, 3.0)[0, 1] for xi in (1.0, 3.0)]
    # 2000 signals x 16 pixel pairs; correlated pairs, so allow 0.03 (about 5 standard errors of 1/sqrt(2000))
    assert np.allclose(neighbour, expected, atol=0.03)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"d": 1}, ValueError),
        ({"d": 4.0}, TypeError),
        ({"xi": 0.0}, ValueError),
        ({"xi": -1.0}, ValueError),
    ],
)
def test_periodic_covariance_errors(kwargs, error):
    args = {"d": 8, "xi": 1.0} | kwargs
    with pytest.raises(error, match="d|xi"):
        periodic_covariance(**args)


def test_sample_and_dataset_errors():
    with pytest.raises(ValueError, match="gain"):
        nlgp_covariance(8, 1.0, 0.0)
    with pytest.raises(ValueError, match="gain"):
        nlgp_samples(5, 8, 1.0, -1.0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        nlgp_samples(0, 8, 1.0, 1.0)
    with pytest.raises(TypeError, match="gaussian"):
        nlgp_samples(5, 8, 1.0, 1.0, gaussian="yes")
    with pytest.raises(ValueError, match="seed"):
        nlgp_samples(5, 8, 1.0, 1.0, seed=-1)
    with pytest.raises(ValueError, match="even"):
        nlgp_dataset(5, 8, (1.0, 2.0), 1.0)
    with pytest.raises(ValueError, match="pair"):
        nlgp_dataset(4, 8, (1.0, 2.0, 3.0), 1.0)
    with pytest.raises(ValueError, match="different"):
        nlgp_dataset(4, 8, (2.0, 2.0), 1.0)
    with pytest.raises(ValueError, match=r"xis\[1\]"):
        nlgp_dataset(4, 8, (2.0, 0.0), 1.0)


def test_symmetric_sqrt_squares_to_the_covariance_and_is_symmetric():
    C = signals.periodic_covariance(40, 3.0)
    S = signals.symmetric_sqrt(C)
    assert np.array_equal(S, S.T)
    # C has eigenvalues clipped at 0 only at the level of rounding, so S @ S = C to rounding
    assert np.abs(S @ S - C).max() < 1e-10


def test_symmetric_sqrt_does_not_depend_on_the_eigenbasis():
    # a circulant covariance has repeated eigenvalues; rotate the eigenvectors inside each pair and rebuild:
    # the factor V sqrt(L) changes, the symmetric root does not
    C = signals.periodic_covariance(16, 2.0)
    values, vectors = np.linalg.eigh(C)
    rng = np.random.default_rng(0)
    rotated = vectors.copy()
    i = 0
    while i < len(values) - 1:
        if abs(values[i] - values[i + 1]) < 1e-9 * max(1.0, abs(values[i])):
            angle = rng.uniform(0, 2 * np.pi)
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            rotated[:, i:i + 2] = rotated[:, i:i + 2] @ rot
            i += 2
        else:
            i += 1
    old_style = [v * np.sqrt(np.clip(values, 0, None)) for v in (vectors, rotated)]
    assert np.abs(old_style[0] - old_style[1]).max() > 0.1  # the eigenvector factor is basis-dependent
    rebuilt = (rotated * np.sqrt(np.clip(values, 0, None))) @ rotated.T
    assert np.abs(rebuilt - signals.symmetric_sqrt(C)).max() < 1e-12


@pytest.mark.parametrize("bad, error", [(np.ones((2, 3)), TypeError), ([[1.0, 0.0], [0.0, 1.0]], TypeError),
                                        (np.array([[1.0, 0.5], [0.0, 1.0]]), ValueError),
                                        (np.array([[np.nan, 0.0], [0.0, 1.0]]), ValueError)])
def test_symmetric_sqrt_rejects_bad_input(bad, error):
    with pytest.raises(error, match="cov"):
        signals.symmetric_sqrt(bad)
