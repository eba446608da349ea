"""Generators that learn where to look: partial substitutions (GNoME's SAPS) and
substitutions proposed by pymatgen's data-mined substitution probabilities."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Response, job
from pymatgen.core import Structure

from discoverflow.core.crystal.partial_substitution import (
    PartialSubstitutionSettings,
    partial_substitute,
)
from discoverflow.core.crystal.predicted_substitution import (
    PredictedSubstitutionSettings,
    predicted_substitutions,
)
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.chunks import candidate_info, chunked_output
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.generation import (
    CandidateInfo,
    GenerationDocument,
    SkippedTemplateInfo,
)


def generated_output(name: str, elements: list[str], n_templates: int, result, infos) -> Response:
    """A generator's index and chunk jobs from its result (candidates with structures,
    skipped templates, assignment counts) and the candidates' provenance."""
    index = GenerationDocument(
        elements=list(elements),
        n_templates=n_templates,
        assignments_total=result.assignments_total,
        assignments_distinct=result.assignments_distinct,
        n_candidates=len(infos),
        skipped_templates=[
            SkippedTemplateInfo(template=s.template, reason=s.reason) for s in result.skipped
        ],
    )
    structures = {c.candidate_id: c.structure for c in result.candidates}
    return chunked_output(index, infos, structures, name)


def guided_info(candidate, **provenance) -> CandidateInfo:
    """A guided generator's candidate as ``CandidateInfo``, with its ``provenance``."""
    return candidate_info(candidate).model_copy(update={"provenance": provenance})


@dataclass
class PartialSubstitutionMaker(StageMaker):
    """Each template substituted with the target elements, then one Wyckoff orbit at a time
    replaced by another target element, wholly or in part (distinct orderings); each
    candidate's provenance names the orbit, the element and the share replaced.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``PartialSubstitutionSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "partial substitution"
    settings: PartialSubstitutionSettings = field(default_factory=PartialSubstitutionSettings)

    @job(output_schema=GenerationDocument, metadata=placed(JobStage.GENERATION, RunsOn.CPU))
    def make(self, templates: dict[str, Structure], elements: list[str]) -> Response:
        """The stage's jobs.

        Parameters
        ----------
        templates
            The template structures, by name.
        elements
            The target elements.

        Returns
        -------
        Response
            Its output the ``GenerationDocument`` index, the candidates in chunk jobs.
        """
        result = partial_substitute(templates, elements, self.settings)
        infos = [
            guided_info(
                c,
                generator="partial-substitution",
                orbit=c.orbit,
                orbit_sites=list(c.orbit_sites),
                element=c.element,
                fraction=c.fraction,
                n_replaced=c.n_replaced,
            )
            for c in result.candidates
        ]
        return generated_output(self.name, elements, len(templates), result, infos)


@dataclass
class SubstitutionPredictorMaker(StageMaker):
    """Swaps of the templates' ions (oxidation states by guess) for the target elements that
    pymatgen's data-mined substitution probabilities find likely (``settings.threshold``) and
    that stay charge-balanced; each candidate carries its probability.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``PredictedSubstitutionSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "substitution predictor"
    settings: PredictedSubstitutionSettings = field(default_factory=PredictedSubstitutionSettings)

    @job(output_schema=GenerationDocument, metadata=placed(JobStage.GENERATION, RunsOn.CPU))
    def make(self, templates: dict[str, Structure], elements: list[str]) -> Response:
        """The stage's jobs.

        Parameters
        ----------
        templates
            The template structures, by name.
        elements
            The target elements.

        Returns
        -------
        Response
            Its output the ``GenerationDocument`` index, the candidates in chunk jobs.
        """
        result = predicted_substitutions(templates, elements, self.settings)
        infos = [
            guided_info(
                c,
                generator="substitution-predictor",
                probability=c.probability,
                substitutions=c.substitutions,
            )
            for c in result.candidates
        ]
        return generated_output(self.name, elements, len(templates), result, infos)
