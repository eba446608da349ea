"""Convex hull of relaxed candidates, the promising set, CIFs and plots."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from jobflow import Maker, job
from pymatgen.analysis.phase_diagram import PDEntry
from pymatgen.core import Composition

from discoverflow.core.compatibility import mp2020_energies_per_atom, needs_mp2020
from discoverflow.core.hull import (
    build_phase_diagram,
    e_above_hull,
    formation_energy_per_atom,
    plot_phase_diagram,
    plot_stability_cdf,
)
from discoverflow.errors import DiscoverflowError
from discoverflow.schemas.hull import ExcludedCandidate, HullDocument, HullEntryInfo
from discoverflow.schemas.relax import ReferenceDocument, RelaxBatchDocument
from discoverflow.schemas.screen import DedupDocument, ScreenDocument


@dataclass
class HullMaker(Maker):
    """Place relaxed candidates on the convex hull of their chemical system.

    Candidates within ``e_above_hull_threshold`` of the hull are promising; with an
    ``output_dir`` their relaxed CIFs, a CSV table, the phase diagram (PNG and HTML, for
    2-4 elements) and the stability CDF are written there.
    """

    name: str = "hull"
    e_above_hull_threshold: float = 0.1
    output_dir: str | None = None
    plot: bool = True

    @job(
        data="promising_structures",
        output_schema=HullDocument,
        metadata={"stage": "hull", "runs_on": "cpu"},
    )
    def make(
        self,
        relaxed: RelaxBatchDocument,
        references: ReferenceDocument,
        selection: ScreenDocument | DedupDocument | None = None,
    ) -> HullDocument:
        predicted = {
            r.candidate_id: r.formation_energy_per_atom
            for r in (selection.kept if selection else [])
        }
        good = [
            r
            for r in relaxed.records
            if r.status == "relaxed" and r.candidate_id in relaxed.structures
        ]
        excluded = [
            ExcludedCandidate(candidate_id=r.candidate_id, status=r.status, reason=r.reason)
            for r in relaxed.records
            if r not in good
        ]
        phases = [p for p in references.phases if p.energy_per_atom is not None]
        elemental = dict(references.elemental_energies)
        energies = {r.candidate_id: r.energy_per_atom for r in good}
        phase_energies = {p.name: p.energy_per_atom for p in phases}

        dft_entries = {f"el:{k}": e for k, e in references.elemental_entries.items()}
        dft_entries |= {f"phase:{p.name}": p.entry for p in phases if p.entry is not None}
        dft_entries |= {f"cand:{r.candidate_id}": r.entry for r in good if r.entry is not None}
        corrections = None
        if needs_mp2020(dft_entries):
            corrections = "MP2020"
            corrected = mp2020_energies_per_atom(dft_entries)
            why_rejected = {}
            for key, (value, why) in corrected.items():
                kind, name = key.split(":", 1)
                {"el": elemental, "phase": phase_energies, "cand": energies}[kind][name] = value
                why_rejected[name] = why
            if missing := [el for el, value in elemental.items() if value is None]:
                raise DiscoverflowError(
                    f"MP2020 rejected the reference for {missing[0]}: {why_rejected[missing[0]]}"
                )
            rejected = [r for r in good if energies[r.candidate_id] is None]
            excluded += [
                ExcludedCandidate(
                    candidate_id=r.candidate_id,
                    status="rejected",
                    reason=f"MP2020: {why_rejected[r.candidate_id]}",
                )
                for r in rejected
            ]
            good = [r for r in good if r not in rejected]
            phases = [p for p in phases if phase_energies[p.name] is not None]

        compositions = [relaxed.structures[r.candidate_id].composition for r in good]
        candidate_energies = [energies[r.candidate_id] for r in good]
        phase_comps = [Composition(p.formula) for p in phases]
        entries = [PDEntry(Composition(el), e, name=el) for el, e in elemental.items()]
        entries += [
            PDEntry(
                c, phase_energies[p.name] * c.num_atoms, name=c.reduced_formula, attribute=p.name
            )
            for p, c in zip(phases, phase_comps, strict=True)
        ]
        entries += [
            PDEntry(c, e * c.num_atoms, name=c.reduced_formula, attribute=r.candidate_id)
            for r, c, e in zip(good, compositions, candidate_energies, strict=True)
        ]
        diagram = build_phase_diagram(entries)

        def rows(ids, comps, e_atom, promising_allowed):
            if not comps:
                return []
            ef = formation_energy_per_atom(comps, e_atom, elemental)
            eh = e_above_hull(diagram, comps, e_atom)
            return [
                HullEntryInfo(
                    candidate_id=cid,
                    formula=c.reduced_formula,
                    predicted_formation_energy_per_atom=predicted.get(cid),
                    formation_energy_per_atom=float(f),
                    e_above_hull=float(h),
                    promising=promising_allowed and bool(h <= self.e_above_hull_threshold),
                )
                for cid, c, f, h in zip(ids, comps, ef, eh, strict=True)
            ]

        candidate_rows = sorted(
            rows([r.candidate_id for r in good], compositions, candidate_energies, True),
            key=lambda row: (row.e_above_hull, row.formation_energy_per_atom),
        )
        phase_rows = rows(
            [p.name for p in phases], phase_comps, [phase_energies[p.name] for p in phases], False
        )
        promising = {
            row.candidate_id: relaxed.structures[row.candidate_id]
            for row in candidate_rows
            if row.promising
        }
        document = HullDocument(
            elements=references.elements,
            e_above_hull_threshold=self.e_above_hull_threshold,
            elemental_energies=elemental,
            energy_corrections=corrections,
            entries=candidate_rows,
            reference_phases=phase_rows,
            excluded=excluded,
            stable_formulas=sorted({e.composition.reduced_formula for e in diagram.stable_entries}),
            n_promising=len(promising),
            promising_structures=promising,
        )
        if self.output_dir:
            document.output_dir = self.output_dir
            document.files = [str(p) for p in self.write_outputs(document, diagram)]
        return document

    def write_outputs(self, document: HullDocument, diagram) -> list[Path]:
        folder = Path(self.output_dir)
        cif_dir = folder / "promising"
        cif_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for cid, structure in document.promising_structures.items():
            path = cif_dir / f"{cid}.cif"
            structure.to(filename=str(path))
            written.append(path)
        table = folder / "hull.csv"
        with table.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(list(HullEntryInfo.model_fields))
            for row in document.entries:
                writer.writerow(row.model_dump().values())
        written.append(table)
        if self.plot and document.entries:
            written.append(
                plot_stability_cdf(
                    [row.e_above_hull for row in document.entries],
                    self.e_above_hull_threshold,
                    folder / "stability_cdf.png",
                    title=f"{'-'.join(document.elements)}: relaxed candidates",
                )
            )
            if 2 <= len(document.elements) <= 4:
                written.extend(plot_phase_diagram(diagram, folder))
        return written
