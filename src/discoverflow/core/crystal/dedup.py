"""Near-duplicate removal with exactly the groups of pymatgen's StructureMatcher, fast.

``group_like_structure_matcher`` returns the groups of ``StructureMatcher.group_structures``
(``DedupSettings.matcher()``: scale, primitive cell, no supercells, species comparator). That
method reduces every structure (Niggli, then ``get_primitive_structure``), splits them by
composition and, in input order, lets the first unmatched structure take every later one that
``fit``s it. We run the same greedy with the same public ``fit`` on the same reductions, and
skip only calls whose answer is known. Every shortcut is exact:

1. **Shapes.** Structures identical up to an isotropic scale (same site order, lattice and
   fractional coordinates to 1e-8) fit each other, and fit any third structure alike: every
   tolerance of ``fit`` is relative once ``scale`` brings both to one volume. They share one
   reduction when ``reduction_is_scale_stable`` certifies the smallest of them:
   ``get_primitive_structure`` compares distances with an absolute 0.25 A, and a copy scaled
   by s >= 1 is the small one searched with 0.25/s A. If same-species sites and lattice
   points lie >= 9 tol apart and every same-species translation of the first site of the
   rarest species is exact (<= 1e-6 A) or misses some site by >= 6 tol, every tolerance up
   to ``tol`` accepts exactly the sublattices of the exact translations (an accepted lattice's
   cosets lie within 3 tol of exact translations; those short offsets form a finite group,
   which is trivial when lattice points are >= 9 tol apart), so the search returns the same
   cell at every scale, and the input itself when no translation is exact.
2. **Blocks.** ``fit`` needs one composition and, without supercells, equal site counts.
3. **Lattice bins.** With both cells scaled to one volume, ``fit(A, B)`` needs a basis
   l' of A with |l'_i| / |b_i| in (1/(1+ltol), 1+ltol) and angles within angle_tol of B's
   (reduced) angles. Let mu_k be the sorted reduced lengths over (V/N)^(1/3), which are the
   successive minima lambda_k (Niggli cells; 1e-3 slack). Order statistics give
   mu_k(A) < (1+ltol) mu_k(B); volume gives prod(l'_k/mu_k(A)) = sqrt(D_A/D') with D the
   determinant of a basis's cosine matrix, D_A <= 1, each factor >= 1, so
   mu_k(B) < (1+ltol) mu_k(A) / sqrt(D_lo(B)), where D_lo(B) is the minimum of D over B's
   angle box +- angle_tol (D is concave in each cosine: a corner). Each structure gets the
   interval log mu_k +- (log(1+ltol) + log(1/D_lo)/2 + slack); a matching pair overlaps in
   all three, and bins are the connected components of overlaps, refined per dimension.
4. **Pair test.** Before ``fit``, ``may_fit`` checks a necessary condition of its site stage:
   for some lattice mapping (enumerated with wider tolerances and no determinant filter, a
   superset of ``find_all_mappings``) every site of B lies within twice ``fit``'s fractional
   tolerance of a same-species site of A, after a translation that puts B's first site of its
   rarest species on an A site (twice: ``fit`` anchors a possibly different site exactly).

Tolerances stay those of ``DedupSettings``: ltol, stol, angle_tol; primitive_cell and scale
are on. The only lattice invariant binned on is provably safe; space groups and pair
distances are not used, since a match may move each site by stol (V/N)^(1/3).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import Field
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure

from discoverflow.settings import StageSettings

PRIMITIVE_TOLERANCE = 0.25  # get_primitive_structure's default (A)
EXACT = 1e-6  # A: a translation this close maps the structure onto itself
MARGIN = 1.01
SLACK = 1e-3
IMAGES = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float)


class DedupSettings(StageSettings):
    """StructureMatcher tolerances that make two candidates the same structure."""

    ltol: float = Field(0.2, gt=0, description="Fractional length tolerance")
    stol: float = Field(0.3, gt=0, description="Site tolerance (fraction of (V/n)^(1/3))")
    angle_tol: float = Field(5.0, gt=0, description="Angle tolerance (degrees)")

    def matcher(self) -> StructureMatcher:
        return StructureMatcher(ltol=self.ltol, stol=self.stol, angle_tol=self.angle_tol)


def shape_key(structure: Structure) -> bytes:
    """Equal for structures identical up to an isotropic scale, site order included."""
    scale = (structure.volume / len(structure)) ** (1 / 3)
    digest = hashlib.sha1(np.round(structure.lattice.matrix / scale, 8).tobytes())
    digest.update(np.round(structure.frac_coords, 8).tobytes())
    digest.update(" ".join(site.species_string for site in structure).encode())
    return digest.digest()


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
    return _primitive(Structure.from_sites(structure).get_reduced_structure())


def _primitive(niggli: Structure) -> Structure:
    species = [site.species_string for site in niggli]
    ordered = all(site.is_ordered for site in niggli)
    if ordered and math.gcd(*(species.count(name) for name in set(species))) == 1:
        return niggli  # get_primitive_structure has no supercell to try and returns a copy
    return Structure.from_sites(niggli.get_primitive_structure())


@dataclass
class Unit:
    """Structures sharing one reduced cell: exact scale copies, or a single structure."""

    members: list[int]
    source: Structure  # the smallest member: the others are it scaled by s >= 1
    sites: int  # of the reduced cell
    _reduced: Structure | None = None
    _cell: Cell | None = None

    @property
    def reduced(self) -> Structure:
        if self._reduced is None:
            self._reduced = reduce_like_matcher(self.source)
        return self._reduced

    @property
    def cell(self) -> Cell:
        if self._cell is None:
            self._cell = Cell.of(self.reduced)
        return self._cell


def reduced_units(structures: Sequence[Structure]) -> list[Unit]:
    """Exact scale copies share a unit where their reduction is provably the same."""
    shapes: dict[bytes, list[int]] = defaultdict(list)
    for index, structure in enumerate(structures):
        shapes[shape_key(structure)].append(index)
    units = []
    for members in shapes.values():
        smallest = structures[min(members, key=lambda i: (structures[i].volume, i))]
        folds = primitive_translations(smallest)
        if folds is not None:
            units.append(Unit(members, smallest, len(smallest) // folds))
            continue
        for group in [members] if len(members) == 1 else [[i] for i in members]:
            reduced = reduce_like_matcher(structures[group[0]])
            units.append(Unit(group, structures[group[0]], len(reduced), reduced))
    return units


def _cosines(angles_deg: np.ndarray) -> np.ndarray:
    """Cosine matrices of bases from their (alpha, beta, gamma), any leading shape."""
    ca, cb, cg = np.moveaxis(np.cos(np.radians(angles_deg)), -1, 0)
    one = np.ones_like(ca)
    rows = [[one, cg, cb], [cg, one, ca], [cb, ca, one]]
    return np.moveaxis(np.array(rows), (0, 1), (-2, -1))


def lattice_interval(reduced: Structure, settings: DedupSettings) -> tuple[np.ndarray, float]:
    """(log of sorted reduced lengths over (V/N)^(1/3), half-width any match lies within)."""
    lattice = reduced.lattice
    lengths = np.sort(lattice.abc) / (lattice.volume / len(reduced)) ** (1 / 3)
    angles = np.array(lattice.angles)
    corners = np.clip(
        angles + settings.angle_tol * np.array(list(itertools.product((-1, 1), repeat=3))), 0, 180
    )
    lowest = np.linalg.det(_cosines(corners)).min()
    if lowest <= 0:
        return np.log(lengths), math.inf
    return np.log(lengths), math.log1p(settings.ltol) - 0.5 * math.log(lowest) + 3 * SLACK


def lattice_bins(intervals: Sequence[tuple[np.ndarray, float]]) -> list[list[int]]:
    """Connected components of overlapping intervals in all three dimensions (a coarsening)."""
    centres = np.array([c for c, _ in intervals]).reshape(len(intervals), 3)
    widths = np.array([w for _, w in intervals])
    bins, stable = [list(range(len(intervals)))], False
    while not stable:
        stable = True
        for axis in range(3):
            refined = []
            for members in bins:
                order = sorted(members, key=lambda i: centres[i, axis] - widths[i])
                parts, reach = [], -math.inf
                for i in order:
                    if not parts or centres[i, axis] - widths[i] > reach:
                        parts.append([])
                        reach = -math.inf
                    parts[-1].append(i)
                    reach = max(reach, centres[i, axis] + widths[i])
                stable &= len(parts) == 1
                refined.extend(sorted(part) for part in parts)
            bins = refined
    return bins


@dataclass
class Cell:
    """A reduced structure as arrays, for ``may_fit``."""

    matrix: np.ndarray
    frac: np.ndarray
    species: np.ndarray  # species string of each site
    ordered: bool

    @classmethod
    def of(cls, structure: Structure) -> Cell:
        species = np.array([site.species_string for site in structure])
        ordered = all(site.is_ordered for site in structure)
        return cls(structure.lattice.matrix, structure.frac_coords, species, ordered)


def _gram_angles(basis: np.ndarray) -> np.ndarray:
    """(alpha, beta, gamma) in degrees of bases (..., 3, 3) given as rows."""
    unit = basis / np.linalg.norm(basis, axis=-1, keepdims=True)
    pairs = ((1, 2), (0, 2), (0, 1))
    cos = np.stack([np.sum(unit[..., p, :] * unit[..., q, :], axis=-1) for p, q in pairs], -1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _lattice_mappings(la: np.ndarray, lb: np.ndarray, settings: DedupSettings) -> np.ndarray:
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
    cart = np.einsum("ktij,kjl->ktil", diff[:, :, None, :] + IMAGES, lattices)
    return np.minimum(np.linalg.norm(cart, axis=-1).min(axis=(1, 2)), 1.5 * spacing)


def may_fit(a: Cell, b: Cell, settings: DedupSettings) -> bool:
    """False only where ``matcher.fit(a, b, skip_structure_reduction=True)`` is False.

    A match puts every site of ``b``, moved by one translation, within stol (V/N)^(1/3) of
    its own same-species site of ``a``, distances taken in the average lattice of one of
    the lattice mappings; so every site of ``b`` lies within twice that of a same-species
    site of ``a`` after the translation that puts b's anchor exactly on an ``a`` site.
    """
    if len(a.frac) != len(b.frac) or not (a.ordered and b.ordered):
        return True
    ratio = (abs(np.linalg.det(b.matrix)) / abs(np.linalg.det(a.matrix))) ** (1 / 6)
    la, lb = a.matrix * ratio, b.matrix / ratio
    bases = _lattice_mappings(la, lb, settings)
    if not len(bases):
        return False
    names, counts = np.unique(b.species, return_counts=True)
    anchor = int(np.flatnonzero(b.species == names[np.argmin(counts)])[0])
    frac_a = np.einsum("nj,mjk->mnk", a.frac @ la, np.linalg.inv(bases))
    average = _average_lattices(bases, lb)
    reach = 2 * settings.stol * (np.abs(np.linalg.det(average)) / len(a.frac)) ** (1 / 3)
    reach = reach * (1 + 1e-6) + 1e-9
    spacing = 1 / np.linalg.norm(np.linalg.inv(average), axis=1).max(axis=1)
    starts = np.flatnonzero(a.species == b.species[anchor])
    mapping = np.repeat(np.arange(len(bases)), len(starts))
    shift = frac_a[:, starts].reshape(-1, 3) - b.frac[anchor]
    rarity = dict(zip(names, counts, strict=True))
    for i in sorted(range(len(b.frac)), key=lambda i: (rarity[b.species[i]], i)):
        if i == anchor:
            continue
        targets = np.flatnonzero(a.species == b.species[i])
        diff = b.frac[i] + shift[:, None, :] - frac_a[mapping][:, targets]
        alive = _nearest(diff, average[mapping], spacing[mapping]) <= reach[mapping]
        if not alive.any():
            return False
        mapping, shift = mapping[alive], shift[alive]
    return True


def _block_key(unit: Unit) -> tuple:
    return (unit.source.composition.fractional_composition, unit.sites)


def _greedy(
    bin_members: list[int], unit_of: dict[int, int], units: list[Unit], fit
) -> list[list[int]]:
    """group_structures' greedy over one bin, in input order, with fit answers per unit pair."""
    groups = []
    unmatched = sorted(bin_members)
    while unmatched:
        ref = unmatched.pop(0)
        members, rest = [ref], []
        for other in unmatched:
            same = unit_of[ref] == unit_of[other]
            (members if same or fit(unit_of[ref], unit_of[other]) else rest).append(other)
        groups.append(members)
        unmatched = rest
    return groups


