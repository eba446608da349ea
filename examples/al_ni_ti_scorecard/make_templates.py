"""Write the Al-Ni-Ti example's templates (B2, L1_2, AlB2-type, C15 Laves) as CIFs."""

from pathlib import Path

from discoverflow.core.crystal.prototypes import write_prototypes

TEMPLATES = ["CuZn", "Cu3Au", "AlB2", "MgCu2"]

if __name__ == "__main__":
    for path in write_prototypes(Path(__file__).parent / "templates", TEMPLATES):
        print(path.name)
