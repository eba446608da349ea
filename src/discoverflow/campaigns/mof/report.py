"""A MOF campaign read back from the store: per-round summaries and every MOF."""

from __future__ import annotations

from jobflow import JobStore
from maggma.core import Store
from pymatgen.core import Composition
from rich.table import Table

from discoverflow.campaigns.base import ResultFilter
from discoverflow.campaigns.mof.driver import round_states, stored_summary
from discoverflow.errors import NotStarted
from discoverflow.schemas.mof import MOFResult, RoundSummary


def value(number: float | None) -> str:
    return "" if number is None else f"{number:.3f}"


def campaign_rounds(
    store: JobStore, name: str
) -> tuple[list[RoundSummary], list[MOFResult], bool, str | None]:
    """Round summaries, MOF results, whether the campaign finished, and its plot."""
    document = stored_summary(store, name)
    if document is not None:
        return document.rounds, document.results, True, document.plot
    states = round_states(store, name)
    if not states:
        raise NotStarted(f"campaign {name!r} not started: no results in this store")
    return states[-1].summaries, states[-1].results, False, None


def rounds_table(name: str, rounds: list[RoundSummary], finished: bool) -> Table:
    table = Table(title=f"{name}: rounds ({'finished' if finished else 'running'})")
    for column in ("round", "gen", "linkers", "MOFs", "rejected", "stable"):
        table.add_column(column, no_wrap=True)
    table.add_column("CO2 max (mol/kg)", no_wrap=True, justify="right")
    table.add_column("trained on", no_wrap=True)
    for s in rounds:
        table.add_row(
            str(s.round),
            f"v{s.generator_version}",
            f"{s.linkers_valid}/{s.linkers_proposed}",
            str(s.mofs_assembled),
            str(s.mofs_rejected),
            f"{s.stable}/{s.mofs_validated}",
            value(s.best_uptake),
            f"{s.training_set}, {s.training_basis}" if s.retrained else "",
        )
    return table


def mofs_table(name: str, results: list[MOFResult]) -> Table:
    """Every MOF, best CO2 uptake first, then least strained."""
    ranked = sorted(
        results,
        key=lambda r: (-(r.uptake_mol_per_kg or -1), r.strain if r.strain is not None else 9),
    )
    table = Table(title=f"{name}: MOFs ({len(results)})")
    for column in ("id", "linkers", "strain", "stable", "group", "a conv (A)", "CO2 (mol/kg)"):
        table.add_column(column, no_wrap=True)
    for r in ranked:
        table.add_row(
            r.mof_id,
            r.linkers[0] + (f" + {r.pillar}" if r.pillar else ""),
            value(r.strain),
            "yes" if r.stable else "no",
            r.space_group or "",
            f"{r.conventional_abc[0]:.2f}" if r.conventional_abc else "",
            value(r.uptake_mol_per_kg),
        )
    return table


def mof_documents(documents: Store, campaign: str, wanted: ResultFilter) -> list[dict]:
    """The campaign's MOF documents (assembled ones unless ``wanted.everything``), highest
    CO2 uptake first, then least strained."""
    criteria: dict = {"campaign": campaign}
    if not wanted.everything:
        criteria["overlap_ok"] = True
    if wanted.stable:
        criteria["stable"] = True
    if wanted.formula:
        criteria["formula_pretty"] = Composition(wanted.formula).reduced_formula
    documents.connect()
    return wanted.ordered(sorted(documents.query(criteria), key=uptake_then_strain))


def uptake_then_strain(doc: dict) -> tuple[float, float]:
    """Sort key of MOF documents: highest CO2 uptake first, then least strained."""
    uptake, strain = doc.get("uptake_mol_per_kg"), doc.get("strain")
    return (-(uptake if uptake is not None else -1), strain if strain is not None else 9)
