"""Partial charges and CO2 uptake by GCMC (RASPA2) for each optimised MOF."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import job
from pymatgen.core import Structure

from discoverflow.core.checkpoint import JsonCheckpoint
from discoverflow.core.mof.adsorption import AdsorptionSettings, co2_uptake
from discoverflow.makers.base import StageMaker
from discoverflow.makers.mof.stability import each_mof
from discoverflow.schemas.mof import AdsorptionDocument, AdsorptionRecord
from discoverflow.schemas.relax import RelaxBatchDocument


@dataclass
class AdsorptionMaker(StageMaker):
    """Charge equilibration and CO2 GCMC with RASPA2 for each relaxed MOF; with
    ``checkpoint_dir`` each finished simulation is kept."""

    name: str = "co2 adsorption"
    settings: AdsorptionSettings = field(default_factory=AdsorptionSettings)
    checkpoint_dir: str | None = None

    @job(metadata={"stage": "mof-adsorption", "runs_on": "cpu"})
    def make(self, relaxed: RelaxBatchDocument) -> AdsorptionDocument:
        settings = self.settings
        checkpoint = JsonCheckpoint.in_folder(
            self.checkpoint_dir, "mof-gcmc", settings.model_dump()
        )

        def adsorb(mof_id: str, structure: Structure) -> AdsorptionRecord:
            result = co2_uptake(structure, settings)
            return AdsorptionRecord(
                mof_id=mof_id,
                status="done",
                uptake_mol_per_kg=result.uptake_mol_per_kg,
                uptake_error=result.uptake_error,
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
