"""Well-known intermetallic prototypes, built from their space groups and Wyckoff sites.

Lattice parameters are those of the prototype compound (A); substitution rescales them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pymatgen.core import Lattice, Structure


@dataclass(frozen=True)
class Prototype:
    name: str
    strukturbericht: str | None
    spacegroup: str
    lattice: tuple[float, ...]  # a | a, c | a, b, c
    species: tuple[str, ...]
    coords: tuple[tuple[float, float, float], ...]

    def structure(self) -> Structure:
        if len(self.lattice) == 1:
            lattice = Lattice.cubic(self.lattice[0])
        elif (
            len(self.lattice) == 2 and self.spacegroup.startswith("P6")
        ) or self.spacegroup == "P-62m":
            lattice = Lattice.hexagonal(*self.lattice)
        elif len(self.lattice) == 2:
            lattice = Lattice.tetragonal(*self.lattice)
        else:
            lattice = Lattice.orthorhombic(*self.lattice)
        return Structure.from_spacegroup(
            self.spacegroup, lattice, list(self.species), list(self.coords)
        )


PROTOTYPES: dict[str, Prototype] = {
    p.name: p
    for p in (
        # binaries
        Prototype("Cu3Au", "L1_2", "Pm-3m", (3.75,), ("Au", "Cu"), ((0, 0, 0), (0, 0.5, 0.5))),
        Prototype("CuZn", "B2", "Pm-3m", (2.95,), ("Cu", "Zn"), ((0, 0, 0), (0.5, 0.5, 0.5))),
        Prototype(
            "Fe3Al",
            "D0_3",
            "Fm-3m",
            (5.79,),
            ("Al", "Fe", "Fe"),
            ((0, 0, 0), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)),
        ),
        Prototype(
            "MgCu2", "C15", "Fd-3m", (7.04,), ("Mg", "Cu"), ((0, 0, 0), (0.625, 0.625, 0.625))
        ),
        Prototype(
            "MgZn2",
            "C14",
            "P6_3/mmc",
            (5.22, 8.57),
            ("Mg", "Zn", "Zn"),
            ((1 / 3, 2 / 3, 0.063), (0, 0, 0), (0.830, 0.660, 0.25)),
        ),
        Prototype(
            "CaCu5",
            "D2_d",
            "P6/mmm",
            (5.09, 4.08),
            ("Ca", "Cu", "Cu"),
            ((0, 0, 0), (1 / 3, 2 / 3, 0), (0.5, 0, 0.5)),
        ),
        Prototype(
            "AlB2", "C32", "P6/mmm", (3.01, 3.26), ("Al", "B"), ((0, 0, 0), (1 / 3, 2 / 3, 0.5))
        ),
        Prototype(
            "NiAs",
            "B8_1",
            "P6_3/mmc",
            (3.62, 5.03),
            ("Ni", "As"),
            ((0, 0, 0), (1 / 3, 2 / 3, 0.25)),
        ),
        # ternaries
        Prototype(
            "Cu2MnAl",
            "L2_1",
            "Fm-3m",
            (5.95,),
            ("Cu", "Mn", "Al"),
            ((0.25, 0.25, 0.25), (0, 0, 0), (0.5, 0.5, 0.5)),
        ),
        Prototype(
            "MgAgAs",
            "C1_b",
            "F-43m",
            (6.24,),
            ("Mg", "Ag", "As"),
            ((0.5, 0.5, 0.5), (0, 0, 0), (0.25, 0.25, 0.25)),
        ),
        Prototype(
            "CeCu2Si2",
            "ThCr2Si2-type",
            "I4/mmm",
            (4.10, 9.93),
            ("Ce", "Cu", "Si"),
            ((0, 0, 0), (0, 0.5, 0.25), (0, 0, 0.379)),
        ),
        Prototype(
            "Fe3AlC",
            "E2_1",
            "Pm-3m",
            (3.78,),
            ("Fe", "Al", "C"),
            ((0, 0.5, 0.5), (0, 0, 0), (0.5, 0.5, 0.5)),
        ),
        Prototype(
            "ZrNiAl",
            "Fe2P-type",
            "P-62m",
            (6.91, 3.46),
            ("Zr", "Ni", "Ni", "Al"),
            ((0.588, 0, 0.5), (0, 0, 0.5), (1 / 3, 2 / 3, 0), (0.246, 0, 0)),
        ),
        Prototype(
            "TiNiSi",
            "TiNiSi-type",
            "Pnma",
            (6.18, 3.67, 7.02),
            ("Ti", "Ni", "Si"),
            ((0.021, 0.25, 0.180), (0.142, 0.25, 0.561), (0.765, 0.25, 0.623)),
        ),
        # quaternaries
        Prototype(
            "LiMgPdSn",
            "Y-type Heusler",
            "F-43m",
            (6.42,),
            ("Li", "Mg", "Pd", "Sn"),
            ((0, 0, 0), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), (0.75, 0.75, 0.75)),
        ),
    )
}


def write_prototypes(folder: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Write the named prototypes (all by default) as CIF files; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or PROTOTYPES:
        prototype = PROTOTYPES[name]
        path = folder / f"{name}.cif"
        prototype.structure().to(filename=str(path), symprec=0.01)
        written.append(path)
    return written
