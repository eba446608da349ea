"""Relaxations with an ML potential, a batch of structures per job, and their fan-out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from jobflow import Flow, Job, Maker, Response, job
from pymatgen.core import Structure

from discoverflow.core.relax import RelaxSettings, relax_many, relaxer_settings
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.chunks import READS_CHUNKS, candidate_structures
from discoverflow.makers.documents import (
    WRITES_RECORDS,
    RecordCheckpoint,
    StageRecords,
    relax_fields,
)
from discoverflow.plugins import load_relaxer
from discoverflow.progress import running_stage, stage_progress
from discoverflow.routing import JobStage, RunsOn, place, placed, route_new_jobs, running_job_stage
from discoverflow.schemas.candidate import CANDIDATES
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.records import Stage
from discoverflow.schemas.relax import RelaxBatchDocument, RelaxRecordInfo
from discoverflow.schemas.screen import DedupDocument, ScreenDocument


def relaxation_role() -> str:
    """``reference`` in a reference relaxation job (stage ``JobStage.REFERENCE_RELAX``),
    else ``candidate``: the role the relaxed items' documents get."""
    return "reference" if running_job_stage() == JobStage.REFERENCE_RELAX else "candidate"


@runtime_checkable
class RelaxMaker(Protocol):
    """What fills a relax slot (``CrystalDiscoveryMaker.relax_maker``, ``ReferenceMaker``,
    ``RelaxSelectedMaker``): ``make({id: Structure})`` gives a job or flow whose output is a
    ``RelaxBatchDocument``; ``batch_size`` structures go to one such job; ``engine`` names the
    engine as its relaxations report it. ``MLRelaxMaker``, ``VaspRelaxMaker`` and
    ``TaskRelaxMaker`` (any atomate2 relax Maker) are relax Makers."""

    batch_size: int

    @property
    def engine(self) -> str: ...

    def make(self, structures: dict[str, Structure]) -> Job | Flow: ...


@dataclass
class MLRelaxMaker(StageMaker):
    """Relax a batch of structures with an ML potential (a relax-engine plugin).

    A failed or unconverged relaxation is recorded with its reason; the others go on. In a
    campaign every finished relaxation is recorded at once (a stage record of the items of
    ``documents``: ``candidates``, or ``mofs`` for MOF cells), so a killed job rerun on any
    worker redoes only the unfinished ones; results of other settings are not reused.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``RelaxSettings`` (or a dict of it): the stage's settings.
    documents
        The per-item collection whose records the relaxations update (None: none).
    """

    name: str = "ml relax"
    settings: RelaxSettings = field(default_factory=RelaxSettings)
    documents: str | None = "candidates"

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    @property
    def engine(self) -> str:
        return self.relaxer().name

    def relaxer(self):
        settings = self.settings
        return load_relaxer(
            settings.engine,
            fmax=settings.fmax,
            steps=settings.steps,
            relax_cell=settings.relax_cell,
            **settings.engine_options,
        )

    @job(
        config=WRITES_RECORDS,
        data="structures",
        output_schema=RelaxBatchDocument,
        metadata=placed(JobStage.RELAX_BATCH, RunsOn.GPU),
    )
    def make(self, structures: dict[str, Structure]) -> RelaxBatchDocument:
        """The stage's jobs.

        Parameters
        ----------
        structures
            The structures, by id.

        Returns
        -------
        RelaxBatchDocument
            A record per structure and the relaxed structures.
        """
        relaxer = self.relaxer()
        checkpoint = None
        if self.documents:
            role = relaxation_role()
            fields = relax_fields(self.documents, relaxer.name, role)
            checkpoint = RecordCheckpoint.of_running_job(
                self.documents, "relax", relaxer_settings(relaxer), fields
            )
        with stage_progress(running_stage("relax"), len(structures)) as advance:
            records = relax_many(structures, relaxer, checkpoint, on_done=lambda _: advance())
        return RelaxBatchDocument(
            engine=relaxer.name,
            records=[
                RelaxRecordInfo(
                    candidate_id=r.candidate_id,
                    formula=structures[r.candidate_id].composition.reduced_formula,
                    status=r.status,
                    reason=r.reason,
                    energy=r.energy,
                    energy_per_atom=r.energy_per_atom,
                    n_steps=r.n_steps,
                    max_force=r.max_force,
                )
                for r in records
            ],
            structures={r.candidate_id: r.structure for r in records if r.structure is not None},
        )


