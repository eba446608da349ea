"""Substitutions proposed by data-mined probabilities: pymatgen's ``Substitutor`` (Hautier et
al.'s lambda table from the ICSD, shipped with pymatgen) swaps the ions of oxidation-state
decorated templates for the campaign's elements where the substitution's probability is
above a threshold and the result is charge-balanced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Annotated, Literal

from pydantic import Field
from pymatgen.core import Species, Structure
from pymatgen.core.structure_prediction.substitutor import Substitutor

from discoverflow.core.crystal.substitution import (
    SkippedTemplate,
    SubstitutionSettings,
    substituted_structure,
    usable_templates,
)
from discoverflow.core.structures import candidate_id
from discoverflow.settings import PositiveInt


class PredictedSubstitutionSettings(SubstitutionSettings):
    """Which substitutions the lambda table must find likely, and how many to keep."""

    threshold: float = Field(
        1e-3, gt=0, lt=1, description="Least probability of a substitution (pymatgen's scale)"
    )
    max_candidates_per_template: PositiveInt = Field(
        50, description="Most candidates from one template (most probable first)"
    )
    lattice_scales: list[Annotated[float, Field(gt=0.5, lt=2.0)]] = Field(
        [1.0], min_length=1, description="Isotropic lattice-parameter scales"
    )
    volume: Literal["template", "elemental"] = Field(
        "template", description="'template': keep its cell; 'elemental': atomic volumes"
    )
    excluded_template_elements: list[str] = Field(
        default_factory=list, description="Templates containing any of these are skipped"
    )


@dataclass(frozen=True)
class PredictedCandidate:
    """A candidate of the substitution predictor: the fields of a ``SubstitutionCandidate``
    (its template being a template or a known phase), and

    Parameters
    ----------
    probability
        The lambda table's probability of the substitution.
    substitutions
        Template ion -> target ion."""

    candidate_id: str
    structure: Structure
    template: str
    species_map: dict[str, str]
    scale: float
    probability: float
    substitutions: dict[str, str]


@dataclass
class PredictedSubstitutionResult:
    """What the substitution predictor made of the templates: its candidates, the templates
    it skipped and the substitutions it tried (all, and distinct), as ``SubstitutionResult``
    holds them for whole-template substitution."""

    candidates: list[PredictedCandidate] = field(default_factory=list)
    skipped: list[SkippedTemplate] = field(default_factory=list)
    assignments_total: int = 0
    assignments_distinct: int = 0


def target_species(elements: Sequence[str], count: int, allowed: set[Species]) -> list[list]:
    """Every choice of ``count`` of the elements, each in every oxidation state the lambda
    table knows."""
    states = {el: [sp for sp in allowed if sp.symbol == el] for el in elements}
    return [
        list(choice)
        for chosen in combinations(elements, count)
        for choice in product(*(states[el] for el in chosen))
    ]


def decorated(template: Structure) -> Structure | None:
    """The template with its most likely oxidation states; None where no charge-balanced
    assignment exists (an intermetallic)."""
    guesses = template.composition.oxi_state_guesses(max_sites=-1)
    if not guesses:
        return None
    structure = template.copy()
    structure.add_oxidation_state_by_element(guesses[0])
    return structure


def predicted_substitutions(
    templates: dict[str, Structure],
    elements: Sequence[str],
    settings: PredictedSubstitutionSettings | None = None,
) -> PredictedSubstitutionResult:
    """Per template (oxidation states by guess), the substitutions into the ``elements`` that
    pymatgen's ``Substitutor`` finds above ``settings.threshold`` and charge-balanced, most
    probable first, with their probabilities.

    Parameters
    ----------
    templates
        Name -> template or known-phase structure.
    elements
        The target elements.
    settings
        The predictor's settings; None takes the defaults.

    Returns
    -------
    PredictedSubstitutionResult
        The candidates with their probabilities, and the templates skipped with the reason.
    """
    settings = settings or PredictedSubstitutionSettings()
    usable, skipped = usable_templates(templates, len(elements), settings)
    result = PredictedSubstitutionResult(skipped=skipped)
    substitutor = Substitutor(threshold=settings.threshold)
    allowed = set(substitutor.get_allowed_species())
    seen: set[str] = set()
    for name, template in usable.items():
        ionic = decorated(template)
        if ionic is None:
            reason = "no charge-balanced oxidation states (the lambda table is for ions)"
            result.skipped.append(SkippedTemplate(name, reason))
            continue
        if not set(ionic.composition.elements) <= allowed:
            result.skipped.append(SkippedTemplate(name, "species outside the lambda table"))
            continue
        found = []
        for targets in target_species(elements, len(ionic.composition.elements), allowed):
            found += substitutor.pred_from_structures(
                targets, [{"structure": ionic, "id": name}], remove_duplicates=False
            )
        result.assignments_total += len(found)
        found.sort(key=lambda t: -t.other_parameters["proba"])
        kept = 0
        for transformed in found:
            if kept >= settings.max_candidates_per_template:
                break
            pairs = zip(ionic, transformed.final_structure, strict=True)
            substitutions = {str(a.specie): str(b.specie) for a, b in pairs if a.specie != b.specie}
            species_map = {
                Species.from_str(old).symbol: Species.from_str(new).symbol
                for old, new in substitutions.items()
            }
            for scale in settings.lattice_scales:
                structure = substituted_structure(template, species_map, scale, settings)
                cid = candidate_id(structure)
                if cid in seen:
                    continue
                seen.add(cid)
                kept += 1
                result.candidates.append(
                    PredictedCandidate(
                        cid,
                        structure,
                        name,
                        species_map,
                        float(scale),
                        float(transformed.other_parameters["proba"]),
                        substitutions,
                    )
                )
        result.assignments_distinct += kept
    return result
