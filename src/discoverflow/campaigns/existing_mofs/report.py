"""An evaluation of existing MOFs read back from the store: where each MOF stands, and its
descriptors, strain and CO2 uptake."""

from __future__ import annotations

from collections import Counter

from jobflow import JobStore
from pymatgen.core import Composition
from rich.table import Table

from discoverflow.campaigns.base import ResultFilter
from discoverflow.campaigns.existing_mofs.driver import stored_evaluation
from discoverflow.campaigns.mof.report import uptake_then_strain, value
from discoverflow.errors import NotStarted
from discoverflow.schemas.candidate import MOFS
from discoverflow.stores import document_store

STAGES = ("read", "characterisation", "stability", "relax", "adsorption")
COLUMNS = {
    "largest_included_sphere": "LCD (A)",
    "largest_free_sphere": "PLD (A)",
    "accessible_surface_area_m2_g": "ASA (m2/g)",
    "void_fraction": "void",
    "strain": "strain",
    "uptake_mol_per_kg": "CO2 (mol/kg)",
    "uptake_error": "+/-",
}


def evaluated_mofs(store: JobStore, name: str, wanted: ResultFilter) -> list[dict]:
    """The MOF documents of the last finished evaluation (every one of the campaign while it
    runs, or with ``wanted.everything``), highest CO2 uptake first, then least strained."""
    documents = document_store(store, MOFS)
    documents.connect()
    criteria: dict = {"campaign": name}
    done = stored_evaluation(store, name)
    if done is not None and not wanted.everything:
        criteria["mof_id"] = {"$in": list(done.statuses)}
    if wanted.stable:
        criteria["stable"] = True
    if wanted.formula:
        criteria["formula_pretty"] = Composition(wanted.formula).reduced_formula
    if done is None and documents.count({"campaign": name}) == 0:
        raise NotStarted(f"campaign {name!r} not started: no results in this store")
    return wanted.ordered(sorted(documents.query(criteria), key=uptake_then_strain))


def mofs_table(name: str, docs: list[dict]) -> Table:
    """One row per MOF: verdict, pore descriptors, strain, CO2 uptake and its block-average
    error, and why it failed (or why its uptake is not converged)."""
    table = Table(title=f"{name}: MOFs ({len(docs)})")
    for column in ("id", "status", "formula", *COLUMNS.values()):
        table.add_column(column, no_wrap=True)
    table.add_column("reason")
    for doc in docs:
        table.add_row(
            doc["mof_id"],
            doc.get("status", ""),
            doc.get("formula_pretty") or "",
            *(value(doc.get(key)) for key in COLUMNS),
            doc.get("reason") or "",
        )
    return table


def progress_table(store: JobStore, name: str, stamp: str) -> Table:
    """MOFs per verdict and per finished stage, and whether a run would redo anything."""
    done = stored_evaluation(store, name)
    docs = evaluated_mofs(store, name, ResultFilter())
    if done is None:
        state = "running or interrupted: a run finishes it"
    elif done.fingerprint == stamp:
        state = "finished"
    else:
        state = "MOFs or settings changed since: a run evaluates what changed"
    table = Table(title=f"{name}: {len(docs)} MOFs ({state})")
    table.add_column("MOFs by", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("MOFs", no_wrap=True, justify="right")
    for status, count in sorted(Counter(d.get("status", "") for d in docs).items()):
        table.add_row("status", status, str(count))
    for stage in STAGES:
        count = sum(stage in (d.get("stages") or {}) for d in docs)
        table.add_row("stage done", stage, str(count))
    return table
