"""A generation's candidates live in chunk jobs of bounded size; consumers read them one
chunk at a time, so that no job output and no job's memory grows with the campaign.

A generator's own output is the index: counts and the uuids of its chunk jobs (``chunks``),
which run as a detour before anything that reads the generation.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from typing import Any

from jobflow import (
    CURRENT_JOB,
    Flow,
    Job,
    JobConfig,
    JobStore,
    Maker,
    Response,
    job,
)
from pymatgen.core import Structure

from discoverflow.makers.documents import WRITES_RECORDS, GenerationRecorder
from discoverflow.routing import JobStage, RunsOn, place, placed, route_new_jobs
from discoverflow.schemas.generation import CandidateInfo, GenerationDocument
from discoverflow.sqlite_codec import collector_paused
from discoverflow.stores import shared_job_store

MAX_CANDIDATES_PER_CHUNK = 250
MAX_SITES_PER_CHUNK = 2500
"""A stored structure takes about 0.4 kB plus 0.18 kB per site (BSON), so a chunk's
structures stay near or below 0.55 MB."""
READS_CHUNKS = JobConfig(expose_store=True)


def chunk_bounds(n_sites: Sequence[int]) -> list[tuple[int, int]]:
    """[start, stop) ranges of consecutive items, each with at most
    ``MAX_CANDIDATES_PER_CHUNK`` items and ``MAX_SITES_PER_CHUNK`` sites (or one item)."""
    bounds, start, sites = [], 0, 0
    for index, count in enumerate(n_sites):
        full = index - start >= MAX_CANDIDATES_PER_CHUNK or sites + count > MAX_SITES_PER_CHUNK
        if index > start and full:
            bounds.append((start, index))
            start, sites = index, 0
        sites += count
    if start < len(n_sites):
        bounds.append((start, len(n_sites)))
    return bounds


def chunked_response(index: GenerationDocument, chunk_jobs: list[Job], name: str) -> Response:
    """The generator's output: ``index`` pointing at ``chunk_jobs``, which run first."""
    output = index.model_copy(
        update={"chunks": [j.uuid for j in chunk_jobs], "candidates": [], "structures": {}}
    )
    if not chunk_jobs:
        return Response(output=output)
    return Response(output=output, detour=route_new_jobs(Flow(chunk_jobs, name=name)))


def candidate_info(candidate, template: str | None = None) -> CandidateInfo:
    """The provenance of a substitution-like candidate (``candidate_id``, ``structure``,
    ``template``, ``species_map``, ``scale``), under ``template`` if given."""
    return CandidateInfo(
        candidate_id=candidate.candidate_id,
        formula=candidate.structure.composition.reduced_formula,
        template=template or candidate.template,
        species_map=candidate.species_map,
        scale=candidate.scale,
        n_sites=len(candidate.structure),
    )


def chunk_document(
    elements: list[str],
    candidates: list[CandidateInfo],
    structures: dict[str, Structure],
) -> GenerationDocument:
    """One chunk of a generation: its candidates' provenance and structures."""
    return GenerationDocument(
        elements=list(elements),
        n_templates=0,
        assignments_total=len(candidates),
        assignments_distinct=len(candidates),
        n_candidates=len(candidates),
        candidates=candidates,
        structures=structures,
    )


@job(
    data="structures",
    output_schema=GenerationDocument,
    config=WRITES_RECORDS,
    metadata=placed(runs_on=RunsOn.CPU),
)
def generation_chunk(
    elements: list[str],
    candidates: list[CandidateInfo],
    structures: dict[str, Structure],
) -> GenerationDocument:
    """A chunk of a generation, its candidates recorded (in a campaign)."""
    return recorded_chunk(chunk_document(elements, candidates, structures))


def recorded_chunk(chunk: GenerationDocument) -> GenerationDocument:
    """``chunk``, its candidates recorded for the running job where they are not yet."""
    GenerationRecorder().record(chunk)
    return chunk


def chunk_jobs(
    stage: JobStage,
    elements: list[str],
    candidates: list[CandidateInfo],
    structures: dict[str, Structure],
) -> list[Job]:
    """Jobs of stage ``stage`` holding ``candidates`` (in order) and their structures."""
    jobs = []
    for start, stop in chunk_bounds([c.n_sites for c in candidates]):
        part = candidates[start:stop]
        step = generation_chunk(
            elements, part, {c.candidate_id: structures[c.candidate_id] for c in part}
        )
        step.name = f"{stage} {len(jobs) + 1}"
        place(step, stage)
        jobs.append(step)
    return jobs


def chunked_output(
    index: GenerationDocument,
    candidates: list[CandidateInfo],
    structures: dict[str, Structure],
    name: str,
) -> Response:
    """A generator's output: ``index`` (counts), the candidates in chunk jobs."""
    jobs = chunk_jobs(JobStage.GENERATION_CHUNK, index.elements, candidates, structures)
    return chunked_response(index, jobs, f"{name} chunks")


