"""MOFA's online-learning loop as rounds: linkers -> assembly -> structure checks and pore
descriptors -> MD stability -> cell optimisation -> charges and CO2 uptake -> retraining."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

from jobflow import Flow, OutputReference, job

from discoverflow.core.mof.plots import plot_stability_rounds
from discoverflow.core.mof.selection import (
    RetrainingSettings,
    training_examples,
    training_set,
)
from discoverflow.core.structures import conventional_cell
from discoverflow.makers.mof.assembly import MOFAssemblyMaker
from discoverflow.makers.mof.evaluation import MOFStagesMaker, save_cells
from discoverflow.makers.mof.linkers import LinkerGenerationMaker
from discoverflow.makers.rounds import RoundsMaker
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.mof import (
    MOFCampaignDocument,
    MOFCampaignState,
    MOFResult,
    RoundSummary,
)


@dataclass
class MOFDiscoveryMaker(RoundsMaker, MOFStagesMaker):
    """Rounds of generate -> assemble -> check -> MD stability -> optimise -> adsorb -> retrain.

    MOFs failing a structure check (``characterise_maker``, None to skip) leave the round
    before the MD. The ``per_round`` most stable MOFs of a round are optimised and adsorbed.
    After each round the generator is retrained when its training set has grown
    (``retraining``): the most stable MOFs until enough adsorption results exist, then those
    ranked by CO2 uptake.

    Parameters
    ----------
    name, characterise_maker, stability_maker, optimise_maker, adsorption_maker, per_round
        As in ``MOFStagesMaker`` (``per_round``: per round; ``output_dir``: with the plot
        of strain per round).
    output_dir
        Where CIFs and the plot are written (None: nowhere).
    rounds
        Rounds of generation and retraining.
    linker_maker
        The linker generation.
    assembly_maker
        The assembly.
    retraining
        A ``RetrainingSettings`` (or its dict): when and on what the generator is retrained.
    seed
        Seed of linker proposals.
    """

    name: str = "mof discovery"
    round_stage: ClassVar[JobStage] = JobStage.MOF_ROUND
    update_stage: ClassVar[JobStage] = JobStage.MOF_UPDATE
    rounds: int = 3
    linker_maker: LinkerGenerationMaker = field(default_factory=LinkerGenerationMaker)
    assembly_maker: MOFAssemblyMaker = field(default_factory=MOFAssemblyMaker)
    retraining: RetrainingSettings = field(default_factory=RetrainingSettings)
    seed: int = 0

    def __post_init__(self) -> None:
        self.retraining = RetrainingSettings.model_validate(self.retraining)

    def make(
        self, generator_state: dict | None = None, resume: MOFCampaignState | None = None
    ) -> Flow:
        """The campaign's rounds, from round 0 or from a stored state.

        Parameters
        ----------
        generator_state
            A trained linker generator's state to start from (None: the generator's own).
        resume
            The state after the last finished round of an earlier run (``stored_state``).

        Returns
        -------
        Flow
            Its output the ``MOFCampaignDocument``: every round's summary and MOF.
        """
        first = self.next_round(resume or MOFCampaignState(generator_state=generator_state))
        return Flow([first], output=first.output, name=self.name)

    def finished(self, state: MOFCampaignState, inputs=None) -> bool:
        return state.round >= self.rounds

    def plan(self, state: MOFCampaignState, inputs=None):
        tried = sorted({s for r in state.results for s in [*r.linkers, r.pillar] if s})
        linkers = self.linker_maker.make(state.generator_state, state.round, self.seed, tried)
        assembly = self.assembly_maker.make(linkers.output)
        jobs, outputs = self.evaluation_jobs(assembly.output)
        outputs |= {"linkers": linkers.output, "assembly": assembly.output}
        return [linkers, assembly, *jobs], outputs

    def advance(self, state: MOFCampaignState, outputs: dict, inputs=None) -> MOFCampaignState:
        assembly, stability = outputs["assembly"], outputs["stability"]
        relaxed, adsorption = outputs["relaxed"], outputs["adsorption"]
        strains = {r.mof_id: r for r in stability.records}
        checks = outputs.get("characterisation")
        inspected = {r.mof_id: r for r in checks.records} if checks else {}
        relax_records = {r.candidate_id: r for r in relaxed.records} if relaxed else {}
        uptakes = {
            r.mof_id: r.uptake_mol_per_kg
            for r in (adsorption.records if adsorption else [])
            if r.uptake_mol_per_kg is not None
        }
        for record in assembly.records:
            if record.status != "assembled":
                continue
            md = strains.get(record.mof_id)
            seen = inspected.get(record.mof_id)
            pores = (seen.pores or {}) if seen else {}
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
                    checks_passed=seen.status == "passed" if seen else None,
                    checks_reason=seen.reason if seen else None,
                    open_metal_sites=len(seen.checks.get("open_metal_sites", [])) if seen else None,
                    largest_included_sphere=pores.get("largest_included_sphere"),
                    largest_free_sphere=pores.get("largest_free_sphere"),
                    accessible_surface_area_m2_g=pores.get("accessible_surface_area_m2_g"),
                    void_fraction=pores.get("void_fraction"),
                    strain=md.strain if md else None,
                    stable=bool(md and md.stable),
                    energy_per_atom=relax.energy_per_atom if relax else None,
                    lattice_abc=list(cell.lattice.abc) if cell is not None else None,
                    **conventional_cell(cell),
                    uptake_mol_per_kg=uptakes.get(record.mof_id),
                )
            )
        save_cells(relaxed, self.output_dir)
        summary = self.summarise(state, outputs["linkers"], assembly, stability, uptakes)
        summary.mofs_failed_checks = sum(r.status == "failed" for r in inspected.values())
        state.summaries.append(summary)
        state.round += 1
        return state

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

    def retraining_due(self, state: MOFCampaignState) -> bool:
        """Has the training set grown past ``min_examples`` and past what it was trained on?"""
        chosen, _ = training_set(state.results, self.retraining)
        return len(chosen) >= self.retraining.min_examples and len(chosen) > state.trained_on

    def next_round(self, state, inputs=None):
        """The next round, after retraining the generator in its own GPU job when due."""
        if isinstance(state, OutputReference) or not self.retraining_due(state):
            return super().next_round(state, inputs)
        retrain = self.tagged(
            self.retrain_generator(state), JobStage.MOF_RETRAIN, "retrain", RunsOn.GPU
        )
        after = super().next_round(retrain.output, inputs)
        return Flow([retrain, after], output=after.output, name=f"{self.name} retrain")

    @job
    def retrain_generator(self, state: MOFCampaignState) -> MOFCampaignState:
        """The state with the generator retrained on the training set (the last round's
        summary says so); a campaign resumes from it like from a round's update."""
        self.retrain(state, state.summaries[-1])
        return state

    def retrain(self, state: MOFCampaignState, summary: RoundSummary) -> None:
        """Retrain the generator on the training set, when due."""
        if not self.retraining_due(state):
            return
        chosen, basis = training_set(state.results, self.retraining)
        generator = self.linker_maker.generator(state.generator_state)
        new_state = generator.retrain(training_examples(chosen))
        state.generator_state = (
            asdict(new_state) if hasattr(new_state, "__dataclass_fields__") else new_state
        )
        state.trained_on = len(chosen)
        summary.retrained, summary.training_set, summary.training_basis = True, len(chosen), basis

    def finish(self, state: MOFCampaignState):
        return self.summary(state)

    @job(metadata=placed(JobStage.MOF_SUMMARY, RunsOn.CPU))
    def summary(self, state: MOFCampaignState) -> MOFCampaignDocument:
        """Every round's summary and MOF, and the plot of strain per round."""
        plot = None
        if self.output_dir:
            folder = Path(self.output_dir)
            folder.mkdir(parents=True, exist_ok=True)
            plot = str(
                plot_stability_rounds(
                    state.summaries,
                    folder / "stability_per_round.png",
                    self.stability_maker.settings.stable_strain,
                )
            )
        return MOFCampaignDocument(
            rounds=state.summaries,
            results=state.results,
            generator_state=state.generator_state,
            plot=plot,
        )
