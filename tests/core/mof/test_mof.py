"""MOF science: linkers and anchors, assembly, overlaps, strain, generator, GCMC."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from discoverflow.core.mof.assembly import AssemblyFailed, AssemblySettings, assemble_mof
from discoverflow.core.mof.generation import TrainingExample
from discoverflow.core.mof.growth import GrowthLinkerGenerator
from discoverflow.core.mof.linkers import (
    LinkerRejected,
    process_linker,
    smiles_from_xyz,
)
from discoverflow.core.mof.overlap import find_overlaps
from discoverflow.core.mof.strain import lattice_strain

BDC = "OC(=O)c1ccc(cc1)C(=O)O"
DICYANOBENZENE = "N#Cc1ccc(cc1)C#N"


@pytest.fixture(scope="module")
def bdc():
    return process_linker(BDC)


@pytest.fixture(scope="module")
def mof5(bdc):
    return assemble_mof([bdc])


def test_strain_is_zero_for_an_unchanged_cell():
    cell = Lattice.from_parameters(9.1, 10.3, 11.7, 80, 95, 101).matrix
    assert lattice_strain(cell, cell) == pytest.approx(0.0, abs=1e-12)


def test_strain_of_a_known_deformation():
    cell = Lattice.cubic(10.0).matrix
    stretched = cell @ np.diag([1.10, 1.0, 1.0])
    # C_init C_final^-1 - I = diag(1/1.1 - 1, 0, 0)
    assert lattice_strain(cell, stretched) == pytest.approx(1 - 1 / 1.1, rel=1e-9)
    sheared = cell @ np.array([[1.0, 0.04, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    expected = np.abs(np.linalg.eigvalsh(np.array([[0, -0.02, 0], [-0.02, 0, 0], [0, 0, 0]])))
    assert lattice_strain(cell, sheared) == pytest.approx(expected.max(), rel=1e-9)


def test_terephthalic_acid_anchors(bdc):
    assert bdc.anchor_type == "COO"
    symbols = bdc.symbols
    assert symbols.count("At") == 2 and "O" not in symbols
    assert symbols.count("C") == 6 and symbols.count("H") == 4
    at1, at2 = bdc.positions[bdc.anchor_indices]
    assert np.linalg.norm(at1 - at2) == pytest.approx(5.78, abs=0.1)
    carbons = bdc.positions[[i for i, s in enumerate(symbols) if s == "C"]]
    assert np.linalg.norm(carbons - at1, axis=1).min() == pytest.approx(1.49, abs=0.03)


def test_cyanobenzoic_acid_gets_one_anchor_of_each_kind():
    linker = process_linker("N#Cc1ccc(cc1)C(=O)O")
    assert linker.anchor_type == "mixed"
    positions, symbols = linker.positions, linker.symbols
    nitrogen = positions[symbols.index("N")]
    francium = positions[symbols.index("Fr")]
    carbons = positions[[i for i, s in enumerate(symbols) if s == "C"]]
    nitrile_carbon = carbons[np.linalg.norm(carbons - nitrogen, axis=1).argmin()]
    assert np.linalg.norm(francium - nitrogen) == pytest.approx(2.0, abs=1e-6)
    along = (nitrogen - nitrile_carbon) / np.linalg.norm(nitrogen - nitrile_carbon)
    assert np.dot((francium - nitrogen) / 2.0, along) == pytest.approx(1.0, abs=1e-6)
    assert symbols.count("At") == 1 and symbols.count("O") == 0


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("OC(=O)c1ccccc1.OC(=O)C", "fragment"),
        ("[O-]C(=O)c1ccc(cc1)C(=O)O", "charge"),
        ("OC(=O)C(C)(C)(C)(C)C(=O)O", "valid"),
        ("OC(=O)c1ccccc1", "two anchors"),
    ],
)
def test_invalid_linkers_are_rejected_with_the_reason(smiles, reason):
    with pytest.raises(LinkerRejected, match=reason):
        process_linker(smiles)


def test_openbabel_rebuilds_bonds_and_hydrogens_from_heavy_atoms(bdc):
    heavy = [(s, p) for s, p in zip(bdc.symbols, bdc.positions, strict=True) if s != "H"]
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(BDC))
    AllChem.EmbedMolecule(mol, randomSeed=1)
    atoms = [
        (a.GetSymbol(), p)
        for a, p in zip(mol.GetAtoms(), mol.GetConformer().GetPositions(), strict=True)
        if a.GetSymbol() != "H"
    ]
    xyz = f"{len(atoms)}\n\n" + "\n".join(f"{s} {x} {y} {z}" for s, (x, y, z) in atoms)
    assert len(heavy) == 8
    assert smiles_from_xyz(xyz) == Chem.MolToSmiles(Chem.MolFromSmiles(BDC))


def test_mof5_has_the_composition_cell_and_symmetry_of_irmof1(mof5):
    structure = mof5.structure
    assert structure.composition.as_dict() == {"Zn": 8, "O": 26, "C": 48, "H": 24}
    assert structure.composition.reduced_composition.as_dict() == {
        "Zn": 4,
        "O": 13,
        "C": 24,
        "H": 12,  # Zn4O(C8H4O4)3
    }
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    analyzer = SpacegroupAnalyzer(structure, symprec=0.1)
    assert analyzer.get_space_group_symbol() == "Fm-3m"
    conventional = analyzer.get_conventional_standard_structure()
    assert conventional.lattice.abc == pytest.approx((25.83,) * 3, rel=0.01)
    assert len(conventional) == 424
    assert find_overlaps(structure) == []
    assert mof5.closest_approach > 0.95


def test_one_node_cell_keeps_all_zn4o_alike(bdc):
    mof = assemble_mof([bdc], settings=AssemblySettings(supercell=1))
    assert len(mof.structure) == 53
    assert mof.structure.lattice.abc == pytest.approx((12.96,) * 3, abs=0.05)


def test_pillared_paddlewheel_on_pcu(bdc):
    pillar = process_linker(DICYANOBENZENE)
    mof = assemble_mof([bdc], pillar, AssemblySettings(node="Zn-paddlewheel-pillared"))
    counts = mof.structure.composition.as_dict()
    assert counts == {"Zn": 2, "O": 8, "C": 24, "H": 12, "N": 2}  # Zn2(BDC)2(dicyanobenzene)
    zinc = [i for i, s in enumerate(mof.structure) if s.specie.symbol == "Zn"]
    nitrogen = [i for i, s in enumerate(mof.structure) if s.specie.symbol == "N"]
    zn_n = min(mof.structure.get_distance(i, j) for i in zinc for j in nitrogen)
    assert zn_n == pytest.approx(2.03, abs=0.1)
    assert find_overlaps(mof.structure) == []
    assert mof.pillar == pillar.smiles


@pytest.mark.parametrize("topology", ["nbo", "ssb"])
def test_copper_paddlewheel_on_other_four_connected_nets(bdc, topology):
    mof = assemble_mof([bdc], settings=AssemblySettings(node="Cu-paddlewheel", topology=topology))
    reduced = mof.structure.composition.reduced_composition.as_dict()
    assert reduced == {"Cu": 1, "C": 8, "H": 4, "O": 4}  # Cu(BDC)
    assert find_overlaps(mof.structure) == []


def test_pillared_node_without_a_pillar_or_wrong_topology_fails(bdc):
    with pytest.raises(AssemblyFailed, match="pillar"):
        assemble_mof([bdc], settings=AssemblySettings(node="Cu-paddlewheel-pillared"))
    with pytest.raises(AssemblyFailed, match="topology dia has 4-connected nodes"):
        assemble_mof([bdc], settings=AssemblySettings(topology="dia"))


def test_overlapping_atoms_are_found_and_reject_the_mof(bdc):
    structure = Structure(
        Lattice.cubic(10), ["C", "C", "H"], [[0, 0, 0], [0.05, 0, 0], [0.5, 0.5, 0.5]]
    )
    (overlap,) = find_overlaps(structure)
    assert overlap.pair == "C-C" and overlap.distance == pytest.approx(0.5)
    with pytest.raises(AssemblyFailed, match="overlapping"):
        assemble_mof([bdc], settings=AssemblySettings(overlap_scale=1.4, pair_minima={"C-O": 5.0}))


def test_retraining_changes_what_the_generator_proposes():
    generator = GrowthLinkerGenerator()
    before = [p.smiles for p in generator.propose(24, seed=3)]
    assert len(before) == 24
    fresh = [p.smiles for p in generator.propose(24, seed=3, exclude=before[:12])]
    assert len(fresh) == 24 and not set(fresh) & set(before[:12])
    assert all(process_linker(s).anchor_type == "COO" for s in before[:5])
    fluorinated = TrainingExample("OC(=O)c1cc(F)c(cc1F)C(=O)O", ["fluoro", "fluoro"], 1.0)
    state = generator.retrain([fluorinated])
    after = [p.smiles for p in generator.propose(24, seed=3)]
    assert state.version == 1
    assert state.weights["fluoro"] > state.weights["nitro"]
    assert after != before
    assert all("F" in s for s in after)
    assert sum("F" in s for s in before) < len(before)
    again = GrowthLinkerGenerator(state=__import__("dataclasses").asdict(state))
    assert [p.smiles for p in again.propose(24, seed=3)] == after


def test_short_gcmc_gives_positive_uptake_rising_with_pressure_and_neutral_charges(bdc):
    from discoverflow.core.mof.adsorption import AdsorptionSettings, co2_uptake

    framework = assemble_mof([bdc], settings=AssemblySettings(supercell=1)).structure  # 53 atoms
    # about 0.1 CO2 per cell at 0.1 bar, so short runs use higher pressures
    low, high = (
        co2_uptake(
            framework, AdsorptionSettings(cycles=150, init_cycles=50, cutoff=6.4, pressure=p)
        )
        for p in (3.0e5, 3.0e6)
    )
    result = low
    assert result.unit_cells == (1, 1, 1)
    assert 0 < low.uptake_mol_per_kg < high.uptake_mol_per_kg
    for run in (low, high):  # molecules in the box = mol/kg x the box's kg/mol
        box_kg_per_mol = framework.composition.weight / 1000 * np.prod(run.unit_cells)
        assert run.mean_molecules == pytest.approx(run.uptake_mol_per_kg * box_kg_per_mol, 1e-3)
        assert run.converged == (0 < run.uptake_error <= run.uptake_mol_per_kg)
    counts = framework.composition.as_dict()
    assert set(result.charges) == set(counts)
    assert sum(result.charges[el] * n for el, n in counts.items()) == pytest.approx(0, abs=2e-3)
    assert result.charges["Zn"] > 0 > result.charges["O"]


def test_helium_void_fraction_gives_excess_below_absolute_loading(bdc):
    from discoverflow.core.mof.adsorption import AdsorptionSettings, co2_uptake

    framework = assemble_mof([bdc], settings=AssemblySettings(supercell=1)).structure
    settings = AdsorptionSettings(
        cycles=100, init_cycles=50, cutoff=6.4, helium_cycles=500, pressure=1.0e5
    )
    result = co2_uptake(framework, settings)
    assert 0.6 < result.helium_void_fraction < 0.95, result  # MOF-5 is about 80% void
    assert result.excess_mol_per_kg < result.uptake_mol_per_kg, result


def test_difflinker_adapter_says_when_weights_are_missing(tmp_path):
    from discoverflow.models.difflinker import ModelWeightsMissing
    from discoverflow.plugins import load_linker_generator

    with pytest.raises(ModelWeightsMissing, match="DiffLinker weights not found"):
        load_linker_generator("difflinker", checkpoint=str(tmp_path / "missing.ckpt"))


def test_difflinker_adapter_turns_sampled_xyz_into_linkers(tmp_path, monkeypatch):
    from discoverflow.plugins import load_linker_generator

    benzene = "6\n\n" + "\n".join(
        f"C {np.cos(a) * 1.39:.4f} {np.sin(a) * 1.39:.4f} 0.0"
        for a in np.linspace(0, 2 * np.pi, 6, endpoint=False)
    )
    (tmp_path / "my_sampler.py").write_text(
        f"def sample(checkpoint, fragment, count, size, seed):\n    return [{benzene!r}] * count\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    checkpoint = tmp_path / "difflinker.ckpt"
    checkpoint.write_bytes(b"weights")
    generator = load_linker_generator(
        "difflinker", checkpoint=str(checkpoint), sampler="my_sampler:sample"
    )
    proposals = generator.propose(3, anchor="COO")
    assert [p.smiles for p in proposals] == ["c1ccccc1"]  # hydrogens added, duplicates dropped
    assert proposals[0].history == ["difflinker"]


def test_an_uptake_is_converged_only_with_molecules_and_an_error_below_it():
    from discoverflow.core.mof.adsorption import AdsorptionResult

    def result(uptake, error, molecules):
        return AdsorptionResult(uptake, error, None, None, cycles=50, mean_molecules=molecules)

    # MOF-5 at 0.1 bar: 50 cycles give 0.013 +/- 0.036, 1,000 cycles 0.089 +/- 0.005 mol/kg
    short, nothing, long = (
        result(0.013, 0.036, 0.02),
        result(0.0, 0.0, 0.0),
        result(0.089, 0.005, 0.55),
    )
    assert not short.converged and not nothing.converged and long.converged
    assert short.verdict().startswith("not converged after 50 cycles: 0.013 +/- 0.036 mol/kg")
    assert "0 molecules adsorbed" in nothing.verdict() and long.verdict() is None
