"""Validity filters for generated structures (the directive pattern's gate before DFT)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from pydantic import Field
from pymatgen.core import Composition, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from discoverflow.core.crystal.dedup import DedupSettings, group_like_structure_matcher
from discoverflow.settings import PositiveInt, StageSettings

FILTERS = (
    "too_many_elements",
    "not_charge_neutral",
    "space_group_p1",
    "atoms_too_close",
    "duplicate",
)


class ValiditySettings(StageSettings):
    """The directive pattern's filters of generated structures."""

    max_elements: PositiveInt = Field(10, description="Most distinct elements in a structure")
    charge_neutral: bool = Field(True, description="SMACT finds a charge-neutral assignment")
    reject_p1: bool = Field(True, description="Reject structures in space group P1")
    symprec: float = Field(0.1, gt=0, description="spglib symmetry tolerance (A)")
    min_distance: float = Field(0.5, ge=0, description="Closest allowed atoms (A)")
    deduplicate: bool = Field(True, description="Remove near-duplicates")
    matcher: DedupSettings = Field(
        default_factory=DedupSettings, description="What counts as a near-duplicate"
    )


def is_charge_neutral(composition: Composition) -> bool:
    """SMACT: some combination of common oxidation states balances (alloys pass)."""
    from smact.screening import smact_validity

    return bool(smact_validity(composition.reduced_formula))


def space_group_number(structure: Structure, symprec: float = 0.1) -> int:
    """The structure's space group number.

    Parameters
    ----------
    structure
        The structure.
    symprec
        spglib's symmetry tolerance (A).

    Returns
    -------
    int
        The international number."""
    return SpacegroupAnalyzer(structure, symprec=symprec).get_space_group_number()


def minimum_distance(structure: Structure) -> float:
    """The shortest distance between two sites (the shortest lattice vector for one
    site).

    Parameters
    ----------
    structure
        The structure checked for atoms on top of each other.

    Returns
    -------
    float
        The shortest distance (A)."""
    if len(structure) == 1:
        return float(min(structure.lattice.abc))
    distances = structure.distance_matrix
    return float(distances[~np.eye(len(structure), dtype=bool)].min())


def first_problem(structure: Structure, criteria: ValiditySettings) -> str | None:
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
    """What the validity filter kept and removed.

    Parameters
    ----------
    kept
        Keys of the structures kept.
    removed
        Key of each removed structure -> the filter that removed it.
    counts
        Filter -> structures it removed."""

    kept: list[str]
    removed: dict[str, str]
    counts: dict[str, int]


def near_duplicates(structures: Mapping[str, Structure], matcher: DedupSettings) -> dict[str, str]:
    """Key of each structure that matches an earlier one -> key of the first it matches
    (StructureMatcher groups; the first of a group is kept)."""
    keys = list(structures)
    if len(keys) < 2:
        return {}
    groups = group_like_structure_matcher([structures[k] for k in keys], matcher)
    return {keys[i]: keys[group[0]] for group in groups for i in group[1:]}


def filter_counts(removed: Mapping[str, str]) -> dict[str, int]:
    """Filter name -> how many structures it removed."""
    return {name: sum(reason == name for reason in removed.values()) for name in FILTERS}


def filter_structures(
    structures: Mapping[str, Structure], criteria: ValiditySettings | None = None
) -> FilterOutcome:
    """Apply the filters in order; each removed structure is charged to the first that fails.

    Parameters
    ----------
    structures
        Key -> structure.
    criteria
        The validity filters; None takes the defaults.

    Returns
    -------
    FilterOutcome
        The keys kept, each removed key's filter and the count per filter.
    """
    criteria = criteria or ValiditySettings()
    removed = {}
    survivors = {}
    for key, structure in structures.items():
        problem = first_problem(structure, criteria)
        if problem:
            removed[key] = problem
        else:
            survivors[key] = structure
    if criteria.deduplicate:
        duplicates = near_duplicates(survivors, criteria.matcher)
        removed.update(dict.fromkeys(duplicates, "duplicate"))
    kept = [key for key in survivors if key not in removed]
    return FilterOutcome(kept, removed, filter_counts(removed))
