"""Formation energies, the convex hull and vectorised energies above it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from pymatgen.core import Composition, Element

if TYPE_CHECKING:  # a second to import (it loads matplotlib): only when a hull is built
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram

HULL_TOLERANCE = 1e-9
"""Energies above the hull smaller than this (eV/atom) are rounding: they are set to 0."""
ON_HULL_TOLERANCE = 1e-8
"""A phase at most this far above the hull (eV/atom) is on it (stable)."""


def composition_amounts(
    compositions: Sequence[Composition], elements: Sequence[Element]
) -> np.ndarray:
    """Amounts of each element (species folded onto their element), one row per composition."""
    width = len(elements)
    by_id = {id(el): i for i, el in enumerate(elements)}  # Element members are singletons
    try:
        flat = [row * width + by_id[id(sp)] for row, comp in enumerate(compositions) for sp in comp]
    except KeyError:
        flat = [
            row * width + _column(comp, sp, elements)
            for row, comp in enumerate(compositions)
            for sp in comp
        ]
    weights = [amount for comp in compositions for _, amount in comp.items()]
    counts = np.bincount(flat, weights=weights, minlength=len(compositions) * width)
    return counts.reshape(len(compositions), width)


def _column(composition: Composition, species, elements: Sequence[Element]) -> int:
    element = getattr(species, "element", species)
    if element not in elements:
        raise ValueError(f"{composition.reduced_formula} is outside the elements {elements}")
    return list(elements).index(element)


def composition_matrix(
    compositions: Sequence[Composition], elements: Sequence[Element]
) -> np.ndarray:
    """Atomic fractions, one row per composition, one column per element."""
    amounts = composition_amounts(compositions, elements)
    return amounts / np.abs(amounts).sum(axis=1, keepdims=True)


def formation_energy_per_atom(
    compositions: Sequence[Composition],
    energies_per_atom: Sequence[float],
    elemental_energies: Mapping[str, float],
) -> np.ndarray:
    """E_f = E/atom - sum_i x_i E_i/atom, with E_i the elemental reference energies.

    Parameters
    ----------
    compositions
        The entries' compositions.
    energies_per_atom
        Their energies (eV/atom).
    elemental_energies
        Element -> reference energy (eV/atom).

    Returns
    -------
    numpy.ndarray
        The formation energies (eV/atom).
    """
    missing = {str(el) for c in compositions for el in c.elements} - set(elemental_energies)
    if missing:
        raise ValueError(f"no elemental reference energy for {', '.join(sorted(missing))}")
    elements = sorted(elemental_energies)
    fractions = composition_matrix(compositions, [Element(e) for e in elements])
    references = np.array([elemental_energies[e] for e in elements])
    return np.asarray(energies_per_atom, dtype=float) - fractions @ references


def hull_planes(phase_diagram: PhaseDiagram) -> np.ndarray:
    """Each lower-hull facet as a plane: energy/atom = x[1:] . a + b; rows are (a..., b).

    ``qhull_data`` rows are (x_2, ..., x_n, energy/atom) of the hull's points, and ``facets``
    index them; the lower hull of a convex function is the maximum of its facet planes.
    """
    data = phase_diagram.qhull_data
    if phase_diagram.dim == 1:
        return np.array([[data[phase_diagram.facets[0][0], -1]]])
    points = data[np.asarray(phase_diagram.facets)]
    systems = np.concatenate([points[:, :, :-1], np.ones((*points.shape[:2], 1))], axis=2)
    return np.linalg.solve(systems, points[:, :, -1:])[:, :, 0]


def hull_energy_per_atom(
    phase_diagram: PhaseDiagram, compositions: Sequence[Composition], chunk: int = 1024
) -> np.ndarray:
    """Energy per atom of the hull at each composition: the maximum over facet planes."""
    return _hull_energy(
        phase_diagram, composition_matrix(compositions, phase_diagram.elements), chunk
    )


def _hull_energy(
    phase_diagram: PhaseDiagram, fractions: np.ndarray, chunk: int = 1024
) -> np.ndarray:
    planes = hull_planes(phase_diagram)
    if phase_diagram.dim == 1:
        return np.full(len(fractions), planes[0, 0])
    result = np.empty(len(fractions))
    for start in range(0, len(fractions), chunk):
        values = fractions[start : start + chunk, 1:] @ planes[:, :-1].T
        result[start : start + chunk] = (values + planes[:, -1]).max(axis=1)
    return result


def e_above_hull(
    phase_diagram: PhaseDiagram,
    compositions: Sequence[Composition],
    energies_per_atom: Sequence[float],
) -> np.ndarray:
    """Energy above the hull (eV/atom) for many entries at once; round-off at zero is zeroed.

    Parameters
    ----------
    phase_diagram
        The hull.
    compositions
        The entries' compositions.
    energies_per_atom
        Their energies (eV/atom), on the diagram's footing.

    Returns
    -------
    numpy.ndarray
        The energies above the hull (eV/atom).
    """
    fractions = composition_matrix(compositions, phase_diagram.elements)
    return _above(
        np.asarray(energies_per_atom, dtype=float), _hull_energy(phase_diagram, fractions)
    )


def e_above_hull_of_entries(phase_diagram: PhaseDiagram, entries: Sequence[PDEntry]) -> np.ndarray:
    """``e_above_hull`` for entries: each entry's ``get_e_above_hull``, all at once."""
    amounts = composition_amounts([e.composition for e in entries], phase_diagram.elements)
    totals = np.abs(amounts).sum(axis=1)
    energies = np.array([e.energy for e in entries]) / totals
    return _above(energies, _hull_energy(phase_diagram, amounts / totals[:, None]))


def _above(energies_per_atom: np.ndarray, hull: np.ndarray) -> np.ndarray:
    values = energies_per_atom - hull
    values[np.abs(values) < HULL_TOLERANCE] = 0.0
    return values


def build_phase_diagram(entries: Sequence[PDEntry]) -> PhaseDiagram:
    """pymatgen's phase diagram of the entries.

    Parameters
    ----------
    entries
        The entries, elemental references included.

    Returns
    -------
    PhaseDiagram
        Their phase diagram."""
    from pymatgen.analysis.phase_diagram import PhaseDiagram

    return PhaseDiagram(list(entries))
