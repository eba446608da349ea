"""Template x element substitution, as exa-AMD generates candidates."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Maker, job
from pymatgen.core import Structure

from discoverflow.core.elements import EXA_AMD_EXCLUDED_ELEMENTS
from discoverflow.core.substitution import substitute
from discoverflow.schemas.generation import (
    CandidateInfo,
    GenerationDocument,
    SkippedTemplateInfo,
)


@dataclass
class SubstitutionMaker(Maker):
    """Every template x every distinct assignment of the target elements x every scale."""

    name: str = "substitution"
    lattice_scales: tuple[float, ...] = (0.96, 0.98, 1.00, 1.02, 1.04)
    volume: str = "elemental"
    excluded_template_elements: tuple[str, ...] = field(
        default_factory=lambda: tuple(sorted(EXA_AMD_EXCLUDED_ELEMENTS))
    )
    symmetry_reduce: bool = True
    primitive: bool = True

    @job(
        data="structures",
        output_schema=GenerationDocument,
        metadata={"stage": "generation", "runs_on": "cpu"},
    )
    def make(self, templates: dict[str, Structure], elements: list[str]) -> GenerationDocument:
        result = substitute(
            templates,
            elements,
            lattice_scales=self.lattice_scales,
            volume=self.volume,
            excluded_elements=self.excluded_template_elements,
            symmetry_reduce=self.symmetry_reduce,
            primitive=self.primitive,
        )
        return GenerationDocument(
            elements=list(elements),
            n_templates=len(templates),
            assignments_total=result.assignments_total,
            assignments_distinct=result.assignments_distinct,
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
