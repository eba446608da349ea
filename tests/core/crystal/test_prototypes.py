"""The AFLOW prototype library as a generator: selection filters and decorations."""

import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher

from discoverflow.core.crystal.prototypes import (
    PROTOTYPES,
    PrototypeSettings,
    decorate_prototypes,
    library,
    select_prototypes,
    stoichiometry_key,
)
from discoverflow.core.crystal.substitution import elemental_volume


def test_library_is_pymatgens_aflow_part_one():
    prototypes = library()
    assert len(prototypes) == 288
    cu3au = next(p for p in prototypes if p.strukturbericht == "L1_2")
    assert (cu3au.label, cu3au.space_group, cu3au.stoichiometry) == ("AB3_cP4_221_a_c", 221, (1, 3))
    assert cu3au.structure.get_space_group_info()[1] == 221


@pytest.mark.parametrize(
    ("formula", "key"), [("AB3", (1, 3)), ("A3B", (1, 3)), ("CeFe2", (1, 2)), ("A2B4", (1, 2))]
)
def test_stoichiometry_keys(formula, key):
    assert stoichiometry_key(formula) == key


def test_filters_by_stoichiometry_space_group_and_label():
    chosen = select_prototypes(PrototypeSettings(stoichiometries=["AB3"], space_groups=[221]), 2)
    assert {p.name for p in chosen.values()} == {"Cu3Au", "ReO3"}
    by_symbol = select_prototypes(PrototypeSettings(space_groups=["Pm-3m"]), 2)
    assert all(p.space_group == 221 for p in by_symbol.values()) and len(by_symbol) > 2
    named = select_prototypes(PrototypeSettings(labels=["l1_2", "Cubic Laves", "CsCl"]), 3)
    assert {p.name for p in named.values()} == {"Cu3Au", "MgCu2", "CsCl"}
    ternary = select_prototypes(PrototypeSettings(n_elements=[3], max_sites=4), 3)
    assert ternary and all(p.n_elements == 3 for p in ternary.values())
    assert all(len(p.structure.get_primitive_structure()) <= 4 for p in ternary.values())
    assert not select_prototypes(PrototypeSettings(n_elements=[3]), 2)


def test_species_decoration_gives_each_distinct_assignment_at_elemental_volume():
    result, n = decorate_prototypes(["Al", "Ni"], PrototypeSettings(labels=["L1_2", "B2"]))
    assert n == 2
    formulas = sorted(c.structure.composition.reduced_formula for c in result.candidates)
    # L1_2 has no species-swap symmetry (Al3Ni and AlNi3); B2's two orderings are one.
    assert formulas == ["Al3Ni", "AlNi", "AlNi3"]
    for candidate in result.candidates:
        assert candidate.structure.volume == pytest.approx(elemental_volume(candidate.structure))


def test_wyckoff_decoration_colours_orbits_of_one_species():
    species, _ = decorate_prototypes(["Al", "Ni", "Ti"], PrototypeSettings(labels=["D0_3"]))
    wyckoff, _ = decorate_prototypes(
        ["Al", "Ni", "Ti"], PrototypeSettings(labels=["D0_3"], decoration="wyckoff")
    )
    formulas = {c.structure.composition.reduced_formula for c in wyckoff.candidates}
    # D0_3's three orbits (4a, 4b, 8c) coloured Al/Ni/Ti include the L2_1 Heusler orderings.
    assert {"TiAlNi2", "AlNi3", "Al3Ni"} <= formulas
    assert len(wyckoff.candidates) > len(species.candidates)
    heusler = PROTOTYPES["Cu2MnAl"].structure()
    heusler.replace_species({"Cu": "Ni", "Mn": "Ti", "Al": "Al"})
    matcher = StructureMatcher()
    assert any(matcher.fit(c.structure, heusler) for c in wyckoff.candidates)


def test_named_templates_come_from_the_library_where_it_has_them():
    expected = {
        "CuZn": ("ZnCu", 221),
        "Fe3Al": ("AlFe3", 225),
        "MgCu2": ("MgCu2", 227),
        "MgZn2": ("MgZn2", 194),
        "Fe3AlC": ("AlFe3C", 221),
        "TiNiSi": ("TiSiNi", 62),
    }
    for name, (formula, number) in expected.items():
        structure = PROTOTYPES[name].structure()
        assert structure.composition.reduced_formula == formula
        assert structure.get_space_group_info()[1] == number
    assert PROTOTYPES["CuZn"].label == "AB_cP2_221_b_a"


def test_coinciding_prototypes_keep_the_textbook_one():
    """Decorated at the elements' volumes, D0_c and L6_0 Cu3Au are L1_2 and L1_0 CuAu is B2:
    the library's textbook prototype is the one kept, the others are its duplicates."""
    from discoverflow.core.crystal.validity import ValiditySettings, near_duplicates

    result, _ = decorate_prototypes(["Cu", "Au"], PrototypeSettings(max_sites=8))
    structures = {c.candidate_id: c.structure for c in result.candidates}
    template = {c.candidate_id: c.template for c in result.candidates}
    duplicate_of = {
        (template[cid], structures[cid].composition.reduced_formula): template[kept]
        for cid, kept in near_duplicates(structures, ValiditySettings().matcher).items()
    }
    assert duplicate_of[("AB3_tI16_140_b_ah (D0_c)", "Cu3Au")] == "AB3_cP4_221_a_c (L1_2)"
    assert duplicate_of[("AB3_tP4_123_a_ce (L6_0)", "Cu3Au")] == "AB3_cP4_221_a_c (L1_2)"
    assert duplicate_of[("AB_tP2_123_a_d (L1_0)", "CuAu")] == "AB_cP2_221_b_a (B2)"
    kept = set(template.values()) - set(duplicate_of)
    assert {"AB3_cP4_221_a_c (L1_2)", "AB_cP2_221_b_a (B2)"} <= kept
    assert StructureMatcher().fit(
        next(s for c, s in structures.items() if template[c] == "AB3_cP4_221_a_c (L1_2)"),
        PROTOTYPES["Cu3Au"].structure(),
    )
