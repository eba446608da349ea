import json
import warnings
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from discoverflow.core.crystal.prototypes import PROTOTYPES, write_prototypes

warnings.filterwarnings("ignore")


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
