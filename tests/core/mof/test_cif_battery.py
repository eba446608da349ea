"""Database CIFs as they come (tests/test_data/mofs, see its README): symmetry operations,
coordinates outside [0, 1), labels without type symbols, occupancies of 1.0, free solvent and
counter-ions. Each reads and passes the checks with what a chemist would say of it."""

from pathlib import Path

import pytest
from pymatgen.core import Composition

from discoverflow.core.mof.checks import (
    CharacterisationSettings,
    characterise,
    charge_balance,
)
from discoverflow.core.mof.pores import ZeoFailed, run_zeo
from discoverflow.core.mof.solvent import formal_charge, free_molecules
from discoverflow.core.mof.uff4mof import framework_graph
from discoverflow.core.structures import read_structure

FOLDER = Path(__file__).parents[2] / "test_data" / "mofs"
QUICK = {"surface_samples": 200, "volume_samples": 5000}


def read(name: str):
    return read_structure(FOLDER / f"{name}.cif")


@pytest.mark.parametrize(
    ("name", "atoms", "formula"),
    [
        ("MIL-47", 72, "VH4C8O5"),  # Pnma, 8 operations, x = -0.0249
        ("ZnMOF-74", 162, "ZnHC4O3"),  # R-3, hexagonal setting
        ("IRMOF-1_labels_only", 424, "Zn4H12C24O13"),  # Fm-3m, "Zn1", occupancy 1.0
        ("DMOF-1_solvated", 69, "Zn2H29C25N3O10"),  # P1, coordinates outside [0, 1)
        ("MIL-53-Al_ammonium", 84, "Al2H13C16NO10"),
    ],
)
def test_each_file_reads_into_its_whole_cell(name, atoms, formula):
    structure = read(name)
    assert len(structure) == atoms and structure.composition.reduced_formula == formula
    assert structure.is_ordered


def test_free_solvent_is_found_reported_and_removed_only_when_asked():
    solvated = read("DMOF-1_solvated")
    found = free_molecules(solvated)
    assert [(m.formula, m.charge, m.solvent) for m in found] == [
        ("C3H7NO", 0, True),  # DMF
        ("H2O", 0, True),
    ]
    kept = characterise(solvated, CharacterisationSettings(**QUICK))
    assert not kept.solvent_removed and len(kept.structure) == 69
    assert [m.describe() for m in kept.free_molecules] == ["C3H7NO (solvent)", "H2O (solvent)"]

    removed = characterise(solvated, CharacterisationSettings(remove_solvent=True, **QUICK))
    assert removed.solvent_removed and removed.reasons == []
    framework = removed.structure.composition
    assert framework == Composition("Zn2C22H20N2O8")  # Zn2(bdc)2(dabco)
    assert removed.checks.charge_balanced is True and removed.checks.metal_oxidation_state == 2
    assert removed.pores.largest_included_sphere > kept.pores.largest_included_sphere + 2


def test_counter_ions_stay_and_balance_the_anionic_framework():
    salt = read("MIL-53-Al_ammonium")
    ions = free_molecules(salt)
    assert [(m.formula, m.charge, m.solvent) for m in ions] == [("H4N", 1, False)] * 2
    found = characterise(salt, CharacterisationSettings(remove_solvent=True, **QUICK))
    assert not found.solvent_removed and len(found.structure) == len(salt)  # ions stay
    assert found.reasons == [] and found.checks.charge_balanced is True
    assert found.checks.metal_oxidation_state == 3  # Al(III), with two NH4+ per four Al
    graph, repeats = framework_graph(salt)
    assert charge_balance(graph, repeats) == (False, 3.5)  # without the ions: Al(3.5)


@pytest.mark.parametrize("name", ["MIL-47", "ZnMOF-74", "IRMOF-1_labels_only"])
def test_frameworks_without_guests_pass_the_checks(name):
    found = characterise(read(name), CharacterisationSettings(remove_solvent=True, **QUICK))
    assert found.reasons == [] and found.free_molecules == [] and not found.solvent_removed
    assert found.pores.largest_free_sphere > 2 * found.pores.probe_radius


def test_zeo_degenerate_symmetric_cell_is_measured_displaced():
    """IRMOF-1's exactly symmetric Fm-3m cell stops Zeo++ (it ends its process); the pores
    come from a 0.001 A displaced copy: MOF-5's 15 A cavity and ~0.8 void fraction."""
    irmof = read("IRMOF-1_labels_only")
    with pytest.raises(ZeoFailed, match="Unable to add edge"):
        run_zeo(irmof, 1.65, 200, 5000)
    found = characterise(irmof, CharacterisationSettings(**QUICK))
    assert 14.5 < found.pores.largest_included_sphere < 15.5
    assert 0.75 < found.pores.void_fraction < 0.85


def test_formal_charges_of_free_molecules():
    """Closed-shell Lewis structures: nitrate -1, ammonium +1, water and DMF 0; lone halide
    and alkali ions by their group; a metal complex has no charge read from bonds alone."""
    from pymatgen.core import Molecule

    nitrate = Molecule(
        ["N", "O", "O", "O"], [[0, 0, 0], [1.25, 0, 0], [-0.625, 1.083, 0], [-0.625, -1.083, 0]]
    )
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    zinc_aqua = Molecule(
        ["Zn", "O", "H", "H"], [[0, 0, 0], [2.0, 0, 0], [2.6, 0.76, 0], [2.6, -0.76, 0]]
    )
    assert formal_charge(nitrate) == -1 and formal_charge(water) == 0
    assert formal_charge(Molecule(["Cl"], [[0, 0, 0]])) == -1
    assert formal_charge(Molecule(["Na"], [[0, 0, 0]])) == 1
    assert formal_charge(zinc_aqua) is None
