"""Cell optimisation of MOFs with CP2K (MOFA's PBE-D3), one MOF per CPU job."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Response, job
from pymatgen.core import Structure

from discoverflow.core.checkpoint import each_checkpointed
from discoverflow.core.mof.cp2k import CP2KOutcome, CP2KSettings, optimise_cell
from discoverflow.core.relax import record_of
from discoverflow.makers.base import StageMaker
from discoverflow.makers.documents import WRITES_RECORDS, RecordCheckpoint, relax_fields
from discoverflow.makers.relax import merged_relaxations
from discoverflow.routing import JobStage, RunsOn, placed, route_new_jobs
from discoverflow.schemas.candidate import MOFS
from discoverflow.schemas.records import Stage
from discoverflow.schemas.relax import RelaxBatchDocument, RelaxRecordInfo


def cp2k_record(mof_id: str, structure: Structure, outcome: CP2KOutcome | Exception) -> dict:
    """One optimisation as ``RelaxRecordInfo`` fields plus the final structure (a
    checkpoint's record); an unconverged SCF makes the result unconverged."""
    relaxed = record_of(mof_id, structure, outcome)
    data = {
        **relaxed.to_json(),
        "formula": structure.composition.reduced_formula,
    }
    if isinstance(outcome, CP2KOutcome):
        data |= {
            "scf_steps": outcome.scf_steps,
            "scf_converged": outcome.scf_converged,
            "seconds_per_scf_step": outcome.seconds_per_scf_step,
        }
        if not outcome.scf_converged and relaxed.status == "relaxed":
            data |= {"status": "unconverged", "reason": "an SCF did not converge"}
    return data


@dataclass
class CP2KCellMaker(StageMaker):
    """Optimise atoms and cell of each MOF with CP2K (``settings``: MOFA's PBE-D3,
    DZVP-MOLOPT-SR-GTH, GTH-PBE, 8 L-BFGS steps), one CPU job per MOF, merged into one
    ``RelaxBatchDocument``. A failed or unconverged optimisation is recorded with its reason
    and the others go on; each result is recorded at once, where a
    rerun of the job finds it (for the same settings, however CP2K is started).

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``CP2KSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "mof cp2k cell optimisation"
    settings: CP2KSettings = field(default_factory=CP2KSettings)

    @job(metadata=placed(JobStage.RELAX_FANOUT, RunsOn.CPU))
    def make(self, structures: dict[str, Structure]) -> Response | RelaxBatchDocument:
        """One optimisation job per MOF and a job merging their documents.

        Parameters
        ----------
        structures
            The MOF cells, by id.

        Returns
        -------
        Response | RelaxBatchDocument
            One job per MOF and their merged ``RelaxBatchDocument`` (an empty one without MOFs).
        """
        if not structures:
            return RelaxBatchDocument(engine=self.settings.engine_name)
        jobs = [self.optimise(mof_id, structure) for mof_id, structure in structures.items()]
        for optimise, mof_id in zip(jobs, structures, strict=True):
            optimise.name = f"{self.name} {mof_id}"
        flow = merged_relaxations(jobs, [j.output for j in jobs], self.name)
        return Response(replace=route_new_jobs(flow))

    @job(
        config=WRITES_RECORDS,
        data="structures",
        output_schema=RelaxBatchDocument,
        metadata=placed(JobStage.RELAX_BATCH, RunsOn.CPU),
    )
    def optimise(self, mof_id: str, structure: Structure) -> RelaxBatchDocument:
        """Optimise one MOF (or take its finished result from its record)."""
        settings = self.settings
        checkpoint = RecordCheckpoint.of_running_job(
            MOFS,
            Stage.OPTIMISATION,
            settings.fingerprint_settings(),
            relax_fields(MOFS, settings.engine_name),
        )
        (data,) = each_checkpointed(
            {mof_id: structure},
            lambda key, s: cp2k_record(key, s, optimise_cell(s, settings)),
            lambda key, error: cp2k_record(key, structure, error),
            checkpoint,
            encode=dict,
            decode=dict,
        )
        final = data.pop("structure", None)
        return RelaxBatchDocument(
            engine=settings.engine_name,
            records=[RelaxRecordInfo.model_validate(data)],
            structures={mof_id: Structure.from_dict(final)} if final else {},
        )
