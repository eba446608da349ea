"""Template x element substitution, as exa-AMD generates candidates."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Response, job
from pymatgen.core import Structure

from discoverflow.core.crystal.substitution import (
    SubstitutionResult,
    SubstitutionSettings,
    plan_substitutions,
    substituted_structure,
    usable_templates,
)
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.chunks import (
    chunk_bounds,
    chunk_document,
    chunked_response,
    recorded_chunk,
)
from discoverflow.makers.documents import WRITES_RECORDS
from discoverflow.progress import stage_progress
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.generation import (
    CandidateInfo,
    GenerationDocument,
    SkippedTemplateInfo,
)


@dataclass
class SubstitutionMaker(StageMaker):
    """Every template x every distinct assignment of the target elements x every scale.

    ``make`` enumerates the candidates (keeping their provenance only) and hands them to
    chunk jobs that build and store a bounded number of structures each.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``SubstitutionSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "substitution"
    settings: SubstitutionSettings = field(default_factory=SubstitutionSettings)

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
        usable, skipped = usable_templates(templates, len(elements), self.settings)
        counts = SubstitutionResult()
        candidates = [
            CandidateInfo(
                candidate_id=plan.candidate_id,
                formula=plan.formula,
                template=plan.template,
                species_map=plan.species_map,
                scale=plan.scale,
                n_sites=plan.n_sites,
            )
            for plan in plan_substitutions(usable, elements, self.settings, counts)
        ]
        chunks = []
        for start, stop in chunk_bounds([c.n_sites for c in candidates]):
            part = candidates[start:stop]
            step = self.chunk(list(elements), {c.template: usable[c.template] for c in part}, part)
            step.name = f"{self.name} chunk {len(chunks) + 1}"
            chunks.append(step)
        index = GenerationDocument(
            elements=list(elements),
            n_templates=len(templates),
            assignments_total=counts.assignments_total,
            assignments_distinct=counts.assignments_distinct,
            n_candidates=len(candidates),
            skipped_templates=[
                SkippedTemplateInfo(template=s.template, reason=s.reason) for s in skipped
            ],
        )
        return chunked_response(index, chunks, f"{self.name} chunks")

    @job(
        data="structures",
        output_schema=GenerationDocument,
        config=WRITES_RECORDS,
        metadata=placed(JobStage.GENERATION_CHUNK, RunsOn.CPU),
    )
    def chunk(
        self,
        elements: list[str],
        templates: dict[str, Structure],
        candidates: list[CandidateInfo],
    ) -> GenerationDocument:
        """The ``candidates``' structures, built from their (usable) templates."""
        with stage_progress("generation", len(candidates)) as advance:
            structures = {
                c.candidate_id: substituted_structure(
                    templates[c.template], c.species_map, c.scale, self.settings
                )
                for c in candidates
            }
            chunk = recorded_chunk(chunk_document(elements, candidates, structures))
            advance(len(candidates))
        return chunk
