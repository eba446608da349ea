"""atomate2's ForceFieldRelaxMaker in the relax slot of a campaign, given as its dict."""

import json

import pytest
from atomate2.forcefields.jobs import ForceFieldRelaxMaker
from monty.json import MontyEncoder
from pymatgen.core import Lattice, Structure

from discoverflow.campaigns.loading import load_campaign
from discoverflow.core.crystal.prototypes import write_prototypes
from discoverflow.errors import ConfigError
from discoverflow.makers.relax import MLRelaxMaker, RelaxMaker, RelaxSelectedMaker
from discoverflow.makers.task_relax import TaskRelaxMaker, maker_from_dict, task_record
from discoverflow.makers.vasp import ENGINE as VASP_ENGINE
from discoverflow.makers.vasp import VaspRelaxMaker
from discoverflow.models.chgnet import load_chgnet
from discoverflow.stores import document_store, make_store


def test_a_failed_task_is_a_failed_record_with_its_reason():
    structure = Structure(Lattice.cubic(2.9), ["Ni", "Al"], [[0, 0, 0], [0.5] * 3])
    record, final = task_record("abc", structure, None)
    assert record.status == "failed" and "failed" in record.reason and final is None


def test_a_dict_that_is_not_a_maker_is_a_config_error():
    with pytest.raises(ConfigError, match=r"relax\.maker"):
        maker_from_dict(
            {"@module": "pymatgen.core", "@class": "Lattice", "matrix": [[1, 0, 0]] * 3}
        )
    with pytest.raises(ConfigError, match=r"relax\.maker"):
        maker_from_dict({"@module": "no.such.module", "@class": "Maker"})


def test_campaign_with_atomate2_forcefield_relax_maker(tmp_path, monkeypatch):
    """One job per structure through atomate2; energies are CHGNet's at the relaxed cells."""
    monkeypatch.chdir(tmp_path)  # atomate2 writes the final structure of each job here
    write_prototypes(tmp_path / "templates", ["CuZn"])
    maker = ForceFieldRelaxMaker(force_field_name="CHGNet", steps=200, relax_kwargs={"fmax": 0.05})
    config = {
        "name": "nial-atomate2",
        "elements": ["Al", "Ni"],
        "inputs": {"templates": "templates"},
        "generation": {"lattice_scales": [1.0]},
        "screening": {"formation_energy_threshold": -0.2},
        "relax": {"maker": maker.as_dict()},
    }
    (tmp_path / "config.json").write_text(json.dumps(config, cls=MontyEncoder))
    campaign = load_campaign(tmp_path / "config.json")
    assert campaign.check_inputs() == []
    store = make_store("memory")
    campaign.run(store)

    documents = document_store(store, "candidates")
    (nial,) = documents.query(
        {"campaign": "nial-atomate2", "role": "candidate", "stages.relax": {"$exists": True}}
    )
    assert nial["formula_pretty"] == "AlNi"
    assert (
        nial["stages"]["relax"]["settings"]["engine"]
        == "atomate2.forcefields.jobs.ForceFieldRelaxMaker"
    )
    assert nial["status"] == "on hull" and nial["energy_above_hull"] == pytest.approx(0.0, abs=1e-8)
    relaxed = Structure.from_dict(nial["structure"])
    expected = float(load_chgnet().predict_structure(relaxed, task="e")["e"])
    assert nial["energy_per_atom"] == pytest.approx(expected, abs=2e-3)
    tasks = list(store.query({"metadata.stage": "relax-task"}))
    assert len(tasks) == 1 and tasks[0]["output"]["forcefield_name"]
    references = list(documents.query({"campaign": "nial-atomate2", "role": "reference"}))
    assert {d["formula_pretty"] for d in references} >= {"Al", "Ni"}


def test_every_relax_engine_fills_the_relax_slot_one_way():
    """MLRelaxMaker, VaspRelaxMaker and an atomate2 Maker in TaskRelaxMaker are relax Makers:
    a batch size for RelaxSelectedMaker and the engine name their relaxations report."""
    atomate2 = TaskRelaxMaker(maker=ForceFieldRelaxMaker(force_field_name="CHGNet"))
    ml = MLRelaxMaker(settings={"batch_size": 5})
    vasp = VaspRelaxMaker(check_environment=False)
    for maker in (ml, vasp, atomate2):
        assert isinstance(maker, RelaxMaker)
    assert (ml.batch_size, vasp.batch_size, atomate2.batch_size) == (5, 1, 1)
    assert ml.engine == ml.relaxer().name and ml.engine.startswith("chgnet")
    assert vasp.engine == VASP_ENGINE
    assert atomate2.engine == "atomate2.forcefields.jobs.ForceFieldRelaxMaker"
    assert RelaxSelectedMaker(relax_maker=ml).relax_maker.batch_size == 5
