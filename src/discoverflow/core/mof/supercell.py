"""Supercells a method needs (every perpendicular width above a length) and the way back from
a supercell's sites and cell to the original cell's."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from pymatgen.core import Structure

Repeats = tuple[int, int, int]


def perpendicular_widths(structure: Structure) -> list[float]:
    """Distance between opposite faces of the cell, across a, b and c (A)."""
    matrix = structure.lattice.matrix
    volume = abs(np.linalg.det(matrix))
    return [
        volume / np.linalg.norm(np.cross(matrix[(i + 1) % 3], matrix[(i + 2) % 3]))
        for i in range(3)
    ]


def repeats_for(structure: Structure, width: float, at_least: int = 1) -> Repeats:
    """Repeats along a, b, c so that every perpendicular width is at least ``width``."""
    return tuple(
        max(at_least, math.ceil(width / w - 1e-9)) for w in perpendicular_widths(structure)
    )


def repeated(structure: Structure, repeats: Repeats) -> Structure:
    """The supercell; pymatgen orders it site by site, each site's images together."""
    return structure * repeats if any(r > 1 for r in repeats) else structure.copy()


def original_site(index: int, repeats: Repeats) -> int:
    """The original cell's site of a supercell site (see ``repeated``)."""
    return index // math.prod(repeats)


def first_image(site: int, repeats: Repeats) -> int:
    """The supercell index of an original site's first image."""
    return site * math.prod(repeats)


def original_cell(matrix: ArrayLike, repeats: Repeats) -> np.ndarray:
    """A supercell's lattice (rows a, b, c) divided back into one cell."""
    return np.asarray(matrix, dtype=float) / np.asarray(repeats, dtype=float)[:, None]
