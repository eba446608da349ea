"""MOF stability by NPT MD (CHGNet, or UFF4MOF in LAMMPS) and the lattice strain it leaves; the
most stable go on."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from jobflow import job
from pymatgen.core import Structure

from discoverflow.core.checkpoint import each_checkpointed
from discoverflow.core.mof.lammps import lammps_npt_md
from discoverflow.core.mof.md import StabilitySettings, npt_md
from discoverflow.core.mof.selection import most_stable
from discoverflow.makers.base import StageMaker
from discoverflow.makers.documents import WRITES_RECORDS, RecordCheckpoint
from discoverflow.models.chgnet import chgnet_calculator
from discoverflow.progress import stage_progress
from discoverflow.routing import JobStage, RunsOn, place, placed
from discoverflow.schemas.candidate import MOFS
from discoverflow.schemas.mof import (
    MOFCells,
    StabilityDocument,
    StabilityRecord,
)
from discoverflow.schemas.records import Stage

IRRELEVANT = {
    "chgnet": {"stable_strain", "engine", "lammps_cutoff", "lammps_minimise"},
    "lammps": {"stable_strain", "model"},
}
"""Settings left out of an engine's fingerprint (CHGNet's is what it was before LAMMPS)."""


def md_verdict(record: StabilityRecord) -> str:
    if record.status != "done":
        return "md failed"
    return "stable" if record.stable else "unstable"


def each_mof(structures: dict[str, Structure], label: str, compute, record_type, checkpoint):
    """``compute(mof_id, structure)`` per MOF with a progress bar; a MOF whose computation
    raises gets a failed record with the reason, and each record is checkpointed at once."""
    with stage_progress(label, len(structures)) as advance:
        return each_checkpointed(
            structures,
            compute,
            lambda mof_id, error: record_type(mof_id=mof_id, status="failed", reason=str(error)),
            checkpoint,
            encode=record_type.model_dump,
            decode=record_type.model_validate,
            on_done=lambda _: advance(),
        )


@dataclass
class MOFStabilityMaker(StageMaker):
    """NPT MD with CHGNet (``engine: chgnet``, on the GPU worker) or UFF4MOF in LAMMPS
    (``engine: lammps``, on a CPU worker); a MOF is stable when its lattice strain is below
    ``settings.stable_strain``. Each finished MD run is recorded at
    once, and a rerun of the job takes it from there.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``StabilitySettings`` (or a dict of it): the stage's settings.
    """

    name: str = "mof stability"
    settings: StabilitySettings = field(default_factory=StabilitySettings)

    def make(self, assembly: MOFCells):
        """The MD job of the MOFs in ``assembly`` (or those that passed the checks).

        Parameters
        ----------
        assembly
            The MOF cells (an assembly, or those that passed the checks).

        Returns
        -------
        Job
            The MD job (on CPU for LAMMPS, GPU for CHGNet); its output the ``StabilityDocument``.
        """
        runs_on = RunsOn.CPU if self.settings.engine == "lammps" else RunsOn.GPU
        return place(self.simulate(assembly), runs_on=runs_on)

    @job(config=WRITES_RECORDS, metadata=placed(JobStage.MOF_STABILITY))
    def simulate(self, assembly: MOFCells) -> StabilityDocument:
        settings = self.settings
        engine = settings.engine_name
        checkpoint = RecordCheckpoint.of_running_job(
            MOFS,
            "stability",
            settings.model_dump(exclude=IRRELEVANT[settings.engine]),
            lambda _, data: {
                "strain": data.get("strain"),
                "md_engine": engine,
                "md_supercell": data.get("supercell"),
            },
        )
        calculator = functools.cache(lambda: chgnet_calculator(settings.model))

        def run_md(mof_id: str, structure: Structure) -> StabilityRecord:
            if settings.engine == "lammps":
                outcome = lammps_npt_md(structure, settings)
            else:
                outcome = npt_md(structure, calculator(), settings)
            return StabilityRecord(
                mof_id=mof_id,
                status="done",
                strain=outcome.strain,
                volume_change=outcome.volume_change,
                mean_temperature=outcome.mean_temperature,
                steps=outcome.steps,
                supercell=list(outcome.supercell),
            )

        records = each_mof(assembly.structures, "stability MD", run_md, StabilityRecord, checkpoint)
        records = [
            r.model_copy(
                update={"stable": r.strain is not None and r.strain < settings.stable_strain}
            )
            for r in records
        ]
        if checkpoint is not None:
            checkpoint.records.write(
                Stage.STABILITY,
                {r.mof_id: {"stable": r.stable} for r in records},
                {r.mof_id: md_verdict(r) for r in records},
                {r.mof_id: r.reason for r in records},
            )
        return StabilityDocument(
            round=assembly.round, engine=engine, threshold=settings.stable_strain, records=records
        )


@job(data="output", metadata=placed(JobStage.MOF_SELECT, RunsOn.CPU))
def select_stable(
    assembly: MOFCells, stability: StabilityDocument, limit: int
) -> dict[str, Structure]:
    """The most stable MOFs (lowest strain first) that passed the threshold."""
    return {r.mof_id: assembly.structures[r.mof_id] for r in most_stable(stability.records, limit)}
