"""The hull stage as jobs that each do one thing: the convex hull of the relaxed candidates
(CPU), their matches among the known phases (CPU), the ML ensemble's stability spread (where
the models run, GPU), and the hull document that joins them; optionally its files."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from jobflow import Flow, OutputReference, job
from pymatgen.core import Composition, Structure

from discoverflow.core.crystal.hull import ON_HULL_TOLERANCE
from discoverflow.core.crystal.known_phases import match_known_phases
from discoverflow.core.crystal.stability import (
    HullAnalysis,
    HullInput,
    HullSettings,
    analyse_hull,
)
from discoverflow.core.crystal.stability_probability import stability_probability
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.outputs import write_hull_files
from discoverflow.makers.crystal.references import PHASE_PREFIX
from discoverflow.makers.documents import WRITES_RECORDS, StageRecords, hull_fields, hull_status
from discoverflow.plugins import load_model
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.hull import ExcludedCandidate, HullDocument, HullEntryInfo
from discoverflow.schemas.records import Stage, Status
from discoverflow.schemas.relax import HAS_ENERGY, ReferenceDocument, RelaxBatchDocument
from discoverflow.schemas.screen import DedupDocument, ScreenDocument


def phase_hull_fields(analysis: HullAnalysis) -> tuple[dict[str, dict], dict[str, Status]]:
    """The known phases' formation energies and distances to the hull, for their documents."""
    items, status = {}, {}
    for row in analysis.phases:
        on_hull = row.e_above_hull <= ON_HULL_TOLERANCE
        items[f"{PHASE_PREFIX}{row.candidate_id}"] = {
            "formation_energy_per_atom": row.formation_energy_per_atom,
            "energy_above_hull": row.e_above_hull,
            "is_stable": on_hull,
            "energy_corrections": analysis.corrections,
        }
        status[f"{PHASE_PREFIX}{row.candidate_id}"] = (
            Status.ON_HULL if on_hull else Status.ABOVE_HULL
        )
    return items, status


def record_hull_fields(hull: HullDocument, items: dict[str, dict]) -> None:
    """Record more hull fields of the candidates on ``hull`` (with their hull verdicts)."""
    if (stage_results := StageRecords.of_running_job()) is None:
        return
    verdicts = {e.candidate_id: hull_status(e.e_above_hull, e.promising) for e in hull.entries}
    stage_results.write(Stage.HULL, items, {cid: verdicts[cid] for cid in items})


def hull_structures(relaxed: RelaxBatchDocument, hull: HullDocument) -> dict[str, Structure]:
    """The relaxed structures of the candidates on ``hull``."""
    return {e.candidate_id: relaxed.structures[e.candidate_id] for e in hull.entries}


@job(metadata=placed(JobStage.KNOWN_PHASES, RunsOn.CPU), config=WRITES_RECORDS)
def match_hull_phases(
    relaxed: RelaxBatchDocument, references: ReferenceDocument, hull: HullDocument
) -> dict[str, str | None]:
    """The known phase (its label) that each candidate on ``hull`` matches, None for a new
    one (StructureMatcher, same reduced formula); recorded as ``known_phase``/``is_new``."""
    known = {
        p.name: references.structures[f"{PHASE_PREFIX}{p.name}"]
        for p in references.phases
        if f"{PHASE_PREFIX}{p.name}" in references.structures
    }
    matches = match_known_phases(
        hull_structures(relaxed, hull), known, {p.name: p.label for p in references.phases}
    )
    fields = {
        cid: {"known_phase": label, "is_new": label is None} for cid, label in matches.items()
    }
    record_hull_fields(hull, fields)
    return matches


@job(metadata=placed(JobStage.HULL, RunsOn.CPU), data="promising_structures")
def join_hull(
    hull: HullDocument,
    matches: dict[str, str | None],
    spread: dict[str, dict[str, float]] | None = None,
) -> HullDocument:
    """The hull document with each candidate's known phase and stability spread."""
    entries = [
        entry.model_copy(
            update={
                **(spread or {}).get(entry.candidate_id, {}),
                "known_phase": matches.get(entry.candidate_id),
            }
        )
        for entry in hull.entries
    ]
    return hull.model_copy(update={"entries": entries})


