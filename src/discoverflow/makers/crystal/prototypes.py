"""Candidates from the AFLOW prototype library: no template files needed."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Response, job
from pymatgen.core import Structure

from discoverflow.core.crystal.prototypes import PrototypeSettings, decorate_prototypes
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.chunks import candidate_info, chunked_output
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.generation import GenerationDocument


@dataclass
class PrototypesMaker(StageMaker):
    """The library prototypes that pass ``settings``' filters, each decorated with every
    distinct assignment of the target elements, cells scaled to the elements' volumes.

    ``inputs`` (the campaign's templates, if any) are not used.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``PrototypeSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "prototypes"
    settings: PrototypeSettings = field(default_factory=PrototypeSettings)

    @job(output_schema=GenerationDocument, metadata=placed(JobStage.GENERATION, RunsOn.CPU))
    def make(self, inputs: dict[str, Structure], elements: list[str]) -> Response:
        """The stage's jobs.

        Parameters
        ----------
        inputs
            The campaign's template structures (not used).
        elements
            The target elements.

        Returns
        -------
        Response
            Its output the ``GenerationDocument`` index, the candidates in chunk jobs.
        """
        result, n_prototypes = decorate_prototypes(elements, self.settings)
        index = GenerationDocument(
            elements=list(elements),
            n_templates=n_prototypes,
            assignments_total=result.assignments_total,
            assignments_distinct=result.assignments_distinct,
            n_candidates=len(result.candidates),
        )
        return chunked_output(
            index,
            [candidate_info(c, f"aflow:{c.template}") for c in result.candidates],
            {c.candidate_id: c.structure for c in result.candidates},
            self.name,
        )
