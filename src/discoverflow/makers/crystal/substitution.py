"""Template x element substitution, as exa-AMD generates candidates."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import job
from pymatgen.core import Structure

from discoverflow.core.crystal.substitution import SubstitutionSettings, substitute
from discoverflow.makers.base import StageMaker
from discoverflow.schemas.generation import (
    CandidateInfo,
    GenerationDocument,
    SkippedTemplateInfo,
)


@dataclass
class SubstitutionMaker(StageMaker):
    """Every template x every distinct assignment of the target elements x every scale."""

    name: str = "substitution"
    settings: SubstitutionSettings = field(default_factory=SubstitutionSettings)

    @job(
        data=["structures", "candidates"],
        output_schema=GenerationDocument,
        metadata={"stage": "generation", "runs_on": "cpu"},
    )
    def make(self, templates: dict[str, Structure], elements: list[str]) -> GenerationDocument:
        result = substitute(templates, elements, self.settings)
        return GenerationDocument(
            elements=list(elements),
            n_templates=len(templates),
            assignments_total=result.assignments_total,
            assignments_distinct=result.assignments_distinct,
            n_candidates=len(result.candidates),
            skipped_templates=[
                SkippedTemplateInfo(template=s.template, reason=s.reason) for s in result.skipped
            ],
            candidates=[
                CandidateInfo(
                    candidate_id=c.candidate_id,
                    formula=c.structure.composition.reduced_formula,
                    template=c.template,
                    species_map=c.species_map,
                    scale=c.scale,
                    n_sites=len(c.structure),
                )
                for c in result.candidates
            ],
            structures={c.candidate_id: c.structure for c in result.candidates},
        )
