"""Symmetry-aware partial substitutions (GNoME's SAPS): one Wyckoff orbit of a substituted
template at a time, wholly or in part, replaced by another target element; the distinct
orderings of a part are enumerated by pymatgen's ``OrderDisorderedStructureTransformation``
and told apart by ``StructureMatcher``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice, product
from typing import Annotated

from pydantic import Field
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from pymatgen.transformations.standard_transformations import (
    OrderDisorderedStructureTransformation,
)

from discoverflow.core.crystal.substitution import (
    SkippedTemplate,
    SubstitutionSettings,
    species_assignments,
    substituted_structure,
    usable_templates,
)
from discoverflow.core.crystal.validity import is_charge_neutral
from discoverflow.core.structures import candidate_id
from discoverflow.settings import PositiveInt


class PartialSubstitutionSettings(SubstitutionSettings):
    """Substitution's settings, then one orbit at a time replaced in part or in whole."""

    lattice_scales: list[Annotated[float, Field(gt=0.5, lt=2.0)]] = Field(
        [1.0],
        min_length=1,
        description="Isotropic lattice-parameter scales applied to each substituted cell",
    )
    fractions: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        [1.0, 0.5],
        min_length=1,
        description="Share of one Wyckoff orbit's sites replaced (1: the whole orbit); a "
        "share that rounds to no site or to the whole orbit is skipped",
    )
    max_sites: PositiveInt = Field(24, description="Templates with more sites are skipped")
    max_candidates_per_template: PositiveInt = Field(
        50, description="Most candidates from one template (in enumeration order)"
    )
    max_orderings: PositiveInt = Field(
        200, description="Most orderings of one partial replacement enumerated before matching"
    )
    charge_neutral_only: bool = Field(
        True,
        description="Keep only compositions SMACT finds charge-balanced (intermetallics count)",
    )
    symprec: float = Field(0.01, gt=0, description="spglib tolerance of the Wyckoff orbits (A)")


@dataclass(frozen=True)
class PartialCandidate:
    """A candidate and where it came from: the template, its element assignment, the orbit
    (Wyckoff letter and its sites), the element put there and the share of the orbit."""

    candidate_id: str
    structure: Structure
    template: str
    species_map: dict[str, str]
    scale: float
    orbit: str
    orbit_sites: tuple[int, ...]
    element: str
    fraction: float
    n_replaced: int


@dataclass
class PartialSubstitutionResult:
    """What partial substitution made of the templates: its candidates, the templates it
    skipped and the substitutions it tried (all, and distinct), as ``SubstitutionResult``
    holds them for whole-template substitution."""

    candidates: list[PartialCandidate] = field(default_factory=list)
    skipped: list[SkippedTemplate] = field(default_factory=list)
    assignments_total: int = 0
    assignments_distinct: int = 0


def wyckoff_orbits(structure: Structure, symprec: float = 0.01) -> list[tuple[str, list[int]]]:
    """The structure's symmetry-distinct site sets: Wyckoff symbol and site indices."""
    symmetrized = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetrized_structure()
    return [
        (symbol, list(indices))
        for symbol, indices in zip(
            symmetrized.wyckoff_symbols, symmetrized.equivalent_indices, strict=True
        )
    ]


def distinct_orderings(
    structure: Structure, sites: Sequence[int], element: str, count: int, limit: int
) -> list[Structure]:
    """The symmetry-distinct ways of putting ``element`` on ``count`` of ``sites``: at most
    ``limit`` orderings enumerated by pymatgen, then grouped by ``StructureMatcher``."""
    host = str(structure[sites[0]].specie)
    if count == len(sites):
        ordered = structure.copy()
        for index in sites:
            ordered.replace(index, element)
        return [ordered]
    disordered = structure.copy()
    share = count / len(sites)
    for index in sites:
        disordered.replace(index, {host: 1 - share, element: share})
    ranked = OrderDisorderedStructureTransformation(no_oxi_states=True).apply_transformation(
        disordered, return_ranked_list=limit
    )
    orderings = [item["structure"] for item in ranked]
    for ordering in orderings:
        ordering.remove_oxidation_states()
    matcher = StructureMatcher(primitive_cell=False, attempt_supercell=False, scale=False)
    return [group[0] for group in matcher.group_structures(orderings)]


