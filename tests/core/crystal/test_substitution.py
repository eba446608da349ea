import pytest
from pymatgen.core import Lattice, Structure

from discoverflow.core.crystal.substitution import (
    SubstitutionSettings,
    species_assignments,
    substitute,
)
from discoverflow.core.structures import candidate_id

SCALES = [0.96, 0.98, 1.00, 1.02, 1.04]


def test_b2_swap_symmetry_halves_assignments(prototypes):
    maps, total = species_assignments(prototypes["CuZn"], ["Ce", "Fe", "In"])
    assert total == 6  # ordered pairs from three elements
    assert len(maps) == 3  # A<->B swap maps B2 onto itself


def test_l12_has_no_swap_symmetry(prototypes):
    maps, total = species_assignments(prototypes["Cu3Au"], ["Ce", "Fe", "In"])
    assert (len(maps), total) == (6, 6)


def test_quaternary_heusler_has_three_distinct_orderings(prototypes):
    maps, total = species_assignments(prototypes["LiMgPdSn"], ["Co", "Fe", "Mn", "Si"])
    assert total == 24
    assert len(maps) == 3  # the three known Y-type configurations


def test_exa_amd_counts_without_symmetry_reduction(prototypes):
    result = substitute(
        {"hh": prototypes["MgAgAs"]},
        ["Ce", "Fe", "In"],
        SubstitutionSettings(lattice_scales=SCALES, symmetry_reduce=False),
    )
    assert len(result.candidates) == 30  # exa-AMD: 30 variants per ternary template


def test_scales_volume_and_provenance(prototypes):
    result = substitute(
        {"l12": prototypes["Cu3Au"]},
        ["Ni", "Al"],
        SubstitutionSettings(lattice_scales=SCALES, volume="template"),
    )
    assert len(result.candidates) == 10
    by_map = {}
    for c in result.candidates:
        assert set(c.species_map) == {"Au", "Cu"}
        assert c.template == "l12"
        assert c.candidate_id == candidate_id(c.structure)
        by_map.setdefault(tuple(sorted(c.species_map.items())), {})[c.scale] = c.structure
    for structures in by_map.values():
        assert structures[1.04].volume / structures[1.00].volume == pytest.approx(1.04**3)
        assert structures[1.00].volume == pytest.approx(prototypes["Cu3Au"].volume)
    formulas = {c.structure.composition.reduced_formula for c in result.candidates}
    assert formulas == {"AlNi3", "Al3Ni"}


def test_elemental_volume_mode_rescales_to_atomic_volumes(prototypes):
    result = substitute(
        {"b2": prototypes["CuZn"]}, ["Ni", "Al"], SubstitutionSettings(lattice_scales=[1.0])
    )
    (candidate,) = result.candidates
    # bcc-like packing of Ni (10.9 A^3) and Al (16.6 A^3) atoms
    assert candidate.structure.volume == pytest.approx(10.94 + 16.60, rel=0.02)


def test_unusable_templates_are_skipped_with_reasons(prototypes):
    disordered = Structure(Lattice.cubic(3), [{"Cu": 0.5, "Au": 0.5}], [[0, 0, 0]])
    with_oxygen = Structure(Lattice.cubic(4), ["Mg", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    result = substitute(
        {"dis": disordered, "ox": with_oxygen, "q": prototypes["LiMgPdSn"]},
        ["Ni", "Al"],
        SubstitutionSettings(excluded_template_elements=["O"]),
    )
    reasons = {s.template: s.reason for s in result.skipped}
    assert reasons["dis"] == "partial occupancy"
    assert "excluded elements O" in reasons["ox"]
    assert "4 species but only 2 target elements" in reasons["q"]
    assert result.candidates == []


def test_candidate_id_is_stable_under_site_order(rocksalt):
    shuffled = Structure.from_sites(list(reversed(rocksalt.sites)))
    assert candidate_id(shuffled) == candidate_id(rocksalt)
    moved = rocksalt.copy()
    moved.translate_sites([0], [0.01, 0, 0])
    assert candidate_id(moved) != candidate_id(rocksalt)
    assert candidate_id(rocksalt).startswith("NaCl-")
