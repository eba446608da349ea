"""Write the known Ce-Fe(-In) phases of the example as CIFs, from their published structures.

- Ce2Fe17: Th2Zn17 type, R-3m (166), hexagonal axes a = 8.490 A, c = 12.413 A (K. H. J.
  Buschow, Rep. Prog. Phys. 40, 1179 (1977); D. Givord and R. Lemaire, IEEE Trans. Magn. 10,
  109 (1974)); site parameters are those refined for the isotypic R2Fe17 (Ce 6c, Fe 6c, 9d,
  18f, 18h; e.g. Sm2Fe17, Pearson's Handbook).
- CeFe2: cubic Laves phase, MgCu2 type, Fd-3m (227), a = 7.302 A (Ce 8a, Fe 16d).
- CeIn3: Cu3Au type, Pm-3m (221), a = 4.689 A (Ce 1a, In 3c).

The relax engine of the campaign relaxes them before they join the hull, so the lattice
parameters only need to be close.
"""

from pathlib import Path

from pymatgen.core import Lattice, Structure

PHASES = {
    "Ce2Fe17": Structure.from_spacegroup(
        "R-3m",
        Lattice.hexagonal(8.490, 12.413),
        ["Ce", "Fe", "Fe", "Fe", "Fe"],
        [[0, 0, 0.3432], [0, 0, 0.0968], [0.5, 0, 0.5], [0.2901, 0, 0], [0.5019, 0.4981, 0.1553]],
    ),
    "CeFe2": Structure.from_spacegroup(
        "Fd-3m", Lattice.cubic(7.302), ["Ce", "Fe"], [[0, 0, 0], [0.625, 0.625, 0.625]]
    ),
    "CeIn3": Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(4.689), ["Ce", "In"], [[0, 0, 0], [0, 0.5, 0.5]]
    ),
}

if __name__ == "__main__":
    folder = Path(__file__).parent / "known_phases"
    folder.mkdir(exist_ok=True)
    for name, structure in PHASES.items():
        structure.to(filename=str(folder / f"{name}.cif"), symprec=0.01)
        print(name, structure.composition, structure.get_space_group_info())
