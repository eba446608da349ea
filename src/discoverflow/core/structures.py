"""Reading structures and giving them deterministic identities."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from pymatgen.core import Composition, Element, Structure
from pymatgen.core.units import Length, Mass
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar", ".json")
MIN_DISTANCE = 0.5
"""Closest two atoms of an input structure may be (A); closer is a broken file."""


@dataclass(frozen=True)
class UnreadableFile:
    """A structure file that did not parse.

    Parameters
    ----------
    path
        The file.
    reason
        Why."""

    path: Path
    reason: str


def rounded_sites(species: Sequence[str], frac_coords: np.ndarray) -> list[tuple]:
    """The sites as (species, a, b, c) with coordinates wrapped into [0, 1) and rounded to
    1e-4, in sorted order: what ``candidate_id`` hashes.

    Parameters
    ----------
    species
        Species string of each site.
    frac_coords
        Fractional coordinates, one row per site.

    Returns
    -------
    list of tuple
        The sorted sites.
    """
    frac = np.round(np.mod(frac_coords, 1.0), 4) % 1.0 + 0.0
    return sorted((symbol, *row) for symbol, row in zip(species, frac, strict=True))


def hashed_id(formula: str, lattice_matrix: np.ndarray, sites: list[tuple]) -> str:
    """``candidate_id`` from its parts: the reduced formula, the lattice and ``rounded_sites``.

    Parameters
    ----------
    formula
        Reduced formula.
    lattice_matrix
        The lattice (A), rows the vectors.
    sites
        ``rounded_sites`` of the structure.

    Returns
    -------
    str
        ``<formula>-<12 hex digits>``.
    """
    lattice = np.round(lattice_matrix, 4) + 0.0
    payload = repr((lattice.tolist(), sites)).encode()
    return f"{formula}-{hashlib.sha1(payload, usedforsecurity=False).hexdigest()[:12]}"


def candidate_id(structure: Structure) -> str:
    """A deterministic id: the reduced formula and a hash of the lattice and sites.

    Lattice and fractional coordinates are rounded (1e-4 A, 1e-4) so that the same
    structure written and read back keeps its id; site order does not matter.

    Parameters
    ----------
    structure
        The structure to identify.

    Returns
    -------
    str
        ``<reduced formula>-<12 hex digits>``.
    """
    sites = rounded_sites([site.species_string for site in structure], structure.frac_coords)
    return hashed_id(structure.composition.reduced_formula, structure.lattice.matrix, sites)


AMU_PER_CUBIC_ANGSTROM = float(Mass(1, "amu").to("g")) / float(Length(1, "ang").to("cm")) ** 3
"""g/cm^3 in one atomic mass unit per cubic angstrom, with pymatgen's constants."""


@cache
def atomic_mass(symbol: str) -> float:
    """An element's standard atomic mass (amu).

    Parameters
    ----------
    symbol
        The element, e.g. ``Fe``.

    Returns
    -------
    float
        Its mass (amu).
    """
    return float(Element(symbol).atomic_mass)


def density(structure: Structure) -> float:
    """``structure.density`` (g/cm^3) without pymatgen's unit arithmetic (50x faster).

    Parameters
    ----------
    structure
        The cell, ordered or not (its composition is weighed).

    Returns
    -------
    float
        Its density (g/cm^3).
    """
    return cell_density(composition_mass(structure.composition), structure.volume)


def composition_mass(composition: Composition) -> float:
    """The mass of ``composition`` (amu)."""
    return elements_mass(
        (element.symbol, amount) for element, amount in composition.element_composition.items()
    )


def elements_mass(amounts: Iterable[tuple[str, float]]) -> float:
    """The mass (amu) of these amounts of elements, summed in the order given."""
    return sum(amount * atomic_mass(symbol) for symbol, amount in amounts)


def cell_density(mass: float, volume: float) -> float:
    """g/cm^3 of ``mass`` amu in ``volume`` cubic angstrom."""
    return mass * AMU_PER_CUBIC_ANGSTROM / volume


def smiles_id(smiles: list[str]) -> str:
    """A short stable id from a list of SMILES (a MOF's linkers).

    Parameters
    ----------
    smiles
        The SMILES, in order.

    Returns
    -------
    str
        Ten hex digits.
    """
    return hashlib.sha1("|".join(smiles).encode(), usedforsecurity=False).hexdigest()[:10]


def conventional_cell(structure: Structure | None, symprec: float = 0.1) -> dict:
    """Space group symbol and conventional lattice lengths of a cell (empty if it has none).

    Parameters
    ----------
    structure
        The cell, or None.
    symprec
        spglib's symmetry tolerance (A).

    Returns
    -------
    dict
        ``space_group`` and ``conventional_abc`` (A), or empty.
    """
    if structure is None:
        return {}
    try:
        analyzer = SpacegroupAnalyzer(structure, symprec=symprec)
        conventional = analyzer.get_conventional_standard_structure()
    except Exception:
        return {}
    return {
        "space_group": analyzer.get_space_group_symbol(),
        "conventional_abc": list(conventional.lattice.abc),
    }


def read_structure(path: Path) -> Structure:
    """Read one structure file; raise ValueError with a readable reason if it does not parse.

    Parameters
    ----------
    path
        A CIF, POSCAR or pymatgen JSON file.

    Returns
    -------
    Structure
        The first structure in it.

    Raises
    ------
    ValueError
        If it does not parse, has partially occupied sites or atoms closer than 0.5 A.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if path.suffix.lower() == ".cif":
                from pymatgen.io.cif import CifParser

                structures = CifParser(path).parse_structures(primitive=False)
            else:
                structures = [Structure.from_file(path)]
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"cannot parse {path.name}: {reason}") from None
    if not structures:
        raise ValueError(f"cannot parse {path.name}: no structure found")
    structure = structures[0]
    if not structure.is_ordered:
        mixed = next(site for site in structure if not site.is_ordered)
        raise ValueError(
            f"{path.name}: partially occupied site ({mixed.species}); give an ordered structure"
        )
    if len(structure) > 1:
        distances = structure.distance_matrix + np.diag([np.inf] * len(structure))
        i, j = np.unravel_index(np.argmin(distances), distances.shape)
        if distances[i, j] < MIN_DISTANCE:
            raise ValueError(
                f"{path.name}: atoms {i} ({structure[i].species_string}) and {j} "
                f"({structure[j].species_string}) are {distances[i, j]:.2f} A apart "
                f"(less than {MIN_DISTANCE} A)"
            )
    return structure


def structure_files(folder: Path) -> list[Path]:
    """The files of ``folder`` with a structure suffix (CIF, POSCAR, pymatgen JSON), sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in STRUCTURE_SUFFIXES)


def read_structure_folder(folder: Path) -> tuple[dict[str, Structure], list[UnreadableFile]]:
    """All structures in ``folder`` keyed by file stem, and the files that did not parse.

    Parameters
    ----------
    folder
        The folder.

    Returns
    -------
    tuple
        File stem -> structure, and the files that did not parse with the reason.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: folder not found")
    structures: dict[str, Structure] = {}
    unreadable: list[UnreadableFile] = []
    for path in structure_files(folder):
        try:
            structures[path.stem] = read_structure(path)
        except ValueError as exc:
            unreadable.append(UnreadableFile(path, str(exc)))
    return structures, unreadable
