"""ML screening by predicted formation energy, batched over jobs."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Flow, Response, job
from pymatgen.core import Structure

from discoverflow.core.crystal.hull import formation_energy_per_atom
from discoverflow.core.crystal.screening import ScreeningSettings, below_threshold, keep_best
from discoverflow.makers.base import StageMaker
from discoverflow.plugins import load_model
from discoverflow.progress import stage_progress
from discoverflow.routing import route_new_jobs
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.relax import ReferenceDocument
from discoverflow.schemas.screen import ScreenBatchDocument, ScreenDocument, ScreenRecord


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

    ``make`` fans out into jobs of ``batch_size`` structures; candidates screened by
    ``previous`` batches (a resumed campaign) are not screened again.
    """

    name: str = "ml screen"
    settings: ScreeningSettings = field(default_factory=ScreeningSettings)

    def energy_model(self):
        return load_model(self.settings.model, **self.settings.model_options)

    @job(metadata={"stage": "screen-fanout", "runs_on": "cpu"})
    def make(
        self,
        generation: GenerationDocument,
        references: ReferenceDocument,
        previous: list[ScreenBatchDocument] | None = None,
    ) -> Response:
        previous = previous or []
        done = {r.candidate_id for b in previous for r in b.records} | {
            cid for b in previous for cid in b.failures
        }
        todo = [c.candidate_id for c in generation.candidates if c.candidate_id not in done]
        size = self.settings.batch_size
        batches = [
            self.screen_batch(
                {cid: generation.structures[cid] for cid in todo[i : i + size]}, references
            )
            for i in range(0, len(todo), size)
        ]
        collect = self.select([*previous, *(b.output for b in batches)], references)
        flow = Flow([*batches, collect], output=collect.output, name=self.name)
        return Response(replace=route_new_jobs(flow))

    @job(output_schema=ScreenBatchDocument, metadata={"stage": "screen-batch", "runs_on": "gpu"})
    def screen_batch(
        self, structures: dict[str, Structure], references: ReferenceDocument
    ) -> ScreenBatchDocument:
        model = self.energy_model()
        refs = reference_energies(model, references)
        ids = list(structures)
        records, failures = [], {}
        with stage_progress("screen", len(ids)) as advance:
            for start in range(0, len(ids), 256):
                chunk = ids[start : start + 256]
                energies = model.predict_energy_per_atom([structures[c] for c in chunk])
                compositions = [structures[c].composition for c in chunk]
                formation = formation_energy_per_atom(compositions, energies, refs)
                for cid, comp, e, ef in zip(chunk, compositions, energies, formation, strict=True):
                    if e == e and ef == ef:
                        records.append(
                            ScreenRecord(
                                candidate_id=cid,
                                formula=comp.reduced_formula,
                                energy_per_atom=float(e),
                                formation_energy_per_atom=float(ef),
                            )
                        )
                    else:
                        failures[cid] = "model returned a non-finite energy"
                advance(len(chunk))
        return ScreenBatchDocument(model=model.name, records=records, failures=failures)

    @job(output_schema=ScreenDocument, metadata={"stage": "screen", "runs_on": "cpu"})
    def select(
        self, batches: list[ScreenBatchDocument], references: ReferenceDocument
    ) -> ScreenDocument:
        records = [r for b in batches for r in b.records]
        below = below_threshold(records, self.settings)
        model = self.energy_model()
        return ScreenDocument(
            model=model.name,
            formation_energy_threshold=self.settings.formation_energy_threshold,
            max_candidates=self.settings.max_candidates,
            reference_energies=reference_energies(model, references),
            n_screened=len(records),
            n_below_threshold=len(below),
            kept=keep_best(below, self.settings),
            failures={cid: why for b in batches for cid, why in b.failures.items()},
        )
