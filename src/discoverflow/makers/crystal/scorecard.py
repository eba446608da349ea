"""After the hull: a seeded sample of the rejected candidates relaxed as a control, and the
campaign's scorecard (its summary document in ``campaigns``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from jobflow import CURRENT_JOB, Flow, JobStore, job
from pymatgen.core import Composition

from discoverflow.core.crystal.hull import e_above_hull, formation_energy_per_atom
from discoverflow.core.crystal.outputs import formation_diagram
from discoverflow.core.crystal.scorecard import Evaluated, audit_sample, scorecard
from discoverflow.core.crystal.scorecard_files import write_scorecard_files
from discoverflow.core.crystal.screening import ScreeningSettings
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.outputs import hull_row
from discoverflow.makers.documents import WRITES_RECORDS, StageRecords, running_fingerprint
from discoverflow.makers.relax import RelaxMaker, RelaxSelectedMaker
from discoverflow.routing import JobStage, RunsOn, place, placed
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.hull import HullDocument, HullEntryInfo
from discoverflow.schemas.records import Stage, Status
from discoverflow.schemas.relax import HAS_ENERGY, RelaxBatchDocument
from discoverflow.schemas.scorecard import CAMPAIGNS, AuditDocument, ScorecardDoc
from discoverflow.schemas.screen import DedupDocument, ScreenDocument, ScreenRecord
from discoverflow.stores import document_store


def rejected_records(
    records: StageRecords, screen_stamp: str | None, model_stamp: str | None = None
) -> list[ScreenRecord]:
    """The candidates the screen of fingerprint ``screen_stamp`` rejected, with the energies
    of the model of fingerprint ``model_stamp`` (any, without), from their records."""
    criteria = {"campaign": records.campaign, "fingerprint": screen_stamp}
    selection = records.store.query(
        {**criteria, "stage": Stage.SELECTION.value, "status": Status.SCREENED_OUT.value},
        properties=["item_id", "fields"],
    )
    predicted = {
        d["item_id"]: d["fields"].get("predicted_formation_energy_per_atom") for d in selection
    }
    screened = records.store.query(
        {
            "campaign": records.campaign,
            "stage": Stage.SCREENING.value,
            "item_id": {"$in": sorted(predicted)},
            **({"fingerprint": model_stamp} if model_stamp else {}),
        },
        properties=["item_id", "fields"],
    )
    energies = {d["item_id"]: d["fields"] for d in screened}
    formulas = {
        d["item_id"]: d["fields"].get("formula_pretty")
        for d in records.store.query(
            {
                "campaign": records.campaign,
                "stage": Stage.GENERATION.value,
                "item_id": {"$in": sorted(predicted)},
            },
            properties=["item_id", "fields.formula_pretty"],
        )
    }
    return [
        ScreenRecord(
            candidate_id=cid,
            formula=formulas.get(cid) or "",
            energy_per_atom=energies[cid]["predicted_energy_per_atom"],
            energy_spread=energies[cid].get("predicted_energy_per_atom_std"),
            formation_energy_per_atom=ef,
        )
        for cid, ef in sorted(predicted.items())
        if cid in energies
    ]


def place_on_hull(relaxed: RelaxBatchDocument, hull: HullDocument) -> list[HullEntryInfo]:
    """Relaxed structures against a campaign's hull, which they do not change: formation
    energies against its elemental energies, distances to its lower hull (negative: below)."""
    good = [r for r in relaxed.records if r.status in HAS_ENERGY and r.energy_per_atom is not None]
    if not good:
        return []
    rows = [hull_row(e) for e in [*hull.entries, *hull.reference_phases]]
    diagram = formation_diagram(hull.elements, rows)
    compositions = [Composition(r.formula) for r in good]
    formation = formation_energy_per_atom(
        compositions, [r.energy_per_atom for r in good], hull.elemental_energies
    )
    above = e_above_hull(diagram, compositions, formation)
    return [
        HullEntryInfo(
            candidate_id=r.candidate_id,
            formula=r.formula,
            formation_energy_per_atom=float(ef),
            e_above_hull=float(eh),
            promising=bool(eh <= hull.e_above_hull_threshold),
        )
        for r, ef, eh in zip(good, formation, above, strict=True)
    ]


def evaluated(
    hull: HullDocument,
    relaxed: RelaxBatchDocument,
    selection: ScreenDocument | DedupDocument | None,
) -> tuple[list[Evaluated], int, int]:
    """The kept candidates whose energy was computed (relaxed or looked up, not the coordinate
    model's prediction), and how many failed and how many have the model's energy only."""
    records = {r.candidate_id: r for r in relaxed.records}
    spreads = {r.candidate_id: r.energy_spread for r in (selection.kept if selection else [])}
    found, predicted = [], 0
    for entry in hull.entries:
        record = records.get(entry.candidate_id)
        if record is not None and record.energy_source == "prediction":
            predicted += 1
            continue
        found.append(
            Evaluated(
                entry.candidate_id,
                entry.e_above_hull,
                entry.formation_energy_per_atom,
                entry.predicted_formation_energy_per_atom,
                spreads.get(entry.candidate_id),
                (record.round if record else None) or 0,
                record.predicted_energy_per_atom if record else None,
                record.energy_per_atom_std if record else None,
                record.energy_per_atom if record else None,
            )
        )
    failed = sum(r.status not in HAS_ENERGY for r in relaxed.records) + sum(
        e.status == "rejected" for e in hull.excluded
    )
    return found, failed, predicted


@dataclass
class AuditMaker(StageMaker):
    """Relax a seeded sample (``settings.audit_fraction``) of the candidates the screen
    rejected with ``relax_maker``, and place them against the campaign's hull.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``ScreeningSettings`` (or a dict of it): the stage's settings.
    relax_maker
        The relax Maker of the audited candidates (the campaign's).
    """

    name: str = "audit"
    settings: ScreeningSettings = field(default_factory=ScreeningSettings)
    relax_maker: RelaxMaker | None = None

    def make(
        self, generation: GenerationDocument, screen: ScreenDocument, hull: HullDocument
    ) -> Flow:
        """The stage's jobs.

        Parameters
        ----------
        generation
            The generation holding the candidates' structures.
        screen
            The screen whose rejected candidates are sampled.
        hull
            The campaign's hull the sample is placed against.

        Returns
        -------
        Flow
            Its output the ``AuditDocument``.
        """
        sample = self.pick(screen)
        relax = RelaxSelectedMaker(relax_maker=self.relax_maker).make(generation, sample.output)
        place(relax, JobStage.AUDIT_RELAX)
        against_hull = self.place(sample.output, relax.output, hull)
        return Flow([sample, relax, against_hull], output=against_hull.output, name=self.name)

    @job(config=WRITES_RECORDS, metadata=placed(JobStage.AUDIT_SAMPLE, RunsOn.CPU))
    def pick(self, screen: ScreenDocument) -> AuditDocument:
        """The sample, from the screen's records of the running campaign (none without)."""
        records = StageRecords.of_running_job()
        stamp = running_fingerprint("screen")
        model = running_fingerprint("screen_model")
        rejected = rejected_records(records, stamp, model) if records and stamp else []
        chosen = set(
            audit_sample(
                [r.candidate_id for r in rejected],
                self.settings.audit_fraction,
                self.settings.audit_seed,
                self.settings.audit_max,
            )
        )
        return AuditDocument(
            audit_fraction=self.settings.audit_fraction,
            seed=self.settings.audit_seed,
            n_rejected=screen.n_screened - screen.n_kept,
            kept=[r for r in rejected if r.candidate_id in chosen],
        )

    @job(output_schema=AuditDocument, metadata=placed(JobStage.AUDIT, RunsOn.CPU))
    def place(
        self, sample: AuditDocument, relaxed: RelaxBatchDocument, hull: HullDocument
    ) -> AuditDocument:
        predicted = {r.candidate_id: r for r in sample.kept}
        entries = [
            e.model_copy(
                update={
                    "predicted_formation_energy_per_atom": predicted[
                        e.candidate_id
                    ].formation_energy_per_atom
                }
            )
            for e in place_on_hull(relaxed, hull)
        ]
        placed = {e.candidate_id for e in entries}
        failed = {
            r.candidate_id: r.reason or r.status
            for r in relaxed.records
            if r.candidate_id not in placed
        }
        return sample.model_copy(update={"entries": entries, "failed": failed})


@job(
    config=WRITES_RECORDS,
    output_schema=ScorecardDoc,
    metadata=placed(JobStage.SCORECARD, RunsOn.CPU),
)
def score_campaign(
    screen: ScreenDocument,
    selection: ScreenDocument | DedupDocument,
    relaxed: RelaxBatchDocument,
    hull: HullDocument,
    audit: AuditDocument | None = None,
) -> ScorecardDoc:
    """The campaign's scorecard; in a campaign, also its summary document in ``campaigns``."""
    kept, failed, predicted = evaluated(hull, relaxed, selection)
    audited = [
        Evaluated(e.candidate_id, e.e_above_hull, e.formation_energy_per_atom)
        for e in (audit.entries if audit else [])
    ]
    card = scorecard(
        kept,
        screen.n_kept,
        audited,
        screen.n_screened - screen.n_kept,
        hull.e_above_hull_threshold,
    )
    running = CURRENT_JOB.job
    document = ScorecardDoc(
        elements=hull.elements,
        chemsys="-".join(sorted(hull.elements)),
        formation_energy_threshold=screen.formation_energy_threshold,
        e_above_hull_threshold=hull.e_above_hull_threshold,
        audit_fraction=audit.audit_fraction if audit else 0.0,
        n_screened=screen.n_screened,
        n_relaxed=len(kept),
        n_audited=len(audited),
        n_failed=failed,
        n_predicted=predicted,
        fingerprint=running_fingerprint("hull"),
        **asdict(card),
    )
    if running is not None and running.metadata.get("campaign") and CURRENT_JOB.store:
        save_summary(CURRENT_JOB.store, document)
    return document


def save_summary(store: JobStore, document: ScorecardDoc) -> None:
    """The campaign's summary document (one per campaign: its current settings')."""
    summaries = document_store(store, CAMPAIGNS)
    summaries.connect()
    summaries.update([document.model_dump(mode="json")], key="campaign")


def scorecard_files(document: ScorecardDoc, folder: Path) -> list[Path]:
    title = f"{document.chemsys}: hit rate and screen error per round"
    return write_scorecard_files(document.rounds, folder, title)


@job(metadata=placed(JobStage.SCORECARD_OUTPUTS, RunsOn.CPU))
def write_scorecard(document: ScorecardDoc, output_dir: str) -> list[str]:
    """The scorecard's table and plot in a campaign's ``output_dir``."""
    return [str(p) for p in scorecard_files(document, Path(output_dir))]
