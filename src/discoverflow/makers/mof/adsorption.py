"""Partial charges and CO2 uptake by GCMC (RASPA2) for each optimised MOF."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import job
from pymatgen.core import Structure

from discoverflow.core.mof.adsorption import AdsorptionSettings, co2_uptake
from discoverflow.makers.base import StageMaker
from discoverflow.makers.documents import WRITES_RECORDS, RecordCheckpoint
from discoverflow.makers.mof.stability import each_mof
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.candidate import MOFS
from discoverflow.schemas.mof import AdsorptionDocument, AdsorptionRecord
from discoverflow.schemas.relax import RelaxBatchDocument

CHARGES_METHOD = "RASPA charge equilibration (periodic, Ewald)"


def adsorption_fields(settings: AdsorptionSettings):
    """A MOF document's adsorption fields from a finished GCMC record."""

    def fields(mof_id: str, data: dict) -> dict:
        done = data.get("status") != "failed"
        judged = done and data.get("mean_molecules") is not None  # not records of before
        return {
            "charges_method": CHARGES_METHOD if done else None,
            "charges": data.get("charges") or {},
            "uptake_mol_per_kg": data.get("uptake_mol_per_kg"),
            "uptake_error": data.get("uptake_error"),
            "uptake_molecules": data.get("mean_molecules"),
            "uptake_converged": data.get("status") == "done" if judged else None,
            "gcmc_cycles": data.get("cycles") if done else None,
            "gcmc_unit_cells": data.get("unit_cells") or None,
            "excess_mol_per_kg": data.get("excess_mol_per_kg"),
            "adsorption_temperature": settings.temperature,
            "adsorption_pressure": settings.pressure,
        }

    return fields


@dataclass
class AdsorptionMaker(StageMaker):
    """Charge equilibration and CO2 GCMC with RASPA2 for each relaxed MOF (``not converged``
    when the block-average error exceeds the uptake or nothing adsorbed); in a campaign each
    finished simulation is recorded at once (and is taken from there by a
    rerun of the job).

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``AdsorptionSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "co2 adsorption"
    settings: AdsorptionSettings = field(default_factory=AdsorptionSettings)

    @job(config=WRITES_RECORDS, metadata=placed(JobStage.MOF_ADSORPTION, RunsOn.CPU))
    def make(self, relaxed: RelaxBatchDocument) -> AdsorptionDocument:
        """The stage's jobs.

        Parameters
        ----------
        relaxed
            The optimised MOF cells.

        Returns
        -------
        AdsorptionDocument
            Charges and CO2 uptake per MOF.
        """
        settings = self.settings
        checkpoint = RecordCheckpoint.of_running_job(
            MOFS, "adsorption", settings.model_dump(), adsorption_fields(settings)
        )

        def adsorb(mof_id: str, structure: Structure) -> AdsorptionRecord:
            result = co2_uptake(structure, settings)
            return AdsorptionRecord(
                mof_id=mof_id,
                status="done" if result.converged else "not converged",
                reason=result.verdict(),
                uptake_mol_per_kg=result.uptake_mol_per_kg,
                uptake_error=result.uptake_error,
                mean_molecules=result.mean_molecules,
                framework_atoms=result.framework_atoms,
                excess_mol_per_kg=result.excess_mol_per_kg,
                helium_void_fraction=result.helium_void_fraction,
                charges=result.charges,
                unit_cells=list(result.unit_cells),
                cycles=result.cycles,
            )

        records = each_mof(relaxed.structures, "CO2 GCMC", adsorb, AdsorptionRecord, checkpoint)
        return AdsorptionDocument(
            temperature=settings.temperature, pressure=settings.pressure, records=records
        )
