"""Element checks and elemental reference structures."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from ase.build import bulk
from pymatgen.core import Element, Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

NOBLE_GASES = frozenset(e.symbol for e in Element if e.is_noble_gas)
ACTINIDES = frozenset(e.symbol for e in Element if e.is_actinoid)
HALOGENS = frozenset(e.symbol for e in Element if e.is_halogen)
EXA_AMD_EXCLUDED_ELEMENTS = frozenset(NOBLE_GASES | ACTINIDES | HALOGENS | {"Tc", "Pm", "O"})

DIATOMIC_GASES = {"H", "N", "O", "F", "Cl", "Br", "I"}
SIMPLE_POLYMORPHS = ("fcc", "bcc", "hcp", "sc", "diamond")


def check_element_symbols(symbols: Iterable[str]) -> None:
    """Raise ValueError naming the first symbol that is not a chemical element.

    Parameters
    ----------
    symbols
        The symbols to check.

    Raises
    ------
    ValueError
        For the first symbol that is not an element.
    """
    for symbol in symbols:
        if not isinstance(symbol, str) or not Element.is_valid_symbol(symbol):
            raise ValueError(f"unknown element symbol {symbol!r}")


def _nearest_neighbour_distance(symbol: str) -> float:
    element = Element(symbol)
    radius = element.atomic_radius or element.atomic_radius_calculated or 1.5
    return 2.0 * float(radius)


def polymorph(symbol: str, kind: str) -> Structure:
    """A simple elemental polymorph with a nearest-neighbour distance from atomic radii."""
    d = _nearest_neighbour_distance(symbol)
    if kind == "fcc":
        atoms = bulk(symbol, "fcc", a=d * np.sqrt(2))
    elif kind == "bcc":
        atoms = bulk(symbol, "bcc", a=2 * d / np.sqrt(3))
    elif kind == "hcp":
        atoms = bulk(symbol, "hcp", a=d, c=d * np.sqrt(8 / 3))
    elif kind == "sc":
        atoms = bulk(symbol, "sc", a=d)
    elif kind == "diamond":
        atoms = bulk(symbol, "diamond", a=4 * d / np.sqrt(3))
    else:
        raise ValueError(f"unknown polymorph {kind!r}; choose from {SIMPLE_POLYMORPHS}")
    return AseAtomsAdaptor.get_structure(atoms)


def dimer_in_box(symbol: str, box: float = 10.0) -> Structure:
    """A homonuclear dimer in a cubic box, the reference state of a diatomic gas."""
    bond = float(Element(symbol).atomic_radius or 0.7) * 2.0 * 0.9
    return Structure(
        Lattice.cubic(box), [symbol, symbol], [[0, 0, 0], [0, 0, bond]], coords_are_cartesian=True
    )


def elemental_reference_candidates(symbol: str) -> dict[str, Structure]:
    """Structures to relax for an element's reference state, keyed by their origin.

    ASE's reference state (experimental lattice) where ASE can build it; otherwise a
    dimer for diatomic gases, or the simple polymorphs (the lowest relaxed one is used).

    Parameters
    ----------
    symbol
        The element.

    Returns
    -------
    dict
        Origin -> structure to relax.
    """
    check_element_symbols([symbol])
    if symbol in DIATOMIC_GASES:
        return {"dimer": dimer_in_box(symbol)}
    try:
        atoms = bulk(symbol)
    except (ValueError, KeyError, RuntimeError, NotImplementedError):
        return {f"polymorph:{kind}": polymorph(symbol, kind) for kind in SIMPLE_POLYMORPHS}
    return {"ase": AseAtomsAdaptor.get_structure(atoms)}


def elemental_volume_per_atom(symbol: str) -> float:
    """Volume per atom of the element's reference state (unrelaxed, A^3)."""
    structures = elemental_reference_candidates(symbol)
    if "dimer" in structures:
        return 4 / 3 * np.pi * (_nearest_neighbour_distance(symbol) / 2) ** 3 / 0.74
    return min(s.volume / len(s) for s in structures.values())
