"""Linker processing as MOFA does it: hydrogens, bond orders, MMFF, validity, anchors.

A carboxylic acid anchor becomes an At dummy at its carbon (its O and H removed); a nitrile
anchor gets an Fr dummy 2 angstrom beyond its N along C-N. Linkers carry exactly two anchors:
``COO`` linkers (two acids) join carboxylate nodes, ``CN`` linkers (two nitriles) are pillars,
``mixed`` ones (one of each, e.g. 4-cyanobenzoic acid) are processed for nodes that take them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CARBOXYLIC_ACID = "[CX3](=O)[OX2H1]"
NITRILE = "[CX2]#[NX1]"
NITRILE_DUMMY_DISTANCE = 2.0


class LinkerRejected(ValueError):
    """A linker that cannot be used, with the reason."""


@dataclass
class ProcessedLinker:
    """A 3D linker with its anchor dummies, ready for assembly."""

    smiles: str
    anchor_type: str
    symbols: list[str]
    coords: list[list[float]]
    anchor_indices: list[int]
    heavy_atoms: int
    mmff_energy: float
    history: list[str] = field(default_factory=list)

    @property
    def positions(self) -> np.ndarray:
        return np.asarray(self.coords, dtype=float)

    def xyz(self) -> str:
        lines = [str(len(self.symbols)), self.smiles]
        lines += [
            f"{s} {x:.5f} {y:.5f} {z:.5f}"
            for s, (x, y, z) in zip(self.symbols, self.coords, strict=False)
        ]
        return "\n".join(lines) + "\n"


def rdkit_modules():
    """RDKit's ``Chem`` and ``AllChem`` with RDKit's log silenced, and a clear error where
    RDKit is missing.

    Returns
    -------
    tuple
        ``Chem`` and ``AllChem``."""
    try:
        from rdkit import Chem, RDLogger
        from rdkit.Chem import AllChem
    except ImportError as error:
        raise ImportError(
            "linker processing needs RDKit: pip install 'discoverflow[mof]'"
        ) from error
    RDLogger.DisableLog("rdApp.*")
    return Chem, AllChem


def parse_linker(smiles: str):
    """An RDKit molecule from SMILES, checked for valence, fragments and net charge."""
    Chem, _ = rdkit_modules()
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise LinkerRejected(f"not a valid molecule (SMILES or valence): {smiles}")
    if len(Chem.GetMolFrags(mol)) != 1:
        raise LinkerRejected("more than one fragment")
    if Chem.GetFormalCharge(mol) != 0:
        raise LinkerRejected(f"net charge {Chem.GetFormalCharge(mol):+d}")
    if any(atom.GetNumRadicalElectrons() for atom in mol.GetAtoms()):
        raise LinkerRejected("radical (unsatisfied valence)")
    return mol


def anchor_type(mol) -> str:
    """``COO``, ``CN`` or ``mixed`` for a linker with two anchors; LinkerRejected otherwise."""
    Chem, _ = rdkit_modules()
    acids = len(mol.GetSubstructMatches(Chem.MolFromSmarts(CARBOXYLIC_ACID)))
    nitriles = len(mol.GetSubstructMatches(Chem.MolFromSmarts(NITRILE)))
    if acids == 2 and nitriles == 0:
        return "COO"
    if nitriles == 2 and acids == 0:
        return "CN"
    if nitriles == 1 and acids == 1:
        return "mixed"
    raise LinkerRejected(
        f"needs two anchors, found {acids} carboxylic acids and {nitriles} nitriles"
    )


def embed(mol, seed: int = 0, max_iterations: int = 1000):
    """Hydrogens, 3D coordinates and an MMFF94 cleanup; returns (molecule with H, energy)."""
    Chem, AllChem = rdkit_modules()
    with_h = Chem.AddHs(mol)
    if AllChem.EmbedMolecule(with_h, randomSeed=seed) != 0:
        raise LinkerRejected("3D embedding failed")
    properties = AllChem.MMFFGetMoleculeProperties(with_h)
    if properties is None:
        raise LinkerRejected("no MMFF94 parameters")
    field_ = AllChem.MMFFGetMoleculeForceField(with_h, properties)
    field_.Minimize(maxIts=max_iterations)
    return with_h, float(field_.CalcEnergy())


def place_anchors(mol_with_h) -> tuple[list[str], np.ndarray, list[int]]:
    """Symbols and positions with the anchor dummies (At, Fr), and the dummies' indices."""
    Chem, _ = rdkit_modules()
    positions = mol_with_h.GetConformer().GetPositions()
    symbols = [atom.GetSymbol() for atom in mol_with_h.GetAtoms()]
    removed: set[int] = set()
    extra: list[tuple[str, np.ndarray]] = []
    anchors: list[int] = []
    for carbon, _, hydroxyl in mol_with_h.GetSubstructMatches(Chem.MolFromSmarts(CARBOXYLIC_ACID)):
        oxygens = [
            n.GetIdx()
            for n in mol_with_h.GetAtomWithIdx(carbon).GetNeighbors()
            if n.GetSymbol() == "O"
        ]
        hydrogens = [
            n.GetIdx()
            for n in mol_with_h.GetAtomWithIdx(hydroxyl).GetNeighbors()
            if n.GetSymbol() == "H"
        ]
        removed.update(oxygens + hydrogens)
        symbols[carbon] = "At"
        anchors.append(carbon)
    for carbon, nitrogen in mol_with_h.GetSubstructMatches(Chem.MolFromSmarts(NITRILE)):
        direction = positions[nitrogen] - positions[carbon]
        direction /= np.linalg.norm(direction)
        extra.append(("Fr", positions[nitrogen] + NITRILE_DUMMY_DISTANCE * direction))
    kept = [i for i in range(len(symbols)) if i not in removed]
    new_index = {old: new for new, old in enumerate(kept)}
    out_symbols = [symbols[i] for i in kept] + [s for s, _ in extra]
    out_positions = np.vstack([positions[kept]] + [p[None, :] for _, p in extra])
    anchor_indices = [new_index[i] for i in anchors] + list(range(len(kept), len(out_symbols)))
    return out_symbols, out_positions, anchor_indices


