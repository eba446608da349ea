"""Formation energies and hull distances of relaxed candidates against elemental references
and known phases, with MP2020 corrections where GGA and GGA+U meet, and the files a user reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pymatgen.core import Composition

from discoverflow.core.crystal.compatibility import mp2020_energies_per_atom, needs_mp2020
from discoverflow.core.crystal.hull import (
    build_phase_diagram,
    e_above_hull,
    formation_energy_per_atom,
)
from discoverflow.errors import DiscoverflowError
from discoverflow.settings import StageSettings

if TYPE_CHECKING:  # a second to import (it loads matplotlib): only when a hull is built
    from pymatgen.analysis.phase_diagram import PhaseDiagram

CIF_SYMPREC = 0.1
"""Symmetry tolerance (A) of the promising CIFs, written with their space group."""


class HullSettings(StageSettings):
    """What counts as promising, and whether to draw the hull."""

    e_above_hull_threshold: float = Field(
        0.1, ge=0, description="Promising candidates lie within this of the hull (eV/atom)"
    )
    plot: bool = Field(True, description="Phase diagram (2-4 elements) and stability CDF")
    ensemble: list[str] = Field(
        default_factory=list,
        description="Energy models (e.g. ['chgnet', 'sevennet']) whose energies at the relaxed "
        "structures give each candidate a spread of its energy above the hull and a "
        "probability of lying within the threshold, the hull rebuilt per member; empty: none",
    )
    gaussian_draws: int = Field(
        0, ge=0, description="Extra samples per candidate from the members' mean and spread"
    )
    materials_project: bool = Field(
        False,
        description="Add the system's Materials Project entries as known phases (mp-api with "
        "MP_API_KEY, cached beside the store; relaxed with the campaign's engine)",
    )
    known_phases_within: float | None = Field(
        None,
        ge=0,
        description="Keep only known phases within this of their source's own hull (eV/atom; "
        "phases without energies are kept); None keeps all",
    )


@dataclass
class HullInput:
    """One relaxed structure to place on the hull: a candidate or a known phase."""

    key: str
    composition: Composition
    energy_per_atom: float
    entry: Any = None  # a ComputedEntry from DFT, used for MP2020 corrections


@dataclass
class HullRow:
    """A candidate or known phase placed on the hull.

    Parameters
    ----------
    candidate_id
        Candidate (or known phase) id.
    formula
        Reduced formula.
    predicted_formation_energy_per_atom
        The screen's formation energy, if any (eV/atom).
    formation_energy_per_atom
        Relaxed formation energy (eV/atom).
    e_above_hull
        Energy above the hull (eV/atom).
    promising
        Within the hull threshold."""

    candidate_id: str
    formula: str
    predicted_formation_energy_per_atom: float | None
    formation_energy_per_atom: float
    e_above_hull: float
    promising: bool


@dataclass
class Excluded:
    """A candidate left off the hull.

    Parameters
    ----------
    candidate_id
        Candidate id.
    status
        Its relaxation's status.
    reason
        Why, if known."""

    candidate_id: str
    status: str
    reason: str | None = None


@dataclass
class HullAnalysis:
    """The campaign's hull: the diagram and every entry's place on it.

    Parameters
    ----------
    diagram
        pymatgen's phase diagram.
    elemental_energies
        Elemental reference energies (eV/atom).
    corrections
        The correction scheme applied to every energy, if any.
    candidates
        The candidates, lowest energy above the hull first.
    phases
        The known phases.
    excluded
        Candidates left off the hull."""

    diagram: PhaseDiagram
    elemental_energies: dict[str, float]
    corrections: str | None
    candidates: list[HullRow]  # lowest e_above_hull first
    phases: list[HullRow]
    excluded: list[Excluded]

    @property
    def stable_formulas(self) -> list[str]:
        return sorted({e.composition.reduced_formula for e in self.diagram.stable_entries})


def apply_mp2020(
    candidates: list[HullInput],
    phases: list[HullInput],
    elemental_energies: dict[str, float],
    elemental_entries: Mapping[str, Any],
) -> tuple[list[HullInput], list[HullInput], dict[str, float], list[Excluded]]:
    """MP2020-corrected energies; candidates MP2020 rejects are excluded with its reason."""
    entries = {f"el:{k}": e for k, e in elemental_entries.items()}
    entries |= {f"phase:{p.key}": p.entry for p in phases if p.entry is not None}
    entries |= {f"cand:{c.key}": c.entry for c in candidates if c.entry is not None}
    corrected = mp2020_energies_per_atom(entries)
    elemental = dict(elemental_energies)
    for key, (value, why) in corrected.items():
        kind, name = key.split(":", 1)
        if kind == "el":
            if value is None:
                raise DiscoverflowError(f"MP2020 rejected the reference for {name}: {why}")
            elemental[name] = value

    def updated(items: list[HullInput], kind: str) -> tuple[list[HullInput], list[Excluded]]:
        kept, rejected = [], []
        for item in items:
            value, why = corrected.get(f"{kind}:{item.key}", (item.energy_per_atom, None))
            if value is None:
                rejected.append(Excluded(item.key, "rejected", f"MP2020: {why}"))
            else:
                kept.append(HullInput(item.key, item.composition, value, item.entry))
        return kept, rejected

    candidates, excluded = updated(candidates, "cand")
    phases, _ = updated(phases, "phase")
    return candidates, phases, elemental, excluded


def analyse_hull(
    candidates: list[HullInput],
    elemental_energies: dict[str, float],
    settings: HullSettings | None = None,
    phases: Sequence[HullInput] = (),
    elemental_entries: Mapping[str, Any] | None = None,
    predicted: Mapping[str, float] | None = None,
) -> HullAnalysis:
    """Candidates on the hull of the elements, known phases and themselves.

    Energies are per atom from one method; DFT entries that mix GGA and GGA+U are corrected
    with MP2020 first. ``predicted`` (the screening model's formation energies) is reported
    beside the relaxed values.

    Parameters
    ----------
    candidates
        The relaxed candidates: id, composition and energy per atom.
    elemental_energies
        Element -> reference energy (eV/atom), from the same method.
    settings
        The hull settings; None takes the defaults.
    phases
        Known phases on the hull.
    elemental_entries
        DFT entries of the elemental references, for energy corrections.
    predicted
        Candidate id -> the screening model's formation energy (eV/atom).

    Returns
    -------
    HullAnalysis
        The diagram and every entry's distance to it.
    """
    settings = settings or HullSettings()
    phases, excluded, corrections = list(phases), [], None
    dft_entries = [
        *(elemental_entries or {}).values(),
        *(item.entry for item in [*candidates, *phases] if item.entry is not None),
    ]
    if needs_mp2020(dict(enumerate(dft_entries))):
        corrections = "MP2020"
        candidates, phases, elemental_energies, excluded = apply_mp2020(
            candidates, phases, elemental_energies, elemental_entries or {}
        )
    from pymatgen.analysis.phase_diagram import PDEntry

    entries = [PDEntry(Composition(el), e, name=el) for el, e in elemental_energies.items()]
    entries += [
        PDEntry(
            item.composition,
            item.energy_per_atom * item.composition.num_atoms,
            name=item.composition.reduced_formula,
            attribute=item.key,
        )
        for item in [*phases, *candidates]
    ]
    diagram = build_phase_diagram(entries)

    def rows(items: list[HullInput], may_be_promising: bool) -> list[HullRow]:
        if not items:
            return []
        compositions = [item.composition for item in items]
        energies = [item.energy_per_atom for item in items]
        ef = formation_energy_per_atom(compositions, energies, elemental_energies)
        eh = e_above_hull(diagram, compositions, energies)
        return [
            HullRow(
                candidate_id=item.key,
                formula=item.composition.reduced_formula,
                formation_energy_per_atom=float(f),
                e_above_hull=float(h),
                promising=may_be_promising and bool(h <= settings.e_above_hull_threshold),
                predicted_formation_energy_per_atom=(predicted or {}).get(item.key),
            )
            for item, f, h in zip(items, ef, eh, strict=True)
        ]

    return HullAnalysis(
        diagram=diagram,
        elemental_energies=dict(elemental_energies),
        corrections=corrections,
        candidates=sorted(
            rows(candidates, True), key=lambda r: (r.e_above_hull, r.formation_energy_per_atom)
        ),
        phases=rows(phases, False),
        excluded=excluded,
    )
