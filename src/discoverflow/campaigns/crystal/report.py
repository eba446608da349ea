"""What a campaign has done, read back from the store: stage status and candidate rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from discoverflow.campaigns.base import CampaignRecord


@dataclass
class StageStatus:
    stage: str
    done: bool
    detail: str


@dataclass
class CandidateRow:
    candidate_id: str
    formula: str
    template: str | None
    predicted_formation_energy: float | None
    relaxed_formation_energy: float | None
    e_above_hull: float | None
    status: str
    reason: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


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
        ["output.candidates.candidate_id", "output.skipped_templates", "output.n_templates"],
    )
    n_generated = len(gen["output"]["candidates"]) if gen else 0
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
    validity = record.latest("validity", ["output.filter_counts", "output.candidates.candidate_id"])
    if validity:
        counts = validity["output"]["filter_counts"]
        removed = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"
        status.append(
            StageStatus(
                "validity",
                True,
                f"{len(validity['output']['candidates'])} valid; removed: {removed}",
            )
        )
    batches = record.docs("screen-batch", ["output.records.candidate_id"])
    n_screened = len({r["candidate_id"] for b in batches for r in b["output"]["records"]})
    screen = record.latest("screen", ["output.kept.candidate_id", "output.n_below_threshold"])
    status.append(
        StageStatus(
            "screen",
            screen is not None,
            f"{n_screened}/{n_generated} screened"
            + (
                f", {screen['output']['n_below_threshold']} below threshold, "
                f"{len(screen['output']['kept'])} kept"
                if screen
                else ""
            ),
        )
    )
    dedup = record.latest("dedup", ["output.kept.candidate_id", "output.n_input"])
    status.append(
        StageStatus(
            "dedup",
            dedup is not None,
            f"{len(dedup['output']['kept'])} distinct of {dedup['output']['n_input']}"
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
    n_selected = len((dedup or screen or {"output": {"kept": []}})["output"]["kept"])
    relax = record.latest("relax")
    failed = sum(s != "relaxed" for s in records.values())
    status.append(
        StageStatus(
            "relax",
            relax is not None,
            f"{len(records)}/{n_selected} relaxed ({failed} failed or unconverged)",
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


def campaign_results(record: CampaignRecord, everything: bool = False) -> list[CandidateRow]:
    """One row per candidate that reached relaxation (or every generated one)."""
    gen = record.latest("generation", ["output.candidates"])
    if gen is None:
        return []
    rows = {
        c["candidate_id"]: CandidateRow(
            c["candidate_id"], c["formula"], c["template"], None, None, None, "pending"
        )
        for c in gen["output"]["candidates"]
    }
    validity = record.latest("validity", ["output.filtered_out"])
    for cid, problem in (validity["output"]["filtered_out"] if validity else {}).items():
        if cid in rows:
            rows[cid].status, rows[cid].reason = "invalid", problem
    for batch in record.docs("screen-batch", ["output.records", "output.failures"]):
        for r in batch["output"]["records"]:
            row = rows.get(r["candidate_id"])
            if row:
                row.predicted_formation_energy = r["formation_energy_per_atom"]
                row.status = "screened"
        for cid, reason in batch["output"]["failures"].items():
            if cid in rows:
                rows[cid].status, rows[cid].reason = "screen failed", reason
    screen = record.latest("screen", ["output.kept.candidate_id"])
    selected = None
    if screen:
        kept = {k["candidate_id"] for k in screen["output"]["kept"]}
        for cid, row in rows.items():
            if row.status == "screened" and cid not in kept:
                row.status = "screened out"
        selected = kept
    dedup = record.latest("dedup", ["output.kept.candidate_id", "output.duplicate_of"])
    if dedup:
        for cid, original in dedup["output"]["duplicate_of"].items():
            rows[cid].status, rows[cid].reason = "duplicate", f"of {original}"
        selected = {k["candidate_id"] for k in dedup["output"]["kept"]}
    for batch in record.docs("relax-batch", ["output.records"]):
        for r in batch["output"]["records"]:
            if r["candidate_id"] in rows:
                rows[r["candidate_id"]].status = r["status"]
                rows[r["candidate_id"]].reason = r["reason"]
    hull = record.latest("hull", ["output.entries", "output.stable_formulas"])
    if hull:
        for entry in hull["output"]["entries"]:
            row = rows[entry["candidate_id"]]
            row.relaxed_formation_energy = entry["formation_energy_per_atom"]
            row.e_above_hull = entry["e_above_hull"]
            if entry["e_above_hull"] == 0.0:
                row.status = "on hull"
            elif entry["promising"]:
                row.status = "promising"
    chosen = list(rows.values())
    if not everything and selected is not None:
        chosen = [row for row in chosen if row.candidate_id in selected]

    def order(row: CandidateRow):
        return (
            row.e_above_hull if row.e_above_hull is not None else float("inf"),
            row.predicted_formation_energy
            if row.predicted_formation_energy is not None
            else float("inf"),
            row.candidate_id,
        )

    return sorted(chosen, key=order)
