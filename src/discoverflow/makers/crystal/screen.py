"""ML screening by predicted formation energy, batched over jobs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from jobflow import Flow, Response, job
from pymatgen.core import Composition, Structure

from discoverflow.core.crystal.hull import formation_energy_per_atom
from discoverflow.core.crystal.screening import ScreeningSettings, below_threshold, keep_best
from discoverflow.makers.base import StageMaker
from discoverflow.makers.crystal.chunks import (
    READS_CHUNKS,
    candidate_batches,
    candidate_infos,
    load_chunk,
    record_generation,
)
from discoverflow.makers.documents import StageRecords
from discoverflow.plugins import load_model
from discoverflow.progress import stage_progress
from discoverflow.routing import JobStage, RunsOn, placed, route_new_jobs
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.records import Stage
from discoverflow.schemas.relax import ReferenceDocument
from discoverflow.schemas.screen import ScreenBatchDocument, ScreenDocument, ScreenRecord

PROGRESS_STEP = 256


def verdict(kept: bool) -> str:
    return "selected" if kept else "screened out"


def predict(model, structures: list[Structure]) -> tuple[list[float], list[float | None]]:
    """Energies per atom, and the members' spread where the model is an ensemble."""
    if hasattr(model, "predict_with_uncertainty"):
        mean, spread = model.predict_with_uncertainty(structures)
        return list(mean), list(spread)
    return list(model.predict_energy_per_atom(structures)), [None] * len(structures)


def reference_energies(model, references: ReferenceDocument) -> dict[str, float]:
    """The model's energy per atom for each element, at its relaxed reference structure."""
    structures = {
        el: references.structures[references.elemental_sources[el]] for el in references.elements
    }
    energies = model.predict_energy_per_atom(list(structures.values()))
    return {el: float(e) for el, e in zip(structures, energies, strict=True)}


@dataclass
class MLScreenMaker(StageMaker):
    """Keep candidates whose predicted formation energy lies below a threshold.

    ``make`` fans out into jobs of ``batch_size`` structures that predict energies; the
    selection puts them against the model's own elemental energies. Candidates screened by
    ``previous`` batches (same model, e.g. a resumed campaign) are not screened again.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    settings
        A ``ScreeningSettings`` (or a dict of it): the stage's settings.
    """

    name: str = "ml screen"
    settings: ScreeningSettings = field(default_factory=ScreeningSettings)

    def energy_model(self):
        return load_model(self.settings.model, **self.settings.model_options)

    @job(config=READS_CHUNKS, metadata=placed(JobStage.SCREEN_FANOUT, RunsOn.CPU))
    def make(
        self,
        generation: GenerationDocument,
        references: ReferenceDocument,
        previous: list[ScreenBatchDocument] | None = None,
    ) -> Response:
        """The stage's jobs.

        Parameters
        ----------
        generation
            The candidates to screen.
        references
            The elemental energies the formation energies are taken against.
        previous
            Screen batches of an earlier run: those candidates are not screened again.

        Returns
        -------
        Response
            Its output the ``ScreenDocument``: the candidates kept below the threshold.
        """
        record_generation(generation)
        previous = previous or []
        done = {r.candidate_id for b in previous for r in b.records} | {
            cid for b in previous for cid in b.failures
        }
        batches = [
            self.screen_batch(chunk, ids)
            for chunk, ids in candidate_batches(generation, self.settings.batch_size, skip=done)
        ]
        collect = self.select([*previous, *(b.output for b in batches)], references, generation)
        flow = Flow([*batches, collect], output=collect.output, name=self.name)
        return Response(replace=route_new_jobs(flow))

    @job(
        output_schema=ScreenBatchDocument,
        config=READS_CHUNKS,
        metadata=placed(JobStage.SCREEN_BATCH, RunsOn.GPU),
    )
    def screen_batch(
        self, chunk: GenerationDocument | str, ids: list[str] | None = None
    ) -> ScreenBatchDocument:
        """Predicted energies per atom of the ``ids`` candidates of ``chunk`` (a generation
        chunk or its job's uuid; all its candidates by default). No references: they do not
        change the energies."""
        model = self.energy_model()
        chunk = load_chunk(chunk)
        ids = list(chunk.structures) if ids is None else list(ids)
        structures = {cid: chunk.structures[cid] for cid in ids}
        records, failures = [], {}
        with stage_progress("screen", len(ids)) as advance:
            for start in range(0, len(ids), PROGRESS_STEP):
                part = ids[start : start + PROGRESS_STEP]
                energies, spreads = predict(model, [structures[c] for c in part])
                for cid, energy, spread in zip(part, energies, spreads, strict=True):
                    if math.isfinite(energy):
                        formula = structures[cid].composition.reduced_formula
                        records.append(
                            ScreenRecord(
                                candidate_id=cid,
                                formula=formula,
                                energy_per_atom=float(energy),
                                energy_spread=None if spread is None else float(spread),
                            )
                        )
                    else:
                        failures[cid] = "model returned a non-finite energy"
                advance(len(part))
        if (stage_results := StageRecords.of_running_job()) is not None:
            fields = {cid: {"screening_model": model.name} for cid in [*failures, *structures]}
            status = dict.fromkeys(failures, "screen failed")
            for r in records:
                fields[r.candidate_id]["predicted_energy_per_atom"] = r.energy_per_atom
                if r.energy_spread is not None:
                    fields[r.candidate_id]["predicted_energy_per_atom_std"] = r.energy_spread
                status[r.candidate_id] = "screened"
            stage_results.write(Stage.SCREENING, fields, status, failures)
        return ScreenBatchDocument(model=model.name, records=records, failures=failures)

    @job(
        data=["kept", "failures"],
        output_schema=ScreenDocument,
        config=READS_CHUNKS,
        metadata=placed(JobStage.SCREEN, RunsOn.CPU),
    )
    def select(
        self,
        batches: list[ScreenBatchDocument],
        references: ReferenceDocument,
        generation: GenerationDocument,
    ) -> ScreenDocument:
        """The generation's screened candidates with formation energies against the model's
        elemental energies, those below the threshold kept (lowest first)."""
        current = {c.candidate_id for c in candidate_infos(generation)}
        records = {
            r.candidate_id: r for b in batches for r in b.records if r.candidate_id in current
        }
        model = self.energy_model()
        refs = reference_energies(model, references)
        ordered = list(records.values())
        formation = formation_energy_per_atom(
            [Composition(r.formula) for r in ordered], [r.energy_per_atom for r in ordered], refs
        )
        screened = [
            r.model_copy(update={"formation_energy_per_atom": float(ef)})
            for r, ef in zip(ordered, formation, strict=True)
        ]
        below = below_threshold(screened, self.settings)
        kept = keep_best(below, self.settings)
        if (stage_results := StageRecords.of_running_job()) is not None:
            chosen = {r.candidate_id for r in kept}
            stage_results.write(
                Stage.SELECTION,
                {
                    r.candidate_id: {
                        "predicted_formation_energy_per_atom": r.formation_energy_per_atom
                    }
                    for r in screened
                },
                {r.candidate_id: verdict(r.candidate_id in chosen) for r in screened},
            )
        failures = {cid: why for b in batches for cid, why in b.failures.items() if cid in current}
        return ScreenDocument(
            model=model.name,
            formation_energy_threshold=self.settings.formation_energy_threshold,
            max_candidates=self.settings.max_candidates,
            reference_energies=refs,
            n_screened=len(screened),
            n_below_threshold=len(below),
            n_kept=len(kept),
            kept=kept,
            failures=failures,
        )
