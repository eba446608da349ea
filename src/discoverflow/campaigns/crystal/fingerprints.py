"""Each stage's fingerprint: a hash of its settings and of what it reads, chained so that a
changed setting changes the fingerprints of its stage and of every stage after it."""

from __future__ import annotations

from pymatgen.core import Structure

from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.core.checkpoint import fingerprint
from discoverflow.core.crystal.known_phases import KnownPhase
from discoverflow.core.structures import candidate_id

STAGES = (
    "references",
    "generation",
    "validity",
    "screen_model",
    "screen",
    "dedup",
    "property_screen",
    "relax_engine",
    "relax",
    "hull",
    "audit",
)
"""Stages in flow order; ``screen_model`` (the per-candidate energies) and ``relax_engine``
(the per-candidate relaxations) fingerprint what single candidates reuse; ``audit`` is the
control sample's and the scorecard's."""


def structure_ids(structures: dict[str, Structure]) -> list[str]:
    return sorted(candidate_id(s) for s in structures.values())


def known_phase_ids(phases: list[KnownPhase]) -> list[list]:
    """What the hull takes from each known phase: name, structure, source and given energy."""
    return sorted(
        [p.name, candidate_id(p.structure), p.source, p.energy_per_atom, p.engine] for p in phases
    )


def stage_fingerprints(
    config: CampaignConfig,
    templates: dict[str, Structure],
    known_phases: list[KnownPhase],
) -> dict[str, str]:
    """Stage name -> fingerprint for this campaign file and these input structures."""
    if config.relax.maker:
        relax_engine = {"maker": config.relax.maker}
    elif config.relax.engine == "vasp":
        relax_engine = {"engine": "vasp", **config.relax.vasp.model_dump()}
    else:
        relax_engine = config.relax.ml().model_dump(exclude={"batch_size"})
    found = {"relax_engine": fingerprint(relax_engine)}
    found["references"] = fingerprint(
        {
            "elements": config.elements,
            "phases": known_phase_ids(known_phases),
            "relax": found["relax_engine"],
        }
    )
    found["generation"] = fingerprint(
        {
            "elements": config.elements,
            "generation": config.generation.model_dump(),
            "templates": structure_ids(templates),
        }
    )
    found["validity"] = (
        fingerprint(
            {
                "after": found["generation"],
                "validity": config.validity.model_dump(exclude={"enabled"}),
            }
        )
        if config.validity.enabled
        else found["generation"]
    )
    screening = config.screening
    found["screen_model"] = fingerprint(
        {"model": screening.model, "options": screening.model_options}
    )
    found["screen"] = fingerprint(
        {
            "after": found["validity"],
            "energies": found["screen_model"],
            "references": found["references"],
            "selection": screening.model_dump(
                include={"formation_energy_threshold", "max_candidates"}
            ),
        }
    )
    found["dedup"] = (
        fingerprint(
            {"after": found["screen"], "dedup": config.dedup.model_dump(exclude={"workers"})}
        )
        if config.dedup.enabled
        else found["screen"]
    )
    found["property_screen"] = (
        fingerprint(
            {
                "after": found["dedup"],
                "window": config.property_screen.model_dump(exclude={"enabled"}),
            }
        )
        if config.property_screen.enabled
        else found["dedup"]
    )
    relax = {"after": found["property_screen"], "relax": found["relax_engine"]}
    if config.relax.pattern == "coordinate":
        relax["coordinate"] = config.relax.coordinate.model_dump()
    found["relax"] = fingerprint(relax)
    found["hull"] = fingerprint(
        {
            "after": found["relax"],
            "references": found["references"],
            "known_phases": known_phase_ids(known_phases),
            "hull": config.hull.model_dump(),
        }
    )
    found["audit"] = fingerprint(
        {
            "after": found["hull"],
            "audit": screening.model_dump(include={"audit_fraction", "audit_seed", "audit_max"}),
        }
    )
    return found
