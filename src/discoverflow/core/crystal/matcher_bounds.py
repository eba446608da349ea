"""Provable bounds on pymatgen's StructureMatcher, for exact shortcuts in ``dedup``.

- ``primitive_translations``: when ``get_primitive_structure`` (absolute 0.25 A tolerance)
  reduces a crystal the same way at every scale >= 1, and to how many sites;
- ``lattice_interval``: where the reduced lattice lengths of any structure that ``fit``
  matches to this one can lie;
- ``may_fit``: a necessary condition of ``fit``'s site stage, cheap and vectorised.

The arguments are in ``discoverflow.core.crystal.dedup``'s docstring; only public pymatgen
API is used.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from pymatgen.core import Lattice, Structure

PRIMITIVE_TOLERANCE = 0.25  # get_primitive_structure's default (A)
EXACT = 1e-6  # A: a translation this close maps the structure onto itself
MARGIN = 1.01
SLACK = 1e-3
CHECKED_SITES = 4  # of b, rarest species first: enough to refute; more only costs
IMAGES = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float)


class Tolerances(Protocol):
    """StructureMatcher's ltol, stol and angle_tol (DedupSettings is one)."""

    ltol: float
    stol: float
    angle_tol: float


def _min_image(lattice: np.ndarray, frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the shortest periodic image of fractional vectors (A)."""
    wrapped = frac - np.round(frac)
    lengths = np.linalg.norm((wrapped[..., None, :] + IMAGES) @ lattice, axis=-1).min(axis=-1)
    spacing = 1 / np.linalg.norm(np.linalg.inv(lattice), axis=0).max()
    return np.minimum(lengths, 1.5 * spacing), lengths


def primitive_translations(
    structure: Structure, tolerance: float = PRIMITIVE_TOLERANCE
) -> int | None:
    """How many cells ``get_primitive_structure`` folds into one, the same at every scale >= 1.

    None where the certificate of the module docstring fails. Its conditions are Euclidean,
    so any cell of the crystal (the input or its Niggli cell) gives the same answer.
    """
    if not all(site.is_ordered for site in structure):
        return None
    lattice, frac = structure.lattice.matrix, structure.frac_coords
    species = np.array([site.species_string for site in structure])
    names, counts = np.unique(species, return_counts=True)
    formula_units = math.gcd(*counts.tolist())
    if formula_units == 1:
        return 1  # no supercell matrix to try: the search returns its input
    same = species[:, None] == species[None, :]
    distinct = same & ~np.eye(len(species), dtype=bool)
    low, _ = _min_image(lattice, frac[None, :, :] - frac[:, None, :])
    if (low[distinct] < 6 * tolerance * MARGIN).any():
        return None
    first = int(np.flatnonzero(species == names[np.argmin(counts)])[0])
    partners = np.flatnonzero(species == species[first])
    shifts = frac[partners] - frac[first]
    moved = frac[None, :, None, :] + shifts[:, None, None, :] - frac[None, None, :, :]
    low, high = _min_image(lattice, moved)
    low = np.where(same, low, np.inf).min(axis=2).max(axis=1)
    high = np.where(same, high, np.inf).min(axis=2).max(axis=1)
    exact = high <= EXACT
    if not np.all(exact | (low >= 6 * tolerance * MARGIN)):
        return None
    steps = np.arange(formula_units) / formula_units
    grid = np.array(list(itertools.product(steps, repeat=3)))
    low, high = _min_image(lattice, grid[:, None, :] - shifts[exact][None, :, :])
    member = (high <= EXACT).any(axis=1)
    return int(exact.sum()) if np.all(low[~member] >= 3 * tolerance * MARGIN) else None


def reduce_like_matcher(structure: Structure) -> Structure:
    """StructureMatcher's reduced cell (Niggli, then primitive) through the public API."""
    return primitive_cell(Structure.from_sites(structure).get_reduced_structure())


def primitive_cell(niggli: Structure) -> Structure:
    """The primitive cell of a Niggli-reduced structure, as
    ``get_primitive_structure`` finds it (the structure itself where no smaller cell exists).

    Parameters
    ----------
    niggli
        A Niggli-reduced structure.

    Returns
    -------
    Structure
        Its primitive cell."""
    species = [site.species_string for site in niggli]
    ordered = all(site.is_ordered for site in niggli)
    if ordered and math.gcd(*(species.count(name) for name in set(species))) == 1:
        return niggli  # get_primitive_structure has no supercell to try and returns a copy
    return Structure.from_sites(niggli.get_primitive_structure())


def _cosines(angles_deg: np.ndarray) -> np.ndarray:
    """Cosine matrices of bases from their (alpha, beta, gamma), any leading shape."""
    ca, cb, cg = np.moveaxis(np.cos(np.radians(angles_deg)), -1, 0)
    one = np.ones_like(ca)
    rows = [[one, cg, cb], [cg, one, ca], [cb, ca, one]]
    return np.moveaxis(np.array(rows), (0, 1), (-2, -1))


def lattice_interval(
    lattice: Lattice, sites: int, settings: Tolerances
) -> tuple[np.ndarray, float]:
    """(log of sorted reduced lengths over (V/N)^(1/3), half-width any match lies within)."""
    lengths = np.sort(lattice.abc) / (lattice.volume / sites) ** (1 / 3)
    angles = np.array(lattice.angles)
    corners = np.clip(
        angles + settings.angle_tol * np.array(list(itertools.product((-1, 1), repeat=3))), 0, 180
    )
    lowest = np.linalg.det(_cosines(corners)).min()
    if lowest <= 0:
        return np.log(lengths), math.inf
    return np.log(lengths), math.log1p(settings.ltol) - 0.5 * math.log(lowest) + 3 * SLACK


@dataclass
class Cell:
    """A reduced structure as arrays, for ``may_fit``."""

    matrix: np.ndarray
    frac: np.ndarray  # sites, the rarest species first
    species: np.ndarray  # species string of each site
    ordered: bool

    @classmethod
    def of(cls, structure: Structure, lattice: Lattice | None = None) -> Cell:
        """The structure's sites in its own cell, or in ``lattice``: a basis of the same
        lattice (``may_fit`` is periodic, so the choice of images does not matter)."""
        lattice = lattice or structure.lattice
        frac = lattice.get_fractional_coords(structure.cart_coords) % 1.0
        species = np.array([site.species_string for site in structure])
        names, counts = np.unique(species, return_counts=True)
        rarity = dict(zip(names, counts, strict=True))
        order = sorted(range(len(species)), key=lambda i: (rarity[species[i]], species[i], i))
        ordered = all(site.is_ordered for site in structure)
        return cls(lattice.matrix, frac[order], species[order], ordered)

    def sites_of(self, species: str) -> np.ndarray:
        return np.flatnonzero(self.species == species)


def _gram_angles(basis: np.ndarray) -> np.ndarray:
    """(alpha, beta, gamma) in degrees of bases (..., 3, 3) given as rows."""
    unit = basis / np.linalg.norm(basis, axis=-1, keepdims=True)
    pairs = ((1, 2), (0, 2), (0, 1))
    cos = np.stack([np.sum(unit[..., p, :] * unit[..., q, :], axis=-1) for p, q in pairs], -1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _lattice_mappings(la: np.ndarray, lb: np.ndarray, settings: Tolerances) -> np.ndarray:
    """Unimodular bases of ``la`` with lengths and angles near ``lb``'s (a superset of
    ``Lattice.find_all_mappings``, whose integer coefficients are exact)."""
    ltol = settings.ltol * (1 + 1e-6) + 1e-9
    atol = settings.angle_tol + 1e-6
    target = np.linalg.norm(lb, axis=1)
    radius = target.max() * (1 + ltol) * (1 + 1e-9)
    bound = np.floor(radius * np.linalg.norm(np.linalg.inv(la), axis=0)).astype(int)
    grid = np.stack(np.meshgrid(*(np.arange(-k, k + 1) for k in bound), indexing="ij"), -1)
    grid = grid.reshape(-1, 3)
    cart = grid @ la
    lengths = np.linalg.norm(cart, axis=1)
    ratio = lengths[:, None] / target[None, :]
    fits = (ratio <= 1 + ltol) & (ratio >= 1 / (1 + ltol)) & (lengths[:, None] > 0)
    (ia,), (ib,), (ic,) = (np.nonzero(fits[:, i]) for i in range(3))
    unit = cart / np.where(lengths > 0, lengths, 1)[:, None]
    alpha, beta, gamma = _gram_angles(lb)

    def close(p: np.ndarray, q: np.ndarray, goal: float) -> np.ndarray:
        cos = np.clip(unit[p] @ unit[q].T, -1, 1)
        return np.abs(np.degrees(np.arccos(cos)) - goal) <= atol

    good = (
        close(ia, ib, gamma)[:, :, None] & close(ib, ic, alpha)[None] & close(ia, ic, beta)[:, None]
    )
    i, j, k = np.nonzero(good)
    integer = np.stack([grid[ia[i]], grid[ib[j]], grid[ic[k]]], axis=1)
    unimodular = np.abs(np.round(np.linalg.det(integer))) == 1
    return np.stack([cart[ia[i]], cart[ib[j]], cart[ic[k]]], axis=1)[unimodular]


def _average_lattices(bases: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``fit``'s average lattices: mean lengths and angles of each basis and the target's."""
    lengths = (np.linalg.norm(bases, axis=2) + np.linalg.norm(target, axis=1)) / 2
    angles = (_gram_angles(bases) + _gram_angles(target)) / 2
    gram = lengths[:, :, None] * lengths[:, None, :] * _cosines(angles)
    return np.linalg.cholesky(gram)


def _nearest(diff: np.ndarray, lattices: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Lower bounds of the shortest image of fractional vectors (k, t, 3) in lattices (k)."""
    diff = diff - np.round(diff)
    images = (diff[:, :, None, :] + IMAGES).reshape(len(diff), -1, 3)
    squares = np.square(np.matmul(images, lattices)).sum(axis=-1).min(axis=1)
    return np.minimum(np.sqrt(squares), 1.5 * spacing)


def _mapping_data(a: Cell, b: Cell, settings: Tolerances) -> tuple:
    """Lattice mappings of ``a`` onto ``b`` as ``fit`` scales them, with their averages."""
    ratio = (abs(np.linalg.det(b.matrix)) / abs(np.linalg.det(a.matrix))) ** (1 / 6)
    la, lb = a.matrix * ratio, b.matrix / ratio
    bases = _lattice_mappings(la, lb, settings)
    if not len(bases):
        return la, bases, None, None, None
    average = _average_lattices(bases, lb)
    reach = 2 * settings.stol * (np.abs(np.linalg.det(average)) / len(a.frac)) ** (1 / 3)
    spacing = 1 / np.linalg.norm(np.linalg.inv(average), axis=1).max(axis=1)
    return la, np.linalg.inv(bases), average, reach * (1 + 1e-6) + 1e-9, spacing


def may_fit(a: Cell, b: Cell, settings: Tolerances, cache: dict | None = None) -> bool:
    """False only where ``matcher.fit(a, b, skip_structure_reduction=True)`` is False.

    A match puts every site of ``b``, moved by one translation, within stol (V/N)^(1/3) of
    its own same-species site of ``a``, distances taken in the average lattice of one of
    the lattice mappings; so every site of ``b`` lies within twice that of a same-species
    site of ``a`` after the translation that puts b's first site (of its rarest species)
    exactly on an ``a`` site.
    """
    if len(a.frac) != len(b.frac) or not (a.ordered and b.ordered):
        return True
    key = (a.matrix.tobytes(), b.matrix.tobytes(), len(a.frac))
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = _mapping_data(a, b, settings)
    la, inverses, average, reach, spacing = cache[key]
    if not len(inverses):
        return False
    frac_a = np.matmul((a.frac @ la)[None], inverses)
    starts = a.sites_of(b.species[0])
    mapping = np.repeat(np.arange(len(inverses)), len(starts))
    shift = frac_a[:, starts].reshape(-1, 3) - b.frac[0]
    targets = {name: a.sites_of(name) for name in set(b.species)}
    for i in range(1, min(len(b.frac), 1 + CHECKED_SITES)):
        diff = b.frac[i] + shift[:, None, :] - frac_a[mapping][:, targets[b.species[i]]]
        alive = _nearest(diff, average[mapping], spacing[mapping]) <= reach[mapping]
        if not alive.any():
            return False
        mapping, shift = mapping[alive], shift[alive]
    return True
