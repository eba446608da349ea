"""What a campaign has done, read back from the store: stage status and candidate rows."""

from __future__ import annotations

from dataclasses import dataclass

from maggma.core import Store
from pymatgen.core import Composition

from discoverflow.campaigns.base import CampaignRecord, ResultFilter
from discoverflow.routing import JobStage
from discoverflow.schemas.records import Stage, Status


@dataclass
class StageStatus:
    stage: str
    done: bool
    detail: str


def campaign_status(record: CampaignRecord, fingerprints: dict[str, str]) -> list[StageStatus]:
    """Each stage's state for the current settings (its jobs of the current fingerprints)
    and, for the relaxations, every stored relaxation result, finished batch or not."""

    def current(stage: str, key: str, properties: list[str]) -> dict | None:
        found = record.docs(stage, properties, {f"metadata.fingerprints.{key}": fingerprints[key]})
        return found[-1] if found else None

    status = []
    refs = current(
        JobStage.REFERENCES, "references", ["output.elemental_energies", "output.phases"]
    )
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
    gen = current(
        JobStage.GENERATION,
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
    validity = current(
        JobStage.VALIDITY, "validity", ["output.filter_counts", "output.n_candidates"]
    )
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
    n_screened = len(record.results(Stage.SCREENING, fingerprints["screen_model"]))
    screen = current(JobStage.SCREEN, "screen", ["output.n_kept", "output.n_below_threshold"])
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
    dedup = current(JobStage.DEDUP, "dedup", ["output.n_kept", "output.n_input"])
    status.append(
        StageStatus(
            "dedup",
            dedup is not None,
            f"{dedup['output']['n_kept']} distinct of {dedup['output']['n_input']}"
            if dedup
            else "pending",
        )
    )
    n_selected = (dedup or screen or {"output": {"n_kept": 0}})["output"]["n_kept"]
    kept = selected_ids(record, fingerprints)
    relaxed = record.results(Stage.RELAX, fingerprints["relax_engine"])
    records = {cid: status for cid, status in relaxed.items() if cid in kept}
    relax = current(JobStage.RELAX, "relax", ["output.records.energy_source"])
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
    hull = current(
        JobStage.HULL,
        "hull",
        ["output.n_promising", "output.stable_formulas", "output.entries.candidate_id"],
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


def selected_ids(record: CampaignRecord, fingerprints: dict[str, str]) -> set[str]:
    """The candidates the current selection (screen, then dedup and property screen) kept,
    from their records: relaxations of other selections are not theirs to count."""
    kept = {
        cid
        for cid, status in record.results(Stage.SELECTION, fingerprints["screen"]).items()
        if status == Status.SELECTED
    }
    for stage, key in ((Stage.DEDUP, "dedup"), (Stage.PROPERTY_SCREEN, "property_screen")):
        kept -= {
            cid
            for cid, status in record.results(stage, fingerprints[key]).items()
            if status != Status.SELECTED
        }
    return kept


REUSES, REDOES = "reuses it", "redoes it"


def stage_reuse(record: CampaignRecord, fingerprints: dict[str, str]) -> dict[str, str]:
    """Per stage row of ``campaign_status``: what a rerun with these settings does with it
    (``REUSES``, ``REDOES``, or reuses the expensive per-candidate part and redoes the rest)."""

    def done(stage: str, key: str) -> bool:
        return bool(
            record.docs(stage, criteria={f"metadata.fingerprints.{key}": fingerprints[key]})
        )

    found = {
        stage: REUSES if done(stage, stage) else REDOES
        for stage in ("references", "generation", "validity", "screen", "dedup", "relax", "hull")
    }
    if found["screen"] == REDOES and done(JobStage.SCREEN_BATCH, "screen_model"):
        found["screen"] = "reuses the energies, selects again"
    if found["relax"] == REDOES and record.results(Stage.RELAX, fingerprints["relax_engine"]):
        found["relax"] = "reuses finished relaxations, relaxes the rest"
    return found


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
    """The campaign's candidate documents (the view of its current settings), those that
    reached relaxation (or the coordinate pattern) unless ``wanted.everything``, lowest
    energy above hull first."""
    criteria: dict = {"campaign": campaign, "role": "candidate"}
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
