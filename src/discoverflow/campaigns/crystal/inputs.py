"""A crystal campaign's inputs checked before anything runs: light to import (the flow
machinery and the models load only when a command runs the campaign)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.campaigns.crystal.phases import known_phase_problems, materials_project_cache
from discoverflow.core.crystal.substitution import template_problem
from discoverflow.core.crystal.vasp import vasp_environment_problems
from discoverflow.core.structures import read_structure_folder
from discoverflow.errors import ConfigError
from discoverflow.plugins import GENERATORS, MODELS, PROPERTIES, RELAXERS, available_plugins

if TYPE_CHECKING:
    from jobflow import JobStore


def check_inputs(config: CampaignConfig, store: JobStore | None = None) -> list[str]:
    """Problems with the campaign's inputs, one readable line each (empty when all is well)."""
    problems = known_phase_problems(config, materials_project_cache(store))
    folders = []
    if config.inputs.templates is not None:
        folders.append(("inputs.templates", config.inputs.templates))
    elif config.generation.method in ("substitution", "user", "partial-substitution") or (
        config.generation.method == "substitution-predictor" and config.inputs.known_phases is None
    ):
        problems.append(
            f"inputs.templates: required by generation.method {config.generation.method!r}"
        )
    if config.inputs.reference_phases is not None:
        folders.append(("inputs.reference_phases", config.inputs.reference_phases))
    usable = 0
    for key, folder in folders:
        try:
            structures, unreadable = read_structure_folder(folder)
        except FileNotFoundError:
            problems.append(f"{key}: folder not found: {folder}")
            continue
        problems.extend(f"{key}: {bad.path}: {bad.reason}" for bad in unreadable)
        if key == "inputs.templates" and config.generation.method == "substitution":
            if not structures and not unreadable:
                problems.append(f"{key}: no structure files (.cif, .vasp, .json) in {folder}")
            excluded = config.generation.excluded_template_elements
            usable += sum(
                template_problem(s, len(config.elements), excluded) is None
                for s in structures.values()
            )
            if structures and not usable:
                problems.append(f"{key}: none of the {len(structures)} templates can be used")
    for key, name, group in (
        ("generation.method", config.generation.method, GENERATORS),
        ("screening.model", config.screening.model, MODELS),
        *(
            [("property_screen.model", config.property_screen.model, PROPERTIES)]
            if config.property_screen.enabled
            else []
        ),
        *([] if config.relax.maker else [("relax.engine", config.relax.engine, RELAXERS)]),
        *(
            [("relax.coordinate.model", config.relax.coordinate.model, MODELS)]
            if config.relax.pattern == "coordinate"
            else []
        ),
    ):
        known = available_plugins(group) + (["vasp"] if group == RELAXERS else [])
        if name not in known:
            problems.append(f"{key}: no plugin named {name!r} (available: {', '.join(known)})")
    if config.relax.maker:
        from discoverflow.makers.task_relax import maker_from_dict  # loads the Maker's package

        try:
            maker_from_dict(config.relax.maker)
        except ConfigError as error:
            problems.append(str(error))
    elif config.relax.engine == "vasp":
        from discoverflow.makers.vasp import VaspRelaxMaker  # atomate2's VASP settings

        maker = VaspRelaxMaker(settings=config.relax.vasp)
        problems.extend(f"relax.vasp: {p}" for p in vasp_environment_problems(maker.command()))
    return problems
