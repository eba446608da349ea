"""mofchecker's checks on the bond graph, and Zeo++ pore descriptors."""

import networkx as nx
import numpy as np
import pytest
from scipy.constants import Avogadro

from discoverflow.core.mof.assembly import AssemblySettings, assemble_mof
from discoverflow.core.mof.checks import (
    CharacterisationSettings,
    characterise,
    check_mof,
    largest_empty_cone,
)
from discoverflow.core.mof.linkers import process_linker
from discoverflow.core.mof.pores import pore_descriptors
from discoverflow.core.mof.uff4mof import bond_graph, is_metal

BDC = "OC(=O)c1ccc(cc1)C(=O)O"
SETTINGS = CharacterisationSettings()


@pytest.fixture(scope="module")
def mof5():
    return assemble_mof([process_linker(BDC)], settings=AssemblySettings(supercell=1)).structure


@pytest.fixture(scope="module")
def paddlewheel():
    settings = AssemblySettings(node="Cu-paddlewheel", topology="cds")
    return assemble_mof([process_linker(BDC)], settings=settings).structure


def without_one_linker(structure):
    graph = bond_graph(structure)
    organic = nx.Graph()
    organic.add_nodes_from(range(len(structure)))
    organic.add_edges_from(
        (i, j) for i, j in graph.bonds if not any(is_metal(graph.symbols[k]) for k in (i, j))
    )
    linker = next(c for c in nx.connected_components(organic) if len(c) == 16)  # C8H4O4
    cut = structure.copy()
    cut.remove_sites(sorted(linker))
    return cut


def test_empty_cones_of_ideal_polyhedra():
    tetrahedron = [(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)]
    square = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0)]
    octahedron = [*square, (0, 0, 1), (0, 0, -1)]
    assert largest_empty_cone([list(v) for v in tetrahedron]) == pytest.approx(70.53, abs=1.0)
    assert largest_empty_cone(square) == pytest.approx(90.0, abs=1.0)
    assert largest_empty_cone(octahedron) == pytest.approx(54.74, abs=1.0)


def test_mof5_passes_and_is_charge_balanced(mof5):
    verdicts = check_mof(mof5, SETTINGS)
    assert verdicts.failures() == {}
    assert verdicts.open_metal_sites == []  # Zn4O zinc is tetrahedral
    assert verdicts.charge_balanced is True and verdicts.metal_oxidation_state == 2.0


def test_paddlewheel_copper_is_an_open_metal_site(paddlewheel):
    verdicts = check_mof(paddlewheel, SETTINGS)
    copper = [i for i, site in enumerate(paddlewheel) if site.specie.symbol == "Cu"]
    assert verdicts.failures() == {} and verdicts.open_metal_sites == copper
    assert verdicts.metal_oxidation_state == 2.0


def test_broken_frameworks_fail_with_the_reason(mof5):
    bare = mof5.copy()
    bare.remove_species(["H"])
    failed = check_mof(bare, SETTINGS).failures()
    assert set(failed) == {"undercoordinated", "missing_hydrogens"}

    crowded = mof5.copy()
    crowded.append("C", mof5[0].coords + np.array([0.4, 0, 0]), coords_are_cartesian=True)
    assert "overlapping_atoms" in check_mof(crowded, SETTINGS).failures()

    missing = check_mof(without_one_linker(mof5), SETTINGS)  # Zn4O(BDC)2: Zn at +1.5
    assert missing.charge_balanced is False and missing.metal_oxidation_state == 1.5
    assert len(missing.open_metal_sites) == 4
    found = characterise(without_one_linker(mof5), SETTINGS)
    assert found.reasons == ["not charge balanced (metals at +1.50)"]
    assert characterise(crowded, SETTINGS).pores is None  # Zeo++ is not run on overlaps


def test_mof5_pores(mof5):
    pores = pore_descriptors(mof5)
    assert pores.probe_radius == 1.65
    assert pores.largest_included_sphere > pores.largest_free_sphere > 2 * pores.probe_radius
    assert 0.75 < pores.void_fraction < 0.85  # MOF-5's helium void fraction is about 0.8
    assert pores.accessible_volume_fraction < pores.void_fraction
    grams_per_cell = mof5.composition.weight / Avogadro
    assert pores.density_g_cm3 == pytest.approx(grams_per_cell / (mof5.volume * 1e-24), rel=1e-3)
    per_gram = pores.accessible_surface_area_a2 * 1e-20 / grams_per_cell
    assert pores.accessible_surface_area_m2_g == pytest.approx(per_gram, rel=1e-3)
    assert 3000 < pores.accessible_surface_area_m2_g < 4500


def test_a_narrow_free_sphere_can_remove_a_mof(mof5):
    settings = CharacterisationSettings(min_free_sphere=20.0)
    assert characterise(mof5, settings).reasons[0].startswith("largest free sphere")
