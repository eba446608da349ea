import numpy as np
import pytest
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from discoverflow.core.crystal.hull import (
    composition_matrix,
    e_above_hull,
    e_above_hull_of_entries,
    formation_energy_per_atom,
    hull_energy_per_atom,
)


def entry(formula: str, energy_per_atom: float) -> PDEntry:
    comp = Composition(formula)
    return PDEntry(comp, energy_per_atom * comp.num_atoms)


def test_formation_energy_against_references():
    ef = formation_energy_per_atom([Composition("NiAl3")], [-2.0], {"Ni": -1.0, "Al": -1.5})
    assert ef[0] == pytest.approx(-2.0 - (0.25 * -1.0 + 0.75 * -1.5))
    with pytest.raises(ValueError, match="no elemental reference energy for Ti"):
        formation_energy_per_atom([Composition("NiTi")], [-1.0], {"Ni": -1.0})


def test_hand_made_binary_hull():
    # Elements at 0 and AgAu at -1 eV/atom make a hull at -0.5 for x = 1/4 and 3/4:
    # Ag3Au at -0.4 sits 0.1 above it; AgAu3 at -0.6 becomes a hull vertex itself.
    entries = [
        entry("Ag", 0),
        entry("Au", 0),
        entry("AgAu", -1.0),
        entry("Ag3Au", -0.4),
        entry("AgAu3", -0.6),
    ]
    pd = PhaseDiagram(entries)
    comps = [e.composition for e in entries]
    values = e_above_hull(pd, comps, [e.energy_per_atom for e in entries])
    np.testing.assert_allclose(values, [0, 0, 0, 0.1, 0], atol=1e-12)
    hull_at_quarter = hull_energy_per_atom(pd, [Composition("Ag3Au")])[0]
    assert hull_at_quarter == pytest.approx(-0.5)


def test_hand_made_ternary_hull():
    entries = [
        entry("Fe", -8),
        entry("Ni", -5),
        entry("Al", -3),
        entry("AlNi", -5.5),
        entry("AlFeNi", -6.0),
    ]
    pd = PhaseDiagram(entries)
    # AlFeNi: references average to -16/3 = -5.333; AlNi + Fe mix at x: (2/3)(-5.5) + (1/3)(-8) = -6.333
    values = e_above_hull(pd, [Composition("AlFeNi")], [-6.0])
    assert values[0] == pytest.approx(-6.0 - (-19.0 / 3))


def test_vectorised_matches_pymatgen_on_random_quaternary():
    rng = np.random.default_rng(7)
    elements = ["Li", "Fe", "P", "Mn"]
    entries = [entry(el, -4.0 - i) for i, el in enumerate(elements)]
    for _ in range(400):
        counts = rng.integers(0, 5, size=4)
        if counts.sum() == 0:
            continue
        comp = Composition({el: int(n) for el, n in zip(elements, counts, strict=True) if n})
        entries.append(PDEntry(comp, (-5.5 + rng.normal(0, 0.6)) * comp.num_atoms))
    pd = PhaseDiagram(entries)
    ours = e_above_hull(pd, [e.composition for e in entries], [e.energy_per_atom for e in entries])
    theirs = [pd.get_e_above_hull(e) for e in entries]
    np.testing.assert_allclose(ours, theirs, atol=1e-9)
    assert (ours > 0).any() and (ours == 0).any()


def test_entries_match_pymatgen_per_entry_on_random_quaternary():
    rng = np.random.default_rng(11)
    elements = ["Li", "Fe", "Mn", "P"]
    entries = [entry(el, -3.0 - i) for i, el in enumerate(elements)]
    while len(entries) < 600:
        counts = rng.integers(0, 7, size=4)
        if counts.sum():
            comp = Composition({el: int(n) for el, n in zip(elements, counts, strict=True) if n})
            entries.append(PDEntry(comp, (-4.5 + rng.normal(0, 0.5)) * comp.num_atoms))
    pd = PhaseDiagram(entries)
    ours = e_above_hull_of_entries(pd, entries)
    theirs = np.array([pd.get_e_above_hull(e) for e in entries])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)
    assert (ours > 0).sum() > 100


def test_species_fold_onto_elements_and_outsiders_are_refused():
    pd = PhaseDiagram([entry("Fe", -8), entry("O", -4), entry("Fe2O3", -6.5)])
    ionic = Composition({"Fe3+": 2, "O2-": 3})
    np.testing.assert_allclose(composition_matrix([ionic], pd.elements), [[0.4, 0.6]])
    assert e_above_hull(pd, [ionic], [-6.5])[0] == 0.0
    with pytest.raises(ValueError, match="outside"):
        e_above_hull(pd, [Composition("FeNi")], [-5.0])
