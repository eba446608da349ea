"""Substitution candidates: template crystals x element assignments x lattice scales."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import permutations
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, field_validator
from pymatgen.core import Composition, Structure

from discoverflow.core.crystal.elements import (
    EXA_AMD_EXCLUDED_ELEMENTS,
    check_element_symbols,
    elemental_volume_per_atom,
)
from discoverflow.core.structures import hashed_id, rounded_sites
from discoverflow.settings import StageSettings


class SubstitutionSettings(StageSettings):
    """exa-AMD's template substitution: which templates, which scales, which volume."""

    lattice_scales: list[Annotated[float, Field(gt=0.5, lt=2.0)]] = Field(
        [0.96, 0.98, 1.00, 1.02, 1.04],
        min_length=1,
        description="Isotropic lattice-parameter scales applied to each substituted cell",
    )
    volume: Literal["template", "elemental"] = Field(
        "elemental",
        description="Start from the template's volume, or rescale it to the sum of the "
        "substituted elements' atomic volumes before applying the scales",
    )
    excluded_template_elements: list[str] = Field(
        sorted(EXA_AMD_EXCLUDED_ELEMENTS),
        description="Templates containing any of these elements are skipped (exa-AMD's list)",
    )
    symmetry_reduce: bool = Field(True, description="Produce equivalent assignments once")
    primitive: bool = Field(True, description="Reduce templates to primitive cells first")

    @field_validator("excluded_template_elements")
    @classmethod
    def real_elements(cls, symbols: list[str]) -> list[str]:
        check_element_symbols(symbols)
        return symbols


@cache
def strict_matcher():
    """A StructureMatcher for a template mapped onto itself (imported here: it loads scipy's
    optimisers, which reading a campaign file does not need)."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    return StructureMatcher(ltol=1e-3, stol=1e-3, angle_tol=0.1, primitive_cell=True, scale=False)


@dataclass(frozen=True)
class SubstitutionCandidate:
    """A candidate made by substituting a template's elements.

    Parameters
    ----------
    candidate_id
        Deterministic id derived from the structure.
    structure
        The candidate's structure.
    template
        The template's name.
    species_map
        Template element -> target element.
    scale
        Lattice-parameter scale."""

    candidate_id: str
    structure: Structure
    template: str
    species_map: dict[str, str]
    scale: float


@dataclass(frozen=True)
class PlannedSubstitution:
    """A substitution candidate before its structure is built."""

    candidate_id: str
    template: str
    species_map: dict[str, str]
    scale: float
    formula: str
    n_sites: int


@dataclass(frozen=True)
class SkippedTemplate:
    """A template a generator left out.

    Parameters
    ----------
    template
        The template's name.
    reason
        Why."""

    template: str
    reason: str


@dataclass
class SubstitutionResult:
    """What substitution made of the templates.

    Parameters
    ----------
    candidates
        The candidates.
    skipped
        Templates left out, with the reason.
    assignments_total
        Element assignments before symmetry reduction.
    assignments_distinct
        Of those, distinct ones."""

    candidates: list[SubstitutionCandidate] = field(default_factory=list)
    skipped: list[SkippedTemplate] = field(default_factory=list)
    assignments_total: int = 0
    assignments_distinct: int = 0


def template_species(template: Structure) -> list[str]:
    """The template's distinct elements in composition order."""
    return [str(element) for element in template.composition.elements]


def template_problem(
    template: Structure, n_targets: int, excluded_elements: Iterable[str] = ()
) -> str | None:
    """Why a template cannot be used, or None.

    Parameters
    ----------
    template
        The template.
    n_targets
        How many target elements there are.
    excluded_elements
        Elements whose templates are skipped.

    Returns
    -------
    str or None
        The reason, or None where the template is usable.
    """
    if not template.is_ordered:
        return "partial occupancy"
    species = template_species(template)
    if any(site.specie.symbol != str(site.specie) for site in template):
        return "template has oxidation-state decorated or dummy species"
    excluded = sorted(set(species) & set(excluded_elements))
    if excluded:
        return f"contains excluded elements {', '.join(excluded)}"
    if len(species) > n_targets:
        return f"template has {len(species)} species but only {n_targets} target elements"
    return None


def relabel(template: Structure, species_map: dict[str, str]) -> Structure:
    """A copy of the template with its elements replaced.

    Parameters
    ----------
    template
        The template.
    species_map
        Template element -> new element.

    Returns
    -------
    Structure
        The relabelled copy."""
    structure = template.copy()
    structure.replace_species(species_map)
    return structure


def invariant_permutations(template: Structure) -> list[dict[str, str]]:
    """Permutations of the template's species that map the template onto itself."""
    species = template_species(template)
    found = []
    for image in permutations(species):
        mapping = dict(zip(species, image, strict=True))
        if all(k == v for k, v in mapping.items()) or strict_matcher().fit(
            template, relabel(template, mapping)
        ):
            found.append(mapping)
    return found


