"""MOFs assembled from processed linkers on a pormake net; overlapping frameworks rejected."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from jobflow import job
from pymatgen.core import Structure

from discoverflow.core.mof.assembly import (
    AssemblyFailed,
    AssemblySettings,
    assemble_mof,
    linker_combinations,
)
from discoverflow.core.mof.linkers import ProcessedLinker
from discoverflow.core.structures import smiles_id
from discoverflow.makers.base import StageMaker
from discoverflow.makers.documents import WRITES_RECORDS, StageRecords, structure_fields
from discoverflow.progress import stage_progress
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.candidate import MOFS
from discoverflow.schemas.mof import AssemblyDocument, LinkerBatchDocument, MOFRecord
from discoverflow.schemas.records import Stage


def assembly_fields(record: MOFRecord, structure: Structure | None, round_index: int) -> dict:
    """A MOF document's fields after assembly: what it is made of, overlap verdict, cell."""
    fields = {
        "round": round_index,
        **record.model_dump(include={"node", "topology", "linkers", "pillar", "histories"}),
        "closest_approach": record.closest_approach,
        "overlap_ok": record.status == "assembled",
    }
    if structure is not None:
        fields |= {**structure_fields(structure), "structure_initial": structure}
    return fields


@dataclass
class MOFAssemblyMaker(StageMaker):
    """Assemble MOFs from processed linkers on a pormake topology; reject overlapping atoms.

    One MOF per carboxylate linker, joined by ``linkers_per_mof - 1`` others drawn at random
    (carboxylate edges take them in turn; MOFA's pillared paddlewheels use two); pillared
    nodes take one pillar (a CN linker) per MOF. Cells are reduced to primitive ones.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``AssemblySettings`` (or a dict of it): the stage's settings.
    seed
        Seed of the linker combinations.
    """

    name: str = "mof assembly"
    settings: AssemblySettings = field(default_factory=AssemblySettings)
    seed: int = 0

    @job(
        config=WRITES_RECORDS,
        data="structures",
        metadata=placed(JobStage.MOF_ASSEMBLY, RunsOn.CPU),
    )
    def make(self, linkers: LinkerBatchDocument) -> AssemblyDocument:
        """The stage's jobs.

        Parameters
        ----------
        linkers
            The round's linkers.

        Returns
        -------
        AssemblyDocument
            The assembled MOFs and those rejected, with reasons.
        """
        settings = self.settings
        processed = [ProcessedLinker(**data) for data in linkers.linkers]
        rng = np.random.default_rng(self.seed + linkers.round)
        combos = linker_combinations(processed, settings, rng)
        records, structures, cifs = [], {}, {}
        with stage_progress("assembly", len(combos)) as advance:
            for group, pillar in combos:
                names = [linker.smiles for linker in group] + ([pillar.smiles] if pillar else [])
                mof_id = f"mof-{settings.node}-{settings.topology}-{smiles_id(names)}"
                record = MOFRecord(
                    mof_id=mof_id,
                    status="rejected",
                    node=settings.node,
                    topology=settings.topology,
                    linkers=[linker.smiles for linker in group],
                    pillar=pillar.smiles if pillar else None,
                    histories=[linker.history for linker in group]
                    + ([pillar.history] if pillar else []),
                )
                try:
                    mof = assemble_mof(group, pillar, settings)
                except AssemblyFailed as error:
                    record.reason = str(error)
                else:
                    structure = mof.structure
                    if settings.primitive:
                        structure = structure.get_primitive_structure(tolerance=0.25)
                    record.status = "assembled"
                    record.formula = structure.composition.reduced_formula
                    record.n_atoms = len(structure)
                    record.closest_approach = mof.closest_approach
                    structures[mof_id] = structure
                    cifs[mof_id] = structure.to(fmt="cif")
                records.append(record)
                advance()
        if (stage_results := StageRecords.of_running_job(MOFS)) is not None:
            stage_results.write(
                Stage.ASSEMBLY,
                {
                    r.mof_id: assembly_fields(r, structures.get(r.mof_id), linkers.round)
                    for r in records
                },
                {r.mof_id: r.status for r in records},
                {r.mof_id: r.reason for r in records},
            )
        return AssemblyDocument(
            round=linkers.round, records=records, structures=structures, cifs=cifs
        )
