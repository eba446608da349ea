"""Crystal prototypes from pymatgen's copy of the AFLOW library of crystallographic prototypes
(Mehl et al., Comput. Mater. Sci. 136, S1 (2017), part 1: 288 prototypes), filtered by
number of elements, stoichiometry, space group or label and decorated with target elements.

``PROTOTYPES`` names the intermetallic templates the examples and tests use: library
prototypes with their sites relabelled to the named compound, and the four the library's
part 1 lacks (ThCr2Si2, Fe2P-ordered ZrNiAl, TiNiSi and the Y-type Heusler), built from their
space groups and Wyckoff sites with the prototype compound's lattice parameters (A).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import product
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pymatgen.analysis.prototypes import AFLOW_PROTOTYPE_LIBRARY
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from discoverflow.core.crystal.substitution import (
    SubstitutionCandidate,
    SubstitutionResult,
    SubstitutionSettings,
    elemental_volume,
    substitute,
)
from discoverflow.core.structures import candidate_id


@dataclass(frozen=True)
class LibraryPrototype:
    """One prototype of the AFLOW library with its tags."""

    label: str  # AFLOW label, e.g. AB3_cP4_221_a_c
    strukturbericht: str | None
    mineral: str | None
    pearson: str
    structure: Structure

    @property
    def name(self) -> str:
        return self.structure.composition.reduced_formula

    @property
    def space_group(self) -> int:
        return int(self.label.split("_")[2])

    @property
    def stoichiometry(self) -> tuple[int, ...]:
        return stoichiometry_key(self.label.split("_")[0])

    @property
    def n_elements(self) -> int:
        return len(self.structure.composition.elements)

    @property
    def title(self) -> str:
        """Its AFLOW label, with its textbook (Strukturbericht) name where it has one."""
        return f"{self.label} ({self.strukturbericht})" if self.strukturbericht else self.label

    def names(self) -> set[str]:
        """What a user may call it: AFLOW label, Strukturbericht, mineral, compound."""
        found = {self.label, self.name, self.pearson}
        found |= {n for n in (self.strukturbericht, self.mineral) if n}
        return {n.lower() for n in found}


def tag(value: str) -> str | None:
    """A library tag, or None where the library leaves it empty.

    Parameters
    ----------
    value
        The tag as the library gives it.

    Returns
    -------
    str or None
        The tag."""
    return None if value in ("", "None") else value


@cache
def library() -> tuple[LibraryPrototype, ...]:
    """Every prototype of pymatgen's AFLOW library (ordered structures, real lattices)."""
    return tuple(
        LibraryPrototype(
            label=item["tags"]["aflow"],
            strukturbericht=tag(item["tags"]["strukturbericht"]),
            mineral=tag(item["tags"]["mineral"]),
            pearson=item["tags"]["pearson"],
            structure=item["snl"].structure,
        )
        for item in AFLOW_PROTOTYPE_LIBRARY
    )


