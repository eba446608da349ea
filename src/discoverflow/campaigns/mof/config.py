"""A MOF discovery campaign file: each section is its stage's settings; the stages after
assembly are shared with the evaluation of existing MOFs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from discoverflow.campaigns.config import CampaignConfigBase
from discoverflow.core.mof.adsorption import AdsorptionSettings
from discoverflow.core.mof.assembly import AssemblySettings
from discoverflow.core.mof.checks import CharacterisationSettings
from discoverflow.core.mof.cp2k import CP2KSettings
from discoverflow.core.mof.generation import LinkerSettings
from discoverflow.core.mof.md import StabilitySettings
from discoverflow.core.mof.selection import OptimisationSettings, RetrainingSettings
from discoverflow.settings import PositiveInt


class CharacterisationConfig(CharacterisationSettings):
    """The structure checks' and pores' section: their settings and whether they run."""

    enabled: bool = Field(
        True, description="Check each MOF's structure and compute its pores before the MD"
    )


class OptimisationConfig(OptimisationSettings):
    """The cell optimisation's section: ``engine`` an ML relax engine (chgnet, the default;
    ``fmax``, ``steps`` and ``engine_options`` apply) or ``cp2k`` (DFT with the ``cp2k``
    settings), and whether it runs."""

    enabled: bool = Field(True, description="Optimise the cells of the most stable MOFs")
    cp2k: CP2KSettings = Field(
        default_factory=CP2KSettings, description="Settings of the 'cp2k' engine (MOFA's PBE-D3)"
    )

    def ml(self) -> OptimisationSettings:
        return OptimisationSettings(**self.model_dump(exclude={"enabled", "cp2k"}))


class AdsorptionConfig(AdsorptionSettings):
    """The CO2 adsorption's section: its settings and whether it runs."""

    enabled: bool = Field(True, description="CO2 uptake of the optimised MOFs")


class MOFStagesConfig(CampaignConfigBase):
    """The sections of the stages every MOF goes through once it has a cell."""

    workflow: str = Field(description="mof (discovery) or existing-mofs (a folder of CIFs)")
    characterisation: CharacterisationConfig = Field(default_factory=CharacterisationConfig)
    stability: StabilitySettings = Field(
        default_factory=StabilitySettings,
        description='NPT MD stability; "engine": "chgnet" (default) or "lammps" (UFF4MOF)',
    )
    optimisation: OptimisationConfig = Field(default_factory=OptimisationConfig)
    adsorption: AdsorptionConfig = Field(default_factory=AdsorptionConfig)

    @model_validator(mode="after")
    def adsorption_needs_optimised_cells(self) -> MOFStagesConfig:
        if self.adsorption.enabled and not self.optimisation.enabled:
            raise ValueError(
                "adsorption.enabled needs optimisation.enabled (GCMC runs on optimised cells)"
            )
        return self


class MOFCampaignConfig(MOFStagesConfig):
    """A MOF discovery campaign (MOFA's generate-assemble-validate-adsorb-retrain loop)."""

    workflow: Literal["mof"] = Field(description="The campaign kind")
    rounds: PositiveInt = Field(3, description="Rounds of generation and retraining")
    seed: int = Field(0, description="Seed of linker proposals and combinations")
    linkers: LinkerSettings = Field(default_factory=LinkerSettings)
    assembly: AssemblySettings = Field(default_factory=AssemblySettings)
    retraining: RetrainingSettings = Field(default_factory=RetrainingSettings)

    def describe(self) -> str:
        return f"MOFs: {self.assembly.node} on {self.assembly.topology}"
