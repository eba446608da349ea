"""The coordinate pattern as a Maker: lookup, uncertainty-gated relaxations, fine-tuning."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from jobflow import Flow, Maker, Response, job
from pymatgen.core import Structure

from discoverflow.core.coordinate import KnownResult, ResultLookup, decide
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.routing import route_new_jobs
from discoverflow.schemas.active import (
    ActiveLearningDocument,
    ActiveResult,
    ActiveState,
    RoundReport,
)
from discoverflow.schemas.relax import RelaxBatchDocument


@dataclass
class ActiveLearningMaker(Maker):
    """Rounds of ``batch_size`` candidates. Each candidate is (1) looked up among computed
    results (same reduced formula and a StructureMatcher match), else (2) predicted by a CHGNet
    ensemble, (3) accepted when the ensemble's spread is below ``uncertainty_threshold`` or
    relaxed with ``relax_maker`` (the stand-in for DFT; VASP on clusters), and (4) relaxation
    results are buffered; every ``buffer_size`` of them fine-tune each member, and the saved
    versions serve the later rounds.
    """

    name: str = "active learning"
    uncertainty_threshold: float = 0.05
    batch_size: int = 16
    buffer_size: int = 8
    versions: tuple[str, ...] = ("0.3.0", "0.2.0")
    finetune_epochs: int = 30
    learning_rate: float = 1e-3
    model_dir: str | None = None
    relax_maker: Maker = field(default_factory=MLRelaxMaker)

    def make(self, structures: dict[str, Structure], known: RelaxBatchDocument | None = None):
        state = ActiveState(versions=list(self.versions))
        if known is not None:
            state.known = {
                r.candidate_id: (known.structures[r.candidate_id], r.energy_per_atom)
                for r in known.records
                if r.status == "relaxed" and r.candidate_id in known.structures
            }
        return self.round(structures, state)

    def ensemble(self, state: ActiveState):
        from discoverflow.models.ensemble import CHGNetEnsemble

        return CHGNetEnsemble(versions=state.versions, model_files=state.model_files)

    @job(metadata={"stage": "active-round", "runs_on": "gpu"})
    def round(self, structures: dict[str, Structure], state: ActiveState) -> Response:
        done = {r.candidate_id for r in state.results}
        batch = [cid for cid in structures if cid not in done][: self.batch_size]
        if not batch:
            return Response(
                output=ActiveLearningDocument(
                    rounds=state.rounds,
                    results=state.results,
                    model_files=state.model_files or state.versions,
                )
            )
        lookup = ResultLookup([KnownResult(cid, s, e) for cid, (s, e) in state.known.items()])
        decisions = decide(
            {c: structures[c] for c in batch},
            lookup,
            self.ensemble(state),
            self.uncertainty_threshold,
        )
        to_compute = {
            d.candidate_id: structures[d.candidate_id] for d in decisions if d.action == "dft"
        }
        jobs = [self.relax_maker.make(to_compute)] if to_compute else []
        relaxed = jobs[0].output if jobs else None
        update = self.update(structures, state, [vars(d) for d in decisions], relaxed)
        flow = Flow([*jobs, update], output=update.output, name=f"{self.name} round {state.round}")
        return Response(replace=route_new_jobs(flow))

    @job(metadata={"stage": "active-update", "runs_on": "gpu"})
    def update(
        self,
        structures: dict[str, Structure],
        state: ActiveState,
        decisions: list[dict],
        relaxed: RelaxBatchDocument | None,
    ) -> Response:
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
        next_round = self.round(structures, state)
        return Response(replace=route_new_jobs(next_round))

    def finetune(self, state: ActiveState, report: RoundReport) -> None:
        """Fine-tune every member on the buffer, save the versions, and measure the gain."""
        from discoverflow.models.ensemble import save_chgnet
        from discoverflow.models.finetune import finetune_chgnet

        buffered = [state.known[cid] for cid in state.buffer]
        structures = [s for s, _ in buffered]
        targets = np.array([e for _, e in buffered])
        ensemble = self.ensemble(state)
        report.mae_before = float(
            np.abs(ensemble.predict_energy_per_atom(structures) - targets).mean()
        )
        folder = Path(self.model_dir or "models").resolve()
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
