"""Near-duplicate removal among screened candidates."""

from __future__ import annotations

from dataclasses import dataclass

from jobflow import Maker, job

from discoverflow.core.dedup import MatcherSettings, deduplicate
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.screen import DedupDocument, ScreenDocument


@dataclass
class DedupMaker(Maker):
    """Keep the lowest-energy member of each StructureMatcher group (per reduced formula)."""

    name: str = "dedup"
    ltol: float = 0.2
    stol: float = 0.3
    angle_tol: float = 5.0
    workers: int | None = None

    @job(output_schema=DedupDocument, metadata={"stage": "dedup", "runs_on": "cpu"})
    def make(self, generation: GenerationDocument, screen: ScreenDocument) -> DedupDocument:
        records = screen.kept
        outcome = deduplicate(
            [generation.structures[r.candidate_id] for r in records],
            [r.formation_energy_per_atom for r in records],
            MatcherSettings(self.ltol, self.stol, self.angle_tol),
            self.workers,
        )
        return DedupDocument(
            ltol=self.ltol,
            stol=self.stol,
            angle_tol=self.angle_tol,
            n_input=len(records),
            kept=[records[i] for i in outcome.kept],
            duplicate_of={
                records[i].candidate_id: records[j].candidate_id
                for i, j in outcome.duplicate_of.items()
            },
        )
