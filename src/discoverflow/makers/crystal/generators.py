"""Generator Makers beyond substitution, and the validity filter of the directive pattern.

A generator Maker's ``make(inputs, elements)`` returns a ``GenerationDocument``; ``inputs``
are the structures of the campaign's templates folder (used or not).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Response, job
from pymatgen.core import Structure

from discoverflow.core.crystal.generators import (
    RandomStructureSettings,
    UserStructuresSettings,
    charge_neutral_compositions,
    random_crystals,
    stoichiometries,
)
from discoverflow.core.crystal.validity import (
    ValiditySettings,
    filter_counts,
    first_problem,
    near_duplicates,
)
from discoverflow.core.structures import candidate_id
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.chunks import (
    READS_CHUNKS,
    chunk_document,
    chunk_jobs,
    chunked_output,
    chunked_response,
    generation_chunks,
)
from discoverflow.makers.documents import GenerationRecorder
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.generation import CandidateInfo, GenerationDocument
from discoverflow.schemas.records import Status


def chunked_generation(
    elements: list[str],
    origins: dict[str, str],
    structures: dict[str, Structure],
    name: str,
    **extra,
) -> Response:
    """A generator's output for structures keyed by candidate id, each with its origin: the
    index document, with the structures in chunk jobs."""
    candidates = [
        CandidateInfo(
            candidate_id=cid,
            formula=s.composition.reduced_formula,
            template=origins[cid],
            species_map={},
            scale=1.0,
            n_sites=len(s),
        )
        for cid, s in structures.items()
    ]
    index = GenerationDocument(
        elements=list(elements),
        n_templates=extra.pop("n_templates", 0),
        n_candidates=len(structures),
        assignments_total=len(structures),
        assignments_distinct=len(structures),
        **extra,
    )
    return chunked_output(index, candidates, structures, name)


@dataclass
class RandomStructureMaker(StageMaker):
    """Random symmetric crystals (pyxtal) for compositions of the target elements.

    Compositions are every stoichiometry with up to ``settings.max_atoms`` atoms per formula
    unit, kept only when SMACT finds them charge-neutral if ``settings.charge_neutral_only``.

    Parameters
    ----------
    name
        The job's name.
    settings
        A ``RandomStructureSettings`` (or its dict).
    """

    name: str = "random structures"
    settings: RandomStructureSettings = field(default_factory=RandomStructureSettings)

    @job(output_schema=GenerationDocument, metadata=placed(JobStage.GENERATION, RunsOn.CPU))
    def make(self, inputs: dict[str, Structure], elements: list[str]) -> Response:
        """Generate the crystals.

        Parameters
        ----------
        inputs
            The campaign's template structures (not used).
        elements
            The target elements.

        Returns
        -------
        Response
            Its output the ``GenerationDocument`` index, the structures in chunk jobs.
        """
        settings = self.settings
        neutral = settings.charge_neutral_only
        enumerate_ = charge_neutral_compositions if neutral else stoichiometries
        structures, origins = {}, {}
        for index, composition in enumerate(enumerate_(elements, settings.max_atoms)):
            for group, structure in random_crystals(
                composition, settings.per_composition, settings.max_sites, settings.seed + index
            ):
                cid = candidate_id(structure)
                structures[cid] = structure
                origins[cid] = f"pyxtal:{group}"
        return chunked_generation(elements, origins, structures, self.name)


@dataclass
class UserStructuresMaker(StageMaker):
    """The user's own structures (the templates folder) as candidates, unchanged.

    Parameters
    ----------
    name
        The job's name.
    settings
        A ``UserStructuresSettings`` (there is nothing to set).
    """

    name: str = "user structures"
    settings: UserStructuresSettings = field(default_factory=UserStructuresSettings)

    @job(output_schema=GenerationDocument, metadata=placed(JobStage.GENERATION, RunsOn.CPU))
    def make(self, inputs: dict[str, Structure], elements: list[str]) -> Response:
        """Take the structures made of the target elements only.

        Parameters
        ----------
        inputs
            The structures, by name (the name is a candidate's template).
        elements
            The target elements.

        Returns
        -------
        Response
            Its output the ``GenerationDocument`` index, the structures in chunk jobs.
        """
        allowed = set(elements)
        structures, origins = {}, {}
        for name, structure in inputs.items():
            if {str(el) for el in structure.composition.elements} <= allowed:
                cid = candidate_id(structure)
                structures[cid] = structure
                origins[cid] = name
        return chunked_generation(elements, origins, structures, self.name, n_templates=len(inputs))


@dataclass
class ValidityFilterMaker(StageMaker):
    """At most ``max_elements`` elements, charge neutrality (SMACT), not P1 (spglib), no atoms
    closer than ``min_distance`` (A), no near-duplicates; reports what each filter removed.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``ValiditySettings`` (or a dict of it): the stage's settings.
    """

    name: str = "validity filter"
    settings: ValiditySettings = field(default_factory=ValiditySettings)

    @job(
        output_schema=GenerationDocument,
        config=READS_CHUNKS,
        metadata=placed(JobStage.VALIDITY, RunsOn.CPU),
    )
    def make(self, generation: GenerationDocument) -> Response:
        """The generation's valid candidates, in chunks; each removed candidate's document
        says which filter removed it (in a campaign).

        Parameters
        ----------
        generation
            The generation to filter.

        Returns
        -------
        Response
            Its output the filtered generation's ``GenerationDocument`` index, the kept
            candidates in chunk jobs.
        """
        infos: dict[str, CandidateInfo] = {}
        survivors: dict[str, Structure] = {}
        removed: dict[str, str] = {}
        recorder = GenerationRecorder()
        for chunk in generation_chunks(generation):
            problems = {}
            for info in chunk.candidates:
                structure = chunk.structures[info.candidate_id]
                infos[info.candidate_id] = info
                if problem := first_problem(structure, self.settings):
                    problems[info.candidate_id] = problem
                else:
                    survivors[info.candidate_id] = structure
            recorder.record(chunk, removed=problems)
            removed |= problems
        if self.settings.deduplicate:
            duplicates = near_duplicates(survivors, self.settings.matcher)
            structures = {cid: survivors.pop(cid) for cid in duplicates}
            found = chunk_document(
                generation.elements, [infos[cid] for cid in structures], structures
            )
            recorder.record(
                found,
                removed={
                    cid: f"duplicate of {kept} ({infos[kept].template})"
                    for cid, kept in duplicates.items()
                },
                status=Status.DUPLICATE,
            )
            removed |= dict.fromkeys(structures, "duplicate")
        kept = [info for cid, info in infos.items() if cid in survivors]
        index = generation.model_copy(
            update={"n_candidates": len(kept), "filter_counts": filter_counts(removed)}
        )
        jobs = chunk_jobs(JobStage.VALIDITY_CHUNK, generation.elements, kept, survivors)
        return chunked_response(index, jobs, f"{self.name} chunks")
