"""The existing MOFs' folder checked before anything runs."""

from __future__ import annotations

from discoverflow.campaigns.existing_mofs.config import ExistingMOFsConfig
from discoverflow.campaigns.mof.inputs import missing_extras
from discoverflow.core.mof.inputs import cif_files


def check_existing_inputs(config: ExistingMOFsConfig) -> list[str]:
    """A missing package, a missing folder or one without CIF files; a file that does not
    read is no problem here (its MOF is recorded as invalid)."""
    if missing := missing_extras(config, []):
        return missing
    folder = config.inputs.mofs
    try:
        files = cif_files(folder)
    except FileNotFoundError:
        return [f"inputs.mofs: folder not found: {folder}"]
    return [] if files else [f"inputs.mofs: no CIF files (.cif) in {folder}"]
