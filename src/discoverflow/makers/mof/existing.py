"""Existing MOFs (a folder of CIFs: CoRE MOF, hMOF) through the MOF flow's checks and pores,
MD stability, cell optimisation and CO2 uptake, without generation or retraining."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from jobflow import Flow, job
from pymatgen.core import Structure

from discoverflow.core.mof.inputs import read_mof_folder
from discoverflow.makers.documents import WRITES_RECORDS, StageRecords, structure_fields
from discoverflow.makers.mof.evaluation import MOFStagesMaker, save_cells
from discoverflow.makers.mof.stability import md_verdict
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.candidate import MOFS
from discoverflow.schemas.mof import MOFEvaluationDocument, MOFFileRecord, MOFFolderDocument
from discoverflow.schemas.records import Stage


@job(config=WRITES_RECORDS, data="structures", metadata=placed(JobStage.MOF_READ, RunsOn.CPU))
def read_mofs(folder: str) -> MOFFolderDocument:
    """Every CIF of ``folder``: its cell, or why it cannot be used (status ``invalid``). Each
    MOF not read before is recorded (one read before keeps its record)."""
    files = read_mof_folder(Path(folder))
    records = [
        MOFFileRecord(
            mof_id=f.mof_id,
            file=f.path.name,
            status="read" if f.structure is not None else "invalid",
            reason=f.reason,
            formula=f.structure.composition.reduced_formula if f.structure else None,
            n_atoms=len(f.structure) if f.structure else None,
        )
        for f in files
    ]
    structures = {f.mof_id: f.structure for f in files if f.structure is not None}
    if (results := StageRecords.of_running_job(MOFS)) is not None:
        known = results.written(Stage.READ, None)
        new = [r for r in records if r.mof_id not in known]
        results.write(
            Stage.READ,
            {r.mof_id: read_fields(r, structures.get(r.mof_id)) for r in new},
            {r.mof_id: r.status for r in new},
            {r.mof_id: r.reason for r in new},
        )
    return MOFFolderDocument(folder=folder, records=records, structures=structures)


def read_fields(record: MOFFileRecord, structure: Structure | None) -> dict:
    """An existing MOF's document fields: its file and, where it was read, its cell."""
    fields = {"source_file": record.file}
    if structure is not None:
        fields |= {**structure_fields(structure), "structure_initial": structure}
    return fields


def final_statuses(folder: MOFFolderDocument, outputs: dict) -> dict[str, str]:
    """Each MOF's verdict from the last stage it reached (as its document's ``status``)."""
    statuses = {r.mof_id: r.status for r in folder.records}
    if checks := outputs["characterisation"]:
        statuses |= {r.mof_id: r.status for r in checks.records}
    statuses |= {r.mof_id: md_verdict(r) for r in outputs["stability"].records}
    if relaxed := outputs["relaxed"]:
        statuses |= {r.candidate_id: r.status for r in relaxed.records}
    if adsorption := outputs["adsorption"]:
        statuses |= {r.mof_id: r.status for r in adsorption.records}
    return statuses


@dataclass
class ExistingMOFsMaker(MOFStagesMaker):
    """Checks and pores, MD stability, cell optimisation and CO2 GCMC of each MOF in a folder
    of CIFs, with the MOF flow's Makers (None skips a stage). A file that cannot be read, and
    a MOF failing a check, MD, optimisation or GCMC, is recorded with its reason; the others
    go on. The ``per_round`` most stable MOFs are optimised and adsorbed.

    Parameters
    ----------
    name, characterise_maker, stability_maker, optimise_maker, adsorption_maker
        As in ``MOFStagesMaker``.
    per_round, output_dir
        As in ``MOFStagesMaker``.
    """

    name: str = "existing mofs"

    def make(self, folder: str | Path, fingerprint: str | None = None) -> Flow:
        """The flow of the folder's MOFs; ``fingerprint`` (of the inputs and settings) is kept
        in its final document, from which a campaign sees that it is complete.

        Parameters
        ----------
        folder
            The folder of CIF files, one MOF each.
        fingerprint
            The evaluation's fingerprint (its settings and MOFs), stored with its output.

        Returns
        -------
        Flow
            Its output the ``MOFEvaluationDocument``.
        """
        read = read_mofs(str(folder))
        jobs, outputs = self.evaluation_jobs(read.output)
        summary = self.summary(read.output, outputs, fingerprint)
        return Flow([read, *jobs, summary], output=summary.output, name=self.name)

    @job(metadata=placed(JobStage.MOF_EVALUATION, RunsOn.CPU))
    def summary(
        self, folder: MOFFolderDocument, outputs: dict, fingerprint: str | None
    ) -> MOFEvaluationDocument:
        """Where each MOF stands; the optimised cells as CIFs in ``output_dir/mofs``."""
        save_cells(outputs["relaxed"], self.output_dir)
        statuses = final_statuses(folder, outputs)
        return MOFEvaluationDocument(
            folder=folder.folder,
            fingerprint=fingerprint,
            statuses=statuses,
            counts=dict(Counter(statuses.values())),
        )
