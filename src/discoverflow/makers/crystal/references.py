"""Elemental references and known phases, relaxed with the candidates' relax engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Flow, Maker, job
from pymatgen.core import Structure

from discoverflow.core.crystal.elements import elemental_reference_candidates
from discoverflow.errors import DiscoverflowError
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.schemas.relax import ReferenceDocument, ReferencePhase, RelaxBatchDocument

PHASE_PREFIX = "phase:"


def reference_structures(
    elements: list[str], known_phases: dict[str, Structure] | None = None
) -> dict[str, Structure]:
    """Elemental reference candidates (``El:origin``) and the user's phases (``phase:name``)
    within the campaign's chemical system."""
    structures = {
        f"{element}:{origin}": structure
        for element in elements
        for origin, structure in elemental_reference_candidates(element).items()
    }
    system = set(elements)
    for name, structure in (known_phases or {}).items():
        if {str(el) for el in structure.composition.elements} <= system:
            structures[f"{PHASE_PREFIX}{name}"] = structure
    return structures


@job(
    data="structures",
    output_schema=ReferenceDocument,
    metadata={"stage": "references", "runs_on": "cpu"},
)
def collect_references(relaxed: RelaxBatchDocument, elements: list[str]) -> ReferenceDocument:
    """Lowest relaxed energy per element (elemental phases supplied by the user compete too)."""
    energies: dict[str, float] = {}
    sources: dict[str, str] = {}
    entries = {}
    phases = []
    for record in relaxed.records:
        structure = relaxed.structures.get(record.candidate_id)
        usable = record.status == "relaxed" and structure is not None
        if usable and structure.composition.is_element:
            element = str(structure.composition.elements[0])
            if element in elements and record.energy_per_atom < energies.get(element, float("inf")):
                energies[element] = record.energy_per_atom
                sources[element] = record.candidate_id
                if record.entry is not None:
                    entries[element] = record.entry
        if record.candidate_id.startswith(PHASE_PREFIX):
            phases.append(
                ReferencePhase(
                    name=record.candidate_id.removeprefix(PHASE_PREFIX),
                    formula=record.formula,
                    energy_per_atom=record.energy_per_atom if usable else None,
                    status=record.status,
                    reason=record.reason,
                    entry=record.entry,
                )
            )
    missing = sorted(set(elements) - set(energies))
    if missing:
        raise DiscoverflowError(
            f"no converged reference relaxation for {', '.join(missing)}; "
            "supply a reference phase for it in inputs.reference_phases"
        )
    return ReferenceDocument(
        engine=relaxed.engine,
        elements=list(elements),
        elemental_energies=energies,
        elemental_sources=sources,
        elemental_entries=entries,
        phases=phases,
        structures=relaxed.structures,
    )


@dataclass
class ReferenceMaker(Maker):
    """Relax elemental reference states and known phases with the given relax maker."""

    name: str = "references"
    relax_maker: Maker = field(default_factory=MLRelaxMaker)

    def make(self, elements: list[str], known_phases: dict[str, Structure] | None = None) -> Flow:
        relax = self.relax_maker.make(reference_structures(elements, known_phases))
        relax.update_metadata({"stage": "reference-relax"})
        collect = collect_references(relax.output, elements)
        return Flow([relax, collect], output=collect.output, name=self.name)
