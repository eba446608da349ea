"""Write the Ce-Fe-In template set (well-known intermetallic prototypes) as CIFs."""

from pathlib import Path

from discoverflow.core.crystal.prototypes import write_prototypes

TEMPLATES = [
    # binaries: every ordered pair of Ce, Fe, In
    "Cu3Au", "CuZn", "Fe3Al", "MgCu2", "MgZn2", "CaCu5", "AlB2", "NiAs",
    # ternaries: every ordering of Ce, Fe, In
    "Cu2MnAl", "MgAgAs", "CeCu2Si2", "Fe3AlC", "ZrNiAl", "TiNiSi",
]  # fmt: skip

if __name__ == "__main__":
    for path in write_prototypes(Path(__file__).parent / "templates", TEMPLATES):
        print(path.name)