def replaced_composition(structure: Structure, sites: Sequence[int], element: str, count: int):
    """The composition after ``count`` of ``sites`` take ``element``."""
    host = str(structure[sites[0]].specie)
    return structure.composition - {host: count} + {element: count}


def template_candidates(
    name: str,
    template: Structure,
    targets: Sequence[str],
    settings: PartialSubstitutionSettings,
    counts: PartialSubstitutionResult,
) -> Iterator[PartialCandidate]:
    """One template's partial substitutions, in enumeration order (duplicates included)."""
    orbits = wyckoff_orbits(template, settings.symprec)
    maps, total = species_assignments(template, targets, settings.symmetry_reduce)
    counts.assignments_total += total
    counts.assignments_distinct += len(maps)
    for mapping in maps:
        base = template.copy()
        base.replace_species(mapping)
        for (symbol, sites), fraction in product(orbits, settings.fractions):
            count = round(fraction * len(sites))
            host = str(base[sites[0]].specie)
            for element in targets:
                if element == host or count == 0:
                    continue
                composition = replaced_composition(base, sites, element, count)
                if len(composition) < 2:  # an element, not a compound
                    continue
                if settings.charge_neutral_only and not is_charge_neutral(composition):
                    continue
                orderings = distinct_orderings(base, sites, element, count, settings.max_orderings)
                for ordered, scale in product(orderings, settings.lattice_scales):
                    structure = substituted_structure(ordered, {}, scale, settings)
                    yield PartialCandidate(
                        candidate_id(structure),
                        structure,
                        name,
                        dict(mapping),
                        float(scale),
                        symbol,
                        tuple(sites),
                        element,
                        count / len(sites),
                        count,
                    )


def iter_partial_substitutions(
    templates: dict[str, Structure],
    targets: Sequence[str],
    settings: PartialSubstitutionSettings,
    counts: PartialSubstitutionResult,
) -> Iterator[PartialCandidate]:
    """Per usable template of at most ``max_sites`` sites and per distinct assignment of the
    targets: each orbit, each share of it, each other target element, each distinct ordering,
    each scale; at most ``max_candidates_per_template`` distinct ones per template."""
    seen: set[str] = set()
    for name, template in templates.items():
        if len(template) > settings.max_sites:
            reason = f"{len(template)} sites (max_sites {settings.max_sites})"
            counts.skipped.append(SkippedTemplate(name, reason))
            continue
        fresh = (
            c
            for c in template_candidates(name, template, targets, settings, counts)
            if c.candidate_id not in seen and not seen.add(c.candidate_id)
        )
        yield from islice(fresh, settings.max_candidates_per_template)


def partial_substitute(
    templates: dict[str, Structure],
    targets: Sequence[str],
    settings: PartialSubstitutionSettings | None = None,
) -> PartialSubstitutionResult:
    """Every partial substitution of the usable ``templates`` (see
    ``iter_partial_substitutions``); compounds only (a replacement that leaves one element is
    skipped).

    Parameters
    ----------
    templates, targets
        As ``substitute`` takes them.
    settings
        The partial-substitution settings; None takes the defaults.

    Returns
    -------
    PartialSubstitutionResult
        The candidates, each with the orbit and share replaced, and the templates skipped.
    """
    settings = settings or PartialSubstitutionSettings()
    usable, skipped = usable_templates(templates, len(targets), settings)
    result = PartialSubstitutionResult(skipped=skipped)
    result.candidates = list(iter_partial_substitutions(usable, targets, settings, result))
    return result
