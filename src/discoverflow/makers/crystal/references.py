"""Elemental references and known phases, on the hull with energies from the candidates'
relax engine: known phases are relaxed with it unless their energies already come from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from jobflow import Flow, Maker, job
from pymatgen.core import Structure

from discoverflow.core.crystal.elements import elemental_reference_candidates
from discoverflow.core.crystal.known_phases import KnownPhase
from discoverflow.errors import DiscoverflowError
from discoverflow.makers.documents import WRITES_RECORDS, StageRecords, structure_fields
from discoverflow.makers.relax import MLRelaxMaker, RelaxMaker
from discoverflow.routing import JobStage, RunsOn, place, placed
from discoverflow.schemas.records import Stage
from discoverflow.schemas.relax import ReferenceDocument, ReferencePhase, RelaxBatchDocument

PHASE_PREFIX = "phase:"
KNOWN_PHASE = "known phase"


def known_phase_list(
    known_phases: Mapping[str, Structure] | Sequence[KnownPhase] | None,
) -> list[KnownPhase]:
    """Known phases as given: KnownPhase objects, or structures by name (no energies)."""
    if known_phases is None:
        return []
    if isinstance(known_phases, Mapping):
        return [KnownPhase(name, s, "inputs") for name, s in known_phases.items()]
    return list(known_phases)


def in_system(structure: Structure, elements: list[str]) -> bool:
    return {str(el) for el in structure.composition.elements} <= set(elements)


def reference_structures(
    elements: list[str], known_phases: Mapping[str, Structure] | None = None
) -> dict[str, Structure]:
    """Elemental reference candidates (``El:origin``) and the given phases (``phase:name``)
    within the campaign's chemical system."""
    structures = {
        f"{element}:{origin}": structure
        for element in elements
        for origin, structure in elemental_reference_candidates(element).items()
    }
    for name, structure in (known_phases or {}).items():
        if in_system(structure, elements):
            structures[f"{PHASE_PREFIX}{name}"] = structure
    return structures


def known_phase_fields(phase: ReferencePhase, structure: Structure | None) -> dict:
    fields = {
        "role": KNOWN_PHASE,
        "source": phase.source,
        "energy_source": phase.energy_source,
        "source_energy_per_atom": phase.source_energy_per_atom,
        "energy_per_atom": phase.energy_per_atom,
    }
    return fields | (structure_fields(structure) if structure is not None else {})


@job(
    config=WRITES_RECORDS,
    data="structures",
    output_schema=ReferenceDocument,
    metadata=placed(JobStage.REFERENCES, RunsOn.CPU),
)
def collect_references(
    relaxed: RelaxBatchDocument,
    elements: list[str],
    known: list[ReferencePhase] | None = None,
    given_structures: dict[str, Structure] | None = None,
) -> ReferenceDocument:
    """Lowest energy per element (elemental known phases compete too) and the known phases:
    relaxed ones with their relaxed energies, ``given`` ones (already computed with the
    campaign's engine, ``energy_per_atom`` set) as they are."""
    known_by_name = {p.name: p for p in known or []}
    structures = {**relaxed.structures}
    energies: dict[str, float] = {}
    sources: dict[str, str] = {}
    entries = {}
    phases = []

    def compete(key: str, structure: Structure, energy: float, entry=None) -> None:
        element = str(structure.composition.elements[0])
        if element in elements and energy < energies.get(element, float("inf")):
            energies[element], sources[element] = energy, key
            if entry is not None:
                entries[element] = entry

    for record in relaxed.records:
        structure = relaxed.structures.get(record.candidate_id)
        usable = record.status == "relaxed" and structure is not None
        if usable and structure.composition.is_element:
            compete(record.candidate_id, structure, record.energy_per_atom, record.entry)
        if record.candidate_id.startswith(PHASE_PREFIX):
            name = record.candidate_id.removeprefix(PHASE_PREFIX)
            template = known_by_name.get(name) or ReferencePhase(
                name=name, formula=record.formula, status=record.status
            )
            phases.append(
                template.model_copy(
                    update={
                        "energy_per_atom": record.energy_per_atom if usable else None,
                        "status": record.status,
                        "reason": record.reason,
                        "entry": record.entry,
                        "energy_source": f"relaxed with {relaxed.engine}",
                    }
                )
            )
    for name, structure in (given_structures or {}).items():
        phase = known_by_name[name]
        key = f"{PHASE_PREFIX}{name}"
        structures[key] = structure
        phases.append(phase)
        if structure.composition.is_element:
            compete(key, structure, phase.energy_per_atom)
    missing = sorted(set(elements) - set(energies))
    if missing:
        raise DiscoverflowError(
            f"no converged reference relaxation for {', '.join(missing)}; "
            "supply a known phase for it in inputs.known_phases"
        )
    if (stage_results := StageRecords.of_running_job()) is not None:
        stage_results.write(
            Stage.REFERENCES,
            {
                f"{PHASE_PREFIX}{p.name}": known_phase_fields(
                    p, structures.get(f"{PHASE_PREFIX}{p.name}")
                )
                for p in phases
            },
            {f"{PHASE_PREFIX}{p.name}": p.status for p in phases},
            {f"{PHASE_PREFIX}{p.name}": p.reason for p in phases},
        )
    return ReferenceDocument(
        engine=relaxed.engine,
        elements=list(elements),
        elemental_energies=energies,
        elemental_sources=sources,
        elemental_entries=entries,
        phases=phases,
        structures=structures,
    )


@dataclass
class ReferenceMaker(Maker):
    """Relax elemental reference states, and the known phases whose energies do not come
    from this relax maker's engine, with the given relax maker.

    ``known_phases`` are ``KnownPhase`` objects (energies with the engine behind them, and
    their source) or structures by name; those outside the chemical system are left out.

    Parameters
    ----------
    name
        The job's (or flow's) name.
    relax_maker
        The relax Maker of the elemental references and known phases (the candidates' own).
    """

    name: str = "references"
    relax_maker: RelaxMaker = field(default_factory=MLRelaxMaker)

    def make(
        self,
        elements: list[str],
        known_phases: Mapping[str, Structure] | Sequence[KnownPhase] | None = None,
    ) -> Flow:
        """The stage's jobs.

        Parameters
        ----------
        elements
            The target elements.
        known_phases
            Known phases of the system (structures by name, or ``KnownPhase``).

        Returns
        -------
        Flow
            Its output the ``ReferenceDocument``: elemental energies and known phases.
        """
        engine = self.relax_maker.engine
        known, to_relax, given = [], {}, {}
        for phase in known_phase_list(known_phases):
            if not in_system(phase.structure, elements):
                continue
            as_given = phase.engine == engine
            known.append(
                ReferencePhase(
                    name=phase.name,
                    formula=phase.structure.composition.reduced_formula,
                    status="given" if as_given else "to relax",
                    source=phase.source,
                    energy_per_atom=phase.energy_per_atom if as_given else None,
                    energy_source=f"given ({engine})" if as_given else None,
                    source_energy_per_atom=phase.energy_per_atom,
                    source_engine=phase.engine,
                )
            )
            (given if as_given else to_relax)[phase.name] = phase.structure
        relax = self.relax_maker.make(reference_structures(elements, to_relax))
        place(relax, JobStage.REFERENCE_RELAX)
        collect = collect_references(relax.output, elements, known, given)
        return Flow([relax, collect], output=collect.output, name=self.name)
