"""Generator Makers beyond substitution, and the validity filter of the directive pattern.

A generator Maker's ``make(inputs, elements)`` returns a ``GenerationDocument``; ``inputs``
are the structures of the campaign's templates folder (used or not).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Maker, job
from pymatgen.core import Structure

from discoverflow.core.crystal.generators import (
    charge_neutral_compositions,
    random_crystals,
    stoichiometries,
)
from discoverflow.core.crystal.validity import ValiditySettings, filter_structures
from discoverflow.core.structures import candidate_id
from discoverflow.makers.base import StageMaker
from discoverflow.makers.documents import record_generation
from discoverflow.schemas.generation import CandidateInfo, GenerationDocument


def generation_document(
    elements: list[str], origins: dict[str, str], structures: dict[str, Structure], **extra
) -> GenerationDocument:
    """A GenerationDocument for structures keyed by candidate id, each with its origin."""
    return GenerationDocument(
        elements=list(elements),
        n_templates=extra.pop("n_templates", 0),
        n_candidates=len(structures),
        assignments_total=extra.pop("assignments_total", len(structures)),
        assignments_distinct=extra.pop("assignments_distinct", len(structures)),
        candidates=[
            CandidateInfo(
                candidate_id=cid,
                formula=s.composition.reduced_formula,
                template=origins[cid],
                species_map={},
                scale=1.0,
                n_sites=len(s),
            )
            for cid, s in structures.items()
        ],
        structures=structures,
        **extra,
    )


@dataclass
class RandomStructureMaker(Maker):
    """Random symmetric crystals (pyxtal) for compositions of the target elements.

    Compositions are every stoichiometry with up to ``max_atoms`` atoms per formula unit,
    kept only when SMACT finds them charge-neutral if ``charge_neutral_only``.
    """

    name: str = "random structures"
    per_composition: int = 5
    max_atoms: int = 6
    max_sites: int = 24
    charge_neutral_only: bool = True
    seed: int = 0

    @job(
        data=["structures", "candidates"],
        output_schema=GenerationDocument,
        metadata={"stage": "generation", "runs_on": "cpu"},
    )
    def make(self, inputs: dict[str, Structure], elements: list[str]) -> GenerationDocument:
        enumerate_ = charge_neutral_compositions if self.charge_neutral_only else stoichiometries
        structures, origins = {}, {}
        for index, composition in enumerate(enumerate_(elements, self.max_atoms)):
            for group, structure in random_crystals(
                composition, self.per_composition, self.max_sites, seed=self.seed + index
            ):
                cid = candidate_id(structure)
                structures[cid] = structure
                origins[cid] = f"pyxtal:{group}"
        return generation_document(elements, origins, structures)


@dataclass
class UserStructuresMaker(Maker):
    """The user's own structures (the templates folder) as candidates, unchanged."""

    name: str = "user structures"

    @job(
        data=["structures", "candidates"],
        output_schema=GenerationDocument,
        metadata={"stage": "generation", "runs_on": "cpu"},
    )
    def make(self, inputs: dict[str, Structure], elements: list[str]) -> GenerationDocument:
        allowed = set(elements)
        structures, origins = {}, {}
        for name, structure in inputs.items():
            if {str(el) for el in structure.composition.elements} <= allowed:
                cid = candidate_id(structure)
                structures[cid] = structure
                origins[cid] = name
        return generation_document(elements, origins, structures, n_templates=len(inputs))


@dataclass
class ValidityFilterMaker(StageMaker):
    """At most ``max_elements`` elements, charge neutrality (SMACT), not P1 (spglib), no atoms
    closer than ``min_distance`` (A), no near-duplicates; reports what each filter removed."""

    name: str = "validity filter"
    settings: ValiditySettings = field(default_factory=ValiditySettings)

    @job(
        data=["structures", "candidates", "filtered_out"],
        output_schema=GenerationDocument,
        metadata={"stage": "validity", "runs_on": "cpu"},
    )
    def make(self, generation: GenerationDocument) -> GenerationDocument:
        ids = [c.candidate_id for c in generation.candidates]
        outcome = filter_structures({cid: generation.structures[cid] for cid in ids}, self.settings)
        kept = set(outcome.kept)
        record_generation(generation, removed=outcome.removed)
        return generation.model_copy(
            update={
                "n_candidates": len(kept),
                "candidates": [c for c in generation.candidates if c.candidate_id in kept],
                "structures": {cid: s for cid, s in generation.structures.items() if cid in kept},
                "filter_counts": outcome.counts,
                "filtered_out": outcome.removed,
            }
        )
