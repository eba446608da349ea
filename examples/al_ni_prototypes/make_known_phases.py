"""Write the known Al-Ni compounds of the example as CIFs, from their published structures.

- AlNi: CsCl type (B2), Pm-3m, a = 2.887 A.
- AlNi3: Cu3Au type (L1_2), Pm-3m, a = 3.567 A.
- Al3Ni2: its own prototype (D5_13), P-3m1, as pymatgen's copy of the AFLOW library of
  crystallographic prototypes gives it (Mehl et al., Comput. Mater. Sci. 136, S1 (2017)).
- Al3Ni (D0_20, Pnma) is left out: it is not in the library's part 1.

The campaign's relax engine relaxes them before they join the hull.
"""

from pathlib import Path

from pymatgen.core import Lattice, Structure

from discoverflow.core.crystal.prototypes import library

PHASES = {
    "AlNi": Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(2.887), ["Al", "Ni"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    ),
    "AlNi3": Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(3.567), ["Al", "Ni"], [[0, 0, 0], [0, 0.5, 0.5]]
    ),
    "Al3Ni2": next(p.structure for p in library() if p.label == "A3B2_hP5_164_ad_d"),
}

if __name__ == "__main__":
    folder = Path(__file__).parent / "known_phases"
    folder.mkdir(exist_ok=True)
    for name, structure in PHASES.items():
        structure.to(filename=str(folder / f"{name}.cif"), symprec=0.01)
        print(name, structure.composition, structure.get_space_group_info())
