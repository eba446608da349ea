"""The coordinate pattern as a Maker: lookup, uncertainty-gated relaxations, fine-tuning."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
from jobflow import Maker
from pymatgen.core import Structure

from discoverflow.core.crystal.coordinate import KnownResult, ResultLookup, decide
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.makers.rounds import RoundsMaker
from discoverflow.models.ensemble import CHGNetEnsemble, save_chgnet
from discoverflow.models.finetune import finetune_chgnet
from discoverflow.schemas.active import (
    ActiveLearningDocument,
    ActiveResult,
    ActiveState,
    RoundReport,
)
from discoverflow.schemas.relax import RelaxBatchDocument
from discoverflow.stores import default_model_dir


@dataclass
class ActiveLearningMaker(RoundsMaker):
    """Rounds of ``batch_size`` candidates. Each candidate is (1) looked up among computed
    results (same reduced formula and a StructureMatcher match), else (2) predicted by a CHGNet
    ensemble, (3) accepted when the ensemble's spread is below ``uncertainty_threshold`` or
    relaxed with ``relax_maker`` (the stand-in for DFT; VASP on clusters), and (4) relaxation
    results are buffered; every ``buffer_size`` of them fine-tune each member, and the saved
    versions serve the later rounds.
    """

    name: str = "active learning"
    stage: ClassVar[str] = "active"
    runs_on: ClassVar[str] = "gpu"
    uncertainty_threshold: float = 0.05
    batch_size: int = 16
    buffer_size: int = 8
    versions: tuple[str, ...] = ("0.3.0", "0.2.0")
    finetune_epochs: int = 30
    learning_rate: float = 1e-3
    model_dir: str | None = None  # default: beside the embedded store (see default_model_dir)
    relax_maker: Maker = field(default_factory=MLRelaxMaker)

    def make(self, structures: dict[str, Structure], known: RelaxBatchDocument | None = None):
        state = ActiveState(versions=list(self.versions))
        if known is not None:
            state.known = {
                r.candidate_id: (known.structures[r.candidate_id], r.energy_per_atom)
                for r in known.records
                if r.status == "relaxed" and r.candidate_id in known.structures
            }
        return self.next_round(state, structures)

    def ensemble(self, state: ActiveState):
        return CHGNetEnsemble(versions=state.versions, model_files=state.model_files)

    def batch(self, state: ActiveState, structures: dict[str, Structure]) -> list[str]:
        done = {r.candidate_id for r in state.results}
        return [cid for cid in structures if cid not in done][: self.batch_size]

    def finished(self, state: ActiveState, structures: dict[str, Structure]) -> bool:
        return not self.batch(state, structures)

    def finish(self, state: ActiveState) -> ActiveLearningDocument:
        return ActiveLearningDocument(
            rounds=state.rounds,
            results=state.results,
            model_files=state.model_files or state.versions,
        )

    def plan(self, state: ActiveState, structures: dict[str, Structure]):
        lookup = ResultLookup([KnownResult(cid, s, e) for cid, (s, e) in state.known.items()])
        decisions = decide(
            {c: structures[c] for c in self.batch(state, structures)},
            lookup,
            self.ensemble(state),
            self.uncertainty_threshold,
        )
        to_compute = {
            d.candidate_id: structures[d.candidate_id] for d in decisions if d.action == "dft"
        }
        jobs = [self.relax_maker.make(to_compute)] if to_compute else []
        relaxed = jobs[0].output if jobs else None
        return jobs, {"decisions": [vars(d) for d in decisions], "relaxed": relaxed}

    def advance(
        self, state: ActiveState, outputs: dict, structures: dict[str, Structure]
    ) -> ActiveState:
        decisions, relaxed = outputs["decisions"], outputs["relaxed"]
        records = {r.candidate_id: r for r in (relaxed.records if relaxed else [])}
        failed = 0
        for decision in decisions:
            cid = decision["candidate_id"]
            energy, source = decision["energy_per_atom"], decision["source"]
            if decision["action"] == "dft":
                record = records.get(cid)
                if record is None or record.status != "relaxed":
                    failed += 1
                    energy, source = None, (record.reason if record else "relaxation missing")
                else:
                    energy, source = record.energy_per_atom, relaxed.engine
                    state.known[cid] = (relaxed.structures[cid], energy)
                    state.buffer.append(cid)
            state.results.append(
                ActiveResult(
                    candidate_id=cid,
                    formula=structures[cid].composition.reduced_formula,
                    action=decision["action"],
                    energy_per_atom=energy,
                    uncertainty=decision["uncertainty"],
                    source=source,
                    round=state.round,
                )
            )
        report = RoundReport(
            round=state.round,
            lookups=sum(d["action"] == "lookup" for d in decisions),
            ml_accepted=sum(d["action"] == "ml" for d in decisions),
            dft_runs=sum(d["action"] == "dft" for d in decisions),
            dft_failed=failed,
        )
        if len(state.buffer) >= self.buffer_size:
            self.finetune(state, report)
        state.rounds.append(report)
        state.round += 1
        return state

    def finetune(self, state: ActiveState, report: RoundReport) -> None:
        """Fine-tune every member on the buffer, save the versions, and measure the gain."""
        buffered = [state.known[cid] for cid in state.buffer]
        structures = [s for s, _ in buffered]
        targets = np.array([e for _, e in buffered])
        ensemble = self.ensemble(state)
        report.mae_before = float(
            np.abs(ensemble.predict_energy_per_atom(structures) - targets).mean()
        )
        folder = Path(self.model_dir or default_model_dir()).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for index, member in enumerate(ensemble.members()):
            tuned = finetune_chgnet(
                member, structures, targets, self.finetune_epochs, self.learning_rate, seed=index
            )
            path = folder / f"chgnet-round{state.round}-member{index}.pt"
            save_chgnet(tuned, path)
            files.append(str(path))
        state.versions, state.model_files, state.buffer = [], files, []
        after = self.ensemble(state).predict_energy_per_atom(structures)
        report.mae_after = float(np.abs(after - targets).mean())
        report.finetuned = True
        report.model_files = files
