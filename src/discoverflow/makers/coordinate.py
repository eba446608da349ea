"""The coordinate pattern as a Maker: lookup, uncertainty-gated relaxations, fine-tuning."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
from pymatgen.core import Structure

from discoverflow.core.checkpoint import fingerprint
from discoverflow.core.crystal.coordinate import (
    Action,
    CoordinateSettings,
    KnownResult,
    ResultLookup,
    decide,
)
from discoverflow.errors import ConfigError
from discoverflow.makers.base import StageMaker
from discoverflow.makers.relax import MLRelaxMaker, RelaxMaker
from discoverflow.makers.rounds import RoundsMaker
from discoverflow.models.base import FineTunable, UncertaintyModel
from discoverflow.models.ensemble import EnsembleModel
from discoverflow.plugins import load_model
from discoverflow.routing import JobStage, RunsOn
from discoverflow.schemas.active import (
    ActiveLearningDocument,
    ActiveResult,
    ActiveState,
    RoundReport,
)
from discoverflow.schemas.relax import RelaxBatchDocument
from discoverflow.stores import default_model_dir


def uncertainty_model(name: str, options: dict) -> UncertaintyModel:
    """The uncertainty model plugin ``name`` with ``options``; an error if it has no spread."""
    model = load_model(name, **options)
    if not isinstance(model, UncertaintyModel):
        raise ConfigError(f"model {name!r} gives no uncertainty (predict_with_uncertainty)")
    return model


def member_names(model: UncertaintyModel) -> list[str]:
    return model.member_names() if isinstance(model, EnsembleModel) else [model.name]


@dataclass
class CoordinateMaker(RoundsMaker, StageMaker):
    """Rounds of ``settings.batch_size`` candidates. Each candidate is (1) looked up among
    computed results (same reduced formula and a StructureMatcher match), else (2) predicted by
    the uncertainty model (``settings.model``: by default an ensemble of CHGNet and SevenNet),
    (3) accepted when its spread is below ``settings.uncertainty_threshold`` or relaxed with
    ``relax_maker`` (the stand-in for DFT; VASP on clusters), and (4) relaxation results are
    buffered; every ``settings.buffer_size`` of them fine-tune the members that can be, and
    the saved versions serve the later rounds.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``CoordinateSettings`` (or a dict of it): the stage's settings.
    model_dir
        Where fine-tuned models are saved (None: beside the embedded store, see
        ``default_model_dir``).
    relax_maker
        The relax Maker of the candidates the model is unsure of.
    """

    name: str = "active learning"
    round_stage: ClassVar[JobStage] = JobStage.ACTIVE_ROUND
    update_stage: ClassVar[JobStage] = JobStage.ACTIVE_UPDATE
    runs_on: ClassVar[RunsOn] = RunsOn.GPU
    settings: CoordinateSettings = field(default_factory=CoordinateSettings)
    model_dir: str | None = None  # default: beside the embedded store (see default_model_dir)
    relax_maker: RelaxMaker = field(default_factory=MLRelaxMaker)

    def make(
        self,
        structures: dict[str, Structure],
        known: RelaxBatchDocument | None = None,
        known_inputs: dict[str, Structure] | None = None,
    ):
        """Rounds over ``structures``; ``known`` results (and the structures they were
        computed from, ``known_inputs``) are looked up.

        Parameters
        ----------
        structures
            The candidates, by id.
        known
            Computed results to look candidates up in.
        known_inputs
            The structures those results were computed from (a match to one is looked up too).

        Returns
        -------
        Job
            The first round; its output (after the last round) the ``ActiveLearningDocument``.
        """
        state = ActiveState(model=self.settings.model, model_options=self.settings.model_options)
        if known is not None:
            state.known = {
                r.candidate_id: (known.structures[r.candidate_id], r.energy_per_atom)
                for r in known.records
                if r.status == "relaxed" and r.candidate_id in known.structures
            }
        state.inputs = {k: s for k, s in (known_inputs or {}).items() if k in state.known}
        return self.next_round(state, structures)

    def ensemble(self, state: ActiveState) -> UncertaintyModel:
        return uncertainty_model(state.model, state.model_options)

    def batch(self, state: ActiveState, structures: dict[str, Structure]) -> list[str]:
        done = {r.candidate_id for r in state.results}
        return [cid for cid in structures if cid not in done][: self.settings.batch_size]

    def finished(self, state: ActiveState, structures: dict[str, Structure]) -> bool:
        return not self.batch(state, structures)

    def finish(self, state: ActiveState) -> ActiveLearningDocument:
        keys = {r.candidate_id: r.source for r in state.results if r.action == Action.LOOKUP}
        keys |= {r.candidate_id: r.candidate_id for r in state.results if r.action == Action.RELAX}
        found = {cid: state.known[key][0] for cid, key in keys.items() if key in state.known}
        return ActiveLearningDocument(
            rounds=state.rounds,
            results=state.results,
            model=state.model,
            model_options=state.model_options,
            structures=found,
        )

    def plan(self, state: ActiveState, structures: dict[str, Structure]):
        lookup = ResultLookup([KnownResult(cid, s, e) for cid, (s, e) in state.known.items()])
        for cid, structure in state.inputs.items():
            lookup.add(KnownResult(cid, structure, state.known[cid][1]))
        model = self.ensemble(state)
        decisions = decide(
            {c: structures[c] for c in self.batch(state, structures)},
            lookup,
            model,
            self.settings.uncertainty_threshold,
        )
        to_compute = {
            d.candidate_id: structures[d.candidate_id]
            for d in decisions
            if d.action == Action.RELAX
        }
        jobs = [self.relax_maker.make(to_compute)] if to_compute else []
        relaxed = jobs[0].output if jobs else None
        outputs = {
            "decisions": [vars(d) | {"action": d.action.value} for d in decisions],
            "relaxed": relaxed,
        }
        return jobs, outputs | {"models": member_names(model)}

    def advance(
        self, state: ActiveState, outputs: dict, structures: dict[str, Structure]
    ) -> ActiveState:
        decisions, relaxed = outputs["decisions"], outputs["relaxed"]
        records = {r.candidate_id: r for r in (relaxed.records if relaxed else [])}
        failed = 0
        for decision in decisions:
            cid = decision["candidate_id"]
            energy, source = decision["energy_per_atom"], decision["source"]
            record = records.get(cid)
            if decision["action"] == Action.RELAX:
                if record is None or record.status != "relaxed":
                    failed += 1
                    energy, source = None, (record.reason if record else "relaxation missing")
                else:
                    energy, source = record.energy_per_atom, relaxed.engine
                    state.known[cid] = (relaxed.structures[cid], energy)
                    state.inputs[cid] = structures[cid]
                    state.buffer.append(cid)
            state.results.append(
                ActiveResult(
                    candidate_id=cid,
                    formula=structures[cid].composition.reduced_formula,
                    action=decision["action"],
                    energy_per_atom=energy,
                    uncertainty=decision["uncertainty"],
                    predicted_energy_per_atom=decision.get("predicted"),
                    source=source,
                    relax_status=(record.status if record else "failed")
                    if decision["action"] == Action.RELAX
                    else None,
                    models=outputs["models"] if decision["action"] != Action.LOOKUP else [],
                    round=state.round,
                )
            )
        report = RoundReport(
            round=state.round,
            lookups=sum(d["action"] == Action.LOOKUP for d in decisions),
            ml_accepted=sum(d["action"] == Action.ML for d in decisions),
            relax_runs=sum(d["action"] == Action.RELAX for d in decisions),
            relax_failed=failed,
        )
        if len(state.buffer) >= self.settings.buffer_size and self.settings.finetune_epochs:
            self.finetune(state, report)
        state.rounds.append(report)
        state.round += 1
        return state

    def finetune(self, state: ActiveState, report: RoundReport) -> None:
        """Fine-tune the members on the buffer, save the versions, and measure the gain."""
        model = self.ensemble(state)
        if not isinstance(model, FineTunable):
            return
        buffered = [state.known[cid] for cid in state.buffer]
        structures = [s for s, _ in buffered]
        targets = np.array([e for _, e in buffered])
        before = model.predict_energy_per_atom(structures)
        report.mae_before = float(np.abs(before - targets).mean())
        folder = Path(self.model_dir or default_model_dir()).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        options = model.finetuned(
            structures,
            targets,
            self.settings.finetune_epochs,
            self.settings.learning_rate,
            folder / f"round{state.round}-{fingerprint(state.buffer)[:8]}",
        )
        state.model_options = {**state.model_options, **options}
        state.buffer = []
        after = self.ensemble(state).predict_energy_per_atom(structures)
        report.mae_after = float(np.abs(after - targets).mean())
        report.finetuned = True
        report.model_options = state.model_options
