"""MOF discovery as jobflow Makers: linkers -> assembly -> MD stability -> cell optimisation
-> charges and CO2 uptake -> generator retraining, in rounds (MOFA's online learning)."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, Maker, Response, job
from pymatgen.core import Structure

from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.models.registry import load_linker_generator
from discoverflow.progress import stage_progress
from discoverflow.routing import route_new_jobs
from discoverflow.schemas.mof import (
    AdsorptionDocument,
    AdsorptionRecord,
    AssemblyDocument,
    LinkerBatchDocument,
    LinkerRecord,
    MOFCampaignDocument,
    MOFCampaignState,
    MOFRecord,
    MOFResult,
    RoundSummary,
    StabilityDocument,
    StabilityRecord,
)
from discoverflow.schemas.relax import RelaxBatchDocument


@dataclass
class LinkerGenerationMaker(Maker):
    """Propose linkers with a linker-generator plugin and process them (H, MMFF, anchors).

    ``seed_linkers`` (SMILES) are processed alongside the proposals in round 0.
    """

    name: str = "linker generation"
    generator: str = "growth"
    generator_options: dict[str, Any] = field(default_factory=dict)
    count: int = 16
    anchors: tuple[str, ...] = ("COO",)
    seed_linkers: tuple[str, ...] = ()
    max_heavy_atoms: int = 24

    @job(metadata={"stage": "mof-linkers", "runs_on": "gpu"})
    def make(
        self,
        generator_state: dict | None = None,
        round_index: int = 0,
        seed: int = 0,
        exclude: list[str] | None = None,
    ):
        """Proposals (none of ``exclude``, the linkers of earlier rounds) and their processing."""
        from discoverflow.core.mof.linkers import LinkerRejected, process_linker

        generator = load_linker_generator(
            self.generator, state=generator_state, **self.generator_options
        )
        proposals = [
            proposal
            for anchor in self.anchors
            for proposal in generator.propose(
                self.count, anchor=anchor, seed=seed + round_index, exclude=exclude or ()
            )
        ]
        if round_index == 0:
            from discoverflow.core.mof.growth import LinkerProposal

            proposals = [LinkerProposal(s) for s in self.seed_linkers] + proposals
        records, linkers = [], []
        with stage_progress("linkers", len(proposals)) as advance:
            for proposal in proposals:
                try:
                    linker = process_linker(
                        proposal.smiles,
                        seed=seed,
                        max_heavy_atoms=self.max_heavy_atoms,
                        history=proposal.history,
                    )
                except LinkerRejected as error:
                    records.append(
                        LinkerRecord(
                            smiles=proposal.smiles,
                            status="rejected",
                            reason=str(error),
                            history=proposal.history,
                        )
                    )
                else:
                    records.append(
                        LinkerRecord(
                            smiles=linker.smiles,
                            status="valid",
                            anchor_type=linker.anchor_type,
                            history=linker.history,
                            heavy_atoms=linker.heavy_atoms,
                        )
                    )
                    linkers.append(asdict(linker))
                advance()
        return LinkerBatchDocument(
            round=round_index,
            generator=self.generator,
            generator_version=getattr(getattr(generator, "state", None), "version", 0),
            records=records,
            linkers=linkers,
        )


@dataclass
class MOFAssemblyMaker(Maker):
    """Assemble MOFs from processed linkers on a pormake topology; reject overlapping atoms.

    One MOF per carboxylate linker, joined by ``linkers_per_mof - 1`` others drawn at random
    (carboxylate edges take them in turn; MOFA's pillared paddlewheels use two); pillared
    nodes take one pillar (a CN linker) per MOF. Cells are reduced to primitive ones.
    """

    name: str = "mof assembly"
    node: str = "Zn4O"
    topology: str = "pcu"
    supercell: int | None = None
    max_mofs: int = 32
    linkers_per_mof: int = 1
    primitive: bool = True
    overlap_scale: float = 0.7
    pair_minima: dict[str, float] | None = None
    seed: int = 0

    @job(data="structures", metadata={"stage": "mof-assembly", "runs_on": "cpu"})
    def make(self, linkers: LinkerBatchDocument) -> AssemblyDocument:
        from discoverflow.core.mof.assembly import AssemblyFailed, assemble_mof
        from discoverflow.core.mof.linkers import ProcessedLinker
        from discoverflow.core.mof.nodes import NODES

        processed = [ProcessedLinker(**data) for data in linkers.linkers]
        carboxylates = [p for p in processed if p.anchor_type == "COO"]
        pillars = [p for p in processed if p.anchor_type == "CN"]
        pillared = NODES[self.node].pillared if self.node in NODES else False
        rng = np.random.default_rng(self.seed + linkers.round)
        combos = []
        for index, first in enumerate(carboxylates[: self.max_mofs]):
            others = [c for k, c in enumerate(carboxylates) if k != index]
            extra = min(self.linkers_per_mof - 1, len(others))
            group = [first] + [others[k] for k in rng.choice(len(others), extra, replace=False)]
            pillar = pillars[int(rng.integers(len(pillars)))] if pillared and pillars else None
            combos.append((group, pillar))
        records, structures, cifs = [], {}, {}
        with stage_progress("assembly", len(combos)) as advance:
            for group, pillar in combos:
                names = [linker.smiles for linker in group] + ([pillar.smiles] if pillar else [])
                mof_id = f"mof-{self.node}-{self.topology}-" + candidate_id_for(names)
                record = MOFRecord(
                    mof_id=mof_id,
                    status="rejected",
                    node=self.node,
                    topology=self.topology,
                    linkers=[linker.smiles for linker in group],
                    pillar=pillar.smiles if pillar else None,
                    histories=[linker.history for linker in group]
                    + ([pillar.history] if pillar else []),
                )
                try:
                    mof = assemble_mof(
                        self.node,
                        group,
                        self.topology,
                        pillar,
                        self.supercell,
                        self.overlap_scale,
                        self.pair_minima,
                    )
                except AssemblyFailed as error:
                    record.reason = str(error)
                else:
                    structure = mof.structure
                    if self.primitive:
                        structure = structure.get_primitive_structure(tolerance=0.25)
                    record.status = "assembled"
                    record.formula = structure.composition.reduced_formula
                    record.n_atoms = len(structure)
                    record.closest_approach = mof.closest_approach
                    structures[mof_id] = structure
                    cifs[mof_id] = structure.to(fmt="cif")
                records.append(record)
                advance()
        return AssemblyDocument(
            round=linkers.round, records=records, structures=structures, cifs=cifs
        )


def _each_mof(structures: dict[str, Structure], label: str, checkpoint, record_type, compute):
    """``compute(mof_id, structure)`` for each MOF, reusing checkpointed records and recording
    a failure with its reason instead of stopping; each new record is checkpointed at once."""
    records = []
    with stage_progress(label, len(structures)) as advance:
        for mof_id, structure in structures.items():
            done = checkpoint.load(mof_id) if checkpoint else None
            if done is not None:
                record = record_type(**done)
            else:
                try:
                    record = compute(mof_id, structure)
                except Exception as error:
                    record = record_type(mof_id=mof_id, status="failed", reason=str(error))
                if checkpoint:
                    checkpoint.save(mof_id, record.model_dump())
            records.append(record)
            advance()
    return records


def _checkpoint(folder: str | None, name: str, settings: dict):
    from discoverflow.core.checkpoint import JsonCheckpoint

    return JsonCheckpoint(Path(folder), name, settings) if folder else None


def conventional_cell(structure: Structure | None) -> dict:
    """Space group and conventional lattice lengths of a cell (empty if it has none)."""
    if structure is None:
        return {}
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        analyzer = SpacegroupAnalyzer(structure, symprec=0.1)
        conventional = analyzer.get_conventional_standard_structure()
    except Exception:
        return {}
    return {
        "space_group": analyzer.get_space_group_symbol(),
        "conventional_abc": list(conventional.lattice.abc),
    }


def candidate_id_for(smiles: list[str]) -> str:
    """A short stable id from the linkers' SMILES."""
    import hashlib

    return hashlib.sha1("|".join(smiles).encode()).hexdigest()[:10]


@dataclass
class MOFStabilityMaker(Maker):
    """NPT MD with CHGNet; a MOF is stable when its lattice strain is below ``threshold``."""

    name: str = "mof stability"
    model: str = "0.3.0"
    temperature: float = 300.0
    pressure_pa: float = 101325.0
    steps: int = 2000
    timestep_fs: float = 0.5
    supercell: int = 1
    threshold: float = 0.1
    checkpoint_dir: str | None = None

    @job(metadata={"stage": "mof-stability", "runs_on": "gpu"})
    def make(self, assembly: AssemblyDocument) -> StabilityDocument:
        from discoverflow.core.mof.md import MDSettings, npt_md
        from discoverflow.models.chgnet import chgnet_calculator

        settings = MDSettings(
            temperature=self.temperature,
            pressure_pa=self.pressure_pa,
            steps=self.steps,
            timestep_fs=self.timestep_fs,
            supercell=self.supercell,
        )
        checkpoint = _checkpoint(
            self.checkpoint_dir, "mof-md", {"model": self.model, **asdict(settings)}
        )
        calculator = functools.cache(lambda: chgnet_calculator(self.model))

        def simulate(mof_id: str, structure: Structure) -> StabilityRecord:
            outcome = npt_md(structure, calculator(), settings)
            return StabilityRecord(
                mof_id=mof_id,
                status="done",
                strain=outcome.strain,
                volume_change=outcome.volume_change,
                mean_temperature=outcome.mean_temperature,
                steps=outcome.steps,
            )

        records = [
            r.model_copy(update={"stable": r.strain is not None and r.strain < self.threshold})
            for r in _each_mof(
                assembly.structures, "stability MD", checkpoint, StabilityRecord, simulate
            )
        ]
        return StabilityDocument(
            round=assembly.round,
            engine=f"chgnet-{self.model}",
            threshold=self.threshold,
            records=records,
        )


@job(data="output", metadata={"stage": "mof-select", "runs_on": "cpu"})
def select_stable(
    assembly: AssemblyDocument, stability: StabilityDocument, limit: int
) -> dict[str, Structure]:
    """The most stable MOFs (lowest strain first) that passed the threshold."""
    stable = sorted((r for r in stability.records if r.stable), key=lambda r: r.strain)
    return {r.mof_id: assembly.structures[r.mof_id] for r in stable[:limit]}


@dataclass
class AdsorptionMaker(Maker):
    """Charge equilibration and CO2 GCMC with RASPA2 for each relaxed MOF."""

    name: str = "co2 adsorption"
    temperature: float = 300.0
    pressure: float = 1.0e4
    cycles: int = 10000
    init_cycles: int = 1000
    cutoff: float = 12.0
    helium_cycles: int = 0
    checkpoint_dir: str | None = None

    @job(metadata={"stage": "mof-adsorption", "runs_on": "cpu"})
    def make(self, relaxed: RelaxBatchDocument) -> AdsorptionDocument:
        from discoverflow.core.mof.adsorption import GCMCSettings, co2_uptake

        settings = GCMCSettings(
            temperature=self.temperature,
            pressure=self.pressure,
            cycles=self.cycles,
            init_cycles=self.init_cycles,
            cutoff=self.cutoff,
            helium_cycles=self.helium_cycles,
        )
        checkpoint = _checkpoint(self.checkpoint_dir, "mof-gcmc", asdict(settings))

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

        records = _each_mof(relaxed.structures, "CO2 GCMC", checkpoint, AdsorptionRecord, adsorb)
        return AdsorptionDocument(
            temperature=self.temperature, pressure=self.pressure, records=records
        )


@dataclass
class MOFDiscoveryMaker(Maker):
    """Rounds of generate -> assemble -> MD stability -> optimise -> adsorb -> retrain.

    After each round the generator is retrained on the best MOFs so far when the training
    set has grown: the most stable ones (strain below ``training_strain``, lowest first) until
    ``adsorption_switch`` adsorption results exist, then those ranked by CO2 uptake.
    """

    name: str = "mof discovery"
    rounds: int = 3
    linker_maker: LinkerGenerationMaker = field(default_factory=LinkerGenerationMaker)
    assembly_maker: MOFAssemblyMaker = field(default_factory=MOFAssemblyMaker)
    stability_maker: MOFStabilityMaker = field(default_factory=MOFStabilityMaker)
    optimise_maker: Maker | None = field(
        default_factory=lambda: MLRelaxMaker(name="mof cell optimisation", fmax=0.1, steps=300)
    )
    adsorption_maker: AdsorptionMaker | None = field(default_factory=AdsorptionMaker)
    adsorb_per_round: int = 4
    training_strain: float = 0.25
    min_training: int = 1
    max_training: int = 8192
    adsorption_switch: int = 64
    output_dir: str | None = None
    seed: int = 0

    def make(self, generator_state: dict | None = None, resume: MOFCampaignState | None = None):
        """Start from round 0 (optionally with a trained generator) or from a stored state."""
        return self.round(resume or MOFCampaignState(generator_state=generator_state))

    @job(metadata={"stage": "mof-round", "runs_on": "cpu"})
    def round(self, state: MOFCampaignState) -> Response:
        if state.round >= self.rounds:
            summary = self.summary(state)
            return Response(addition=route_new_jobs(summary), output=summary.output)
        tried = sorted({s for r in state.results for s in [*r.linkers, r.pillar] if s})
        linkers = self.linker_maker.make(state.generator_state, state.round, self.seed, tried)
        assembly = self.assembly_maker.make(linkers.output)
        stability = self.stability_maker.make(assembly.output)
        jobs = [linkers, assembly, stability]
        relaxed = adsorption = None
        if self.optimise_maker is not None:
            chosen = select_stable(assembly.output, stability.output, self.adsorb_per_round)
            optimise = self.optimise_maker.make(chosen.output)
            jobs += [chosen, optimise]
            relaxed = optimise.output
            if self.adsorption_maker is not None:
                adsorb = self.adsorption_maker.make(relaxed)
                jobs.append(adsorb)
                adsorption = adsorb.output
        update = self.update(
            state, linkers.output, assembly.output, stability.output, relaxed, adsorption
        )
        flow = Flow([*jobs, update], output=update.output, name=f"{self.name} round {state.round}")
        return Response(replace=route_new_jobs(flow))

    @job(metadata={"stage": "mof-update", "runs_on": "cpu"})
    def update(
        self,
        state: MOFCampaignState,
        linkers: LinkerBatchDocument,
        assembly: AssemblyDocument,
        stability: StabilityDocument,
        relaxed: RelaxBatchDocument | None,
        adsorption: AdsorptionDocument | None,
    ) -> Response:
        strains = {r.mof_id: r for r in stability.records}
        relax_records = {r.candidate_id: r for r in relaxed.records} if relaxed else {}
        uptakes = {
            r.mof_id: r.uptake_mol_per_kg
            for r in (adsorption.records if adsorption else [])
            if r.status == "done"
        }
        for record in assembly.records:
            if record.status != "assembled":
                continue
            md = strains.get(record.mof_id)
            relax = relax_records.get(record.mof_id)
            cell = relaxed.structures.get(record.mof_id) if relaxed else None
            state.results.append(
                MOFResult(
                    mof_id=record.mof_id,
                    round=state.round,
                    linkers=record.linkers,
                    pillar=record.pillar,
                    histories=record.histories,
                    formula=record.formula,
                    strain=md.strain if md else None,
                    stable=bool(md and md.stable),
                    energy_per_atom=relax.energy_per_atom if relax else None,
                    lattice_abc=list(cell.lattice.abc) if cell is not None else None,
                    **conventional_cell(cell),
                    uptake_mol_per_kg=uptakes.get(record.mof_id),
                )
            )
        if relaxed and self.output_dir:
            folder = Path(self.output_dir) / "mofs"
            folder.mkdir(parents=True, exist_ok=True)
            for mof_id, structure in relaxed.structures.items():
                structure.to(filename=str(folder / f"{mof_id}.cif"))
        summary = self.summarise(state, linkers, assembly, stability, uptakes)
        self.retrain(state, summary)
        state.summaries.append(summary)
        state.round += 1
        return Response(output=state, replace=route_new_jobs(self.round(state)))

    def summarise(self, state, linkers, assembly, stability, uptakes) -> RoundSummary:
        done = [r for r in stability.records if r.status == "done"]
        stable = [r for r in done if r.stable]
        best = max(uptakes.items(), key=lambda item: item[1]) if uptakes else None
        return RoundSummary(
            round=state.round,
            generator_version=linkers.generator_version,
            linkers_proposed=len(linkers.records),
            linkers_valid=sum(r.status == "valid" for r in linkers.records),
            mofs_assembled=sum(r.status == "assembled" for r in assembly.records),
            mofs_rejected=sum(r.status == "rejected" for r in assembly.records),
            mofs_validated=len(done),
            stable=len(stable),
            stable_fraction=len(stable) / len(done) if done else None,
            strains=[r.strain for r in done],
            adsorption_results=len(uptakes),
            best_uptake=best[1] if best else None,
            best_mof=best[0] if best else None,
        )

    def training_set(self, results: list[MOFResult]) -> tuple[list[MOFResult], str]:
        adsorbed = [r for r in results if r.uptake_mol_per_kg is not None]
        if len(adsorbed) >= self.adsorption_switch:
            ranked = sorted(adsorbed, key=lambda r: -r.uptake_mol_per_kg)
            return ranked[: self.max_training], "uptake"
        stable = [r for r in results if r.strain is not None and r.strain < self.training_strain]
        return sorted(stable, key=lambda r: r.strain)[: self.max_training], "stability"

    def retrain(self, state: MOFCampaignState, summary: RoundSummary) -> None:
        """Retrain the generator when the training set has grown past ``min_training``."""
        from discoverflow.core.mof.growth import TrainingExample

        chosen, basis = self.training_set(state.results)
        if len(chosen) < self.min_training or len(chosen) <= state.trained_on:
            return
        examples = []
        for rank, result in enumerate(chosen):
            score = float(len(chosen) - rank)
            smiles = [*result.linkers, *([result.pillar] if result.pillar else [])]
            for index, linker in enumerate(smiles):
                history = result.histories[index] if index < len(result.histories) else []
                examples.append(TrainingExample(linker, history, score))
        generator = load_linker_generator(
            self.linker_maker.generator,
            state=state.generator_state,
            **self.linker_maker.generator_options,
        )
        new_state = generator.retrain(examples)
        state.generator_state = (
            asdict(new_state) if hasattr(new_state, "__dataclass_fields__") else new_state
        )
        state.trained_on = len(chosen)
        summary.retrained, summary.training_set, summary.training_basis = True, len(chosen), basis

    @job(metadata={"stage": "mof-summary", "runs_on": "cpu"})
    def summary(self, state: MOFCampaignState) -> MOFCampaignDocument:
        """Every round's summary and MOF, and the plot of strain per round."""
        plot = None
        if self.output_dir:
            from discoverflow.core.mof.plots import plot_stability_rounds

            folder = Path(self.output_dir)
            folder.mkdir(parents=True, exist_ok=True)
            plot = str(
                plot_stability_rounds(
                    state.summaries,
                    folder / "stability_per_round.png",
                    self.stability_maker.threshold,
                )
            )
        return MOFCampaignDocument(
            rounds=state.summaries,
            results=state.results,
            generator_state=state.generator_state,
            plot=plot,
        )
