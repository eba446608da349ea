"""A MOF with a short axis (MIL-47, a = 6.82 A along its V-O chains) is never rejected for its
cell size: the bond graph, the checks and the LAMMPS MD run in supercells, pores need none,
and the results are the original cell's."""

from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from discoverflow.core.mof.checks import CharacterisationSettings, check_mof
from discoverflow.core.mof.md import StabilitySettings, md_outcome
from discoverflow.core.mof.pores import pore_descriptors
from discoverflow.core.mof.strain import lattice_strain
from discoverflow.core.mof.supercell import perpendicular_widths, repeated
from discoverflow.core.mof.uff4mof import (
    TypingFailed,
    atom_types,
    bond_graph,
    framework_graph,
    is_metal,
)
from discoverflow.core.structures import read_structure

MIL47 = Path(__file__).parents[2] / "test_data" / "mofs" / "MIL-47.cif"


@pytest.fixture(scope="module")
def mil47() -> Structure:
    return read_structure(MIL47)


def test_mil47_bonds_need_two_cells_along_its_chains_and_the_checks_report_its_own_sites(mil47):
    assert len(mil47) == 72 and min(perpendicular_widths(mil47)) == pytest.approx(6.8179)
    with pytest.raises(TypingFailed, match="two images of one atom"):
        bond_graph(mil47)  # each V bonds to an O and to that O's next image along a
    graph, repeats = framework_graph(mil47)
    assert repeats == (2, 1, 1) and len(graph.symbols) == 144
    vanadium = [i for i, s in enumerate(graph.symbols) if s == "V"]
    for i in vanadium:  # octahedral VO6: four carboxylate O, two chain O
        ligands = [j for j in graph.partners(i) if not is_metal(graph.symbols[j])]
        assert [graph.symbols[j] for j in ligands] == ["O"] * 6
    assert {atom_types(graph)[i] for i in vanadium} == {"V_6+3"}

    checks = check_mof(mil47, CharacterisationSettings())
    assert checks.failures() == {} and checks.supercell == [2, 1, 1]
    assert checks.charge_balanced is True and checks.metal_oxidation_state == 4.0  # V(IV)O(bdc)
    assert checks.open_metal_sites == []


def test_the_strain_of_a_supercell_is_that_of_the_original_cell(mil47):
    shear = np.array([[1.02, 0.01, 0.0], [0.0, 0.99, 0.03], [0.0, 0.0, 1.01]])
    deformed = Lattice(mil47.lattice.matrix @ shear)
    expected = lattice_strain(mil47.lattice.matrix, deformed.matrix)
    repeats = (4, 2, 2)
    before = repeated(mil47, repeats)
    after = repeated(Structure(deformed, mil47.species, mil47.frac_coords), repeats)
    outcome = md_outcome(before, after, repeats, StabilitySettings(), [300.0])
    assert outcome.strain == pytest.approx(expected, rel=1e-9)
    assert outcome.volume_change == pytest.approx(np.linalg.det(shear) - 1, rel=1e-9)
    naive = lattice_strain(before.lattice.matrix, after.lattice.matrix)
    assert abs(naive - expected) > 1e-3  # the supercell's own cell would be another number


def test_zeo_needs_no_supercell_for_the_short_axis(mil47):
    settings = {"surface_samples": 400, "volume_samples": 20000}
    cell = pore_descriptors(mil47, **settings)
    bigger = pore_descriptors(mil47 * (2, 2, 2), **settings)
    for name in ("largest_included_sphere", "largest_free_sphere"):
        assert getattr(cell, name) == pytest.approx(getattr(bigger, name), abs=0.01)
    assert cell.accessible_surface_area_a2 == pytest.approx(
        bigger.accessible_surface_area_a2 / 8, rel=0.03
    )
    assert cell.void_fraction == pytest.approx(bigger.void_fraction, abs=0.02)
    assert 2 * cell.probe_radius < cell.largest_free_sphere < 8  # MIL-47's ~7.5 A channels


def test_lammps_md_of_mil47_runs_in_a_supercell_wider_than_twice_its_cutoff(mil47):
    from discoverflow.core.mof.lammps import lammps_npt_md, lammps_repeats

    assert lammps_repeats(mil47, StabilitySettings(engine="lammps")) == (4, 2, 2)
    settings = StabilitySettings(engine="lammps", steps=300, lammps_minimise=100, lammps_cutoff=6)
    outcome = lammps_npt_md(mil47, settings)
    assert outcome.supercell == (2, 1, 1) and len(outcome.initial) == 144
    widths = perpendicular_widths(outcome.initial)
    assert min(widths) > 2 * settings.lammps_cutoff
    assert outcome.strain < settings.stable_strain and abs(outcome.volume_change) < 0.1


def test_chgnet_md_of_mil47_in_its_own_cell(mil47):
    from discoverflow.core.mof.md import npt_md
    from discoverflow.models.chgnet import chgnet_calculator

    settings = StabilitySettings(steps=6)
    outcome = npt_md(mil47, chgnet_calculator(settings.model), settings)
    assert outcome.supercell == (1, 1, 1) and len(outcome.final) == 72
    assert outcome.strain < 0.02  # six half-femtosecond steps barely move the cell
