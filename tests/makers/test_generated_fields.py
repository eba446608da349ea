"""A generated candidate's record fields: emmet's metadata and pymatgen's structure dict, as
stored, whether the composition's metadata was computed for it or shared with another."""

import json

import pytest
from emmet.core.structure import StructureMetadata
from monty.json import jsanitize
from pymatgen.core import Lattice, Species, Structure

from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.makers.documents import generated_fields

STRUCTURES = {
    "plain": PROTOTYPES["MgCu2"].structure(),
    "sites reordered": Structure.from_sites(PROTOTYPES["MgCu2"].structure().sites[::-1]),
    "scaled": PROTOTYPES["MgCu2"].structure().scale_lattice(200.0),
    "disorder": Structure(Lattice.cubic(3.6), [{"Cu": 0.5, "Au": 0.5}, "Fe"], [[0] * 3, [0.5] * 3]),
    "oxidation states": Structure(
        Lattice.cubic(4.2), [Species("Na", 1), Species("Cl", -1)], [[0] * 3, [0.5] * 3]
    ),
}


def emmet_fields(structure: Structure) -> dict:
    """What the generation records held before: emmet's metadata, pymatgen's dict."""
    metadata = StructureMetadata.from_composition(
        structure.composition,
        nsites=len(structure),
        volume=structure.volume,
        density=float(structure.density),
        density_atomic=structure.volume / len(structure),
    )
    fields = {**metadata.model_dump(), "structure_initial": structure}
    return jsanitize(fields, strict=True, allow_bson=True, enum_values=True)


@pytest.mark.parametrize("structure", STRUCTURES.values(), ids=STRUCTURES.keys())
def test_generated_fields_are_emmets_and_pymatgens(structure):
    for _ in range(2):  # computed, then shared
        found = generated_fields(structure)
        expected = emmet_fields(structure)
        assert found.pop("density") == pytest.approx(expected.pop("density"), rel=1e-12)
        assert json.dumps(found) == json.dumps(expected)
