"""What a campaign has done, read back from the store: stage status and candidate rows."""

from __future__ import annotations

from dataclasses import dataclass

from maggma.core import Store
from pymatgen.core import Composition

from discoverflow.campaigns.base import CampaignRecord, ResultFilter


@dataclass
class StageStatus:
    stage: str
    done: bool
    detail: str


def campaign_status(record: CampaignRecord) -> list[StageStatus]:
    status = []
    refs = record.latest("references", ["output.elemental_energies", "output.phases"])
    status.append(
        StageStatus(
            "references",
            refs is not None,
            f"{len(refs['output']['elemental_energies'])} elements, "
            f"{len(refs['output']['phases'])} known phases"
            if refs
            else "pending",
        )
    )
    gen = record.latest(
        "generation",
        ["output.n_candidates", "output.skipped_templates", "output.n_templates"],
    )
    n_generated = gen["output"]["n_candidates"] if gen else 0
    status.append(
        StageStatus(
            "generation",
            gen is not None,
            f"{n_generated} candidates from {gen['output']['n_templates']} templates "
            f"({len(gen['output']['skipped_templates'])} skipped)"
            if gen
            else "pending",
        )
    )
    validity = record.latest("validity", ["output.filter_counts", "output.n_candidates"])
    if validity:
        counts = validity["output"]["filter_counts"]
        removed = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"
        status.append(
            StageStatus(
                "validity",
                True,
                f"{validity['output']['n_candidates']} valid; removed: {removed}",
            )
        )
    batches = record.docs("screen-batch", ["output.records.candidate_id"])
    n_screened = len({r["candidate_id"] for b in batches for r in b["output"]["records"]})
    screen = record.latest("screen", ["output.n_kept", "output.n_below_threshold"])
    status.append(
        StageStatus(
            "screen",
            screen is not None,
            f"{n_screened}/{n_generated} screened"
            + (
                f", {screen['output']['n_below_threshold']} below threshold, "
                f"{screen['output']['n_kept']} kept"
                if screen
                else ""
            ),
        )
    )
    dedup = record.latest("dedup", ["output.n_kept", "output.n_input"])
    status.append(
        StageStatus(
            "dedup",
            dedup is not None,
            f"{dedup['output']['n_kept']} distinct of {dedup['output']['n_input']}"
            if dedup
            else "pending",
        )
    )
    relax_batches = record.docs(
        "relax-batch", ["output.records.candidate_id", "output.records.status"]
    )
    records = {
        r["candidate_id"]: r["status"] for b in relax_batches for r in b["output"]["records"]
    }
    n_selected = (dedup or screen or {"output": {"n_kept": 0}})["output"]["n_kept"]
    relax = record.latest("relax", ["output.records.energy_source"])
    failed = sum(s != "relaxed" for s in records.values())
    sources = [r.get("energy_source") for r in (relax or {}).get("output", {}).get("records", [])]
    coordinate = "".join(
        f", {sources.count(source)} by {source}"
        for source in ("prediction", "lookup")
        if source in sources
    )
    status.append(
        StageStatus(
            "relax",
            relax is not None,
            f"{len(records)}/{n_selected} relaxed ({failed} failed or unconverged){coordinate}",
        )
    )
    hull = record.latest(
        "hull", ["output.n_promising", "output.stable_formulas", "output.entries.candidate_id"]
    )
    status.append(
        StageStatus(
            "hull",
            hull is not None,
            f"{len(hull['output']['entries'])} on the diagram, "
            f"{hull['output']['n_promising']} promising; "
            f"stable: {', '.join(hull['output']['stable_formulas'])}"
            if hull
            else "pending",
        )
    )
    return status


def stage_reuse(record: CampaignRecord, fingerprints: dict[str, str]) -> dict[str, bool]:
    """Per stage row of ``campaign_status``: would a rerun reuse it (same fingerprint)?"""
    keys = {
        "references": "references",
        "generation": "generation",
        "validity": "validity",
        "screen": "screen",
        "dedup": "dedup",
        "relax": "relax",
        "hull": "hull",
    }
    return {
        stage: bool(
            record.docs(stage, criteria={f"metadata.fingerprints.{key}": fingerprints[key]})
        )
        for stage, key in keys.items()
    }


def novelty(doc: dict) -> str:
    """'known' for a candidate that matches a known phase, 'new' for one placed on the hull
    that matches none, '' before the hull."""
    if doc.get("known_phase"):
        return "known"
    return "new" if doc.get("is_new") else ""


REACHED_ENERGY = ("relax", "coordinate")
"""Stages that give a candidate its energy for the hull."""


def candidate_documents(
    documents: Store, campaign: str, wanted: ResultFilter, properties: list[str] | None = None
) -> list[dict]:
    """The campaign's current candidate documents (superseded ones left out), those that
    reached relaxation (or the coordinate pattern) unless ``wanted.everything``, lowest
    energy above hull first."""
    criteria: dict = {"campaign": campaign, "role": "candidate", "status": {"$ne": "superseded"}}
    if not wanted.everything:
        criteria["$or"] = [{f"stages.{stage}": {"$exists": True}} for stage in REACHED_ENERGY]
    if wanted.stable:
        criteria["is_stable"] = True
    if wanted.max_ehull is not None:
        criteria["energy_above_hull"] = {"$lte": wanted.max_ehull}
    if wanted.formula:
        criteria["formula_pretty"] = Composition(wanted.formula).reduced_formula
    documents.connect()
    found = list(documents.query(criteria, properties=properties))

    def order(doc: dict):
        ehull = doc.get("energy_above_hull")
        predicted = doc.get("predicted_formation_energy_per_atom")
        return (
            ehull if ehull is not None else float("inf"),
            predicted if predicted is not None else float("inf"),
            doc["candidate_id"],
        )

    return wanted.ordered(sorted(found, key=order))
