"""Near-duplicate removal with exactly the groups of pymatgen's StructureMatcher, fast.

``group_like_structure_matcher`` returns the groups of ``StructureMatcher.group_structures``
(``DedupSettings.matcher()``: scale and primitive_cell on, no supercells, species comparator).
That method reduces every structure (Niggli, then ``get_primitive_structure``), splits them
by composition and, in input order, lets the first unmatched structure take every later one
that ``fit`` accepts. We run the same greedy with the same public ``fit`` on the same reductions
(public ``Structure`` methods) and skip only calls whose answer is known. Each shortcut is
exact; the bounds live in ``matcher_bounds``:

1. **Shapes.** Structures identical up to an isotropic scale (site order, lattice and
   fractional coordinates to 1e-8) fit each other and fit any third structure alike, since
   every tolerance of ``fit`` is relative once ``scale`` brings both to one volume. They
   share one reduction when ``primitive_translations`` certifies the smallest: the primitive
   search compares with an absolute tol = 0.25 A, and a copy scaled by s >= 1 is the small one
   searched with tol/s. If distinct same-species sites lie >= 6 tol apart, every translation
   taking the first site of the rarest species to a same-species site is exact (<= 1e-6 A)
   or leaves some site >= 6 tol from its species, and the points of L/N (N: gcd of species
   counts, L the lattice; every trial cell of the search lies on them) that are not exact
   translations lie >= 3 tol from them, then at every tolerance up to tol the search accepts
   exactly the sublattices of the exact translations (a trial cell's vectors within tol per
   axis of a translation are that translation), so it returns one cell at every scale: the
   input when no translation is exact. The certificate also gives the reduced site count,
   so a shape alone in its block is never reduced at all.
2. **Blocks.** ``fit`` needs one composition and, without supercells, equal site counts.
3. **Lattice bins.** With both cells scaled to one volume, ``fit(A, B)`` needs a basis
   l' of A with ``|l'_i| / |b_i|`` in (1/(1+ltol), 1+ltol) and angles within angle_tol of B's
   reduced angles. Let mu_k be the sorted reduced lengths over (V/N)^(1/3), the successive
   minima of a Niggli cell (1e-3 slack). Order statistics give mu_k(A) < (1+ltol) mu_k(B);
   volume gives prod(l'_k/mu_k(A)) = sqrt(D_A/D'), D the determinant of a basis's cosine
   matrix, D_A <= 1 and each factor >= 1, so mu_k(B) < (1+ltol) mu_k(A) / sqrt(D_lo(B)),
   D_lo(B) the minimum of D over B's angle box +- angle_tol (D is concave in each cosine: a
   corner). Each structure gets log mu_k +- (log(1+ltol) + log(1/D_lo)/2 + slack); a matching
   pair overlaps in all three, and bins are connected components of overlaps, refined per
   dimension until stable: never two bins for a pair that fits.
4. **Pair test.** Before ``fit``, ``may_fit`` checks a necessary condition of its site stage.
   A match gives a lattice mapping (we enumerate a superset of ``find_all_mappings`` with
   tolerances widened by 1e-6) and one translation after which every site of B lies within
   d = stol (V_avg/N)^(1/3) of its own same-species site of A in the average lattice; the
   translation that puts B's first site of its rarest species exactly on that partner is
   within d of it, so every site of B lies within 2 d of a same-species site of A (lower
   bounds of periodic distances). A block where it rarely refutes stops asking it.

5. **Sharing across relabelings.** The certificate of 1. compares species only for equality,
   so one geometry with one partition of its sites into species is certified once. Where
   each reduced cell is its source's Niggli cell (species-blind, site order kept), fit(A, B)
   = fit(sA, sB) for s permuting species of equal amount, so one fit answers the orbit.

Round-off: Niggli reduction compares with 1e-5 V^(1/3), so a scaled copy is taken to reduce
with the same integer change of basis (computed once per lattice shape); a near-tie inside
that band at one scale and outside it at another is the one case not covered.
No other invariant is binned on: space groups change under perturbations that still match,
and pair distances can move by 2 stol (V/N)^(1/3), more than they separate permutations.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from pymatgen.core import Composition, Lattice, Structure

from discoverflow.core.crystal.matcher_bounds import (
    Cell,
    lattice_interval,
    may_fit,
    primitive_translations,
    reduce_like_matcher,
)
from discoverflow.settings import PositiveInt, StageSettings

if TYPE_CHECKING:
    from pymatgen.analysis.structure_matcher import StructureMatcher

PARALLEL_MIN = 5000  # forking pays off only for large sets on a busy machine
PREFILTER_TRIAL, PREFILTER_RATE = 4, 0.25  # may_fit is skipped where it refutes < 1 in 4
_INPUT: Sequence[Structure] = ()  # the structures being grouped, seen by forked workers
_NIGGLI: dict[bytes, np.ndarray] = {}  # Niggli changes of basis by lattice shape
_CERTIFIED: dict[bytes, int | None] = {}  # primitive_translations by geometry and partition


class DedupSettings(StageSettings):
    """StructureMatcher tolerances that make two candidates the same structure."""

    ltol: float = Field(0.2, gt=0, description="Fractional length tolerance")
    stol: float = Field(0.3, gt=0, description="Site tolerance (fraction of (V/n)^(1/3))")
    angle_tol: float = Field(5.0, gt=0, description="Angle tolerance (degrees)")
    workers: PositiveInt | None = Field(
        None,
        description="Processes that group the structures (default: all cores from "
        f"{PARALLEL_MIN} structures on, else one); the groups do not depend on it",
    )

    def matcher(self) -> StructureMatcher:
        from pymatgen.analysis.structure_matcher import StructureMatcher  # scipy: when matching

        return StructureMatcher(ltol=self.ltol, stol=self.stol, angle_tol=self.angle_tol)


def shape_key(structure: Structure, species: bool = True) -> bytes:
    """Equal for structures identical up to an isotropic scale, site order included (and,
    with ``species=False``, up to which species sits on which site)."""
    scale = (structure.volume / len(structure)) ** (1 / 3)
    digest = hashlib.sha1(np.round(structure.lattice.matrix / scale, 8).tobytes())
    digest.update(np.round(structure.frac_coords, 8).tobytes())
    if species:
        digest.update(" ".join(site.species_string for site in structure).encode())
    return digest.digest()


def relabelings(composition: Composition) -> list[dict[str, str]]:
    """Permutations of the species that have equal amounts: each maps a block onto itself."""
    classes: dict[float, list[str]] = defaultdict(list)
    for species, amount in composition.items():
        classes[round(amount, 8)].append(str(species))
    options = [
        [dict(zip(names, perm, strict=True)) for perm in itertools.permutations(names)]
        for names in classes.values()
    ]
    return [
        {k: v for part in combo for k, v in part.items()} for combo in itertools.product(*options)
    ]


def niggli(lattice: Lattice, seen: dict[bytes, np.ndarray] | None = None) -> Lattice:
    """``get_niggli_reduced_lattice``, once per shape: its tolerance is relative, so a lattice
    scaled by s reduces with the same integer change of basis."""
    seen = _NIGGLI if seen is None else seen
    key = np.round(lattice.matrix / abs(lattice.volume) ** (1 / 3), 10).tobytes()
    if key not in seen:
        reduced = lattice.get_niggli_reduced_lattice()
        seen[key] = np.round(reduced.matrix @ np.linalg.inv(lattice.matrix))
    return Lattice(seen[key] @ lattice.matrix)


@dataclass
class Unit:
    """Structures sharing one reduced cell: exact scale copies, or a single structure."""

    members: list[int]
    source: Structure  # the smallest member: the others are it scaled by s >= 1
    sites: int  # of the reduced cell
    _reduced: Structure | None = None
    _cell: Cell | None = None
    _lattice: Lattice | None = None

    @property
    def reduced(self) -> Structure:
        if self._reduced is None:
            self._reduced = reduce_like_matcher(self.source)
        return self._reduced

    @property
    def lattice(self) -> Lattice:
        """The reduced cell's lattice; without a primitive fold, the source's Niggli lattice."""
        if self._lattice is None:
            folded = self._reduced is not None or self.sites != len(self.source)
            self._lattice = self.reduced.lattice if folded else niggli(self.source.lattice)
        return self._lattice

    @property
    def cell(self) -> Cell:
        if self._cell is None:
            if self._reduced is None and self.sites == len(self.source):
                self._cell = Cell.of(self.source, self.lattice)
            else:
                self._cell = Cell.of(self.reduced)
        return self._cell


def _shape_keys(indices: range) -> list[bytes]:
    return [shape_key(_INPUT[i]) for i in indices]


def _certified_folds(structure: Structure) -> int | None:
    """``primitive_translations``, once per geometry and partition of the sites into species:
    the certificate compares species only for equality."""
    labels = [site.species_string for site in structure]
    first = {name: i for i, name in reversed(list(enumerate(labels)))}
    pattern = np.array([first[name] for name in labels])
    key = hashlib.sha1(
        structure.lattice.matrix.tobytes() + structure.frac_coords.tobytes() + pattern.tobytes()
    ).digest()
    if key not in _CERTIFIED:
        _CERTIFIED[key] = primitive_translations(structure)
    return _CERTIFIED[key]


def _units_of(shapes: list[list[int]]) -> list[tuple]:
    """(members, source, reduced site count, reduced cell or None) of shapes of the input."""
    units = []
    for members in shapes:
        smallest = min(members, key=lambda i: (_INPUT[i].volume, i))
        folds = _certified_folds(_INPUT[smallest])
        if folds is not None:
            units.append((members, smallest, len(_INPUT[smallest]) // folds, None))
            continue
        for group in [members] if len(members) == 1 else [[i] for i in members]:
            reduced = reduce_like_matcher(_INPUT[group[0]])
            units.append((group, group[0], len(reduced), reduced))
    return units


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


def _greedy(bin_members: list[int], unit_of: dict[int, int], fit) -> list[list[int]]:
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


def _group_block(task: tuple[list[tuple], DedupSettings]) -> list[list[int]]:
    """Groups of one block (one composition and reduced site count): bins, then the greedy."""
    described, settings = task
    units = [Unit(m, _INPUT[source], sites, reduced) for m, source, sites, reduced in described]
    unit_of = {i: u for u, unit in enumerate(units) for i in unit.members}
    matcher = settings.matcher()
    answers: dict[tuple, bool] = {}
    mappings: dict = {}
    tests = [0, 0]  # may_fit calls, refutations: stop asking once it rarely refutes
    swaps = relabelings(units[0].source.composition)
    plain = [u.sites == len(u.source) and u._reduced is None for u in units]  # reduced: Niggli
    frames: dict[int, tuple] = {}

    def frame(u: int) -> tuple:
        if u not in frames:
            source = units[u].source
            frames[u] = (shape_key(source, species=False), [s.species_string for s in source])
        return frames[u]

    def orbit(ref: int, other: int) -> tuple:
        """fit(A, B) = fit(sA, sB) for s swapping equal-amount species, where each reduced cell
        is its source's Niggli cell (species-blind, site order kept)."""
        if len(swaps) == 1 or not (plain[ref] and plain[other]):
            return ref, other
        (ka, la), (kb, lb) = frame(ref), frame(other)
        labels = min((tuple(s[x] for x in la), tuple(s[x] for x in lb)) for s in swaps)
        return ka, kb, labels

    def fit(ref: int, other: int) -> bool:
        key = orbit(ref, other)
        if key not in answers:
            a, b = units[ref], units[other]
            refuted = False
            if tests[0] < PREFILTER_TRIAL or tests[1] >= PREFILTER_RATE * tests[0]:
                refuted = not may_fit(a.cell, b.cell, settings, mappings)
                tests[0] += 1
                tests[1] += refuted
            answers[key] = not refuted and bool(
                matcher.fit(a.reduced, b.reduced, skip_structure_reduction=True)
            )
        return answers[key]

    groups = []
    for part in lattice_bins([lattice_interval(u.lattice, u.sites, settings) for u in units]):
        members = [i for u in part for i in units[u].members]
        groups.extend(_greedy(members, unit_of, fit))
    return groups


