"""A campaign's known phases: its file or folder, its reference-phase folder, and the
Materials Project entries cached beside the store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.core.crystal.known_phases import (
    KnownPhase,
    materials_project_phases,
    materials_project_problem,
    near_source_hull,
    read_folder,
    read_known_phases,
    within_system,
)
from discoverflow.locations import embedded_folder

if TYPE_CHECKING:
    from jobflow import JobStore

MP_CACHE = "materials_project"


def materials_project_cache(store: JobStore | None = None) -> Path:
    """The folder of cached Materials Project entries: inside the embedded store's folder
    (the given store's, else DISCOVERFLOW_STORE's), else a user cache folder."""
    if store is not None:
        from discoverflow.stores import embedded_folder_of  # maggma: only with a store

        folder = embedded_folder_of(store)
    else:
        folder = embedded_folder()
    if folder is None:
        return Path("~/.cache/discoverflow").expanduser() / MP_CACHE
    return folder / MP_CACHE


def known_phase_problems(config: CampaignConfig, cache: Path) -> list[str]:
    """Problems with the known phases' inputs, one line each."""
    problems = []
    path = config.inputs.known_phases
    if path is not None:
        if path.is_dir():
            problems += [f"inputs.known_phases: {p}" for p in read_folder(path)[1]]
        else:
            try:
                read_known_phases(path)
            except (FileNotFoundError, ValueError) as error:
                problems.append(f"inputs.known_phases: {error}")
    if config.hull.materials_project:
        problem = materials_project_problem(cache, config.elements)
        problems += [problem] if problem else []
    return problems


def load_known_phases(config: CampaignConfig, cache: Path) -> list[KnownPhase]:
    """Every known phase of the campaign within its chemical system (inputs.known_phases,
    inputs.reference_phases, the Materials Project's entries), filtered by
    ``hull.known_phases_within``."""
    phases: list[KnownPhase] = []
    if config.inputs.known_phases is not None:
        phases += read_known_phases(config.inputs.known_phases)
    if config.inputs.reference_phases is not None:
        phases += read_folder(config.inputs.reference_phases)[0]
    if config.hull.materials_project:
        phases += materials_project_phases(cache, config.elements)
    phases = within_system(phases, config.elements)
    return near_source_hull(phases, config.hull.known_phases_within)
