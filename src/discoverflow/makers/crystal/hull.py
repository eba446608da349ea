"""Convex hull of relaxed candidates, the promising set, CIFs and plots."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from jobflow import job
from pymatgen.core import Composition

from discoverflow.core.crystal.known_phases import match_known_phases
from discoverflow.core.crystal.outputs import write_hull_outputs
from discoverflow.core.crystal.stability import (
    HullInput,
    HullSettings,
    analyse_hull,
)
from discoverflow.core.crystal.stability_probability import stability_probability
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.references import PHASE_PREFIX
from discoverflow.makers.documents import WRITES_RECORDS, StageRecords, hull_fields
from discoverflow.plugins import load_model
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.hull import ExcludedCandidate, HullDocument, HullEntryInfo
from discoverflow.schemas.relax import HAS_ENERGY, ReferenceDocument, RelaxBatchDocument
from discoverflow.schemas.screen import DedupDocument, ScreenDocument


def phase_hull_fields(analysis) -> tuple[dict[str, dict], dict[str, str]]:
    """The known phases' formation energies and distances to the hull, for their documents."""
    items, status = {}, {}
    for row in analysis.phases:
        on_hull = row.e_above_hull <= 1e-8
        items[f"{PHASE_PREFIX}{row.candidate_id}"] = {
            "formation_energy_per_atom": row.formation_energy_per_atom,
            "energy_above_hull": row.e_above_hull,
            "is_stable": on_hull,
            "energy_corrections": analysis.corrections,
        }
        status[f"{PHASE_PREFIX}{row.candidate_id}"] = "on hull" if on_hull else "above hull"
    return items, status


@dataclass
class HullMaker(StageMaker):
    """Place relaxed candidates on the convex hull of their chemical system, its elements
    and known phases; candidates that match a known phase (StructureMatcher) are labelled
    with it (``known_phase``), the others are new.

    Candidates within ``settings.e_above_hull_threshold`` of the hull are promising; with an
    ``output_dir`` their relaxed CIFs, a CSV table, the phase diagram (PNG and HTML, for
    2-4 elements) and the stability CDF are written there (a campaign writes them from its
    documents instead, after every run).
    """

    name: str = "hull"
    settings: HullSettings = field(default_factory=HullSettings)
    output_dir: str | None = None

    @job(
        config=WRITES_RECORDS,
        data="promising_structures",
        output_schema=HullDocument,
        metadata=placed(JobStage.HULL, RunsOn.CPU),
    )
    def make(
        self,
        relaxed: RelaxBatchDocument,
        references: ReferenceDocument,
        selection: ScreenDocument | DedupDocument | None = None,
    ) -> HullDocument:
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
        known = {
            p.name: references.structures[f"{PHASE_PREFIX}{p.name}"]
            for p in references.phases
            if f"{PHASE_PREFIX}{p.name}" in references.structures
        }
        matches = match_known_phases(
            {row.candidate_id: relaxed.structures[row.candidate_id] for row in analysis.candidates},
            known,
            {p.name: p.label for p in references.phases},
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
        spread = self.stability_spread(good, relaxed, references)
        entries = [
            HullEntryInfo(
                **asdict(row),
                **spread.get(row.candidate_id, {}),
                known_phase=matches[row.candidate_id],
            )
            for row in analysis.candidates
        ]
        document = HullDocument(
            elements=references.elements,
            e_above_hull_threshold=self.settings.e_above_hull_threshold,
            elemental_energies=analysis.elemental_energies,
            energy_corrections=analysis.corrections,
            entries=entries,
            reference_phases=[HullEntryInfo(**asdict(row)) for row in analysis.phases],
            excluded=excluded + [ExcludedCandidate(**asdict(e)) for e in analysis.excluded],
            stable_formulas=analysis.stable_formulas,
            n_promising=len(promising),
            promising_structures=promising,
        )
        if (stage_results := StageRecords.of_running_job()) is not None:
            items, status, reasons = hull_fields(analysis)
            for cid, extra in spread.items():
                items[cid] |= {
                    "energy_above_hull_std": extra["e_above_hull_std"],
                    "probability_stable": extra["probability_stable"],
                }
            for cid, label in matches.items():
                items[cid] |= {"known_phase": label, "is_new": label is None}
            stage_results.write("hull", items, status, reasons)
            stage_results.write("hull", *phase_hull_fields(analysis))
        if self.output_dir:
            document.output_dir = self.output_dir
            files = write_hull_outputs(
                Path(self.output_dir),
                analysis.diagram,
                analysis.candidates,
                promising,
                references.elements,
                self.settings,
                matches,
            )
            document.files = [str(p) for p in files]
        return document

    def stability_spread(
        self, good: list, relaxed: RelaxBatchDocument, references: ReferenceDocument
    ) -> dict[str, dict[str, float]]:
        """Per candidate, the spread of its energy above the hull and its probability of
        stability over ``settings.ensemble`` (empty without an ensemble)."""
        if not self.settings.ensemble or not good:
            return {}
        model = load_model("ensemble", members=self.settings.ensemble)
        chosen = set(references.elemental_sources.values())
        phases = {
            key: structure
            for key, structure in references.structures.items()
            if key in chosen or key.startswith(PHASE_PREFIX)
        }
        estimates = stability_probability(
            model.entries({r.candidate_id: relaxed.structures[r.candidate_id] for r in good}),
            model.entries(phases),
            self.settings.e_above_hull_threshold,
            self.settings.gaussian_draws,
        )
        return {
            e.key: {
                "e_above_hull_std": e.e_above_hull_std,
                "probability_stable": e.probability_stable,
            }
            for e in estimates
        }