@dataclass
class HullMaker(StageMaker):
    """Place relaxed candidates on the convex hull of their chemical system, its elements
    and known phases; candidates that match a known phase (StructureMatcher) are labelled
    with it (``known_phase``), the others are new. With ``settings.ensemble`` each candidate
    gets the spread of its energy above the hull over the ensemble's models and its
    probability of being within the threshold, in a job on the GPU worker.

    Parameters
    ----------
    name
        The flow's name.
    settings
        A ``HullSettings`` (or its dict): the promising threshold, the ensemble, the plots.
    output_dir
        Where the relaxed CIFs of the promising candidates, a CSV table, the phase diagram
        (PNG and HTML, for 2-4 elements) and the stability CDF are written, by a last job
        (None: no files; a campaign writes them from its stored hull after every run).
    """

    name: str = "hull"
    settings: HullSettings = field(default_factory=HullSettings)
    output_dir: str | None = None

    def make(
        self,
        *,
        relaxed: RelaxBatchDocument | OutputReference,
        references: ReferenceDocument | OutputReference,
        selection: ScreenDocument | DedupDocument | OutputReference | None = None,
    ) -> Flow:
        """The hull's jobs.

        Parameters
        ----------
        relaxed
            The relaxations of the candidates (failed and unconverged ones are excluded).
        references
            The elemental references and known phases, relaxed like the candidates.
        selection
            The screen (or dedup) that selected the candidates: its predicted formation
            energies are reported beside the relaxed ones.

        Returns
        -------
        Flow
            Its output the ``HullDocument`` (the output of the job of stage ``hull``).
        """
        analysis = self.analyse(relaxed, references, selection)
        matches = match_hull_phases(relaxed, references, analysis.output)
        jobs = [analysis, matches]
        spread = None
        if self.settings.ensemble:
            jobs.append(self.stability_spread(relaxed, references, analysis.output))
            spread = jobs[-1].output
        hull = join_hull(analysis.output, matches.output, spread)
        jobs.append(hull)
        if self.output_dir:
            jobs.append(write_hull_files(hull.output, hull.uuid, self.output_dir, self.settings))
        return Flow(jobs, output=hull.output, name=self.name)

    @job(
        config=WRITES_RECORDS,
        data="promising_structures",
        output_schema=HullDocument,
        metadata=placed(JobStage.HULL_ANALYSIS, RunsOn.CPU),
    )
    def analyse(
        self,
        relaxed: RelaxBatchDocument,
        references: ReferenceDocument,
        selection: ScreenDocument | DedupDocument | None = None,
    ) -> HullDocument:
        """The convex hull of the candidates with converged relaxations, the elements and
        the known phases; each candidate's place on it is recorded."""
        good = [
            r
            for r in relaxed.records
            if r.status in HAS_ENERGY and r.candidate_id in relaxed.structures
        ]
        candidates = [
            HullInput(
                r.candidate_id,
                relaxed.structures[r.candidate_id].composition,
                r.energy_per_atom,
                r.entry,
            )
            for r in good
        ]
        phases = [
            HullInput(p.name, Composition(p.formula), p.energy_per_atom, p.entry)
            for p in references.phases
            if p.energy_per_atom is not None
        ]
        analysis = analyse_hull(
            candidates,
            dict(references.elemental_energies),
            self.settings,
            phases,
            references.elemental_entries,
            predicted={r.candidate_id: r.formation_energy_per_atom for r in selection.kept}
            if selection
            else None,
        )
        promising = {
            row.candidate_id: relaxed.structures[row.candidate_id]
            for row in analysis.candidates
            if row.promising
        }
        excluded = [
            ExcludedCandidate(candidate_id=r.candidate_id, status=r.status, reason=r.reason)
            for r in relaxed.records
            if r not in good
        ]
        if (stage_results := StageRecords.of_running_job()) is not None:
            stage_results.write(Stage.HULL, *hull_fields(analysis))
            stage_results.write(Stage.HULL, *phase_hull_fields(analysis))
        return HullDocument(
            elements=references.elements,
            e_above_hull_threshold=self.settings.e_above_hull_threshold,
            elemental_energies=analysis.elemental_energies,
            energy_corrections=analysis.corrections,
            entries=[HullEntryInfo(**asdict(row)) for row in analysis.candidates],
            reference_phases=[HullEntryInfo(**asdict(row)) for row in analysis.phases],
            excluded=excluded + [ExcludedCandidate(**asdict(e)) for e in analysis.excluded],
            stable_formulas=analysis.stable_formulas,
            n_promising=len(promising),
            promising_structures=promising,
        )

    @job(config=WRITES_RECORDS, metadata=placed(JobStage.STABILITY_SPREAD, RunsOn.GPU))
    def stability_spread(
        self, relaxed: RelaxBatchDocument, references: ReferenceDocument, hull: HullDocument
    ) -> dict[str, dict[str, float]]:
        """Per candidate on ``hull``, the spread of its energy above the hull and its
        probability of stability over ``settings.ensemble`` (recorded as
        ``energy_above_hull_std`` and ``probability_stable``)."""
        if not hull.entries:
            return {}
        model = load_model("ensemble", members=self.settings.ensemble)
        chosen = set(references.elemental_sources.values())
        phases = {
            key: structure
            for key, structure in references.structures.items()
            if key in chosen or key.startswith(PHASE_PREFIX)
        }
        estimates = stability_probability(
            model.entries(hull_structures(relaxed, hull)),
            model.entries(phases),
            self.settings.e_above_hull_threshold,
            self.settings.gaussian_draws,
        )
        spread = {
            e.key: {
                "e_above_hull_std": e.e_above_hull_std,
                "probability_stable": e.probability_stable,
            }
            for e in estimates
        }
        record_hull_fields(
            hull,
            {
                cid: {
                    "energy_above_hull_std": values["e_above_hull_std"],
                    "probability_stable": values["probability_stable"],
                }
                for cid, values in spread.items()
            },
        )
        return spread
