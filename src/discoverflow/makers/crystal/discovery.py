"""The crystal discovery flow: references, substitution, screen, dedup, relax, hull."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jobflow import Flow, Maker, OutputReference
from pymatgen.core import Structure

from discoverflow.core.crystal.known_phases import KnownPhase
from discoverflow.makers.coordinate import CoordinateMaker
from discoverflow.makers.crystal.chunks import finish_chunks
from discoverflow.makers.crystal.coordinate import coordinate_selected
from discoverflow.makers.crystal.dedup import DedupMaker
from discoverflow.makers.crystal.generators import ValidityFilterMaker
from discoverflow.makers.crystal.hull import HullMaker
from discoverflow.makers.crystal.properties import PropertyScreenMaker
from discoverflow.makers.crystal.references import ReferenceMaker
from discoverflow.makers.crystal.scorecard import AuditMaker, score_campaign
from discoverflow.makers.crystal.screen import MLScreenMaker
from discoverflow.makers.crystal.substitution import SubstitutionMaker
from discoverflow.makers.relax import MLRelaxMaker, RelaxMaker, RelaxSelectedMaker
from discoverflow.makers.views import DocumentsMaker
from discoverflow.schemas.candidate import CANDIDATES


@dataclass
class FinishedStages:
    """Outputs an earlier run of the same campaign left in the store.

    Finished stages are referenced instead of rerun; batches of an unfinished stage
    are passed on so that only the remaining candidates are screened or relaxed.
    """

    references: OutputReference | None = None
    generation: OutputReference | None = None
    generation_missing_chunks: list[str] = field(default_factory=list)
    validity: OutputReference | None = None
    validity_missing_chunks: list[str] = field(default_factory=list)
    screen_batches: list[OutputReference] = field(default_factory=list)
    screen: OutputReference | None = None
    dedup: OutputReference | None = None
    property_screen: OutputReference | None = None
    relax_batches: list[OutputReference] = field(default_factory=list)
    relax: OutputReference | None = None
    hull: OutputReference | None = None
    scorecard: OutputReference | None = None


@dataclass
class CrystalDiscoveryMaker(Maker):
    """exa-AMD's pipeline as one dynamic flow; each stage is a replaceable Maker.

    ``generation_maker`` is any generator Maker (substitution by default; random crystals or
    the user's structures for the directive pattern), optionally followed by a validity filter.

    ``relax_maker`` relaxes both the candidates and the elemental references, so that
    formation energies compare like with like; it may be any Maker whose ``make`` takes
    ``{candidate_id: structure}`` and outputs a ``RelaxBatchDocument``. With a
    ``coordinate_maker`` the candidates' relax stage is the coordinate pattern instead
    (lookup, ensemble prediction, relaxation with its ``relax_maker`` only when unsure).
    After the hull, ``audit_maker`` relaxes a sample of the candidates the screen rejected
    (with ``relax_maker``) and a last job scores the campaign (``score_campaign``); the
    ``documents_maker`` job builds the ``candidates`` documents at the end.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    generation_maker
        Any generator Maker (``make(templates, elements)``).
    validity_maker
        The validity filter after generation (None: none).
    screen_maker
        The ML screen.
    dedup_maker
        The deduplication (None: none).
    property_maker
        A property screen before relaxing (None: none).
    relax_maker
        A relax Maker for candidates, references and the audit.
    coordinate_maker
        The coordinate pattern instead of relaxing every selected candidate (None: relax
        them all).
    hull_maker
        The hull stage.
    audit_maker
        The screen's audit (None: no audit).
    documents_maker
        The job that builds the candidates' documents at the end (None: none).
    """

    name: str = "crystal discovery"
    generation_maker: Maker = field(default_factory=SubstitutionMaker)
    validity_maker: ValidityFilterMaker | None = None
    screen_maker: MLScreenMaker = field(default_factory=MLScreenMaker)
    dedup_maker: DedupMaker | None = field(default_factory=DedupMaker)
    property_maker: PropertyScreenMaker | None = None
    relax_maker: RelaxMaker = field(default_factory=MLRelaxMaker)
    coordinate_maker: CoordinateMaker | None = None
    hull_maker: HullMaker = field(default_factory=HullMaker)
    audit_maker: AuditMaker | None = field(default_factory=AuditMaker)
    documents_maker: DocumentsMaker | None = field(
        default_factory=lambda: DocumentsMaker(collections=(CANDIDATES,))
    )

    def make(
        self,
        templates: dict[str, Structure],
        elements: list[str],
        known_phases: list[KnownPhase] | dict[str, Structure] | None = None,
        finished: FinishedStages | None = None,
    ) -> Flow:
        """The stage's jobs.

        Parameters
        ----------
        templates
            The template structures, by name.
        elements
            The target elements.
        known_phases
            Known phases of the system, placed on the hull too.
        finished
            Outputs an earlier run of the campaign left in the store: those stages are not run
            again.

        Returns
        -------
        Flow
            The campaign's jobs; its output the ``HullDocument``.
        """
        done = finished or FinishedStages()
        jobs = []

        def add(step):
            jobs.append(step)
            return step.output

        references = done.references or add(
            ReferenceMaker(relax_maker=self.relax_maker).make(elements, known_phases)
        )
        generation = done.generation or add(self.generation_maker.make(templates, elements))
        if done.generation_missing_chunks:
            generation = add(
                finish_chunks(
                    self.generation_maker,
                    [templates, elements],
                    generation,
                    done.generation_missing_chunks,
                )
            )
        if self.validity_maker is not None:
            validity = done.validity or add(self.validity_maker.make(generation))
            if done.validity and done.validity_missing_chunks:
                validity = add(
                    finish_chunks(
                        self.validity_maker, [generation], validity, done.validity_missing_chunks
                    )
                )
            generation = validity
        screen = done.screen or add(
            self.screen_maker.make(generation, references, done.screen_batches)
        )
        selection = screen
        if self.dedup_maker is not None:
            selection = done.dedup or add(self.dedup_maker.make(generation, screen))
        if self.property_maker is not None:
            selection = done.property_screen or add(self.property_maker.make(generation, selection))
        if self.coordinate_maker is not None:
            relax = coordinate_selected(self.coordinate_maker, generation, selection, references)
        else:
            relax = RelaxSelectedMaker(relax_maker=self.relax_maker).make(
                generation, selection, done.relax_batches
            )
        relaxed = done.relax or add(relax)
        hull = done.hull or add(
            self.hull_maker.make(relaxed=relaxed, references=references, selection=selection)
        )
        audit = None
        if self.audit_maker is not None and done.scorecard is None:
            auditor = replace(self.audit_maker, relax_maker=self.relax_maker)
            audit = add(auditor.make(generation, screen, hull))
        score = done.scorecard or add(score_campaign(screen, selection, relaxed, hull, audit))
        if self.documents_maker is not None:
            add(self.documents_maker.make(hull, score))
        return Flow(jobs, output=hull, name=self.name)
