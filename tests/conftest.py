import json
import sys
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry

from discoverflow.core.crystal.prototypes import PROTOTYPES, write_prototypes
from discoverflow.third_party_warnings import SILENCED


def pytest_configure(config):
    """The third-party warnings discoverflow silences, silenced here too by name (after
    pyproject's ``error:::discoverflow``, so they take precedence); all others are shown."""
    for silenced in SILENCED:
        config.addinivalue_line("filterwarnings", silenced.pytest_filter())


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path_factory):
    """No user YAML file and no inherited DISCOVERFLOW_* variables in tests."""
    for name in (
        "DISCOVERFLOW_STORE",
        "DISCOVERFLOW_DEVICE",
        "DISCOVERFLOW_MODEL_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    missing = tmp_path_factory.getbasetemp() / "no-such-settings.yaml"
    monkeypatch.setenv("DISCOVERFLOW_CONFIG_FILE", str(missing))


@pytest.fixture
def rocksalt() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


@pytest.fixture
def prototypes() -> dict[str, Structure]:
    return {name: p.structure() for name, p in PROTOTYPES.items()}


@pytest.fixture
def campaign_dir(tmp_path) -> Path:
    """A small Al-Ni-Ti campaign: three prototypes, quick relaxations."""
    write_prototypes(tmp_path / "templates", ["CuZn", "Cu3Au", "MgAgAs"])
    config = {
        "name": "alniti",
        "elements": ["Al", "Ni", "Ti"],
        "inputs": {"templates": "templates"},
        "generation": {"lattice_scales": [0.98, 1.0, 1.02]},
        "screening": {"formation_energy_threshold": -0.25, "batch_size": 20},
        "relax": {"fmax": 0.1, "steps": 150, "batch_size": 3},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


def b2_alni(a: float = 2.88) -> Structure:
    return Structure(Lattice.cubic(a), ["Al", "Ni"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def fcc(symbol: str, a: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [symbol], [[0, 0, 0]])


def hand_made_mp_entries() -> list[ComputedStructureEntry]:
    """Hand-made entries shaped as MPRester.get_entries_in_chemsys(["Al", "Ni"]) returns them:
    the three real phases under their Materials Project ids (fcc Al mp-134, fcc Ni mp-23, B2
    AlNi mp-1487) with energies rounded near MP's GGA values, and an expanded B2 cell that MP
    does not hold (no MP id). They exercise reading, caching and filtering, not MP's data."""

    def entry(structure, energy_per_atom, mp_id):
        return ComputedStructureEntry(
            structure,
            energy_per_atom * len(structure),
            parameters={"run_type": "GGA"},
            entry_id=f"{mp_id}-GGA",
        )

    return [
        entry(fcc("Al", 4.04), -3.75, "mp-134"),
        entry(fcc("Ni", 3.52), -5.78, "mp-23"),
        entry(b2_alni(), -5.43, "mp-1487"),
        entry(b2_alni(3.3), -4.6, "hand-made-alni-expanded"),  # far above the hull
    ]


class HandMadeMPRester:
    """Stands in for mp_api.client.MPRester: returns the hand-made entries, counts calls."""

    calls: list = []

    def __init__(self, api_key, **kwargs):
        self.api_key = api_key

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def get_entries_in_chemsys(self, elements, **kwargs):
        HandMadeMPRester.calls.append((self.api_key, sorted(elements)))
        return hand_made_mp_entries()


@pytest.fixture
def hand_made_mp(monkeypatch) -> list:
    """mp_api's MPRester answering with the hand-made Al-Ni entries (no network); the list
    of (api key, elements) of each get_entries_in_chemsys call."""
    import mp_api.client

    monkeypatch.setattr(mp_api.client, "MPRester", HandMadeMPRester)
    HandMadeMPRester.calls = []
    return HandMadeMPRester.calls


MOF5_CIF = Path(__file__).parents[1] / "examples" / "existing_mofs" / "mofs" / "MOF-5.cif"


def extra_atom(structure: Structure, element: str, distance: float) -> Structure:
    """``structure`` with an ``element`` atom ``distance`` A from its first carbon."""
    carbon = next(site for site in structure if site.specie.symbol == "C")
    changed = structure.copy()
    changed.append(
        element, carbon.coords + np.array([distance, 0.0, 0.0]), coords_are_cartesian=True
    )
    return changed


def write_bad_cifs(folder: Path) -> dict[str, Path]:
    """One CIF of each kind of bad input, made from MOF-5: malformed, partially occupied,
    atoms on top of each other, atoms too close for a bond, no hydrogens."""
    from pymatgen.io.cif import CifWriter

    folder.mkdir(parents=True, exist_ok=True)
    mof5 = Structure.from_file(MOF5_CIF)
    hydrogen = next(i for i, site in enumerate(mof5) if site.specie.symbol == "H")
    disordered = mof5.copy()
    disordered.replace(hydrogen, {"H": 0.5})
    bare = mof5.copy()
    bare.remove_species(["H"])
    paths = {
        kind: folder / f"{kind}.cif"
        for kind in ("malformed", "partial", "coincident", "overlapping", "no_hydrogens")
    }
    lines = MOF5_CIF.read_text().splitlines()
    paths["malformed"].write_text(
        "\n".join(line for line in lines[:40] if "_cell_length" not in line)
    )
    CifWriter(disordered).write_file(paths["partial"])
    CifWriter(extra_atom(mof5, "C", 0.3)).write_file(paths["coincident"])
    CifWriter(extra_atom(mof5, "O", 0.8)).write_file(paths["overlapping"])
    CifWriter(bare).write_file(paths["no_hydrogens"])
    return paths


def in_process(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """The command through its entry point, in this process: exit code, stdout, stderr."""
    from discoverflow.cli import main

    monkeypatch.setattr(sys, "argv", ["discoverflow", *args])
    with pytest.raises(SystemExit) as ended:
        main()
    captured = capsys.readouterr()
    return ended.value.code, captured.out, captured.err