def species_assignments(
    template: Structure, targets: Sequence[str], symmetry_reduce: bool = True
) -> tuple[list[dict[str, str]], int]:
    """Assignments of target elements to the template's species, and how many there were
    before symmetry reduction. Each symmetry-equivalent class is represented once."""
    species = template_species(template)
    all_maps = [
        dict(zip(species, chosen, strict=True)) for chosen in permutations(targets, len(species))
    ]
    if not symmetry_reduce:
        return all_maps, len(all_maps)
    symmetries = invariant_permutations(template)
    seen: set[tuple[str, ...]] = set()
    distinct = []
    for mapping in all_maps:
        key = min(tuple(mapping[pi[s]] for s in species) for pi in symmetries)
        if key not in seen:
            seen.add(key)
            distinct.append(mapping)
    return distinct, len(all_maps)


@cache
def _atomic_volume(symbol: str) -> float:
    return elemental_volume_per_atom(symbol)


def elemental_volume(structure: Structure) -> float:
    """Sum of the atomic volumes of the structure's elements in their reference states."""
    return sum(_atomic_volume(site.specie.symbol) for site in structure)


def usable_templates(
    templates: dict[str, Structure], n_targets: int, settings: SubstitutionSettings
) -> tuple[dict[str, Structure], list[SkippedTemplate]]:
    """The templates substitution can use (primitive cells with ``primitive``), and why the
    others were skipped."""
    excluded = set(settings.excluded_template_elements)
    usable, skipped = {}, []
    for name, template in templates.items():
        problem = template_problem(template, n_targets, excluded)
        if problem:
            skipped.append(SkippedTemplate(name, problem))
        else:
            usable[name] = template.get_primitive_structure() if settings.primitive else template
    return usable, skipped


def substituted_lattice(
    template: Structure, species: Sequence[str], scale: float, settings: SubstitutionSettings
) -> np.ndarray:
    """The lattice matrix of ``template`` with ``species`` on its sites: its volume set as
    ``settings.volume`` says, then its lattice parameters scaled by ``scale``."""
    factor = scale
    if settings.volume == "elemental":
        factor *= (sum(map(_atomic_volume, species)) / template.volume) ** (1 / 3)
    return template.lattice.matrix * factor


def substituted_structure(
    template: Structure, species_map: dict[str, str], scale: float, settings: SubstitutionSettings
) -> Structure:
    """``template`` with its species replaced as ``species_map`` says, its cell set by
    ``substituted_lattice``."""
    species = [species_map.get(symbol, symbol) for symbol in site_symbols(template)]
    return Structure(
        substituted_lattice(template, species, scale, settings),
        species,
        template.frac_coords,
        site_properties=template.site_properties or None,
    )


def site_symbols(template: Structure) -> list[str]:
    """The element on each site of an ordered ``template``."""
    return [site.specie.symbol for site in template]


def plan_substitutions(
    templates: dict[str, Structure],
    targets: Sequence[str],
    settings: SubstitutionSettings,
    counts: SubstitutionResult,
) -> Iterator[PlannedSubstitution]:
    """Each distinct candidate of the (usable) ``templates`` in turn, with its id but without
    building its structure; ``counts`` receives the assignment counts."""
    seen_ids: set[str] = set()
    for name, template in templates.items():
        maps, total = species_assignments(template, targets, settings.symmetry_reduce)
        counts.assignments_total += total
        counts.assignments_distinct += len(maps)
        symbols = site_symbols(template)
        for mapping in maps:
            species = [mapping.get(symbol, symbol) for symbol in symbols]
            sites = rounded_sites(species, template.frac_coords)
            formula = Composition(Counter(species)).reduced_formula
            for scale in settings.lattice_scales:
                lattice = substituted_lattice(template, species, scale, settings)
                cid = hashed_id(formula, lattice, sites)
                if cid not in seen_ids:
                    seen_ids.add(cid)
                    yield PlannedSubstitution(
                        cid, name, dict(mapping), float(scale), formula, len(species)
                    )


def iter_substitutions(
    templates: dict[str, Structure],
    targets: Sequence[str],
    settings: SubstitutionSettings,
    counts: SubstitutionResult,
) -> Iterator[SubstitutionCandidate]:
    """``plan_substitutions`` with each candidate's structure built."""
    for plan in plan_substitutions(templates, targets, settings, counts):
        structure = substituted_structure(
            templates[plan.template], plan.species_map, plan.scale, settings
        )
        yield SubstitutionCandidate(
            plan.candidate_id, structure, plan.template, plan.species_map, plan.scale
        )


def substitute(
    templates: dict[str, Structure],
    targets: Sequence[str],
    settings: SubstitutionSettings | None = None,
) -> SubstitutionResult:
    """Every usable template x every distinct assignment of ``targets`` x every scale.

    ``volume='elemental'`` first rescales each substituted cell to the summed atomic
    volumes of its new elements; ``'template'`` keeps the template's own cell. With
    ``primitive`` each template is first reduced to its primitive cell.

    Parameters
    ----------
    templates
        Name -> template structure.
    targets
        The target elements.
    settings
        The substitution settings; None takes the defaults.

    Returns
    -------
    SubstitutionResult
        The distinct candidates and the templates skipped.
    """
    settings = settings or SubstitutionSettings()
    usable, skipped = usable_templates(templates, len(targets), settings)
    result = SubstitutionResult(skipped=skipped)
    result.candidates = list(iter_substitutions(usable, targets, settings, result))
    return result