def stoichiometry_key(formula: str) -> tuple[int, ...]:
    """Sorted reduced atom counts of a formula, anonymous (``AB3``) or not (``CeFe2``)."""
    parts = re.findall(r"([A-Z][a-z]*)(\d*)", formula)
    if not parts or "".join(f"{s}{n}" for s, n in parts) != formula.replace(" ", ""):
        raise ValueError(f"not a formula: {formula!r}")
    counts = [int(n or 1) for _, n in parts]
    divisor = math.gcd(*counts)
    return tuple(sorted(c // divisor for c in counts))


class PrototypeSettings(SubstitutionSettings):
    """Which library prototypes to decorate with the target elements, and how."""

    n_elements: list[int] | None = Field(
        None, description="Prototypes with these numbers of elements (default 2 up to targets)"
    )
    stoichiometries: list[str] | None = Field(
        None, description="Only these stoichiometries, anonymous (AB3) or as formulas (CeFe2)"
    )
    space_groups: list[int | str] | None = Field(
        None, description="Only these space groups (numbers or Hermann-Mauguin symbols)"
    )
    labels: list[str] | None = Field(
        None,
        description="Only these prototypes: AFLOW label, Strukturbericht (L1_2), mineral "
        "name or prototype compound (Cu3Au), case-insensitive",
    )
    max_sites: int = Field(12, gt=0, description="Largest primitive cell (sites) to decorate")
    decoration: Literal["species", "wyckoff"] = Field(
        "species",
        description="Map the prototype's elements to target elements ('species'), or give "
        "every Wyckoff orbit its own target element ('wyckoff': colourings too)",
    )
    lattice_scales: list[Annotated[float, Field(gt=0.5, lt=2.0)]] = Field(
        [1.0], min_length=1, description="Lattice-parameter scales of each decorated cell"
    )
    excluded_template_elements: list[str] = Field(
        [], description="Prototypes whose own compound contains these are skipped"
    )


def space_group_number(value: int | str) -> int:
    """A space group's number from its number or symbol.

    Parameters
    ----------
    value
        International number or Hermann-Mauguin symbol.

    Returns
    -------
    int
        The international number."""
    if isinstance(value, int):
        return value
    from pymatgen.symmetry.groups import SpaceGroup

    return SpaceGroup(value).int_number


def select_prototypes(settings: PrototypeSettings, n_targets: int) -> dict[str, LibraryPrototype]:
    """The library prototypes that pass the settings' filters, keyed by AFLOW label,
    canonical ones first."""
    counts = set(settings.n_elements or range(2, n_targets + 1))
    stoichiometries = {stoichiometry_key(s) for s in settings.stoichiometries or []}
    groups = {space_group_number(g) for g in settings.space_groups or []}
    labels = {name.lower() for name in settings.labels or []}
    sites = {}
    for index, prototype in enumerate(library()):
        if (
            prototype.n_elements in counts
            and prototype.n_elements <= n_targets
            and (not stoichiometries or prototype.stoichiometry in stoichiometries)
            and (not groups or prototype.space_group in groups)
            and (not labels or labels & prototype.names())
        ):
            sites[index] = len(prototype.structure.get_primitive_structure())
    chosen = {}
    for index in sorted(sites, key=lambda i: canonical_first(library()[i], sites[i])):
        if sites[index] <= settings.max_sites:
            chosen.setdefault(library()[index].label, library()[index])
    return chosen


def canonical_first(prototype: LibraryPrototype, sites: int) -> tuple:
    """Textbook prototypes first (a Strukturbericht name: L1_2, B2), then the smallest
    primitive cell and the highest symmetry: where decorations of two prototypes coincide,
    the first is kept and the other is its duplicate."""
    return (prototype.strukturbericht is None, sites, -prototype.space_group, prototype.label)


def wyckoff_colourings(structure: Structure, targets: Sequence[str]) -> tuple[list[Structure], int]:
    """Every assignment of target elements to the structure's Wyckoff orbits that uses at
    least two elements (symmetry-equivalent colourings once), and how many there were."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    symmetrized = SpacegroupAnalyzer(structure, symprec=0.01).get_symmetrized_structure()
    orbits = symmetrized.equivalent_indices
    matcher = StructureMatcher(ltol=1e-3, stol=1e-3, angle_tol=0.1, scale=False)
    found: dict[str, list[Structure]] = {}
    total = 0
    for choice in product(targets, repeat=len(orbits)):
        if len(set(choice)) < 2:
            continue
        total += 1
        species = [""] * len(structure)
        for element, orbit in zip(choice, orbits, strict=True):
            for index in orbit:
                species[index] = element
        coloured = Structure(structure.lattice, species, structure.frac_coords)
        same_formula = found.setdefault(coloured.composition.reduced_formula, [])
        if not any(matcher.fit(coloured, other) for other in same_formula):
            same_formula.append(coloured)
    return [s for group in found.values() for s in group], total


def decorate_wyckoff(
    prototypes: dict[str, LibraryPrototype], targets: Sequence[str], settings: PrototypeSettings
) -> SubstitutionResult:
    """Decorate the prototypes by giving each Wyckoff orbit its own target element.

    Parameters
    ----------
    prototypes
        Prototypes by name.
    targets
        The target elements.
    settings
        The prototype generator's settings.

    Returns
    -------
    SubstitutionResult
        The distinct decorated candidates and the prototypes skipped."""
    result = SubstitutionResult()
    seen: set[str] = set()
    for prototype in prototypes.values():
        primitive = prototype.structure.get_primitive_structure()
        colourings, total = wyckoff_colourings(primitive, targets)
        result.assignments_total += total
        result.assignments_distinct += len(colourings)
        for coloured in colourings:
            if settings.volume == "elemental":
                coloured.scale_lattice(elemental_volume(coloured))
            base = coloured.volume
            for scale in settings.lattice_scales:
                structure = coloured.copy()
                structure.scale_lattice(base * scale**3)
                cid = candidate_id(structure)
                if cid not in seen:
                    seen.add(cid)
                    result.candidates.append(
                        SubstitutionCandidate(cid, structure, prototype.title, {}, float(scale))
                    )
    return result


def decorate_prototypes(
    targets: Sequence[str], settings: PrototypeSettings | None = None
) -> tuple[SubstitutionResult, int]:
    """Candidates from the selected prototypes decorated with ``targets``, and how many
    prototypes were selected; the cells are scaled as substitution scales templates.

    Parameters
    ----------
    targets
        The target elements.
    settings
        The prototype filters and decoration; None takes the defaults.

    Returns
    -------
    tuple
        The ``SubstitutionResult`` and the number of prototypes selected.
    """
    settings = settings or PrototypeSettings()
    prototypes = select_prototypes(settings, len(targets))
    if settings.decoration == "wyckoff":
        return decorate_wyckoff(prototypes, targets, settings), len(prototypes)
    templates = {p.title: p.structure for p in prototypes.values()}
    return substitute(templates, targets, settings), len(prototypes)


@dataclass(frozen=True)
class Prototype:
    """A named template: a library prototype relabelled to ``species_map``, or built here."""

    name: str
    strukturbericht: str | None
    spacegroup: str
    label: str | None = None  # AFLOW label of a library prototype
    species_map: tuple[tuple[str, str], ...] = ()
    lattice: tuple[float, ...] = ()  # a | a, c | a, b, c (built prototypes)
    species: tuple[str, ...] = ()
    coords: tuple[tuple[float, float, float], ...] = ()

    def structure(self) -> Structure:
        if self.label is not None:
            (found,) = [p for p in library() if p.label == self.label]
            structure = found.structure.copy()
            structure.replace_species(dict(self.species_map))
            return structure
        if len(self.lattice) == 1:
            lattice = Lattice.cubic(self.lattice[0])
        elif self.spacegroup == "P-62m":
            lattice = Lattice.hexagonal(*self.lattice)
        elif len(self.lattice) == 2:
            lattice = Lattice.tetragonal(*self.lattice)
        else:
            lattice = Lattice.orthorhombic(*self.lattice)
        return Structure.from_spacegroup(
            self.spacegroup, lattice, list(self.species), list(self.coords)
        )


def from_library(name: str, strukturbericht: str, label: str, **species: str) -> Prototype:
    """A library prototype under the name of the compound its sites are relabelled to."""
    return Prototype(name, strukturbericht, label.split("_")[2], label, tuple(species.items()))


PROTOTYPES: dict[str, Prototype] = {
    p.name: p
    for p in (
        # binaries
        from_library("Cu3Au", "L1_2", "AB3_cP4_221_a_c"),
        from_library("CuZn", "B2", "AB_cP2_221_b_a", Cs="Zn", Cl="Cu"),
        from_library("Fe3Al", "D0_3", "AB3_cF16_225_a_bc", Bi="Al", F="Fe"),
        from_library("MgCu2", "C15", "A2B_cF24_227_d_a"),
        from_library("MgZn2", "C14", "AB2_hP12_194_f_ah"),
        from_library("CaCu5", "D2_d", "AB5_hP6_191_a_cg"),
        from_library("AlB2", "C32", "AB2_hP3_191_a_d"),
        from_library("NiAs", "B8_1", "AB_hP4_194_c_a"),
        # ternaries
        from_library("Cu2MnAl", "L2_1", "AB2C_cF16_225_a_c_b"),
        from_library("MgAgAs", "C1_b", "ABC_cF12_216_b_c_a"),
        from_library("Fe3AlC", "E2_1", "AB3C_cP5_221_a_c_b", Ca="Al", O="Fe", Ti="C"),
        Prototype(
            "CeCu2Si2",
            "ThCr2Si2-type",
            "I4/mmm",
            lattice=(4.10, 9.93),
            species=("Ce", "Cu", "Si"),
            coords=((0, 0, 0), (0, 0.5, 0.25), (0, 0, 0.379)),
        ),
        Prototype(
            "ZrNiAl",
            "Fe2P-type",
            "P-62m",
            lattice=(6.91, 3.46),
            species=("Zr", "Ni", "Ni", "Al"),
            coords=((0.588, 0, 0.5), (0, 0, 0.5), (1 / 3, 2 / 3, 0), (0.246, 0, 0)),
        ),
        Prototype(
            "TiNiSi",
            "TiNiSi-type",
            "Pnma",
            lattice=(6.18, 3.67, 7.02),
            species=("Ti", "Ni", "Si"),
            coords=((0.021, 0.25, 0.180), (0.142, 0.25, 0.561), (0.765, 0.25, 0.623)),
        ),
        # quaternaries
        Prototype(
            "LiMgPdSn",
            "Y-type Heusler",
            "F-43m",
            lattice=(6.42,),
            species=("Li", "Mg", "Pd", "Sn"),
            coords=((0, 0, 0), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), (0.75, 0.75, 0.75)),
        ),
    )
}


def write_prototypes(folder: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Write the named prototypes (all by default) as CIF files; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or PROTOTYPES:
        path = folder / f"{name}.cif"
        PROTOTYPES[name].structure().to(filename=str(path), symprec=0.01)
        written.append(path)
    return written
