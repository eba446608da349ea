"""Partial substitutions one Wyckoff orbit at a time: the distinct orderings pymatgen
enumerates are those of a brute-force enumeration of every site subset grouped by
StructureMatcher; the settings bound the output; charge balance is kept where asked."""

from itertools import combinations

from pymatgen.analysis.structure_matcher import StructureMatcher
from smact.screening import smact_validity

from discoverflow.core.crystal.partial_substitution import (
    PartialSubstitutionSettings,
    distinct_orderings,
    partial_substitute,
    wyckoff_orbits,
)
from discoverflow.core.crystal.prototypes import PROTOTYPES

MATCHER = StructureMatcher(primitive_cell=False, attempt_supercell=False, scale=False)


def brute_force(structure, sites, element, count):
    """Every way of putting ``element`` on ``count`` of ``sites``, grouped by symmetry."""
    found = []
    for chosen in combinations(sites, count):
        ordered = structure.copy()
        for index in chosen:
            ordered.replace(index, element)
        found.append(ordered)
    return MATCHER.group_structures(found)


def test_orderings_are_the_symmetry_distinct_subsets():
    mgzn2 = PROTOTYPES["MgZn2"].structure().get_primitive_structure()  # C14 Laves, 12 sites
    orbits = dict(wyckoff_orbits(mgzn2))
    assert sorted(len(s) for s in orbits.values()) == [2, 4, 6]
    for symbol, count in (("6h", 3), ("6h", 2), ("4f", 2)):
        sites = orbits[symbol]
        ours = distinct_orderings(mgzn2, sites, "Ti", count, limit=500)
        groups = brute_force(mgzn2, sites, "Ti", count)
        assert len(ours) == len(groups) > 1
        for group in groups:  # each symmetry class has exactly one of ours
            assert sum(MATCHER.fit(group[0], mine) for mine in ours) == 1
        assert all(s.composition["Ti"] == count for s in ours)


def test_candidates_carry_their_orbit_and_share():
    alb2 = PROTOTYPES["AlB2"].structure().get_primitive_structure()  # as substitution uses it
    settings = PartialSubstitutionSettings(fractions=[1.0, 0.5], volume="template")
    result = partial_substitute({"AlB2": alb2}, ["Al", "Ni", "Ti"], settings)
    assert result.candidates and len({c.candidate_id for c in result.candidates}) == len(
        result.candidates
    )
    for candidate in result.candidates:
        base = alb2.copy()
        base.replace_species(candidate.species_map)
        n, sites = candidate.n_replaced, candidate.orbit_sites
        host = str(base[sites[0]].specie)
        assert all(str(base[i].specie) == host for i in sites)
        assert candidate.structure.composition == base.composition - {host: n} + {
            candidate.element: n
        }
        assert candidate.fraction == n / len(sites)
        options = [
            ordered for group in brute_force(base, sites, candidate.element, n) for ordered in group
        ]
        assert any(MATCHER.fit(candidate.structure, ordered) for ordered in options)
        assert len(candidate.structure.composition) >= 2
    assert {c.fraction for c in result.candidates} == {1.0, 0.5}
    assert {c.orbit for c in result.candidates} == {"1a", "2d"}


def test_settings_bound_the_output_and_keep_charge_balance():
    nacl = PROTOTYPES["CuZn"].structure()  # B2 (CsCl type), two one-site orbits
    nacl.replace_species({"Cu": "Na", "Zn": "Cl"})
    targets = ["Na", "Cl", "Mg", "O"]
    ionic = {"excluded_template_elements": []}  # exa-AMD's list excludes O and halogens
    balanced = partial_substitute({"B2": nacl}, targets, PartialSubstitutionSettings(**ionic))
    anything = partial_substitute(
        {"B2": nacl}, targets, PartialSubstitutionSettings(charge_neutral_only=False, **ionic)
    )
    formulas = {c.structure.composition.reduced_formula for c in balanced.candidates}
    assert formulas and all(smact_validity(f) for f in formulas)
    unbalanced = {c.structure.composition.reduced_formula for c in anything.candidates}
    assert "MgCl" in unbalanced and "MgCl" not in formulas
    capped = partial_substitute(
        {"B2": nacl},
        targets,
        PartialSubstitutionSettings(
            charge_neutral_only=False, max_candidates_per_template=3, **ionic
        ),
    )
    assert len(capped.candidates) == 3
    big = PROTOTYPES["MgZn2"].structure()
    skipped = partial_substitute(
        {"C14": big}, ["Al", "Ni"], PartialSubstitutionSettings(max_sites=6)
    )
    assert not skipped.candidates and "max_sites" in skipped.skipped[0].reason
