"""UFF4MOF atom types from a framework's bonding, and its UFF bonded and pair terms.

The parameters are the published UFF (Rappe et al., J. Am. Chem. Soc. 114, 10024 (1992)) and
UFF4MOF tables (Addicoat et al., J. Chem. Theory Comput. 10, 4405 (2014); Coupry et al., J.
Chem. Theory Comput. 12, 5215 (2016)) as the ``lammps-interface`` package ships them
(``lammps_interface.uff4mof.UFF4MOF_DATA``). Types follow from the bond graph: element,
hybridisation from neighbour count and geometry (rings of five or six conjugated atoms are
aromatic), and for metals the coordination geometry (tetrahedral ``3``, square planar or
paddlewheel ``4``, octahedral ``6``), the UFF4MOF ``f`` types first.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Element, Structure

from discoverflow.core.mof.overlap import covalent_radius
from discoverflow.core.mof.supercell import Repeats, repeated, repeats_for

BOND_TOLERANCE = 0.4
"""Two atoms are bonded below the sum of their covalent radii plus this (angstrom)."""

COLUMNS = ("r1", "theta0", "x1", "D1", "zeta", "Z1", "Vi", "Uj", "Xi", "hard", "radius")
HALOGENS = {"F": "F_", "Cl": "Cl", "Br": "Br", "I": "I_"}


class TypingFailed(ValueError):
    """An atom the UFF4MOF table has no type for."""


def uff4mof_table() -> dict[str, dict[str, float]]:
    """The UFF and UFF4MOF parameters lammps-interface ships.

    Returns
    -------
    dict
        Type name -> its parameters by name."""
    try:
        from lammps_interface.uff4mof import UFF4MOF_DATA
    except ImportError as error:
        raise ImportError(
            "UFF4MOF parameters come from lammps-interface: pip install 'discoverflow[mof]'"
        ) from error
    return {name: dict(zip(COLUMNS, row, strict=True)) for name, row in UFF4MOF_DATA.items()}


def is_metal(symbol: str) -> bool:
    """Whether the element ``symbol`` is typed as a metal: metals, and metalloids but B, Si,
    As and Te."""
    element = Element(symbol)
    return element.is_metal or (element.is_metalloid and symbol not in ("B", "Si", "As", "Te"))


@dataclass
class BondGraph:
    """Bonds of a periodic structure: per atom, (neighbour, vector to that image)."""

    symbols: list[str]
    neighbours: list[list[tuple[int, np.ndarray]]]
    bonds: list[tuple[int, int]] = field(default_factory=list)

    def degree(self, i: int) -> int:
        return len(self.neighbours[i])

    def partners(self, i: int) -> list[int]:
        return [j for j, _ in self.neighbours[i]]


def longest_bond(structure: Structure, tolerance: float = BOND_TOLERANCE) -> float:
    """The longest bond the covalent-radius rule allows between two of the structure's
    elements (A)."""
    return 2 * max(covalent_radius(s.symbol) for s in structure.composition) + tolerance


def covalent_bonds(
    structure: Structure, tolerance: float = BOND_TOLERANCE
) -> list[tuple[int, int, np.ndarray]]:
    """Every bond (i, j, image of j) below the sum of the covalent radii plus ``tolerance``,
    in both directions; no H-H, no metal-H, images of an atom included."""
    symbols = [site.specie.symbol for site in structure]
    radii = np.array([covalent_radius(s) for s in symbols])
    centres, others, images, distances = structure.get_neighbor_list(
        longest_bond(structure, tolerance)
    )
    found = []
    for i, j, image, d in zip(centres, others, images, distances, strict=True):
        a, b = symbols[i], symbols[j]
        if d > radii[i] + radii[j] + tolerance or d < 0.1:
            continue
        if a == b == "H" or ("H" in (a, b) and (is_metal(a) or is_metal(b))):
            continue
        found.append((int(i), int(j), np.asarray(image)))
    return found


def bond_graph(structure: Structure, tolerance: float = BOND_TOLERANCE) -> BondGraph:
    """Covalent-radius bonds (no H-H, no metal-H); each bond must join two distinct atoms
    (``framework_graph`` chooses a supercell where they do)."""
    symbols = [site.specie.symbol for site in structure]
    neighbours: list[list[tuple[int, np.ndarray]]] = [[] for _ in symbols]
    bonds = set()
    cart = structure.cart_coords
    matrix = structure.lattice.matrix
    for i, j, image in covalent_bonds(structure, tolerance):
        if i == j:
            raise TypingFailed(
                f"atom {i} ({symbols[i]}) bonds to its own image: the cell is too small"
            )
        neighbours[i].append((j, cart[j] + image @ matrix - cart[i]))
        bonds.add((min(i, j), max(i, j)))
    for i, found in enumerate(neighbours):
        if len({j for j, _ in found}) < len(found):
            raise TypingFailed(f"atom {i} bonds to two images of one atom: the cell is too small")
    return BondGraph(symbols, neighbours, sorted(bonds))


def graph_repeats(structure: Structure, tolerance: float = BOND_TOLERANCE) -> Repeats:
    """The supercell in which every bond joins two distinct atoms, once: each perpendicular
    width above twice the longest possible bond (one repeat for most MOFs)."""
    return repeats_for(structure, 2 * longest_bond(structure, tolerance) + 0.01)


def framework_graph(
    structure: Structure, tolerance: float = BOND_TOLERANCE
) -> tuple[BondGraph, Repeats]:
    """The bond graph of the supercell ``graph_repeats`` chooses, and its repeats."""
    repeats = graph_repeats(structure, tolerance)
    return bond_graph(repeated(structure, repeats), tolerance), repeats


def angle(u: np.ndarray, v: np.ndarray) -> float:
    """The angle between two vectors.

    Parameters
    ----------
    u, v
        The vectors.

    Returns
    -------
    float
        The angle (degrees)."""
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def ring_bonds(graph: BondGraph, sizes=(5, 6)) -> set[tuple[int, int]]:
    """Bonds on closed rings of the given sizes (closed in space, not through the cell)."""
    found: set[tuple[int, int]] = set()
    longest = max(sizes)

    def walk(start, path, position):
        here = path[-1]
        for j, vector in graph.neighbours[here]:
            end = position + vector
            if j == start and len(path) in sizes and np.linalg.norm(end) < 0.1:
                ring = [*path, start]
                found.update((min(a, b), max(a, b)) for a, b in itertools.pairwise(ring))
            elif j not in path and len(path) < longest and not is_metal(graph.symbols[j]):
                walk(start, [*path, j], end)

    for i, symbol in enumerate(graph.symbols):
        if symbol in ("C", "N", "O", "S") and graph.degree(i) <= 3:
            walk(i, [i], np.zeros(3))
    return found


def ring_atoms(graph: BondGraph) -> set[int]:
    """Atoms on closed five- and six-membered rings.

    Parameters
    ----------
    graph
        The bond graph.

    Returns
    -------
    set of int
        Their indices."""
    return {i for bond in ring_bonds(graph) for i in bond}


def planar(vectors: list[np.ndarray]) -> bool:
    """Whether three bond vectors lie in a plane (their angles sum to over 350 degrees).

    Parameters
    ----------
    vectors
        Three bond vectors.

    Returns
    -------
    bool
        Whether they are planar."""
    return sum(angle(vectors[a], vectors[b]) for a, b in ((0, 1), (1, 2), (0, 2))) > 350.0


def metal_geometry(vectors: list[np.ndarray]) -> str:
    """UFF coordination digit of a metal from its bonds to non-metals: 1 linear, 2 trigonal,
    3 tetrahedral, 4 square planar (and paddlewheels with their axial pillars), 6 octahedral,
    8 cubic. Metal neighbours (a paddlewheel's partner, a chain's next metal) do not count."""
    count = len(vectors)
    if count <= 3:
        return str(max(count - 1, 1))
    if count == 4:
        angles = [angle(u, v) for k, u in enumerate(vectors) for v in vectors[k + 1 :]]
        square = np.mean([min(abs(a - 90), abs(a - 180)) for a in angles])
        tetrahedral = np.mean([abs(a - 109.47) for a in angles])
        return "4" if square < tetrahedral else "3"
    if count == 5:
        return "4"
    return "6" if count == 6 else "8"


def metal_type(symbol: str, digit: str, table: dict) -> str:
    """The UFF4MOF type of a metal with a coordination digit, UFF4MOF's types first.

    Parameters
    ----------
    symbol
        Element symbol.
    digit
        UFF coordination digit.
    table
        The parameter table.

    Returns
    -------
    str
        The type name."""
    stem = symbol if len(symbol) == 2 else f"{symbol}_"
    candidates = [name for name in table if name.startswith(stem + digit)]
    if not candidates:
        raise TypingFailed(f"UFF4MOF has no {symbol} type of coordination {digit}")
    return sorted(candidates, key=lambda name: name[len(stem) + 1 : len(stem) + 2] != "f")[0]


def atom_types(graph: BondGraph, table: dict | None = None) -> list[str]:
    """The UFF4MOF type of every atom from its element, neighbours and their geometry."""
    table = table or uff4mof_table()
    rings = ring_atoms(graph)
    types = []
    for i, symbol in enumerate(graph.symbols):
        partners = [graph.symbols[j] for j in graph.partners(i)]
        vectors = [v for _, v in graph.neighbours[i]]
        count = len(partners)
        metals = sum(is_metal(p) for p in partners)
        if is_metal(symbol):
            ligands = [v for j, v in graph.neighbours[i] if not is_metal(graph.symbols[j])]
            name = metal_type(symbol, metal_geometry(ligands), table)
        elif symbol == "H":
            name = "H_"
        elif symbol in HALOGENS:
            name = HALOGENS[symbol]
        elif symbol == "O":
            if count >= 3 and metals == count:
                name = "O_3_f" if count == 4 else "O_2_z"
            elif metals:
                name = "O_2"
            elif count == 1:
                name = "O_2" if partners[0] in ("C", "N", "S") else "O_3"
            else:
                name = "O_R" if i in rings else "O_3"
        elif symbol in ("C", "N", "S", "P", "B", "Si"):
            name = organic_type(symbol, i, count, vectors, rings, graph)
        else:
            raise TypingFailed(f"no UFF4MOF rule for {symbol} (atom {i})")
        if name not in table:
            raise TypingFailed(f"UFF4MOF has no type {name} (atom {i})")
        types.append(name)
    return types


def organic_type(symbol, i, count, vectors, rings, graph) -> str:
    """The UFF type of a non-metal from its element, neighbours and rings.

    Parameters
    ----------
    symbol
        Element symbol.
    i
        The atom's index.
    count
        Its number of neighbours.
    vectors
        Its bond vectors.
    rings
        Atoms on aromatic rings.
    graph
        The bond graph.

    Returns
    -------
    str
        The type name."""
    stem = symbol if len(symbol) == 2 else f"{symbol}_"
    if symbol in ("Si",):
        return "Si3"
    if symbol == "P":
        return "P_3+5" if count == 4 else "P_3+3"
    if symbol == "S":
        return "S_R" if i in rings else "S_3+6" if count == 4 else "S_3+2"
    if count == 1 or (count == 2 and angle(*vectors) > 165):
        return f"{stem}1"
    if count == 4 or (count == 3 and not planar(vectors)):
        return f"{stem}3"
    oxygens = [graph.symbols[j] for j in graph.partners(i)].count("O")
    resonant = (symbol == "C" and count == 3 and oxygens == 2) or (symbol == "N" and count == 3)
    return f"{stem}R" if i in rings or resonant else f"{stem}2"
