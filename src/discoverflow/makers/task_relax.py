"""Any jobflow Maker whose ``make(structure)`` returns an atomate2 task document (atomate2's
``ForceFieldRelaxMaker``, its VASP ``RelaxMaker`` / ``DoubleRelaxMaker`` / ``TightRelaxMaker``,
...) in the relax slot, optionally followed by a static Maker: one job per structure, read
back into relaxation records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from jobflow import Flow, Job, Maker, OnMissing, job
from monty.json import MontyDecoder, jsanitize
from pymatgen.core import Structure

from discoverflow.core.checkpoint import fingerprint
from discoverflow.errors import ConfigError
from discoverflow.makers.documents import WRITES_RECORDS
from discoverflow.makers.relax import merged_relaxations, save_relax_record
from discoverflow.routing import JobStage, RunsOn, place, placed
from discoverflow.schemas.relax import RelaxBatchDocument, RelaxRecordInfo


def maker_from_dict(spec: dict[str, Any]) -> Maker:
    """A Maker from its MSONable dict (``@module``, ``@class`` and its fields)."""
    try:
        maker = MontyDecoder().process_decoded(spec)
    except (ImportError, AttributeError, TypeError, ValueError) as error:
        raise ConfigError(f"relax.maker: cannot build the Maker: {error}") from None
    if not isinstance(maker, Maker):
        raise ConfigError(f"relax.maker: {spec.get('@class', spec)!r} is not a jobflow Maker")
    return maker


def field_of(document: Any, *path: str) -> Any:
    """A nested field of a task document, whether it arrives as a model or as a dict."""
    for key in path:
        if document is None:
            return None
        document = document.get(key) if isinstance(document, dict) else getattr(document, key, None)
    return document


def task_problem(task: Any) -> str | None:
    """Why the relaxation in an atomate2 task document is not converged, by its own verdict
    (None when it is)."""
    converged = field_of(task, "is_force_converged")
    if converged is None:
        converged = str(field_of(task, "state") or "").lower().endswith("successful")
    return None if converged else "forces did not converge"


def max_force_of(task: Any) -> float | None:
    """The largest force on an atom at the end of the task (eV/A)."""
    forces = field_of(task, "output", "forces")
    return float(np.linalg.norm(np.asarray(forces), axis=1).max()) if forces else None


def n_steps_of(task: Any) -> int:
    """Ionic steps of the task (of its last calculation for VASP task documents)."""
    n_steps = field_of(task, "output", "n_steps")
    if n_steps is None:
        steps = field_of(task, "calcs_reversed")
        n_steps = len(field_of(steps[0], "output", "ionic_steps") or []) if steps else 0
    return int(n_steps)


def task_record(
    candidate_id: str, structure: Structure, task: Any, problem: str | None = None
) -> tuple[RelaxRecordInfo, Structure | None]:
    """A relaxation record from an atomate2 task document (None: the task job failed);
    ``problem`` says why the relaxation is not converged (None: it is)."""
    formula = structure.composition.reduced_formula
    if task is None:
        reason = "the relaxation job failed (its error is in the job's record)"
        return RelaxRecordInfo(
            candidate_id=candidate_id, formula=formula, status="failed", reason=reason
        ), None
    final = field_of(task, "structure")
    if isinstance(final, dict):
        final = Structure.from_dict(final)
    energy = field_of(task, "output", "energy")
    usable = energy is not None and final is not None
    status = "unconverged" if problem else "relaxed"
    if not usable:
        status, problem = "failed", "the task document has no final energy or structure"
    return RelaxRecordInfo(
        candidate_id=candidate_id,
        formula=formula,
        status=status,
        reason=problem,
        energy=float(energy) if energy is not None else None,
        energy_per_atom=float(energy) / len(final) if usable else None,
        n_steps=n_steps_of(task),
        max_force=max_force_of(task),
        task_dir=field_of(task, "dir_name"),
        entry=field_of(task, "entry"),
    ), final


def with_static_energy(record: RelaxRecordInfo, static: Any) -> RelaxRecordInfo:
    """A converged relaxation's record with the energy of its static recomputation (an
    unconverged one when the static job failed)."""
    if record.status != "relaxed":
        return record
    energy = field_of(static, "output", "energy")
    structure = field_of(static, "structure")
    if energy is None or structure is None:
        reason = "the static job failed (its error is in the job's record)"
        return record.model_copy(update={"status": "unconverged", "reason": reason})
    return record.model_copy(
        update={
            "energy": float(energy),
            "energy_per_atom": float(energy) / len(structure),
            "entry": field_of(static, "entry"),
        }
    )


@dataclass
class TaskRelaxMaker(Maker):
    """Relax each structure with ``maker`` (any Maker taking one structure and returning an
    atomate2 task document), one job per structure, and with ``static_maker`` recompute the
    energy of the relaxed structure; each result becomes a relaxation record, recorded at
    once as its stage result.

    Parameters
    ----------
    maker
        The relaxation Maker: ``make(structure)`` returns an atomate2 task document.
    name
        The flow's name.
    static_maker
        A Maker recomputing the energy of the relaxed structure (None: the relaxation's).
    runs_on
        Where the relaxation jobs run: ``gpu`` for force fields, ``cpu`` for DFT; by default
        ``gpu`` when ``maker`` comes from an atomate2 ``forcefields`` module, else ``cpu``.
    batch_size
        Structures per ``make`` call in a relax slot (one job per structure regardless).
    """

    maker: Maker
    name: str = "task relax"
    static_maker: Maker | None = None
    runs_on: RunsOn | None = None
    batch_size: int = 1

    def __post_init__(self) -> None:
        if hasattr(super(), "__post_init__"):
            super().__post_init__()
        if self.runs_on is None:
            forcefield = "forcefields" in type(self.maker).__module__
            self.runs_on = RunsOn.GPU if forcefield else RunsOn.CPU
        self.runs_on = RunsOn(self.runs_on)

    @property
    def engine(self) -> str:
        return f"{type(self.maker).__module__}.{type(self.maker).__name__}"

    @property
    def record_settings(self) -> dict[str, Any]:
        """What each relaxation record is fingerprinted by."""
        makers = [self.maker.as_dict(), self.static_maker and self.static_maker.as_dict()]
        return {"engine": self.engine, "fingerprint": fingerprint(makers)}

    def makers_for(self, structure: Structure) -> tuple[Maker, Maker | None]:
        """The relaxation and static Makers of ``structure`` (the same for every structure)."""
        return self.maker, self.static_maker

    def relax_problem(self, task: Any) -> str | None:
        """Why the relaxation in ``task`` is not converged (None when it is)."""
        return task_problem(task)

    def make(self, structures: dict[str, Structure]) -> Job | Flow:
        """The stage's jobs.

        Parameters
        ----------
        structures
            The structures, by id.

        Returns
        -------
        Job | Flow
            One relaxation (and static) job per structure; its output the ``RelaxBatchDocument``.
        """
        jobs, records = [], []
        for cid, structure in structures.items():
            relax_maker, static_maker = self.makers_for(structure)
            tasks = [relax_maker.make(structure)]
            if static_maker is not None:
                tasks.append(static_maker.make(tasks[0].output.structure))
            for task in tasks:
                place(task, JobStage.RELAX_TASK, self.runs_on)
                task.append_name(f" {cid}")
            static = tasks[1].output if static_maker is not None else None
            record = self.record(cid, structure, tasks[0].output, static)
            record.config.on_missing_references = OnMissing.NONE
            jobs += [*tasks, record]
            records.append(record)
        if len(records) == 1:
            return Flow(jobs, output=records[0].output, name=self.name)
        return merged_relaxations(jobs, [r.output for r in records], self.name)

    @job(
        config=WRITES_RECORDS,
        data=["structures", "task_documents"],
        output_schema=RelaxBatchDocument,
        metadata=placed(JobStage.RELAX_BATCH, RunsOn.CPU),
    )
    def record(
        self, candidate_id: str, structure: Structure, task: Any, static: Any = None
    ) -> RelaxBatchDocument:
        """The relaxation record of one structure from its task documents."""
        problem = self.relax_problem(task) if task is not None else None
        record, final = task_record(candidate_id, structure, task, problem)
        if self.static_maker is not None:
            record = with_static_energy(record, static)
        save_relax_record(candidate_id, record, final, self.engine, self.record_settings)
        task_json = jsanitize(
            static if static is not None else task, strict=True, allow_bson=True, enum_values=True
        )
        return RelaxBatchDocument(
            engine=self.engine,
            records=[record],
            structures={candidate_id: final} if final is not None else {},
            task_documents={candidate_id: task_json} if task_json is not None else {},
        )