@contextmanager
def _mapper(workers: int) -> Iterator:
    """``map`` over forked workers that see ``_INPUT``, or in this process."""
    if workers <= 1:
        yield lambda function, tasks: list(map(function, tasks))
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        yield lambda function, tasks: list(pool.map(function, tasks))


def group_like_structure_matcher(
    structures: Sequence[Structure],
    settings: DedupSettings | None = None,
    workers: int | None = None,
) -> list[list[int]]:
    """Indices of ``structures`` grouped as ``StructureMatcher.group_structures`` would.

    Each group starts with its reference (its first member in input order). Shapes,
    reductions and blocks run in ``workers`` (or settings') processes; None: all cores from 5000 on.
    """
    global _INPUT
    settings = settings or DedupSettings()
    workers = workers or settings.workers
    if workers is None:
        workers = (os.cpu_count() or 1) if len(structures) >= PARALLEL_MIN else 1
    _INPUT = structures
    try:
        with _mapper(workers) as run:
            pieces = [range(i, len(structures), workers * 4) for i in range(workers * 4)]
            keys = dict(zip(pieces, run(_shape_keys, pieces), strict=True))
            shapes: dict[bytes, list[int]] = defaultdict(list)
            for index in range(len(structures)):
                piece = pieces[index % len(pieces)]
                shapes[keys[piece][index // len(pieces)]].append(index)
            ordered = list(shapes.values())
            split = [ordered[i :: workers * 4] for i in range(workers * 4)]
            described = [unit for part in run(_units_of, split) for unit in part]
            blocks: dict[tuple, list[tuple]] = defaultdict(list)
            for unit in described:
                composition = structures[unit[1]].composition.fractional_composition
                blocks[composition, unit[2]].append(unit)
            groups = [sorted(b[0][0]) for b in blocks.values() if len(b) == 1]
            tasks = sorted((b for b in blocks.values() if len(b) > 1), key=len, reverse=True)
            for part in run(_group_block, [(block, settings) for block in tasks]):
                groups.extend(part)
    finally:
        _INPUT = ()
        _NIGGLI.clear()
        _CERTIFIED.clear()
    return sorted(groups, key=lambda group: group[0])


@dataclass
class DedupOutcome:
    """Near-duplicate removal's answer, by position in the input.

    Parameters
    ----------
    kept
        Positions of the structures kept.
    duplicate_of
        Position of each removed structure -> position of the kept one it matches."""

    kept: list[int]
    duplicate_of: dict[int, int]


def deduplicate(
    structures: Sequence[Structure],
    energies: Sequence[float],
    settings: DedupSettings | None = None,
) -> DedupOutcome:
    """Keep the lowest-energy member of each near-duplicate group (indices into the input).

    Parameters
    ----------
    structures
        The structures.
    energies
        Energy of each (any per-atom energy; the lowest of a group is kept).
    settings
        StructureMatcher's tolerances and the worker processes; None takes the defaults.

    Returns
    -------
    DedupOutcome
        Positions kept, and each removed one's kept match.
    """
    order = sorted(range(len(structures)), key=lambda i: (energies[i], i))
    groups = group_like_structure_matcher([structures[i] for i in order], settings)
    kept, duplicate_of = [], {}
    for group in groups:
        members = [order[i] for i in group]
        kept.append(members[0])
        for other in members[1:]:
            duplicate_of[other] = members[0]
    kept.sort(key=lambda i: (energies[i], i))
    return DedupOutcome(kept, duplicate_of)
