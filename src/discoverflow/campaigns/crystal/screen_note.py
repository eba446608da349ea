"""Why a crystal campaign relaxed nothing: its screen kept no candidate."""

from __future__ import annotations

from discoverflow.campaigns.base import CampaignRecord
from discoverflow.routing import JobStage
from discoverflow.schemas.records import CANDIDATES
from discoverflow.stores import document_store

PREDICTED = "predicted_formation_energy_per_atom"


def empty_screen_note(record: CampaignRecord, fingerprints: dict[str, str]) -> str | None:
    """When the current screen kept nothing: its threshold, the best predicted formation
    energy (and which candidate) and the setting that would let candidates through; else
    None."""
    screens = record.docs(
        JobStage.SCREEN,
        ["output.n_kept", "output.n_screened", "output.formation_energy_threshold"],
        {"metadata.fingerprints.screen": fingerprints["screen"]},
    )
    if not screens or screens[-1]["output"]["n_kept"] or not screens[-1]["output"]["n_screened"]:
        return None
    threshold = screens[-1]["output"]["formation_energy_threshold"]
    documents = document_store(record.store, CANDIDATES)
    documents.connect()
    predicted = [
        doc
        for doc in documents.query(
            {"campaign": record.campaign, "role": "candidate"},
            properties=["candidate_id", "formula_pretty", PREDICTED],
        )
        if doc.get(PREDICTED) is not None
    ]
    note = (
        f"no candidate passed screening.formation_energy_threshold ({threshold:g} eV/atom), "
        "so nothing was relaxed"
    )
    if not predicted:
        return note
    best = min(predicted, key=lambda doc: (doc[PREDICTED], doc["candidate_id"]))
    return (
        f"{note}: the best predicted formation energy is {best[PREDICTED]:.3f} eV/atom "
        f"({best['formula_pretty']}, {best['candidate_id']}); to relax the best candidates, "
        f"raise it above that, e.g. --set screening.formation_energy_threshold="
        f"{suggested_threshold(best[PREDICTED])}"
    )


def suggested_threshold(best: float) -> str:
    """A round threshold just above ``best`` (eV/atom), in steps of 0.05."""
    step = 0.05
    return f"{(best // step + 1) * step:.2f}"
