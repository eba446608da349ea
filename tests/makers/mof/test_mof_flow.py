"""The MOF discovery flow end to end: rounds, retraining, stored documents, resume, CLI."""

import json
import subprocess
import sys
from pathlib import Path

from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Structure

from discoverflow.campaigns.mof.config import MOFCampaignConfig
from discoverflow.campaigns.mof.driver import build_mof_flow, stored_summary
from discoverflow.stores import document_store

EXAMPLE = Path(__file__).parents[3] / "examples" / "mof_co2" / "config.json"
BDC = "OC(=O)c1ccc(cc1)C(=O)O"


def small_campaign(tmp_path, rounds: int) -> MOFCampaignConfig:
    return MOFCampaignConfig(
        name="mof-test",
        workflow="mof",
        rounds=rounds,
        output_dir=tmp_path / "results",
        linkers={"per_round": 2, "seed_linkers": [BDC]},
        stability={"steps": 6},
        optimisation={"steps": 8, "fmax": 0.5, "per_round": 1},
        adsorption={"cycles": 50, "init_cycles": 20, "cutoff": 6.0, "pressure": 1.0e5},
        retraining={"min_examples": 1, "adsorption_switch": 2},
    )


def run(flow, store):
    run_locally(
        flow,
        store=store,
        log=False,
        ensure_success=True,
        raise_immediately=True,
        allow_external_references=True,
    )


def stage_count(store, stage):
    return store.count({"metadata.campaign": "mof-test", "metadata.stage": stage})