def group_like_structure_matcher(
    structures: Sequence[Structure],
    settings: DedupSettings | None = None,
    workers: int | None = None,
) -> list[list[int]]:
    """Indices of ``structures`` grouped as ``StructureMatcher.group_structures`` would.

    Each group starts with its reference (its first member in input order); ``workers`` is
    accepted for compatibility and ignored: the work left is a few fits per bin.
    """
    settings = settings or DedupSettings()
    matcher = settings.matcher()
    units = reduced_units(structures)
    unit_of = {i: u for u, unit in enumerate(units) for i in unit.members}
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for u, unit in enumerate(units):
        blocks[_block_key(unit)].append(u)
    answers: dict[tuple[int, int], bool] = {}

    def fit(ref: int, other: int) -> bool:
        if (ref, other) not in answers:
            a, b = units[ref], units[other]
            answers[ref, other] = may_fit(a.cell, b.cell, settings) and bool(
                matcher.fit(a.reduced, b.reduced, skip_structure_reduction=True)
            )
        return answers[ref, other]

    groups = []
    for block in blocks.values():
        if len(block) == 1:
            groups.append(sorted(units[block[0]].members))
            continue
        intervals = [lattice_interval(units[u].reduced, settings) for u in block]
        for part in lattice_bins(intervals):
            members = [i for position in part for i in units[block[position]].members]
            groups.extend(_greedy(members, unit_of, units, fit))
    return sorted(groups, key=lambda group: group[0])


@dataclass
class DedupOutcome:
    kept: list[int]
    duplicate_of: dict[int, int]


def deduplicate(
    structures: Sequence[Structure],
    energies: Sequence[float],
    settings: DedupSettings | None = None,
    workers: int | None = None,
) -> DedupOutcome:
    """Keep the lowest-energy member of each near-duplicate group (indices into the input)."""
    order = sorted(range(len(structures)), key=lambda i: (energies[i], i))
    groups = group_like_structure_matcher([structures[i] for i in order], settings, workers)
    kept, duplicate_of = [], {}
    for group in groups:
        members = [order[i] for i in group]
        kept.append(members[0])
        for other in members[1:]:
            duplicate_of[other] = members[0]
    kept.sort(key=lambda i: (energies[i], i))
    return DedupOutcome(kept, duplicate_of)
