"""UFF4MOF bonded and pair terms of a framework, in the LAMMPS styles that express UFF.

Bonds are harmonic (UFF's r_ij with bond-order and electronegativity corrections; LAMMPS's K
is UFF's k/2). Angles about linear, trigonal, square-planar and octahedral centres are
``cosine/periodic`` (UFF's K/n^2 [1 - cos(n theta)]); the rest ``fourier`` (UFF's
K [C0 + C1 cos(theta) + C2 cos(2 theta)]), as lammps-interface writes UFF4MOF. Torsions are
``harmonic`` (1/2 V [1 - cos(n phi0) cos(n phi)]), none about metal bonds; inversions on sp2
C and N are ``fourier`` impropers summed over the three permutations. Van der Waals is UFF's
Lennard-Jones (geometric mixing), 1-2 and 1-3 pairs excluded. Energies in kcal/mol.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from pymatgen.core import Structure

from discoverflow.core.mof.uff4mof import (
    BondGraph,
    atom_types,
    bond_graph,
    is_metal,
    ring_bonds,
    uff4mof_table,
)

LINEAR, TRIGONAL, SQUARE = "1", ("2", "R"), ("4", "6")


@dataclass
class Term:
    """A bonded interaction: atoms (centre first for impropers), LAMMPS style, coefficients."""

    atoms: tuple[int, ...]
    style: str
    coeffs: tuple[float, ...]


@dataclass
class ForceField:
    """A framework's UFF4MOF force field as LAMMPS takes it.

    Parameters
    ----------
    types
        UFF type of each atom.
    bonds, angles, dihedrals, impropers
        The bonded terms.
    pair
        UFF type -> (epsilon kcal/mol, sigma A)."""

    types: list[str]
    bonds: list[Term] = field(default_factory=list)
    angles: list[Term] = field(default_factory=list)
    dihedrals: list[Term] = field(default_factory=list)
    impropers: list[Term] = field(default_factory=list)
    pair: dict[str, tuple[float, float]] = field(default_factory=dict)
    """UFF type -> (epsilon kcal/mol, sigma A)."""


def bond_order(graph: BondGraph, types: list[str], rings: set, i: int, j: int) -> float:
    """UFF4MOF bond orders: metal-metal 0.25 and metal-ligand 0.5 (Addicoat et al.), 1.5 in
    aromatic rings and carboxylates, 2 and 3 for double and triple bonds, else 1."""
    a, b = graph.symbols[i], graph.symbols[j]
    if is_metal(a) and is_metal(b):
        return 0.25
    if is_metal(a) or is_metal(b):
        return 0.5
    ta, tb = types[i], types[j]
    if (min(i, j), max(i, j)) in rings:
        return 1.5
    pair = {ta, tb}
    if pair <= {"C_R", "O_2", "O_R", "N_R"} and "C_R" in pair and pair & {"O_2", "N_R"}:
        return 1.5 if "O_2" in pair else 1.41
    if ta.endswith("_1") and tb.endswith("_1"):
        return 3.0
    if ta[:3] in ("C_2", "N_2", "O_2") and tb[:3] in ("C_2", "N_2", "O_2"):
        return 2.0
    return 1.0


def rest_length(p: dict, q: dict, order: float) -> float:
    """UFF's natural bond length of two atom types.

    Parameters
    ----------
    p, q
        The two types' UFF parameters (``r1``, ``Xi``).
    order
        The bond order.

    Returns
    -------
    float
        The rest length (A): the radii with UFF's bond-order and electronegativity corrections."""
    bo = -0.1332 * (p["r1"] + q["r1"]) * math.log(order)
    en = (
        p["r1"]
        * q["r1"]
        * (math.sqrt(p["Xi"]) - math.sqrt(q["Xi"])) ** 2
        / (p["Xi"] * p["r1"] + q["Xi"] * q["r1"])
    )
    return p["r1"] + q["r1"] + bo - en


def angle_term(atoms, centre: str, p: dict, q: dict, r_ab: float, r_bc: float, theta0: float):
    """UFF's angle term about a centre, in the LAMMPS style its geometry takes.

    Parameters
    ----------
    atoms
        The three atoms, centre in the middle.
    centre
        UFF type of the centre atom.
    p, q
        UFF parameters of the two outer atoms.
    r_ab, r_bc
        Rest lengths of the two bonds (A).
    theta0
        The centre's natural angle (degrees).

    Returns
    -------
    Term
        ``cosine/periodic`` for linear, trigonal, square-planar and octahedral centres,
        ``fourier`` otherwise."""
    cos0, sin0 = math.cos(math.radians(theta0)), math.sin(math.radians(theta0))
    r_ac = math.sqrt(r_ab**2 + r_bc**2 - 2 * r_ab * r_bc * cos0)
    k = 664.12 * p["Z1"] * q["Z1"] / r_ac**5 * (3 * r_ab * r_bc * (1 - cos0**2) - r_ac**2 * cos0)
    kind = centre[2] if len(centre) > 2 else LINEAR
    # LAMMPS cosine/periodic: E = (2/n^2) C [1 - B (-1)^n cos(n theta)], so C = K/2
    if kind == LINEAR:
        return Term(atoms, "cosine/periodic", (k / 2, 1, 1))
    if kind in TRIGONAL:
        return Term(atoms, "cosine/periodic", (k / 2, -1, 3))
    if kind in SQUARE:
        return Term(atoms, "cosine/periodic", (k / 2, 1, 4))
    if kind == "3" and int(theta0) == 90:
        return Term(atoms, "cosine/periodic", (k / 2, -1, 2))
    c2 = 1.0 / (4.0 * sin0**2)
    return Term(atoms, "fourier", (k, c2 * (2 * cos0**2 + 1), -4 * c2 * cos0, c2))


