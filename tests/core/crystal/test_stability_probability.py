import numpy as np
import pytest
from pymatgen.core import Composition

from discoverflow.core.crystal.stability_probability import (
    EnsembleEntry,
    energy_samples,
    stability_probability,
)


def entry(key, formula, *energies):
    return EnsembleEntry(key, Composition(formula), list(energies))


def binary_hull_distance(points, x, e):
    """Distance above the lower convex envelope of (x_i, e_i): the lowest chord over x."""
    chords = [
        ea if np.isclose(xa, x) else ea + (eb - ea) * (x - xa) / (xb - xa)
        for xa, ea in points
        for xb, eb in points
        if np.isclose(xa, x) or xa < x < xb
    ]
    return e - min(chords)


REFERENCES = [entry("Fe", "Fe", -8.3, -8.2), entry("Al", "Al", -3.7, -3.8)]


def test_two_members_give_the_hull_of_each():
    # member 0: FeAl 0.1 eV/atom below the elements' line; member 1: 0.1 above it.
    line = [(-8.3 - 3.7) / 2, (-8.2 - 3.8) / 2]
    feal = entry("feal", "FeAl", line[0] - 0.1, line[1] + 0.1)
    (result,) = stability_probability([feal], REFERENCES, threshold=0.05)
    assert result.n_samples == 2
    assert result.e_above_hull_mean == pytest.approx(0.05)
    assert result.e_above_hull_std == pytest.approx(0.05)
    assert result.probability_stable == 0.5


def test_an_error_shared_by_every_entry_cancels():
    # member 1 is member 0 shifted by +0.3 eV/atom everywhere: the same hull distances, while
    # independent draws of the same spreads would scatter them.
    base = {"Fe": -8.3, "Al": -3.7, "FeAl": -6.3, "Fe3Al": -7.0}
    entries = {k: entry(k, k, v, v + 0.3) for k, v in base.items()}
    references = [entries["Fe"], entries["Al"]]
    candidates = [entries["FeAl"], entries["Fe3Al"]]
    members = stability_probability(candidates, references, threshold=0.0)
    assert [r.e_above_hull_std for r in members] == pytest.approx([0.0, 0.0])
    points = [(0, -8.3), (1, -3.7), (0.5, -6.3), (0.25, -7.0)]
    expected = [binary_hull_distance(points, 0.5, -6.3), binary_hull_distance(points, 0.25, -7.0)]
    assert [r.e_above_hull_mean for r in members] == pytest.approx(expected)
    assert [r.probability_stable for r in members] == [float(v <= 0) for v in expected]
    drawn = stability_probability(candidates, references, gaussian_draws=400, seed=1)
    assert drawn[1].e_above_hull_std > 0.1  # Fe3Al, 0.3 eV/atom above Fe-FeAl
    assert drawn[0].n_samples == 402


def test_gaussian_draws_reproduce_the_normal_probability():
    # a lone binary candidate with fixed references: e_hull = max(0, E - line) per draw, so
    # P(e_hull <= t) = Phi((line + t - mean) / sigma) for a normal E.
    from scipy.stats import norm

    references = [entry("Fe", "Fe", -8.3, -8.3), entry("Al", "Al", -3.7, -3.7)]
    line = -6.0
    feal = entry("feal", "FeAl", line - 0.05, line + 0.15)  # mean line + 0.05, sigma 0.1
    (result,) = stability_probability([feal], references, threshold=0.1, gaussian_draws=4000)
    assert result.probability_stable == pytest.approx(norm.cdf((0.1 - 0.05) / 0.1), abs=0.03)


def test_samples_are_members_then_draws():
    entries = [entry("a", "Fe", 1.0, 3.0), entry("b", "Al", 0.0, 0.0)]
    samples = energy_samples(entries, gaussian_draws=5000, seed=0)
    np.testing.assert_array_equal(samples[:2], [[1.0, 0.0], [3.0, 0.0]])
    assert samples[2:, 0].mean() == pytest.approx(2.0, abs=0.05)
    assert samples[2:, 0].std() == pytest.approx(1.0, abs=0.05)
    np.testing.assert_array_equal(samples[2:, 1], 0.0)


def test_inconsistent_inputs_are_rejected():
    with pytest.raises(ValueError, match="no elemental reference for Ni"):
        stability_probability([entry("x", "NiAl", -5, -5)], REFERENCES)
    with pytest.raises(ValueError, match="different numbers of members"):
        stability_probability([entry("x", "FeAl", -5, -5, -5)], REFERENCES)
