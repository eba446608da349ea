"""Lattice strain between two cells, as MOFA scores MD stability."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def strain_tensor(initial_cell: ArrayLike, final_cell: ArrayLike) -> np.ndarray:
    """``sym(C_init C_final^-1 - I)`` for cells given as rows of lattice vectors.

    Parameters
    ----------
    initial_cell, final_cell
        3x3 lattices, rows the vectors (A).

    Returns
    -------
    numpy.ndarray
        The symmetric 3x3 strain.
    """
    initial = np.asarray(initial_cell, dtype=float)
    final = np.asarray(final_cell, dtype=float)
    deformation = initial @ np.linalg.inv(final) - np.eye(3)
    return 0.5 * (deformation + deformation.T)


def lattice_strain(initial_cell: ArrayLike, final_cell: ArrayLike) -> float:
    """Largest absolute eigenvalue of the symmetric strain: 0 for an unchanged cell.

    Parameters
    ----------
    initial_cell, final_cell
        3x3 lattices before and after, rows the vectors (A).

    Returns
    -------
    float
        The strain.
    """
    return float(np.abs(np.linalg.eigvalsh(strain_tensor(initial_cell, final_cell))).max())
