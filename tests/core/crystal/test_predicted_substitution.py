"""Substitutions proposed by pymatgen's data-mined probabilities: rock-salt NaCl becomes the
campaign's KBr and MgO, each with the probability the lambda table gives that swap, above
the threshold and charge-balanced; an intermetallic template has no ions to swap."""

import pytest
from pymatgen.core import Lattice, Species, Structure
from pymatgen.core.structure_prediction.substitution_probability import SubstitutionProbability
from smact.screening import smact_validity

from discoverflow.core.crystal.predicted_substitution import predicted_substitutions
from discoverflow.core.crystal.prototypes import PROTOTYPES


def test_rocksalt_swaps_with_their_probabilities():
    nacl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    templates = {"NaCl": nacl, "AlNi3": PROTOTYPES["Cu3Au"].structure()}
    result = predicted_substitutions(templates, ["K", "Mg", "Br", "O"])
    formulas = [c.structure.composition.reduced_formula for c in result.candidates]
    assert sorted(formulas) == ["KBr", "MgO"]
    assert [s.template for s in result.skipped] == ["AlNi3"]
    assert "oxidation states" in result.skipped[0].reason
    table = SubstitutionProbability()
    for candidate in result.candidates:
        old = [Species.from_str(s) for s in candidate.substitutions]
        new = [Species.from_str(candidate.substitutions[str(s)]) for s in old]
        assert candidate.probability == pytest.approx(table.cond_prob_list(new, old))
        assert candidate.probability > 1e-3 and smact_validity(candidate.structure.composition)
        assert candidate.structure.lattice.abc == pytest.approx(
            nacl.get_primitive_structure().lattice.abc
        )
    assert [c.probability for c in result.candidates] == sorted(
        (c.probability for c in result.candidates), reverse=True
    )
