"""Write the Co-Fe-Mn-Si template set (Heusler family and relatives) as CIFs."""

from pathlib import Path

from discoverflow.core.crystal.prototypes import write_prototypes

TEMPLATES = ["LiMgPdSn", "Cu2MnAl", "MgAgAs", "Fe3Al", "CuZn", "Cu3Au"]

if __name__ == "__main__":
    for path in write_prototypes(Path(__file__).parent / "templates", TEMPLATES):
        print(path.name)
