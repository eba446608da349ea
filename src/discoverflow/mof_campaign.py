"""A MOF discovery campaign from a JSON file: config, flow with resume, and results."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from jobflow import Flow, JobStore
from pydantic import Field, field_validator, model_validator

from discoverflow.config import PositiveInt, ResourcesConfig, _Section
from discoverflow.schemas.mof import MOFCampaignDocument, MOFCampaignState


class LinkersConfig(_Section):
    generator: str = Field("growth", description="Linker-generator plugin (growth, difflinker)")
    generator_options: dict[str, Any] = Field(default_factory=dict)
    per_round: PositiveInt = Field(16, description="Linkers proposed per anchor type and round")
    seed_linkers: list[str] = Field(
        default_factory=list, description="SMILES evaluated in round 0 besides the proposals"
    )
    max_heavy_atoms: PositiveInt = 24


class AssemblyConfig(_Section):
    node: str = Field("Zn4O", description="Zn4O, Zn/Cu-paddlewheel, Zn/Cu-paddlewheel-pillared")
    topology: str = Field("pcu", description="An RCSR net in pormake's database")
    max_mofs: PositiveInt = 32
    linkers_per_mof: PositiveInt = Field(1, description="Distinct carboxylate linkers per MOF")
    overlap_scale: float = Field(0.7, gt=0, lt=1.5, description="x covalent-radius sum")
    pair_minima: dict[str, float] = Field(default_factory=dict, description='e.g. {"H-H": 1.2}')

    @field_validator("node")
    @classmethod
    def _known_node(cls, node: str) -> str:
        from discoverflow.core.mof.nodes import NODES

        if node not in NODES:
            raise ValueError(f"unknown node (known: {', '.join(NODES)})")
        return node


class StabilityConfig(_Section):
    model: str = "0.3.0"
    steps: PositiveInt = 2000
    timestep_fs: float = Field(0.5, gt=0, le=2.0)
    temperature: float = Field(300.0, gt=0)
    pressure_pa: float = Field(101325.0, ge=0)
    supercell: PositiveInt = 1
    stable_strain: float = Field(0.1, gt=0, description="Stable below this strain (MOFA: 0.1)")


class OptimisationConfig(_Section):
    enabled: bool = True
    fmax: float = Field(0.1, gt=0)
    steps: PositiveInt = 300
    per_round: PositiveInt = Field(4, description="Most stable MOFs optimised and adsorbed")


class AdsorptionConfig(_Section):
    enabled: bool = True
    temperature: float = Field(300.0, gt=0)
    pressure: float = Field(1.0e4, gt=0, description="CO2 pressure (Pa); MOFA: 0.1 bar")
    cycles: PositiveInt = 10000
    init_cycles: int = Field(1000, ge=0)
    cutoff: float = Field(12.0, gt=0)
    helium_cycles: int = Field(0, ge=0, description="Widom cycles for excess loading; 0: off")


class RetrainingConfig(_Section):
    training_strain: float = Field(0.25, gt=0, description="Strain limit of training MOFs")
    min_examples: PositiveInt = Field(32, description="Retrain once this many exist (MOFA: 32)")
    max_examples: PositiveInt = 8192
    adsorption_switch: PositiveInt = Field(
        64, description="Rank by CO2 uptake once this many adsorption results exist"
    )


class MOFCampaignConfig(_Section):
    """A MOF discovery campaign (MOFA's generate-assemble-validate-adsorb-retrain loop)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Campaign id")
    workflow: Literal["mof"]
    rounds: PositiveInt = 3
    seed: int = 0
    output_dir: Path = Field(Path("results"), description="Plots go here")
    linkers: LinkersConfig = Field(default_factory=LinkersConfig)
    assembly: AssemblyConfig = Field(default_factory=AssemblyConfig)
    stability: StabilityConfig = Field(default_factory=StabilityConfig)
    optimisation: OptimisationConfig = Field(default_factory=OptimisationConfig)
    adsorption: AdsorptionConfig = Field(default_factory=AdsorptionConfig)
    retraining: RetrainingConfig = Field(default_factory=RetrainingConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)

    @model_validator(mode="after")
    def _adsorption_needs_optimised_cells(self) -> MOFCampaignConfig:
        if self.adsorption.enabled and not self.optimisation.enabled:
            raise ValueError(
                "adsorption.enabled needs optimisation.enabled (GCMC runs on optimised cells)"
            )
        return self

    def resolve_paths(self, base: Path) -> MOFCampaignConfig:
        path = self.output_dir.expanduser()
        self.output_dir = path if path.is_absolute() else (base / path).resolve()
        return self

    @property
    def anchors(self) -> tuple[str, ...]:
        from discoverflow.core.mof.nodes import NODES

        return ("COO", "CN") if NODES[self.assembly.node].pillared else ("COO",)


def mof_discovery_maker(config: MOFCampaignConfig, checkpoint_dir: Path | None = None):
    from discoverflow.makers.mof import (
        AdsorptionMaker,
        LinkerGenerationMaker,
        MOFAssemblyMaker,
        MOFDiscoveryMaker,
        MOFStabilityMaker,
    )
    from discoverflow.makers.relax import MLRelaxMaker

    checkpoints = str(checkpoint_dir) if checkpoint_dir else None
    optimisation = config.optimisation
    adsorption = config.adsorption
    return MOFDiscoveryMaker(
        rounds=config.rounds,
        linker_maker=LinkerGenerationMaker(
            generator=config.linkers.generator,
            generator_options=config.linkers.generator_options,
            count=config.linkers.per_round,
            anchors=config.anchors,
            seed_linkers=tuple(config.linkers.seed_linkers),
            max_heavy_atoms=config.linkers.max_heavy_atoms,
        ),
        assembly_maker=MOFAssemblyMaker(
            node=config.assembly.node,
            topology=config.assembly.topology,
            max_mofs=config.assembly.max_mofs,
            linkers_per_mof=config.assembly.linkers_per_mof,
            overlap_scale=config.assembly.overlap_scale,
            pair_minima=config.assembly.pair_minima or None,
            seed=config.seed,
        ),
        stability_maker=MOFStabilityMaker(
            model=config.stability.model,
            temperature=config.stability.temperature,
            pressure_pa=config.stability.pressure_pa,
            steps=config.stability.steps,
            timestep_fs=config.stability.timestep_fs,
            supercell=config.stability.supercell,
            threshold=config.stability.stable_strain,
            checkpoint_dir=checkpoints,
        ),
        optimise_maker=MLRelaxMaker(
            name="mof cell optimisation",
            engine_options={"model_name": config.stability.model},
            fmax=optimisation.fmax,
            steps=optimisation.steps,
            checkpoint_dir=checkpoints,
        )
        if optimisation.enabled
        else None,
        adsorption_maker=AdsorptionMaker(
            temperature=adsorption.temperature,
            pressure=adsorption.pressure,
            cycles=adsorption.cycles,
            init_cycles=adsorption.init_cycles,
            cutoff=adsorption.cutoff,
            helium_cycles=adsorption.helium_cycles,
            checkpoint_dir=checkpoints,
        )
        if adsorption.enabled
        else None,
        adsorb_per_round=optimisation.per_round,
        training_strain=config.retraining.training_strain,
        min_training=config.retraining.min_examples,
        max_training=config.retraining.max_examples,
        adsorption_switch=config.retraining.adsorption_switch,
        output_dir=str(config.output_dir),
        seed=config.seed,
    )


def stored_summary(store: JobStore, name: str) -> MOFCampaignDocument | None:
    """The campaign's final document, if it finished."""
    from discoverflow.campaign import CampaignRecord

    record = CampaignRecord(store, name)
    output = record.output(record.latest("mof-summary"), load=True)
    return MOFCampaignDocument.model_validate(output) if output else None


def stored_state(store: JobStore, name: str) -> MOFCampaignState | None:
    """The state after the last finished round, if any."""
    states = round_states(store, name)
    return states[-1] if states else None


def build_mof_flow(
    config: MOFCampaignConfig, store: JobStore, checkpoint_dir: Path | None = None
) -> Flow | None:
    """The flow that finishes the campaign from its last finished round; None if complete."""
    summary = stored_summary(store, config.name)
    if summary is not None and len(summary.rounds) >= config.rounds:
        return None
    state = stored_state(store, config.name)
    flow = Flow([mof_discovery_maker(config, checkpoint_dir).make(resume=state)])
    flow.update_metadata({"campaign": config.name}, dynamic=True)
    return flow


def run_mof_campaign(
    config: MOFCampaignConfig, store_spec: str | None = None
) -> MOFCampaignDocument | None:
    """Run (or finish) a MOF campaign in this process; return its final document."""
    from discoverflow.campaign import run_flow_locally
    from discoverflow.stores import default_checkpoint_dir, make_store

    store = make_store(store_spec)
    flow = build_mof_flow(config, store, default_checkpoint_dir(store_spec))
    if flow is not None:
        run_flow_locally(flow, store, Path(config.output_dir))
    return stored_summary(store, config.name)


def check_mof_inputs(config: MOFCampaignConfig) -> list[str]:
    """Problems that would stop the campaign, found before any job runs."""
    import importlib.util

    needed = ["rdkit", "openbabel", "pormake"] + (["RASPA2"] if config.adsorption.enabled else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        return [
            f"the MOF workflow needs the [mof] extra (missing {', '.join(missing)}): "
            "pip install 'discoverflow[mof]'"
        ]
    from discoverflow.core.mof.assembly import AssemblyFailed, check_topology
    from discoverflow.core.mof.linkers import LinkerRejected, process_linker
    from discoverflow.core.mof.nodes import NODES
    from discoverflow.models.registry import LINKER_GENERATORS, available_plugins

    problems = []
    generators = available_plugins(LINKER_GENERATORS)
    if config.linkers.generator not in generators:
        problems.append(
            f"linkers.generator: no linker generator {config.linkers.generator!r} "
            f"(available: {', '.join(generators)})"
        )
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


def round_states(store: JobStore, name: str) -> list[MOFCampaignState]:
    """The state after each finished round, oldest first."""
    states = []
    from discoverflow.campaign import CampaignRecord

    for doc in CampaignRecord(store, name).docs("mof-update"):
        # the job's own output (index 1), not that of the round that replaced it
        found = store.query_one({"uuid": doc["uuid"], "index": 1}, load=True)
        if found and isinstance(found.get("output"), dict) and "round" in found["output"]:
            states.append(MOFCampaignState.model_validate(found["output"]))
    return sorted(states, key=lambda s: s.round)
