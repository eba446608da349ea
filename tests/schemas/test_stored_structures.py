"""Structures in job outputs: the compact form reads back the same structure, and anything it
cannot hold keeps pymatgen's form."""

import json

import numpy as np
import pytest
from monty.json import jsanitize
from pymatgen.core import Lattice, Species, Structure

from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.core.crystal.substitution import (
    SubstitutionResult,
    SubstitutionSettings,
    plan_substitutions,
    substitute,
    usable_templates,
)
from discoverflow.core.structures import candidate_id, density
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.structures import compact_structure, stored_structure, structure_dict


def stored(structure: Structure) -> Structure:
    """``structure`` through a generation document as jobflow stores and loads it."""
    document = GenerationDocument(
        elements=[], n_templates=0, assignments_total=0, assignments_distinct=0,
        structures={"x": structure},
    )  # fmt: skip
    as_stored = jsanitize(document, strict=True, allow_bson=True)
    return GenerationDocument.model_validate(as_stored).structures["x"]


def test_a_plain_crystal_is_stored_as_arrays_and_read_back_to_the_last_bit():
    structure = Structure(
        Lattice.hexagonal(2.51, 4.07), ["Co", "Co"], [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]]
    )
    form = compact_structure(structure)
    assert form["species"] == ["Co", "Co"] and "@class" not in form
    back = stored(structure)
    assert np.array_equal(back.frac_coords, structure.frac_coords)
    assert np.array_equal(back.lattice.matrix, structure.lattice.matrix)
    assert back == structure and candidate_id(back) == candidate_id(structure)


@pytest.mark.parametrize(
    "structure",
    [
        Structure(Lattice.cubic(4.2), [Species("Na", 1), Species("Cl", -1)], [[0] * 3, [0.5] * 3]),
        Structure(Lattice.cubic(3.6), [{"Cu": 0.5, "Au": 0.5}], [[0, 0, 0]]),
        Structure(Lattice.cubic(2.9), ["Fe"], [[0, 0, 0]], site_properties={"magmom": [2.2]}),
        Structure(Lattice.cubic(2.9), ["Fe"], [[0, 0, 0]], labels=["Fe1"]),
        pytest.param(
            Structure(Lattice.cubic(2.9), ["Fe"], [[0, 0, 0]], charge=1.0),
            # pymatgen warns that a charge differs from the oxidation states': this case's point
            marks=pytest.mark.filterwarnings("ignore:Structure charge:UserWarning"),
        ),
    ],
    ids=["oxidation states", "disorder", "site properties", "labels", "charge"],
)
def test_what_the_arrays_cannot_hold_keeps_pymatgens_form(structure):
    assert "@class" in compact_structure(structure)
    back = stored(structure)
    assert back == structure and back.site_properties == structure.site_properties
    assert back.labels == structure.labels and back.charge == structure.charge


def test_planned_candidates_have_the_ids_of_the_structures_built_for_them():
    templates = {name: p.structure() for name, p in PROTOTYPES.items()}
    settings = SubstitutionSettings(lattice_scales=[0.97, 1.0, 1.03])
    usable, _ = usable_templates(templates, 3, settings)
    plans = list(plan_substitutions(usable, ["Fe", "Ni", "Al"], settings, SubstitutionResult()))
    built = substitute(templates, ["Fe", "Ni", "Al"], settings).candidates
    assert [p.candidate_id for p in plans] == [c.candidate_id for c in built]
    assert all(candidate_id(c.structure) == c.candidate_id for c in built)
    assert [p.formula for p in plans] == [c.structure.composition.reduced_formula for c in built]
    for c in built[:: max(1, len(built) // 20)]:
        assert stored_structure(compact_structure(c.structure)) == c.structure


def test_density_is_pymatgens_for_plain_and_oxidation_decorated_crystals():
    plain = PROTOTYPES["CuZn"].structure()
    salt = Structure(
        Lattice.cubic(5.64), [Species("Na", 1), Species("Cl", -1)], [[0] * 3, [0.5] * 3]
    )
    for structure in (
        plain,
        salt,
        Structure(Lattice.cubic(3.6), [{"Cu": 0.5, "Au": 0.5}], [[0] * 3]),
    ):
        assert density(structure) == pytest.approx(float(structure.density), rel=1e-12)


def float_occupancies(structure: Structure) -> Structure:
    as_dict = structure.as_dict()
    for site in as_dict["sites"]:
        site["species"][0]["occu"] = 1.0
    return Structure.from_dict(as_dict)


CRYSTALS = {
    "plain": PROTOTYPES["MgCu2"].structure(),
    "cartesian": Structure(
        Lattice([[3.1, 0.1, 0], [0.2, 2.9, 0.1], [0, 0.3, 3.3]]),
        ["Al", "Ni", "Al"],
        [[0, 0, 0], [1.3, 1.1, 1.7], [0.1, 1.9, 2.3]],
        coords_are_cartesian=True,
    ),
    "float occupancies": float_occupancies(PROTOTYPES["CuZn"].structure()),
    "labels": Structure(Lattice.cubic(2.9), ["Fe", "Ni"], [[0] * 3, [0.5] * 3], labels=["a", "b"]),
    "site properties": Structure(
        Lattice.cubic(2.9), ["Fe"], [[0, 0, 0]], site_properties={"magmom": [2.2]}
    ),
    "disorder": Structure(Lattice.cubic(3.6), [{"Cu": 0.5, "Au": 0.5}], [[0, 0, 0]]),
    "charge": Structure(Lattice.cubic(2.9), ["Fe"], [[0, 0, 0]], charge=1.0),
    "oxidation states": Structure(
        Lattice.cubic(4.2), [Species("Na", 1), Species("Cl", -1)], [[0] * 3, [0.5] * 3]
    ),
}


# pymatgen warns of the "charge" crystal's charge, which differs from its oxidation states'
@pytest.mark.filterwarnings("ignore:Structure charge:UserWarning")
@pytest.mark.parametrize("structure", CRYSTALS.values(), ids=CRYSTALS.keys())
def test_structure_dict_is_pymatgens_as_dict_as_stored(structure):
    expected = jsanitize(structure.as_dict(), strict=True, allow_bson=True)
    assert json.dumps(structure_dict(structure)) == json.dumps(expected)


def test_the_earlier_compact_form_with_nested_lists_reads_back():
    structure = PROTOTYPES["MgCu2"].structure()
    nested = {
        "lattice": structure.lattice.matrix.tolist(),
        "species": [site.specie.symbol for site in structure],
        "frac_coords": structure.frac_coords.tolist(),
    }
    assert stored_structure(nested) == stored_structure(compact_structure(structure)) == structure
    assert len(compact_structure(structure)["frac_coords"]) == 3 * len(structure)
