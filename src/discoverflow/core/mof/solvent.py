"""Free molecules in a framework's pores: the discrete (zero-dimensional) components of its
bond graph, neutral solvent or counter-ions, as CoRE MOF's free-solvent removal finds them.

Components come from pymatgen's dimensionality analysis (Larsen et al., Phys. Rev. Mater. 3,
034003 (2019)) on the covalent-radius bond graph; a molecule's formal charge is the one at
which RDKit's ``DetermineBonds`` finds a closed-shell Lewis structure (lone halogens -1,
lone alkali and alkaline-earth metals +1 and +2, a lone O is water whose hydrogens the file
lacks).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pymatgen.analysis.dimensionality import get_structure_components
from pymatgen.analysis.graphs import StructureGraph
from pymatgen.core import Element, Molecule, Structure

from discoverflow.core.mof.linkers import rdkit_modules
from discoverflow.core.mof.uff4mof import covalent_bonds, is_metal

CHARGES_TRIED = (0, 1, -1, 2, -2, 3, -3)


@dataclass
class FreeMolecule:
    """A molecule bonded to nothing else in the cell."""

    formula: str
    sites: list[int]
    """Its sites in the cell."""
    charge: int | None
    """Formal charge; None for a discrete metal complex or an unrecognised molecule."""

    @property
    def solvent(self) -> bool:
        """Neutral and metal-free: solvent, which CoRE MOF's solvent-free sets remove."""
        return self.charge == 0

    def describe(self) -> str:
        if self.solvent:
            return f"{self.formula} (solvent)"
        if self.charge is None:
            return f"{self.formula} (charge unknown)"
        return f"{self.formula} ({self.charge:+d} ion)"

    def to_dict(self) -> dict:
        return asdict(self)


def lone_atom_charge(symbol: str) -> int | None:
    """The formal charge of a single atom bonded to nothing.

    Parameters
    ----------
    symbol
        The lone atom's element.

    Returns
    -------
    int or None
        -1 for halides, +1 and +2 for alkali and alkaline-earth ions, 0 for O (water's),
        another metal's first common oxidation state, None where unknown."""
    element = Element(symbol)
    if element.is_halogen:
        return -1
    if element.is_alkali or element.is_alkaline:
        return 1 if element.is_alkali else 2
    if symbol == "O":
        return 0
    states = element.common_oxidation_states
    return int(states[0]) if is_metal(symbol) and states else None


def formal_charge(molecule: Molecule) -> int | None:
    """The charge of a closed-shell Lewis structure of the molecule (see the module)."""
    symbols = [site.specie.symbol for site in molecule]
    if len(symbols) == 1:
        return lone_atom_charge(symbols[0])
    if any(is_metal(s) for s in symbols):
        return None
    Chem, _ = rdkit_modules()
    from rdkit.Chem import rdDetermineBonds

    electrons = sum(Element(s).Z for s in symbols)
    for charge in CHARGES_TRIED:
        if (electrons - charge) % 2:
            continue
        mol = Chem.MolFromXYZBlock(molecule.to(fmt="xyz"))
        try:
            rdDetermineBonds.DetermineBonds(mol, charge=charge)
        except (ValueError, RuntimeError):
            continue
        return charge
    return None


def framework_bond_graph(structure: Structure) -> StructureGraph:
    """The covalent-radius bonds (as the UFF4MOF typing has them) as a pymatgen graph, with
    the image of each bond."""
    graph = StructureGraph.from_empty_graph(structure, name="covalent bonds")
    for i, j, image in covalent_bonds(structure):
        if i < j or (i == j and tuple(image) > (0, 0, 0)):
            graph.add_edge(i, j, to_jimage=tuple(int(x) for x in image), warn_duplicates=False)
    return graph


def free_molecules(structure: Structure) -> list[FreeMolecule]:
    """The discrete molecules beside an extended framework, with their formal charges; none
    when nothing in the cell is extended (a molecular crystal, not a framework)."""
    components = get_structure_components(
        framework_bond_graph(structure), inc_site_ids=True, inc_molecule_graph=True
    )
    if all(c["dimensionality"] == 0 for c in components):
        return []
    found = []
    for component in components:
        if component["dimensionality"] != 0:
            continue
        molecule = component["molecule_graph"].molecule
        found.append(
            FreeMolecule(
                formula=molecule.composition.hill_formula.replace(" ", ""),
                sites=sorted(int(i) for i in component["site_ids"]),
                charge=formal_charge(molecule),
            )
        )
    return sorted(found, key=lambda m: m.sites)


def without_solvent(structure: Structure, molecules: list[FreeMolecule]) -> Structure:
    """The structure less its free solvent molecules (ions stay)."""
    gone = [i for m in molecules if m.solvent for i in m.sites]
    cleaned = structure.copy()
    cleaned.remove_sites(gone)
    return cleaned
