"""UFF4MOF typing from the bond graph, its LAMMPS terms, and NPT MD strain with LAMMPS."""

import math
from collections import Counter

import numpy as np
import pytest

from discoverflow.core.mof.assembly import AssemblySettings, assemble_mof
from discoverflow.core.mof.forcefield import uff4mof_forcefield
from discoverflow.core.mof.linkers import process_linker
from discoverflow.core.mof.md import StabilitySettings
from discoverflow.core.mof.uff4mof import atom_types, bond_graph

BDC = "OC(=O)c1ccc(cc1)C(=O)O"


@pytest.fixture(scope="module")
def mof5():
    """MOF-5's one-node pcu cell: Zn4O(BDC)3, 53 atoms."""
    return assemble_mof([process_linker(BDC)], settings=AssemblySettings(supercell=1)).structure


@pytest.fixture(scope="module")
def hkust_like():
    """Cu paddlewheels joined by BDC on nbo."""
    settings = AssemblySettings(node="Cu-paddlewheel", topology="nbo")
    structure = assemble_mof([process_linker(BDC)], settings=settings).structure
    return structure.get_primitive_structure(tolerance=0.25)


@pytest.fixture(scope="module")
def pillared():
    """Zn paddlewheel layers of BDC pillared by 1,4-dicyanobenzene."""
    settings = AssemblySettings(node="Zn-paddlewheel-pillared", topology="pcu")
    bdc = process_linker(BDC)
    mof = assemble_mof([bdc, bdc], process_linker("N#Cc1ccc(cc1)C#N"), settings)
    return mof.structure.get_primitive_structure(tolerance=0.25)


def test_mof5_types_follow_uff4mof(mof5):
    field = uff4mof_forcefield(mof5)
    # Addicoat et al.: tetrahedral Zn3f2 and the mu4-oxo O_3_f of Zn4O; carboxylate O_2
    assert Counter(field.types) == {"C_R": 24, "H_": 12, "O_2": 12, "Zn3f2": 4, "O_3_f": 1}
    # 4 Zn-mu4O, 12 Zn-O, 12 C-O, 6 carboxylate C-C, 18 ring C-C, 12 C-H
    assert len(field.bonds) == 64
    assert {t.style for t in field.angles} == {"fourier", "cosine/periodic"}
    assert not any(
        field.types[a] == "Zn3f2" for t in field.dihedrals for a in t.atoms[1:3]
    )  # no torsions about metal bonds


def test_paddlewheel_and_pillared_metals_are_square_planar(hkust_like, pillared):
    graph = bond_graph(hkust_like)
    types = atom_types(graph)
    copper = [i for i, t in enumerate(types) if t.startswith("Cu")]
    assert copper and {types[i] for i in copper} == {"Cu4+2"}
    assert all(graph.degree(i) == 5 for i in copper)  # 4 O and the other Cu
    field = uff4mof_forcefield(hkust_like)
    cu_cu = [b for b in field.bonds if {field.types[a] for a in b.atoms} == {"Cu4+2"}]
    assert cu_cu and all(
        b.coeffs[1] == pytest.approx(2 * 1.28 - 0.1332 * 2.56 * math.log(0.25)) for b in cu_cu
    )
    types = Counter(uff4mof_forcefield(pillared).types)
    assert types["Zn4+2"] == 2 and types["N_1"] == 2 and types["C_1"] == 2


def test_a_grown_linker_types_its_substituents():
    from discoverflow.core.mof.growth import GrowthLinkerGenerator

    proposals = GrowthLinkerGenerator().propose(8, seed=3)
    grown = next(p.smiles for p in proposals if p.smiles != "O=C(O)c1ccc(C(=O)O)cc1")
    structure = assemble_mof([process_linker(grown)], settings=AssemblySettings(supercell=1))
    field = uff4mof_forcefield(structure.structure)
    assert len(field.types) == len(structure.structure)
    assert {"Zn3f2", "O_3_f", "C_R", "O_2"} <= set(field.types)


def uff_angle_energy(field, structure) -> float:
    """UFF's own forms: K/n^2 [1 - cos n theta] (K [1 + cos theta] when linear) or the
    three-term Fourier series, with K recovered from the terms."""
    total = 0.0
    lattice = structure.lattice
    for term in field.angles:
        a, b, c = term.atoms
        u = lattice.get_cartesian_coords(
            structure[a].frac_coords
            - structure[b].frac_coords
            - np.round(structure[a].frac_coords - structure[b].frac_coords)
        )
        v = lattice.get_cartesian_coords(
            structure[c].frac_coords
            - structure[b].frac_coords
            - np.round(structure[c].frac_coords - structure[b].frac_coords)
        )
        theta = math.acos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))
        if term.style == "fourier":
            k, c0, c1, c2 = term.coeffs
            total += k * (c0 + c1 * math.cos(theta) + c2 * math.cos(2 * theta))
        else:
            half_k, _, n = term.coeffs
            k = 2 * half_k
            total += k * (1 + math.cos(theta)) if n == 1 else k / n**2 * (1 - math.cos(n * theta))
    return total


def test_lammps_angle_energy_is_uffs(mof5):
    from discoverflow.core.mof.lammps import uff4mof_energies

    field = uff4mof_forcefield(mof5)
    energies = uff4mof_energies(mof5)
    assert energies["eangle"] == pytest.approx(uff_angle_energy(field, mof5), rel=1e-6)
    bonds = sum(t.coeffs[0] * (mof5.get_distance(*t.atoms) - t.coeffs[1]) ** 2 for t in field.bonds)
    assert energies["ebond"] == pytest.approx(bonds, rel=1e-6)


def test_mof5_keeps_its_cell_and_an_expanded_one_falls_apart(mof5, tmp_path):
    from discoverflow.core.mof.lammps import lammps_npt_md

    settings = StabilitySettings(engine="lammps", steps=3000)
    kept = lammps_npt_md(mof5, settings, folder=tmp_path)
    lengths = np.array(kept.final.lattice.abc) / np.array(kept.initial.lattice.abc) - 1
    assert np.abs(lengths).max() < 0.05 and kept.strain < settings.stable_strain
    assert 250 < kept.mean_temperature < 350
    assert kept.supercell == (2, 2, 2)  # 12.9 A cell, widths above twice the 12.5 A cutoff
    assert len(kept.initial) == 8 * len(mof5)
    script = (tmp_path / "in.framework").read_text()
    assert "angle_style hybrid cosine/periodic fourier" in script and "tri" in script
    assert "Atoms  # molecular" in (tmp_path / "data.framework").read_text()

    expanded = mof5.copy()
    expanded.scale_lattice(mof5.volume * 1.3**3)  # Zn-O stretched past bonding
    broken = lammps_npt_md(expanded, settings)
    assert broken.strain > 2 * settings.stable_strain
