"""Known phases of a chemical system: read from pymatgen entries (JSON), from structure files
(with or without energies), or fetched from the Materials Project and cached, and matched
against relaxed candidates."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from monty.serialization import dumpfn, loadfn
from pymatgen.core import Structure

from discoverflow.core.structures import read_structure_folder

if TYPE_CHECKING:  # each a second to import: where a function needs them
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

ENERGIES_FILE = "energies.json"
"""In a folder of known phases: ``{file stem: {"energy_per_atom": eV, "engine": name}}``."""
MP_API_KEY = "MP_API_KEY"
MATERIALS_PROJECT = "Materials Project"


@dataclass
class KnownPhase:
    """A known phase: its structure, where it comes from, and the energy its source gives."""

    name: str
    structure: Structure
    source: str
    energy_per_atom: float | None = None
    engine: str | None = None  # the method behind energy_per_atom (e.g. GGA, chgnet-0.3.0)

    @property
    def label(self) -> str:
        """How a candidate matching it is labelled: id or formula, and source."""
        return f"{self.name} ({self.source})"


def entry_engine(entry: ComputedEntry) -> str | None:
    """The method behind an entry's energy: ``engine`` in its parameters or data (as
    discoverflow writes it), else its DFT run type (Materials Project entries)."""
    for where in (entry.parameters, entry.data):
        if where.get("engine"):
            return str(where["engine"])
    run_type = entry.parameters.get("run_type")
    return f"DFT {run_type}" if run_type else None


def from_entries(entries: Iterable[ComputedStructureEntry], source: str) -> list[KnownPhase]:
    """Known phases from pymatgen entries; energies per atom as the entries give them
    (corrected energies, e.g. MP2020-mixed for Materials Project entries)."""
    from pymatgen.entries.computed_entries import ComputedStructureEntry

    phases = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, ComputedStructureEntry):
            raise ValueError(f"{source}: entry {index} is not a ComputedStructureEntry")
        name = str(entry.entry_id or f"{entry.composition.reduced_formula}-{index}")
        phases.append(
            KnownPhase(name, entry.structure, source, entry.energy_per_atom, entry_engine(entry))
        )
    return phases


def read_entries(path: Path) -> list[ComputedStructureEntry]:
    """A JSON list of ComputedStructureEntry (monty-serialised, as ``dumpfn`` writes what
    ``MPRester.get_entries_in_chemsys`` returns)."""
    from pymatgen.entries.computed_entries import ComputedStructureEntry

    try:
        found = loadfn(path)
    except (ValueError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a JSON list of entries ({error})") from None
    if isinstance(found, ComputedStructureEntry):
        found = [found]
    if not isinstance(found, list) or not all(isinstance(e, ComputedStructureEntry) for e in found):
        raise ValueError(f"{path}: expected a list of pymatgen ComputedStructureEntry")
    return found


def read_folder(folder: Path) -> tuple[list[KnownPhase], list[str]]:
    """Structure files (CIF, POSCAR, JSON) of known phases, energies from ``energies.json``
    beside them where given; returns the phases and one problem line per unreadable file."""
    energies: dict = {}
    table = folder / ENERGIES_FILE
    if table.is_file():
        energies = json.loads(table.read_text())
    structures, unreadable = read_structure_folder(folder)
    problems = [f"{bad.path}: {bad.reason}" for bad in unreadable if bad.path.name != ENERGIES_FILE]
    phases = []
    for name, structure in structures.items():
        given = energies.get(name) or {}
        if given and not {"energy_per_atom", "engine"} <= set(given):
            problems.append(f"{table}: {name}: give energy_per_atom and engine")
            given = {}
        phases.append(
            KnownPhase(
                name,
                structure,
                f"{folder.name}/{name}",
                given.get("energy_per_atom"),
                given.get("engine"),
            )
        )
    problems += [f"{table}: {name}: no structure file" for name in set(energies) - set(structures)]
    return phases, problems


def read_known_phases(path: Path) -> list[KnownPhase]:
    """Known phases from an entries JSON file or a folder of structures."""
    if path.is_dir():
        phases, problems = read_folder(path)
        if problems:
            raise ValueError(problems[0])
        return phases
    if not path.is_file():
        raise FileNotFoundError(f"no such file or folder: {path}")
    return from_entries(read_entries(path), path.name)


def within_system(phases: Iterable[KnownPhase], elements: Sequence[str]) -> list[KnownPhase]:
    """The known phases whose elements all belong to the system.

    Parameters
    ----------
    phases
        Known phases.
    elements
        The system's elements.

    Returns
    -------
    list of KnownPhase
        The phases of the system or of its subsystems."""
    system = set(elements)
    return [p for p in phases if {str(e) for e in p.structure.composition.elements} <= system]


def near_source_hull(phases: list[KnownPhase], limit: float | None) -> list[KnownPhase]:
    """Phases whose source energies lie within ``limit`` (eV/atom) of the hull of those
    energies (per source method); phases without energies are all kept."""
    if limit is None:
        return phases
    from pymatgen.analysis.phase_diagram import PhaseDiagram
    from pymatgen.entries.computed_entries import ComputedEntry

    kept = [p for p in phases if p.energy_per_atom is None]
    by_engine: dict[str | None, list[KnownPhase]] = {}
    for phase in phases:
        if phase.energy_per_atom is not None:
            by_engine.setdefault(phase.engine, []).append(phase)
    for group in by_engine.values():
        entries = [
            ComputedEntry(p.structure.composition, p.energy_per_atom * len(p.structure))
            for p in group
        ]
        try:
            diagram = PhaseDiagram(entries)
        except ValueError:  # an element without an entry: no hull to measure against
            kept.extend(group)
            continue
        kept.extend(
            p
            for p, e in zip(group, entries, strict=True)
            if diagram.get_e_above_hull(e, allow_negative=True) <= limit
        )
    return kept


def cache_file(folder: Path, elements: Sequence[str]) -> Path:
    """Where the Materials Project entries of a chemical system are cached."""
    return folder / f"mp-entries-{'-'.join(sorted(elements))}.json"


def fetch_materials_project(elements: Sequence[str], api_key: str) -> list[ComputedStructureEntry]:
    """Every Materials Project entry in the chemical system (and its subsystems), with MP's
    mixing-scheme corrections, through mp-api."""
    from mp_api.client import MPRester

    with MPRester(api_key, mute_progress_bars=True) as rester:
        return list(rester.get_entries_in_chemsys(list(elements)))


def materials_project_problem(folder: Path, elements: Sequence[str]) -> str | None:
    """Why the Materials Project entries cannot be had, or None."""
    if cache_file(folder, elements).is_file() or os.environ.get(MP_API_KEY):
        return None
    return (
        f"hull.materials_project: set {MP_API_KEY} to fetch the Materials Project entries "
        f"(no cache at {cache_file(folder, elements)})"
    )


def materials_project_phases(folder: Path, elements: Sequence[str]) -> list[KnownPhase]:
    """The cached Materials Project entries, fetched and cached first when there are none:
    a rerun and a later offline run use the same entries."""
    path = cache_file(folder, elements)
    if not path.is_file():
        if problem := materials_project_problem(folder, elements):
            raise ValueError(problem)
        entries = fetch_materials_project(elements, os.environ[MP_API_KEY])
        folder.mkdir(parents=True, exist_ok=True)
        dumpfn(entries, path)
    return from_entries(read_entries(path), MATERIALS_PROJECT)


def match_known_phases(
    structures: Mapping[str, Structure],
    known: Mapping[str, Structure],
    labels: Mapping[str, str],
    matcher: StructureMatcher | None = None,
) -> dict[str, str | None]:
    """For each structure, the label of a known phase it matches (same reduced formula and
    StructureMatcher with volume scaling), or None: a new phase.

    Parameters
    ----------
    structures
        Key -> relaxed structure.
    known
        Known phase id -> structure.
    labels
        Known phase id -> the label the results show.
    matcher
        The StructureMatcher; None takes pymatgen's defaults with volume scaling.

    Returns
    -------
    dict
        Key -> label of the matching known phase, or None.
    """
    from pymatgen.analysis.structure_matcher import StructureMatcher

    matcher = matcher or StructureMatcher()
    by_formula: dict[str, list[str]] = {}
    for key, structure in known.items():
        by_formula.setdefault(structure.composition.reduced_formula, []).append(key)
    found: dict[str, str | None] = {}
    for key, structure in structures.items():
        same = by_formula.get(structure.composition.reduced_formula, [])
        hit = next((k for k in same if matcher.fit(structure, known[k])), None)
        found[key] = labels[hit] if hit is not None else None
    return found