def hybridisation(name: str) -> str | None:
    """The hybridisation a UFF type name says.

    Parameters
    ----------
    name
        UFF type name (e.g. ``C_R``, ``N_1``).

    Returns
    -------
    str or None
        sp3, sp2 or sp, or None for other types."""
    kind = name[2] if len(name) > 2 else ""
    return {"3": "sp3", "2": "sp2", "R": "sp2", "1": "sp"}.get(kind)


def torsion(graph, types, table, orders, j, k) -> tuple[float, int, float] | None:
    """UFF torsion (V, n, phi0) about the bond j-k, per torsion of that bond."""
    bj, bk = types[j], types[k]
    hj, hk = hybridisation(bj), hybridisation(bk)
    zj, zk = graph.symbols[j], graph.symbols[k]
    order = orders[min(j, k), max(j, k)]
    if hj == hk == "sp3":
        group16 = {"O": 2.0, "S": 6.8, "Se": 6.8, "Te": 6.8}
        vj, vk = group16.get(zj, table[bj]["Vi"]), group16.get(zk, table[bk]["Vi"])
        v, n, phi0 = math.sqrt(vj * vk), 3, 60.0
        if zj in group16 or zk in group16:
            n, phi0 = 2, 90.0
    elif hj == hk == "sp2":
        v = 5.0 * math.sqrt(table[bj]["Uj"] * table[bk]["Uj"]) * (1 + 4.18 * math.log(order))
        n, phi0 = 2, 180.0
    elif {hj, hk} == {"sp2", "sp3"}:
        v, n, phi0 = 2.0, 3, 180.0
        sp3 = zj if hj == "sp3" else zk
        if sp3 in ("O", "S", "Se", "Te"):
            v = 5.0 * math.sqrt(table[bj]["Uj"] * table[bk]["Uj"]) * (1 + 4.18 * math.log(order))
            n, phi0 = 2, 90.0
    else:
        return None
    multiplicity = (graph.degree(j) - 1) * (graph.degree(k) - 1)
    return (v / multiplicity, n, phi0) if v > 0 and multiplicity > 0 else None


def inversion(graph: BondGraph, types: list[str], centre: int) -> float | None:
    """UFF inversion constant on a three-coordinated sp2 C or N (50 with a terminal O)."""
    name = types[centre]
    if graph.degree(centre) != 3 or name not in ("C_2", "C_R", "N_2", "N_R"):
        return None
    terminal_o = any(types[j] == "O_2" and graph.degree(j) == 1 for j in graph.partners(centre))
    return 50.0 if name.startswith("C") and terminal_o else 6.0


def uff4mof_forcefield(structure: Structure) -> ForceField:
    """Types and every bonded and pair term of a framework (see the module docstring)."""
    table = uff4mof_table()
    graph = bond_graph(structure)
    types = atom_types(graph, table)
    rings = ring_bonds(graph)
    field_ = ForceField(types=types)
    orders, lengths = {}, {}
    for i, j in graph.bonds:
        order = bond_order(graph, types, rings, i, j)
        p, q = table[types[i]], table[types[j]]
        r0 = rest_length(p, q, order)
        orders[i, j], lengths[i, j] = order, r0
        k = 664.12 * p["Z1"] * q["Z1"] / r0**3 / 2.0
        field_.bonds.append(Term((i, j), "harmonic", (k, r0)))
    length = lambda a, b: lengths[min(a, b), max(a, b)]  # noqa: E731
    for centre in range(len(types)):
        partners = graph.partners(centre)
        theta0 = table[types[centre]]["theta0"]
        for a, c in itertools.combinations(partners, 2):
            field_.angles.append(
                angle_term(
                    (a, centre, c),
                    types[centre],
                    table[types[a]],
                    table[types[c]],
                    length(a, centre),
                    length(centre, c),
                    theta0,
                )
            )
        if (koop := inversion(graph, types, centre)) is not None:
            field_.impropers.append(
                Term((centre, *partners), "fourier", (koop / 3.0, 1.0, -1.0, 0.0, 1))
            )
    for j, k in graph.bonds:
        if is_metal(graph.symbols[j]) or is_metal(graph.symbols[k]):
            continue
        found = torsion(graph, types, table, orders, j, k)
        if found is None:
            continue
        v, n, phi0 = found
        sign = -round(math.cos(math.radians(n * phi0)))
        for i in graph.partners(j):
            for m in graph.partners(k):
                if k not in (i, m) and j not in (i, m) and i != m:
                    field_.dihedrals.append(Term((i, j, k, m), "harmonic", (v / 2, sign, n)))
    for name in set(types):
        field_.pair[name] = (table[name]["D1"], table[name]["x1"] * 2 ** (-1 / 6))
    return field_
