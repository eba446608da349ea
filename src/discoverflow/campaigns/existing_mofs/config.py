"""A campaign file that evaluates existing MOFs: the folder of CIFs and the MOF stages'
sections (those of a MOF discovery campaign)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from discoverflow.campaigns.config import resolve_path
from discoverflow.campaigns.mof.config import MOFStagesConfig
from discoverflow.core.mof.inputs import cif_files
from discoverflow.settings import StageSettings


class MOFInputs(StageSettings):
    """The MOFs to evaluate."""

    mofs: Path = Field(description="Folder of CIF files, one MOF each (CoRE MOF, hMOF)")


class ExistingMOFsConfig(MOFStagesConfig):
    """Existing MOFs through structure checks and pores, MD stability, cell optimisation and
    CO2 GCMC, without linker generation or retraining."""

    workflow: Literal["existing-mofs"] = Field(description="The campaign kind")
    inputs: MOFInputs = Field(description='The MOFs: {"mofs": "<folder of CIF files>"}')

    def describe(self) -> str:
        folder = self.inputs.mofs
        found = len(cif_files(folder)) if folder.is_dir() else 0
        return f"{found} CIF files in {folder}"

    def resolve_paths(self, base: Path) -> ExistingMOFsConfig:
        super().resolve_paths(base)
        self.inputs.mofs = resolve_path(self.inputs.mofs, base)
        return self
