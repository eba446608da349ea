"""Near-duplicate removal among screened candidates."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import job

from discoverflow.core.crystal.dedup import DedupSettings, deduplicate
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.chunks import READS_CHUNKS, candidate_structures
from discoverflow.makers.documents import StageRecords
from discoverflow.progress import stage_progress
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.records import Stage, Status
from discoverflow.schemas.screen import DedupDocument, ScreenDocument


@dataclass
class DedupMaker(StageMaker):
    """Keep the lowest-energy member of each StructureMatcher group (per reduced formula).

    Parameters
    ----------
    name
        The job's name.
    settings
        A ``DedupSettings`` (or its dict): the matcher's tolerances and the processes used.
    """

    name: str = "dedup"
    settings: DedupSettings = field(default_factory=DedupSettings)

    @job(
        data=["kept", "duplicate_of"],
        output_schema=DedupDocument,
        config=READS_CHUNKS,
        metadata=placed(JobStage.DEDUP, RunsOn.CPU),
    )
    def make(self, generation: GenerationDocument, screen: ScreenDocument) -> DedupDocument:
        """Group the candidates the screen kept and keep one of each group.

        Parameters
        ----------
        generation
            The generation holding the candidates' structures.
        screen
            The screen whose ``kept`` candidates are grouped.

        Returns
        -------
        DedupDocument
            The kept candidates and, for each removed one, the candidate it duplicates.
        """
        records = screen.kept
        structures = candidate_structures(generation, [r.candidate_id for r in records])
        with stage_progress("dedup", len(records)) as advance:
            outcome = deduplicate(
                list(structures.values()),
                [r.formation_energy_per_atom for r in records],
                self.settings,
            )
            advance(len(records))
        duplicate_of = {
            records[i].candidate_id: records[j].candidate_id
            for i, j in outcome.duplicate_of.items()
        }
        if (stage_results := StageRecords.of_running_job()) is not None:
            stage_results.write(
                Stage.DEDUP,
                {cid: {"duplicate_of": original} for cid, original in duplicate_of.items()},
                Status.DUPLICATE,
                {cid: f"matches {original}" for cid, original in duplicate_of.items()},
            )
        return DedupDocument(
            **self.settings.model_dump(exclude={"workers"}),
            n_input=len(records),
            n_kept=len(outcome.kept),
            kept=[records[i] for i in outcome.kept],
            duplicate_of=duplicate_of,
        )
