"""The campaign's hull analysis on energies whose answer is known by hand."""

import pytest
from pymatgen.core import Composition

from discoverflow.core.crystal.stability import HullInput, HullSettings, analyse_hull

ELEMENTS = {"Al": -3.0, "Ni": -5.0}


def item(key: str, formula: str, energy_per_atom: float) -> HullInput:
    return HullInput(key, Composition(formula), energy_per_atom)


def test_formation_energies_and_hull_distances_by_hand():
    candidates = [item("b2", "AlNi", -4.5), item("l12", "AlNi3", -4.7)]
    analysis = analyse_hull(candidates, ELEMENTS, HullSettings(e_above_hull_threshold=0.1))
    rows = {row.candidate_id: row for row in analysis.candidates}
    # AlNi: -4.5 - (-3 - 5) / 2 = -0.5; AlNi3: -4.7 - (-3 - 15) / 4 = -0.2
    assert rows["b2"].formation_energy_per_atom == pytest.approx(-0.5)
    assert rows["l12"].formation_energy_per_atom == pytest.approx(-0.2)
    # the hull at x(Ni) = 3/4 lies halfway between AlNi (-0.5) and Ni (0): -0.25
    assert rows["b2"].e_above_hull == pytest.approx(0.0, abs=1e-9)
    assert rows["l12"].e_above_hull == pytest.approx(0.05)
    assert [row.candidate_id for row in analysis.candidates] == ["b2", "l12"]
    assert rows["l12"].promising and analysis.stable_formulas == ["Al", "AlNi", "Ni"]
    strict = analyse_hull(candidates, ELEMENTS, HullSettings(e_above_hull_threshold=0.01))
    assert [row.promising for row in strict.candidates] == [True, False]


def test_known_phases_shape_the_hull_but_are_never_promising():
    candidates = [item("l12", "AlNi3", -4.7)]
    phases = [item("known-B2", "AlNi", -4.5)]
    analysis = analyse_hull(
        candidates, ELEMENTS, phases=phases, predicted={"l12": -0.31, "other": 1.0}
    )
    (row,) = analysis.candidates
    assert row.e_above_hull == pytest.approx(0.05)
    assert row.predicted_formation_energy_per_atom == -0.31
    (phase,) = analysis.phases
    assert phase.candidate_id == "known-B2" and not phase.promising
    assert analysis.corrections is None and analysis.excluded == []