@job(config=READS_CHUNKS, metadata=placed(JobStage.CHUNKS_FINISH, RunsOn.CPU))
def finish_chunks(
    maker: Maker, args: list[Any], index: GenerationDocument, missing: list[str]
) -> Response:
    """The chunk jobs of ``index`` that never finished (a killed run), planned again by
    ``maker.make(*args)`` (a deterministic plan) under their own uuids; the output is
    ``index`` again, for the stages that read it."""
    planned = maker.make.original(maker, *args).detour.jobs
    if len(planned) != len(index.chunks):
        raise ValueError(
            f"{maker.name} now plans {len(planned)} chunks, not {len(index.chunks)}: "
            "its inputs changed since the run that was interrupted"
        )
    wanted = set(missing)
    jobs = [
        Job(
            function=step.function,
            function_args=step.function_args,
            function_kwargs=step.function_kwargs,
            output_schema=step.output_schema,
            uuid=uuid,
            name=step.name,
            metadata=dict(step.metadata),
            config=step.config,
        )
        for uuid, step in zip(index.chunks, planned, strict=True)
        if uuid in wanted
    ]
    return Response(output=index, detour=route_new_jobs(Flow(jobs, name=f"{maker.name} chunks")))


def running_store(store: JobStore | None = None) -> JobStore:
    """``store``, else the running job's store, which a reader of chunks needs."""
    store = store or CURRENT_JOB.store
    if store is not None:
        return shared_job_store(store)
    raise RuntimeError(
        "reading a chunked generation needs the job store: give the job "
        "config=JobConfig(expose_store=True)"
    )


def generation_chunks(
    generation: GenerationDocument, store: JobStore | None = None
) -> Iterator[GenerationDocument]:
    """The documents holding the generation's candidates, loaded one at a time (from the
    running job's store unless ``store`` is given)."""
    if not generation.chunks:
        yield generation
        return
    store = running_store(store)
    for uuid in generation.chunks:
        yield load_chunk(uuid, store)


def load_chunk(
    chunk: GenerationDocument | str, store: JobStore | None = None
) -> GenerationDocument:
    """``chunk`` itself, or the output of the chunk job with that uuid (read with the cycle
    collector paused: its structures are thousands of new objects, which it would otherwise
    walk again and again while they are built, 1.7x the read's time)."""
    if isinstance(chunk, GenerationDocument):
        return chunk
    with collector_paused():
        output = running_store(store).get_output(chunk, load=True)
        return GenerationDocument.model_validate(output)


def record_generation(generation: GenerationDocument) -> None:
    """Record every candidate of ``generation`` not recorded yet for the running job (chunk
    jobs record their own: only a chunk with candidates missing is loaded)."""
    recorder = GenerationRecorder()
    if recorder.records is None:
        return
    if not generation.chunks:
        recorder.record(generation)
        return
    for uuid in generation.chunks:
        if recorder.missing(chunk_candidate_ids(uuid)):
            recorder.record(load_chunk(uuid))


def chunk_candidate_ids(uuid: str, store: JobStore | None = None) -> list[str]:
    """The candidate ids of the chunk job ``uuid``, without loading a structure."""
    output = running_store(store).get_output(uuid, load=False)
    return [c["candidate_id"] for c in output["candidates"]]


def candidate_infos(generation: GenerationDocument) -> list[CandidateInfo]:
    """Every candidate's provenance, without loading a structure."""
    if not generation.chunks:
        return list(generation.candidates)
    store = running_store()
    infos = []
    for uuid in generation.chunks:
        output = store.get_output(uuid, load=False)
        infos.extend(CandidateInfo.model_validate(c) for c in output["candidates"])
    return infos


def candidate_structures(
    generation: GenerationDocument, ids: Iterable[str]
) -> dict[str, Structure]:
    """The structures of the ``ids`` candidates, in the order given."""
    wanted = list(ids)
    if not wanted:
        return {}
    found: dict[str, Structure] = {}
    remaining = set(wanted)
    for chunk in generation_chunks(generation):
        found.update({cid: chunk.structures[cid] for cid in remaining & chunk.structures.keys()})
        remaining -= found.keys()
        if not remaining:
            break
    missing = [cid for cid in wanted if cid not in found]
    if missing:
        raise KeyError(f"candidates not in the generation: {', '.join(missing[:5])}")
    return {cid: found[cid] for cid in wanted}


def candidate_batches(
    generation: GenerationDocument, size: int, skip: Container[str] = frozenset()
) -> Iterator[tuple[GenerationDocument | str, list[str]]]:
    """Batches of at most ``size`` candidates (those not in ``skip``), each with the chunk that
    holds them: the chunk job's uuid (or a document of just those candidates when the
    generation holds them itself), for the jobs that process a batch (``load_chunk``).
    jobflow-remote accepts no references to jobs outside a flow a job creates, hence uuids."""
    if not generation.chunks:
        infos = [c for c in generation.candidates if c.candidate_id not in skip]
        for start in range(0, len(infos), size):
            part = infos[start : start + size]
            ids = [c.candidate_id for c in part]
            structures = {cid: generation.structures[cid] for cid in ids}
            yield chunk_document(generation.elements, part, structures), ids
        return
    store = running_store()
    for uuid in generation.chunks:
        output = store.get_output(uuid, load=False)
        ids = [c["candidate_id"] for c in output["candidates"] if c["candidate_id"] not in skip]
        for start in range(0, len(ids), size):
            yield uuid, ids[start : start + size]


def merged_generation(
    generation: GenerationDocument, store: JobStore | None = None
) -> GenerationDocument:
    """The generation with every chunk's candidates and structures in one document, e.g. to
    inspect a finished generation (its memory grows with the campaign)."""
    candidates, structures = [], {}
    for chunk in generation_chunks(generation, store):
        candidates.extend(chunk.candidates)
        structures.update(chunk.structures)
    return generation.model_copy(
        update={"candidates": candidates, "structures": structures, "chunks": []}
    )
