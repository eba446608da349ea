"""Near-duplicate removal with the groups of pymatgen's StructureMatcher, without all pairs.

``group_like_structure_matcher`` reproduces ``StructureMatcher.group_structures`` on an
ordered list: within each reduced formula the first unmatched structure becomes a group's
reference and takes every later unmatched structure that fits it. Two exact shortcuts keep
the number of ``fit`` calls small:

- structures can only match when their reduced formulas and the site counts of their
  reduced (primitive, Niggli) cells agree, so matching runs inside those blocks;
- structures identical up to an isotropic scale (the same substitution at several lattice
  scales) share one primitive/Niggli reduction, rescaled to each member's volume, and one
  fingerprint: each pair of fingerprints is fitted once and the answer reused.

Reductions and blocks are independent and run in parallel processes.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from pydantic import Field
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure

from discoverflow.settings import StageSettings

PARALLEL_MIN = 64


class DedupSettings(StageSettings):
    """StructureMatcher tolerances that make two candidates the same structure."""

    ltol: float = Field(0.2, gt=0, description="Fractional length tolerance")
    stol: float = Field(0.3, gt=0, description="Site tolerance (fraction of (V/n)^(1/3))")
    angle_tol: float = Field(5.0, gt=0, description="Angle tolerance (degrees)")

    def matcher(self) -> StructureMatcher:
        return StructureMatcher(ltol=self.ltol, stol=self.stol, angle_tol=self.angle_tol)


def _reduced(args: tuple[DedupSettings, Structure]) -> Structure:
    settings, structure = args
    matcher = settings.matcher()
    processed = matcher._process_species([structure])[0]
    return matcher._get_reduced_structure(processed, matcher._primitive_cell, niggli=True)


def _fingerprint(structure: Structure, decimals: int = 6) -> str:
    """Identical for cells that differ only by an isotropic scale."""
    scale = (structure.volume / len(structure)) ** (1 / 3)
    lattice = np.round(structure.lattice.matrix / scale, decimals) + 0.0
    sites = sorted(
        (site.species_string, *(np.round(np.mod(site.frac_coords, 1), decimals) % 1 + 0.0))
        for site in structure
    )
    return hashlib.sha1(repr((lattice.tolist(), sites)).encode()).hexdigest()


def reduced_structures(
    structures: Sequence[Structure], settings: DedupSettings, pool: Executor | None = None
) -> list[Structure]:
    """StructureMatcher's reduced cells, computed once per shape and rescaled to each volume."""
    shapes = [_fingerprint(s) for s in structures]
    first: dict[str, int] = {}
    for index, shape in enumerate(shapes):
        first.setdefault(shape, index)
    tasks = [(settings, structures[i]) for i in first.values()]
    mapper = pool.map(_reduced, tasks, chunksize=16) if pool else map(_reduced, tasks)
    by_shape = dict(zip(first, mapper, strict=True))
    result = []
    for shape, structure in zip(shapes, structures, strict=True):
        reduced = by_shape[shape].copy()
        reduced.scale_lattice(reduced.volume * structure.volume / structures[first[shape]].volume)
        result.append(reduced)
    return result


def _group_block(args: tuple[DedupSettings, list[int], list[Structure]]) -> list[list[int]]:
    settings, indices, reduced = args
    matcher = settings.matcher()
    prints = [_fingerprint(s) for s in reduced]
    representative: dict[str, int] = {}
    for position, fp in enumerate(prints):
        representative.setdefault(fp, position)
    fits: dict[tuple[str, str], bool] = {}

    def fit(ref: int, other: int) -> bool:
        key = (prints[ref], prints[other])
        if key[0] == key[1]:
            return True
        if key not in fits:
            fits[key] = matcher.fit(
                reduced[ref], reduced[representative[key[1]]], skip_structure_reduction=True
            )
        return fits[key]

    groups = []
    unmatched = list(range(len(indices)))
    while unmatched:
        ref = unmatched.pop(0)
        members = [ref] + [other for other in unmatched if fit(ref, other)]
        taken = set(members)
        unmatched = [other for other in unmatched if other not in taken]
        groups.append([indices[m] for m in members])
    return groups


def group_like_structure_matcher(
    structures: Sequence[Structure],
    settings: DedupSettings | None = None,
    workers: int | None = None,
) -> list[list[int]]:
    """Indices of ``structures`` grouped as ``StructureMatcher.group_structures`` would."""
    settings = settings or DedupSettings()
    matcher = settings.matcher()
    if workers is None:
        workers = (os.cpu_count() or 1) if len(structures) >= PARALLEL_MIN else 1
    with ProcessPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        reduced = reduced_structures(structures, settings, pool)
        groups = _group_reduced(reduced, matcher, settings, pool)
    return groups


def _group_reduced(
    reduced: list[Structure],
    matcher: StructureMatcher,
    settings: DedupSettings,
    pool: Executor | None,
) -> list[list[int]]:
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for index, structure in enumerate(reduced):
        key = (matcher._comparator.get_hash(structure.composition), len(structure))
        blocks[key].append(index)
    # group_structures orders its formula blocks by hash, then keeps input order
    ordered = sorted(blocks.items(), key=lambda item: (str(item[0][0]), item[1][0]))
    tasks = [(settings, idx, [reduced[i] for i in idx]) for _, idx in ordered]
    big = sorted((t for t in tasks if len(t[1]) > 1), key=lambda t: -len(t[1]))
    results: dict[int, list[list[int]]] = {}
    if pool is not None and len(big) > 1:
        for task, groups in zip(big, pool.map(_group_block, big), strict=True):
            results[task[1][0]] = groups
    for task in tasks:
        if task[1][0] not in results:
            results[task[1][0]] = _group_block(task)
    return [group for task in tasks for group in results[task[1][0]]]


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