def save_relax_record(
    candidate_id: str,
    record: RelaxRecordInfo,
    final: Structure | None,
    engine: str,
    settings: dict,
) -> None:
    """Write one finished relaxation (one structure per job: VASP, atomate2 Makers) into its
    stage record, where a rerun of the job finds it; nothing without the store."""
    stage_results = StageRecords.of_running_job()
    if stage_results is None:
        return
    role = relaxation_role()
    data = record.model_dump(
        include={"status", "reason", "energy", "energy_per_atom", "n_steps", "max_force"}
    )
    data["structure"] = final.as_dict() if final is not None else None
    fields = relax_fields(CANDIDATES, engine, role)
    RecordCheckpoint(stage_results, Stage.RELAX, settings, fields).save(candidate_id, data)


def merged_relaxations(jobs: list, outputs: list, name: str) -> Flow:
    """``jobs`` with one job merging their relaxation ``outputs`` into one document."""
    merge = collect_relaxations(outputs)
    place(merge, JobStage.RELAX_MERGE)
    return Flow([*jobs, merge], output=merge.output, name=name)


def merge_relax_batches(batches: list[RelaxBatchDocument]) -> RelaxBatchDocument:
    records, structures, task_documents, engines = [], {}, {}, []
    for batch in batches:
        records.extend(batch.records)
        structures.update(batch.structures)
        task_documents.update(batch.task_documents)
        engines.append(batch.engine)
    return RelaxBatchDocument(
        engine=engines[0] if engines else "",
        records=records,
        structures=structures,
        task_documents=task_documents,
    )


@job(
    data=["structures", "task_documents"],
    output_schema=RelaxBatchDocument,
    metadata=placed(JobStage.RELAX, RunsOn.CPU),
)
def collect_relaxations(
    batches: list[RelaxBatchDocument], keep: list[str] | None = None
) -> RelaxBatchDocument:
    """The relaxation records in one document (only the ``keep`` candidates, if given)."""
    merged = merge_relax_batches(batches)
    if keep is None:
        return merged
    wanted = set(keep)
    return merged.model_copy(
        update={
            "records": [r for r in merged.records if r.candidate_id in wanted],
            "structures": {k: v for k, v in merged.structures.items() if k in wanted},
            "task_documents": {k: v for k, v in merged.task_documents.items() if k in wanted},
        }
    )


@dataclass
class RelaxSelectedMaker(Maker):
    """Relax the candidates a selection kept (a screen's or a dedup's ``kept``) with
    ``relax_maker``, ``relax_maker.batch_size`` per job; candidates relaxed in ``previous``
    batches (a resumed campaign) are not relaxed again.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    relax_maker
        Any relax Maker (the ``RelaxMaker`` protocol).
    """

    name: str = "relax selected"
    relax_maker: RelaxMaker = field(default_factory=lambda: MLRelaxMaker())

    @job(config=READS_CHUNKS, metadata=placed(JobStage.RELAX_FANOUT, RunsOn.CPU))
    def make(
        self,
        generation: GenerationDocument,
        selection: ScreenDocument | DedupDocument,
        previous: list[RelaxBatchDocument] | None = None,
    ) -> Response:
        """The stage's jobs.

        Parameters
        ----------
        generation
            The generation holding the candidates' structures.
        selection
            The selection whose kept candidates are relaxed.
        previous
            Relaxation batches of an earlier run: those candidates are not relaxed again.

        Returns
        -------
        Response
            Replaced by the relaxation jobs; its output their merged ``RelaxBatchDocument``.
        """
        previous = previous or []
        done = {record.candidate_id for batch in previous for record in batch.records}
        todo = [r.candidate_id for r in selection.kept if r.candidate_id not in done]
        size = self.relax_maker.batch_size
        structures = candidate_structures(generation, todo)
        jobs = [
            self.relax_maker.make({cid: structures[cid] for cid in todo[i : i + size]})
            for i in range(0, len(todo), size)
        ]
        selected = [r.candidate_id for r in selection.kept]
        collect = collect_relaxations([*previous, *(j.output for j in jobs)], keep=selected)
        flow = Flow([*jobs, collect], output=collect.output, name="relax candidates")
        return Response(replace=route_new_jobs(flow))