def process_linker(
    smiles: str, seed: int = 0, max_heavy_atoms: int | None = None, history: list[str] | None = None
) -> ProcessedLinker:
    """A valid, MMFF-cleaned, anchored linker from SMILES; LinkerRejected with the reason.

    Parameters
    ----------
    smiles
        The linker's SMILES.
    seed
        Seed of the 3D embedding.
    max_heavy_atoms
        Larger linkers are rejected, if given.
    history
        The generator's edits behind it.

    Returns
    -------
    ProcessedLinker
        The linker with its 3D positions and anchors.
    """
    Chem, _ = rdkit_modules()
    mol = parse_linker(smiles)
    heavy = mol.GetNumHeavyAtoms()
    if max_heavy_atoms is not None and heavy > max_heavy_atoms:
        raise LinkerRejected(f"{heavy} heavy atoms (limit {max_heavy_atoms})")
    kind = anchor_type(mol)
    with_h, energy = embed(mol, seed)
    symbols, positions, anchors = place_anchors(with_h)
    return ProcessedLinker(
        smiles=Chem.MolToSmiles(mol),
        anchor_type=kind,
        symbols=symbols,
        coords=positions.round(6).tolist(),
        anchor_indices=anchors,
        heavy_atoms=heavy,
        mmff_energy=energy,
        history=list(history or []),
    )


def smiles_from_xyz(xyz: str) -> str:
    """SMILES of a molecule given as XYZ without bonds or hydrogens (a generative model's output).

    OpenBabel connects the atoms, perceives bond orders and adds hydrogens, as MOFA does.
    """
    try:
        from openbabel import pybel
    except ImportError as error:
        raise ImportError(
            "reading XYZ linkers needs OpenBabel: pip install openbabel-wheel"
        ) from error
    Chem, _ = rdkit_modules()
    from openbabel import openbabel

    molecule = pybel.readstring("xyz", xyz)
    for atom in openbabel.OBMolAtomIter(molecule.OBMol):
        openbabel.OBAtomAssignTypicalImplicitHydrogens(atom)
    molecule.OBMol.AddHydrogens()
    mol = Chem.MolFromMolBlock(molecule.write("mol"), removeHs=False)
    if mol is None:
        raise LinkerRejected("OpenBabel's bonds give no valid molecule")
    return Chem.MolToSmiles(Chem.RemoveHs(mol))
