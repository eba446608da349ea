"""Reject frameworks whose atoms sit closer than an element pair's minimum distance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Element, Structure

DEFAULT_SCALE = 0.7
"""Fraction of the covalent-radius sum below which two atoms overlap (C=O is 0.88 of it)."""

DEFAULT_PAIR_MINIMA = {"H-H": 1.2}
"""Pairs whose covalent-radius rule is too lenient: two H are never bonded in a framework."""


@dataclass(frozen=True)
class Overlap:
    """Two atoms closer than their pair's minimum.

    Parameters
    ----------
    site_i, site_j
        The two sites.
    pair
        Their elements, sorted and joined (``C-H``).
    distance
        Their distance (A).
    minimum
        The pair's minimum distance (A)."""

    site_i: int
    site_j: int
    pair: str
    distance: float
    minimum: float


def pair_key(a: str, b: str) -> str:
    """The key of an element pair: the two symbols sorted and joined by ``-``.

    Parameters
    ----------
    a, b
        Element symbols.

    Returns
    -------
    str
        The key."""
    return "-".join(sorted((a, b)))


def covalent_radius(symbol: str) -> float:
    """The covalent radius (A) of the element ``symbol``: pymatgen's covalent radius, else
    its atomic radius, else 1.5."""
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

    radius = CovalentRadius.radius.get(symbol)
    return float(radius) if radius is not None else float(Element(symbol).atomic_radius or 1.5)


def minimum_distance(
    a: str, b: str, scale: float = DEFAULT_SCALE, pair_minima: dict[str, float] | None = None
) -> float:
    """The shortest acceptable distance between elements ``a`` and ``b`` in angstrom."""
    table = {**DEFAULT_PAIR_MINIMA, **(pair_minima or {})}
    key = pair_key(a, b)
    if key in table:
        return table[key]
    return scale * (covalent_radius(a) + covalent_radius(b))


def find_overlaps(
    structure: Structure,
    scale: float = DEFAULT_SCALE,
    pair_minima: dict[str, float] | None = None,
) -> list[Overlap]:
    """Every minimum-image pair closer than its element pair's minimum distance."""
    symbols = [site.specie.symbol for site in structure]
    elements = sorted(set(symbols))
    minima = {
        pair_key(a, b): minimum_distance(a, b, scale, pair_minima)
        for a in elements
        for b in elements
    }
    cutoff = max(minima.values())
    centers, neighbors, _, distances = structure.get_neighbor_list(cutoff)
    overlaps = []
    for i, j, d in zip(centers, neighbors, distances, strict=False):
        if i >= j:
            continue
        key = pair_key(symbols[i], symbols[j])
        if d < minima[key]:
            overlaps.append(Overlap(int(i), int(j), key, float(d), minima[key]))
    return overlaps


def closest_approach(structure: Structure) -> float:
    """The shortest minimum-image distance between two distinct sites."""
    matrix = structure.distance_matrix
    np.fill_diagonal(matrix, np.inf)
    return float(matrix.min())
