"""Structure checks and pore descriptors of assembled (or read) MOFs; those failing a check
leave."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import job
from pymatgen.core import Structure

from discoverflow.core.mof.checks import CharacterisationSettings, characterise
from discoverflow.makers.base import StageMaker
from discoverflow.makers.documents import WRITES_RECORDS, RecordCheckpoint, structure_fields
from discoverflow.makers.mof.stability import each_mof
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.candidate import MOFS
from discoverflow.schemas.mof import (
    CharacterisationDocument,
    CharacterisationRecord,
    MOFCells,
)

CHECK_FIELDS = {
    "overlapping_atoms": "overlapping_atoms",
    "overcoordinated": "overcoordinated_atoms",
    "undercoordinated": "undercoordinated_atoms",
    "missing_hydrogens": "missing_hydrogens",
    "open_metal_sites": "open_metal_sites",
    "charge_balanced": "charge_balanced",
    "metal_oxidation_state": "metal_oxidation_state",
    "supercell": "bond_graph_supercell",
}


def characterisation_fields(_: str, data: dict) -> dict:
    """A MOF document's check verdicts and pore descriptors (MOFDoc fields); where solvent
    was removed, the solvent-free cell and its metadata (``structure_initial`` stays)."""
    checks = data.get("checks") or {}
    fields = {doc: checks.get(key) for key, doc in CHECK_FIELDS.items() if key in checks}
    fields["checks_passed"] = data.get("status") == "passed"
    fields["free_molecules"] = data.get("free_molecules") or []
    fields["solvent_removed"] = bool(data.get("solvent_removed"))
    pores = dict(data.get("pores") or {})
    pores.pop("density_g_cm3", None)  # emmet's density is already in the document
    if (cleaned := data.get("structure")) is not None:
        cleaned = cleaned if isinstance(cleaned, Structure) else Structure.from_dict(cleaned)
        fields |= structure_fields(cleaned)
    return fields | pores


@dataclass
class MOFCharacterisationMaker(StageMaker):
    """mofchecker's checks and Zeo++'s pore descriptors of each assembled MOF, in one job
    per batch; each result is recorded as it finishes. A MOF failing one of
    ``settings.reject`` is recorded with the reason and left out of the output's structures,
    which the stability MD takes (without their free solvent with
    ``settings.remove_solvent``).

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``CharacterisationSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "mof characterisation"
    settings: CharacterisationSettings = field(default_factory=CharacterisationSettings)

    @job(
        config=WRITES_RECORDS,
        data="structures",
        metadata=placed(JobStage.MOF_CHARACTERISATION, RunsOn.CPU),
    )
    def make(self, assembly: MOFCells) -> CharacterisationDocument:
        """The stage's jobs.

        Parameters
        ----------
        assembly
            The MOFs to check.

        Returns
        -------
        CharacterisationDocument
            Each MOF's checks and pore descriptors.
        """
        settings = self.settings
        checkpoint = RecordCheckpoint.of_running_job(
            MOFS, "characterisation", settings.model_dump(), characterisation_fields
        )

        def inspect(mof_id: str, structure: Structure) -> CharacterisationRecord:
            found = characterise(structure, settings)
            return CharacterisationRecord(
                mof_id=mof_id,
                status="failed" if found.reasons else "passed",
                reason="; ".join(found.reasons) or None,
                checks=found.checks.to_dict(),
                pores=found.pores.to_dict() if found.pores else None,
                free_molecules=[m.describe() for m in found.free_molecules],
                solvent_removed=found.solvent_removed,
                structure=found.structure if found.solvent_removed else None,
            )

        records = each_mof(
            assembly.structures, "checks and pores", inspect, CharacterisationRecord, checkpoint
        )
        passed = {r.mof_id for r in records if r.status == "passed"}
        return CharacterisationDocument(
            round=assembly.round,
            probe_radius=settings.probe_radius,
            records=records,
            structures={
                r.mof_id: r.structure or assembly.structures[r.mof_id]
                for r in records
                if r.mof_id in passed
            },
        )
