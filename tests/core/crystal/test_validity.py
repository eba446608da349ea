import pytest
from pymatgen.core import Lattice, Structure

from discoverflow.core.crystal.generators import (
    charge_neutral_compositions,
    random_crystals,
    stoichiometries,
)
from discoverflow.core.crystal.validity import (
    ValiditySettings,
    filter_structures,
    first_problem,
    is_charge_neutral,
    space_group_number,
)

ELEVEN = ["Li", "Na", "K", "Rb", "Cs", "Mg", "Ca", "Sr", "Ba", "Al", "Ga"]


@pytest.fixture
def p1_structure() -> Structure:
    lattice = Lattice.from_parameters(4.1, 5.3, 6.2, 81, 97, 104)
    return Structure(
        lattice,
        ["Na", "Cl", "Na", "Cl"],
        [[0, 0, 0], [0.31, 0.12, 0.57], [0.6, 0.45, 0.2], [0.13, 0.74, 0.88]],
    )


def test_p1_is_rejected(p1_structure, rocksalt):
    assert space_group_number(p1_structure) == 1
    assert first_problem(p1_structure, ValiditySettings()) == "space_group_p1"
    assert space_group_number(rocksalt) == 225
    assert first_problem(rocksalt, ValiditySettings()) is None


def test_charge_imbalanced_composition_is_rejected(rocksalt):
    wrong = Structure(
        Lattice.cubic(4.0), ["Na", "Cl", "Cl"], [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]]
    )
    assert wrong.composition.reduced_formula == "NaCl2"
    assert not is_charge_neutral(wrong.composition)
    assert first_problem(wrong, ValiditySettings()) == "not_charge_neutral"
    assert first_problem(wrong, ValiditySettings(charge_neutral=False)) is None


def test_eleven_elements_are_too_many():
    structure = Structure(Lattice.cubic(20), ELEVEN, [[i / 11, 0.5, 0.5] for i in range(11)])
    assert first_problem(structure, ValiditySettings()) == "too_many_elements"
    assert first_problem(structure, ValiditySettings(max_elements=11)) != "too_many_elements"


def test_close_atoms_and_duplicates_are_counted(rocksalt):
    squeezed = rocksalt.copy()
    squeezed.scale_lattice(rocksalt.volume * 0.001)
    bigger = rocksalt.copy()
    bigger.scale_lattice(rocksalt.volume * 1.1)
    outcome = filter_structures({"a": rocksalt, "b": bigger, "c": squeezed})
    assert outcome.kept == ["a"]
    assert outcome.removed == {"b": "duplicate", "c": "atoms_too_close"}
    assert outcome.counts["duplicate"] == 1 and outcome.counts["atoms_too_close"] == 1
    assert outcome.counts["space_group_p1"] == 0


def test_stoichiometries_and_charge_neutral_compositions():
    formulas = {c.reduced_formula for c in stoichiometries(["Na", "Cl"], 3)}
    assert formulas == {"NaCl", "Na2Cl", "NaCl2"}
    neutral = {c.reduced_formula for c in charge_neutral_compositions(["Na", "Cl"], 3)}
    assert neutral == {"NaCl"}


def test_random_crystals_have_the_composition_and_symmetry():
    from pymatgen.core import Composition
    from pymatgen.symmetry.groups import PointGroup, SpaceGroup

    def point_group_order(number):
        return len(PointGroup(SpaceGroup.from_int_number(number).point_group).symmetry_ops)

    made = random_crystals(Composition("NaCl"), 4, max_sites=16, seed=3)
    assert len(made) == 4
    for group, structure in made:
        assert structure.composition.reduced_formula == "NaCl"
        found = space_group_number(structure, symprec=0.01)
        # the structure keeps at least the requested symmetry (spglib may find a supergroup)
        assert point_group_order(found) >= point_group_order(group) > 1


def test_random_crystals_are_reproducible_for_a_seed():
    from pymatgen.core import Composition

    from discoverflow.core.structures import candidate_id

    first = [candidate_id(s) for _, s in random_crystals(Composition("AlNi"), 3, seed=5)]
    again = [candidate_id(s) for _, s in random_crystals(Composition("AlNi"), 3, seed=5)]
    other = [candidate_id(s) for _, s in random_crystals(Composition("AlNi"), 3, seed=6)]
    assert first == again and first != other
