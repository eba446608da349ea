"""Linker proposals from a linker-generator plugin, processed into anchored 3D linkers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from jobflow import job

from discoverflow.core.mof.generation import LinkerProposal, LinkerSettings
from discoverflow.core.mof.linkers import LinkerRejected, process_linker
from discoverflow.makers.base import StageMaker
from discoverflow.plugins import load_linker_generator
from discoverflow.progress import stage_progress
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.mof import LinkerBatchDocument, LinkerRecord


@dataclass
class LinkerGenerationMaker(StageMaker):
    """Propose linkers with a linker-generator plugin and process them (H, MMFF, anchors).

    ``settings.seed_linkers`` (SMILES) are processed alongside the proposals in round 0;
    ``anchors`` are the anchor types the node takes (carboxylates, nitrile pillars).

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``LinkerSettings`` (or a dict of it): the stage's settings.
    anchors
        The anchor groups the linkers must carry (the assembly's).
    """

    name: str = "linker generation"
    settings: LinkerSettings = field(default_factory=LinkerSettings)
    anchors: tuple[str, ...] = ("COO",)

    def generator(self, state: dict | None = None):
        """The linker generator, continued from a stored ``state``."""
        return load_linker_generator(
            self.settings.generator, state=state, **self.settings.generator_options
        )

    @job(metadata=placed(JobStage.MOF_LINKERS, RunsOn.GPU))
    def make(
        self,
        generator_state: dict | None = None,
        round_index: int = 0,
        seed: int = 0,
        exclude: list[str] | None = None,
    ) -> LinkerBatchDocument:
        """Proposals (none of ``exclude``, the linkers of earlier rounds) and their processing.

        Parameters
        ----------
        generator_state
            A trained generator's state (None: the generator's own).
        round_index
            The round (seeds and names).
        seed
            The campaign's seed.
        exclude
            Linkers tried in earlier rounds.

        Returns
        -------
        LinkerBatchDocument
            The round's linkers, valid or not, with reasons.
        """
        settings = self.settings
        generator = self.generator(generator_state)
        proposals = [
            proposal
            for anchor in self.anchors
            for proposal in generator.propose(
                settings.per_round, anchor=anchor, seed=seed + round_index, exclude=exclude or ()
            )
        ]
        if round_index == 0:
            proposals = [LinkerProposal(s) for s in settings.seed_linkers] + proposals
        records, linkers = [], []
        with stage_progress("linkers", len(proposals)) as advance:
            for proposal in proposals:
                try:
                    linker = process_linker(
                        proposal.smiles,
                        seed=seed,
                        max_heavy_atoms=settings.max_heavy_atoms,
                        history=proposal.history,
                    )
                except LinkerRejected as error:
                    record = LinkerRecord(
                        smiles=proposal.smiles,
                        status="rejected",
                        reason=str(error),
                        history=proposal.history,
                    )
                else:
                    record = LinkerRecord(
                        smiles=linker.smiles,
                        status="valid",
                        anchor_type=linker.anchor_type,
                        history=linker.history,
                        heavy_atoms=linker.heavy_atoms,
                    )
                    linkers.append(asdict(linker))
                records.append(record)
                advance()
        return LinkerBatchDocument(
            round=round_index,
            generator=settings.generator,
            generator_version=getattr(getattr(generator, "state", None), "version", 0),
            records=records,
            linkers=linkers,
        )
