"""Validity filters for generated structures (the directive pattern's gate before DFT)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Composition, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from discoverflow.core.dedup import MatcherSettings, group_like_structure_matcher

FILTERS = (
    "too_many_elements",
    "not_charge_neutral",
    "space_group_p1",
    "atoms_too_close",
    "duplicate",
)


@dataclass(frozen=True)
class ValidityCriteria:
    max_elements: int = 10
    charge_neutral: bool = True
    reject_p1: bool = True
    symprec: float = 0.1
    min_distance: float = 0.5
    deduplicate: bool = True
    matcher: MatcherSettings = field(default_factory=MatcherSettings)


def is_charge_neutral(composition: Composition) -> bool:
    """SMACT: some combination of common oxidation states balances (alloys pass)."""
    from smact.screening import smact_validity

    return bool(smact_validity(composition.reduced_formula))


def space_group_number(structure: Structure, symprec: float = 0.1) -> int:
    return SpacegroupAnalyzer(structure, symprec=symprec).get_space_group_number()


def minimum_distance(structure: Structure) -> float:
    if len(structure) == 1:
        return float(min(structure.lattice.abc))
    distances = structure.distance_matrix
    return float(distances[~np.eye(len(structure), dtype=bool)].min())


def first_problem(structure: Structure, criteria: ValidityCriteria) -> str | None:
    """The first per-structure filter that rejects the structure, or None."""
    if len(structure.composition.elements) > criteria.max_elements:
        return "too_many_elements"
    if criteria.charge_neutral and not is_charge_neutral(structure.composition):
        return "not_charge_neutral"
    if criteria.reject_p1 and space_group_number(structure, criteria.symprec) == 1:
        return "space_group_p1"
    if minimum_distance(structure) < criteria.min_distance:
        return "atoms_too_close"
    return None


@dataclass
class FilterOutcome:
    kept: list[str]
    removed: dict[str, str]
    counts: dict[str, int]


def filter_structures(
    structures: Mapping[str, Structure], criteria: ValidityCriteria = ValidityCriteria()
) -> FilterOutcome:
    """Apply the filters in order; each removed structure is charged to the first that fails."""
    removed = {}
    survivors = []
    for key, structure in structures.items():
        problem = first_problem(structure, criteria)
        if problem:
            removed[key] = problem
        else:
            survivors.append(key)
    if criteria.deduplicate and len(survivors) > 1:
        groups = group_like_structure_matcher([structures[k] for k in survivors], criteria.matcher)
        duplicates = {survivors[i] for group in groups for i in group[1:]}
        removed.update({key: "duplicate" for key in duplicates})
        survivors = [key for key in survivors if key not in duplicates]
    counts = {name: sum(reason == name for reason in removed.values()) for name in FILTERS}
    return FilterOutcome(survivors, removed, counts)