def test_rounds_retrain_the_generator_and_resume_without_redoing_rounds(tmp_path):
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    config = small_campaign(tmp_path, rounds=1)
    run(build_mof_flow(config, store), store)

    summary = stored_summary(store, "mof-test")
    (first,) = summary.rounds
    assert first.round == 0 and first.generator_version == 0
    assert first.linkers_valid >= 2 and first.mofs_assembled >= 2
    assert first.retrained and first.training_basis == "stability"
    assert summary.generator_state["version"] == 1
    retrain = list(store.query({"metadata.stage": "mof-retrain"}, properties=["metadata"]))
    assert [d["metadata"]["runs_on"] for d in retrain] == ["gpu"]  # its own job, on the GPU
    assert Path(summary.plot).is_file()
    mof5 = next(r for r in summary.results if r.linkers == ["O=C(O)c1ccc(C(=O)O)cc1"])
    assert mof5.formula == "Zn4H12C24O13" and mof5.round == 0
    assert mof5.strain is not None and mof5.strain < 0.1
    adsorbed = [r for r in summary.results if r.uptake_mol_per_kg is not None]
    assert adsorbed and all(r.uptake_mol_per_kg >= 0 for r in adsorbed)
    assert any(r.uptake_mol_per_kg > 0 for r in adsorbed)

    mofs = document_store(store, "mofs")  # one document per MOF, as the README queries them
    docs = {d["mof_id"]: d for d in mofs.query({"campaign": "mof-test"})}
    assert set(docs) >= {r.mof_id for r in summary.results}
    doc = docs[mof5.mof_id]
    assert doc["formula_pretty"] == "Zn4H12C24O13" and doc["linkers"] == mof5.linkers
    assert doc["overlap_ok"] and doc["strain"] == mof5.strain and doc["stable"] is True
    assert doc["md_engine"] == "chgnet-0.3.0" and doc["stages"]["stability"]["fingerprint"]
    assert doc["checks_passed"] is True and doc["charge_balanced"] is True
    assert doc["largest_free_sphere"] == mof5.largest_free_sphere > 3.3
    assert mof5.checks_passed and mof5.open_metal_sites == 0 and 0.7 < mof5.void_fraction < 0.9
    for result in adsorbed:
        adsorbed_doc = docs[result.mof_id]
        assert adsorbed_doc["uptake_mol_per_kg"] == result.uptake_mol_per_kg
        assert adsorbed_doc["charges_method"].startswith("RASPA charge equilibration")
        assert adsorbed_doc["adsorption_pressure"] == 1.0e5 and adsorbed_doc["lattice_abc"]
        assert adsorbed_doc["optimisation_engine"] == "chgnet-0.3.0"
        assert adsorbed_doc["n_steps"] <= 8 and adsorbed_doc["energy"] < 0
    good = mofs.query({"campaign": "mof-test", "stable": True, "uptake_mol_per_kg": {"$gt": 0}})
    assert {d["mof_id"] for d in good} == {r.mof_id for r in adsorbed if r.uptake_mol_per_kg > 0}

    assert build_mof_flow(config, store) is None  # complete: nothing to do

    more = small_campaign(tmp_path, rounds=2)
    run(build_mof_flow(more, store), store)
    summary = stored_summary(store, "mof-test")
    assert [r.round for r in summary.rounds] == [0, 1]
    assert summary.rounds[1].generator_version == 1  # proposed by the retrained generator
    assert stage_count(store, "mof-stability") == 2  # round 0 was not redone
    tried = [r.linkers[0] for r in summary.results]
    assert len(tried) == len(set(tried))  # round 1 proposed no linker of round 0


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_validate_the_mof_example_and_bad_settings():
    result = cli("validate", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "Zn4O on pcu" in result.stdout
    for override, message in [
        ("assembly.node=Fe8", "assembly.node: unknown node"),
        ("assembly.topology=nope", "pormake has no topology 'nope'"),
        ("assembly.topology=dia", "Zn4O is 6-connected"),
        ('linkers.seed_linkers=["OC(=O)c1ccccc1"]', "needs two anchors"),
        ("stability.steps=0", "stability.steps"),
        ("stability.engine=gromacs", "stability.engine"),
        ("optimisation.enabled=false", "adsorption.enabled needs optimisation.enabled"),
    ]:
        result = cli("validate", str(EXAMPLE), "--set", override)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr


def test_example_config_is_a_mof_campaign():
    data = json.loads(EXAMPLE.read_text())
    config = MOFCampaignConfig.model_validate(data)
    assert config.assembly.node == "Zn4O" and BDC in config.linkers.seed_linkers


def test_pillared_paddlewheel_mofs_take_two_carboxylate_linkers_and_a_pillar():
    from jobflow import Flow

    from discoverflow.makers.mof import LinkerGenerationMaker, MOFAssemblyMaker

    fluoro_bdc = "OC(=O)c1cc(F)c(cc1)C(=O)O"
    linkers = LinkerGenerationMaker(
        settings={"per_round": 1, "seed_linkers": [BDC, fluoro_bdc, "N#Cc1ccc(cc1)C#N"]},
        anchors=("COO", "CN"),
    ).make()
    assembly = MOFAssemblyMaker(
        settings={"node": "Zn-paddlewheel-pillared", "linkers_per_mof": 2}
    ).make(linkers.output)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    run(Flow([linkers, assembly]), store)
    document = store.get_output(assembly.uuid, load=True)
    assembled = [r for r in document["records"] if r["status"] == "assembled"]
    assert assembled and all(len(r["linkers"]) == 2 and r["pillar"] for r in assembled)
    for record in assembled:
        structure = document["structures"][record["mof_id"]]
        composition = Structure.from_dict(structure).composition.as_dict()
        assert composition["Zn"] == 2 and composition["N"] >= 2


def test_cli_runs_a_mof_campaign_then_reports_it_from_other_processes(tmp_path):
    config = json.loads(EXAMPLE.read_text())
    config.update(
        rounds=1,
        output_dir=str(tmp_path / "results"),
        linkers={"per_round": 1, "seed_linkers": [BDC]},
        stability={"steps": 4},
        optimisation={"enabled": False},
        adsorption={"enabled": False},
    )
    path = tmp_path / "mof.json"
    path.write_text(json.dumps(config))
    store = str(tmp_path / "store")

    result = cli("run", str(path), "--store", store)
    assert result.returncode == 0, result.stderr
    assert "rounds (finished)" in result.stdout

    status = cli("status", str(path), "--store", store)
    assert status.returncode == 0 and "linkers" in status.stdout and "2/2" in status.stdout
    rows = json.loads(cli("results", str(path), "--store", store, "--json").stdout)
    assert {r["formula_pretty"] for r in rows} >= {"Zn4H12C24O13"}
    assert all(r["strain"] is not None and r["campaign"] == "mof-co2" for r in rows)
    assert (tmp_path / "results" / "stability_per_round.png").is_file()

    again = cli("run", str(path), "--store", store)  # finished: nothing is redone
    assert again.returncode == 0 and "rounds (finished)" in again.stdout


def test_stability_results_come_back_from_the_mof_documents_after_a_kill(monkeypatch):
    from jobflow import Flow

    from discoverflow.makers import DocumentsMaker
    from discoverflow.makers.mof import LinkerGenerationMaker, MOFAssemblyMaker, MOFStabilityMaker
    from discoverflow.stores import document_store

    def flow(steps=3):
        linkers = LinkerGenerationMaker(settings={"per_round": 1, "seed_linkers": [BDC]}).make()
        assembly = MOFAssemblyMaker().make(linkers.output)
        md = MOFStabilityMaker(settings={"steps": steps}).make(assembly.output)
        whole = Flow([linkers, assembly, md, DocumentsMaker().make(md.output)])
        whole.update_metadata({"campaign": "mof-test"}, dynamic=True)
        whole.update_config({"expose_store": True}, attributes="expose_store", dynamic=True)
        return whole, md

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    first, md = flow()
    run(first, store)
    before = store.get_output(md.uuid)["records"]
    assert before and all(r["status"] == "done" for r in before)
    mofs, records = document_store(store, "mofs"), document_store(store, "records")
    for record in before:
        doc = mofs.query_one({"campaign": "mof-test", "mof_id": record["mof_id"]})
        assert doc["strain"] == record["strain"] and doc["status"] in ("stable", "unstable")
        checkpoint = records.query_one(
            {"item_id": record["mof_id"], "stage": "stability", "record": {"$ne": None}}
        )
        assert checkpoint["record"]["strain"] == record["strain"]
        assert doc["formula_pretty"] and doc["linkers"] and doc["overlap_ok"] is True

    def no_model(*args, **kwargs):
        raise AssertionError("MD was run again")

    monkeypatch.setattr("discoverflow.makers.mof.stability.chgnet_calculator", no_model)
    again, md = flow()  # the rerun of a killed job: same MOFs, same settings
    run(again, store)
    assert store.get_output(md.uuid)["records"] == before
    other, md = flow(steps=4)  # other settings: nothing is reused
    run(other, store)
    assert all("MD was run again" in r["reason"] for r in store.get_output(md.uuid)["records"])


def test_the_example_runs_with_uff4mof_md_in_lammps(tmp_path):
    data = json.loads(EXAMPLE.read_text())
    data.update(
        rounds=1,
        output_dir=str(tmp_path / "results"),
        linkers={"per_round": 1, "seed_linkers": [BDC]},
        stability={"engine": "lammps", "steps": 500},
        optimisation={"enabled": False},
        adsorption={"enabled": False},
    )
    config = MOFCampaignConfig.model_validate(data)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    run(build_mof_flow(config, store), store)
    summary = stored_summary(store, "mof-co2")
    mof5 = next(r for r in summary.results if r.formula == "Zn4H12C24O13")
    assert mof5.checks_passed and mof5.strain < 0.1 and mof5.stable
    doc = document_store(store, "mofs").query_one({"mof_id": mof5.mof_id})
    assert doc["md_engine"] == "lammps-uff4mof" and doc["stages"]["stability"]["fingerprint"]
    assert doc["accessible_surface_area_m2_g"] > 1000
