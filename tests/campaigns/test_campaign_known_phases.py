"""A campaign from the prototype library alone, with known phases from a folder and from the
Materials Project (hand-made entries: mp_api's MPRester is replaced, no network), on one
hull relaxed with one engine; candidates that are known phases are labelled known."""

import csv
import io
import json

import pytest
from conftest import hand_made_mp_entries
from monty.serialization import dumpfn
from pymatgen.core import Lattice, Structure

from discoverflow.campaigns import CampaignRecord, load_campaign, load_config
from discoverflow.campaigns.crystal.driver import check_inputs, load_inputs, run_campaign
from discoverflow.campaigns.crystal.fingerprints import stage_fingerprints
from discoverflow.core.crystal import known_phases as kp
from discoverflow.errors import ConfigError
from discoverflow.stores import document_store, make_store


def l12_alni3() -> Structure:
    return Structure(Lattice.cubic(3.57), ["Al", "Ni", "Ni", "Ni"],
                     [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])  # fmt: skip


@pytest.fixture
def prototype_campaign(tmp_path):
    """Al-Ni from the library's L1_2 and B2 prototypes; AlNi3 (L1_2) as a known-phase CIF."""
    (tmp_path / "known").mkdir()
    l12_alni3().to(filename=str(tmp_path / "known" / "AlNi3.cif"))
    config = {
        "name": "alni-prototypes",
        "elements": ["Al", "Ni"],
        "inputs": {"known_phases": "known"},
        "generation": {"method": "prototypes", "options": {"labels": ["L1_2", "B2"]}},
        "screening": {"formation_energy_threshold": 0.5},
        "relax": {"fmax": 0.1, "steps": 150, "batch_size": 4},
        "hull": {"materials_project": True, "known_phases_within": 0.1, "plot": False},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_materials_project_without_key_or_cache_is_a_config_error(prototype_campaign, monkeypatch):
    monkeypatch.delenv(kp.MP_API_KEY, raising=False)
    store = str(prototype_campaign / "db")
    monkeypatch.setenv("DISCOVERFLOW_STORE", store)
    campaign = load_campaign(prototype_campaign / "config.json")
    (problem,) = campaign.check_inputs()
    assert "MP_API_KEY" in problem and "materials_project" in problem
    with pytest.raises(ConfigError, match="MP_API_KEY"):
        load_inputs(campaign.config, make_store(store))
    cache = prototype_campaign / "db" / "materials_project"
    cache.mkdir(parents=True)
    dumpfn(hand_made_mp_entries(), kp.cache_file(cache, ["Al", "Ni"]))
    assert campaign.check_inputs() == []  # the cache beside the store is enough offline


def test_known_phases_change_the_references_and_hull_fingerprints(prototype_campaign, monkeypatch):
    config = load_config(prototype_campaign / "config.json", ["hull.materials_project=false"])
    with_file = stage_fingerprints(config, {}, load_inputs(config).known_phases)
    without = stage_fingerprints(config, {}, [])
    assert with_file["generation"] == without["generation"]
    assert with_file["references"] != without["references"]
    assert with_file["hull"] != without["hull"]
    assert check_inputs(config) == []


@pytest.mark.slow
def test_prototype_campaign_with_known_phases_end_to_end(
    prototype_campaign, monkeypatch, hand_made_mp
):
    monkeypatch.setenv(kp.MP_API_KEY, "k" * 32)
    store = str(prototype_campaign / "db")
    config = load_config(prototype_campaign / "config.json")
    hull = run_campaign(config, store)
    assert len(hand_made_mp) == 1
    assert (prototype_campaign / "db" / "materials_project" / "mp-entries-Al-Ni.json").is_file()

    record = CampaignRecord(make_store(store), config.name)
    refs = record.output(record.latest("references"))
    phases = {p["name"]: p for p in refs["phases"]}
    # the far-above-hull MP entry is left out; every DFT/CIF phase is relaxed with CHGNet
    assert set(phases) == {"mp-134-GGA", "mp-23-GGA", "mp-1487-GGA", "AlNi3"}
    assert all(p["energy_source"] == "relaxed with chgnet-0.3.0" for p in phases.values())
    assert phases["mp-1487-GGA"]["source_energy_per_atom"] == pytest.approx(-5.43)
    assert phases["mp-1487-GGA"]["source_engine"] == "DFT GGA"

    documents = document_store(make_store(store), "candidates")
    documents.connect()
    docs = {d["candidate_id"]: d for d in documents.query({"campaign": config.name})}
    relaxed = docs["phase:mp-1487-GGA"]["stages"]["relax"]["record"]
    assert phases["mp-1487-GGA"]["energy_per_atom"] == relaxed["energy_per_atom"]
    known_docs = [d for d in docs.values() if d["role"] == "known phase"]
    assert {d["candidate_id"] for d in known_docs} == {f"phase:{n}" for n in phases}
    assert all(d["energy_above_hull"] is not None and d["source"] for d in known_docs)

    entries = {e["candidate_id"]: e for e in hull["entries"]}
    by_formula = {docs[cid]["formula_pretty"]: docs[cid] for cid in entries}
    assert by_formula["AlNi"]["known_phase"] == "mp-1487-GGA (Materials Project)"
    assert by_formula["AlNi3"]["known_phase"] == "AlNi3 (known/AlNi3)"
    assert by_formula["AlNi"]["is_new"] is False
    new = [d for d in by_formula.values() if d["is_new"]]
    assert [d["formula_pretty"] for d in new] == ["Al3Ni"]
    assert all(d["template"].startswith("aflow:") for d in by_formula.values())

    campaign = load_campaign(prototype_campaign / "config.json")
    rows = list(csv.DictReader(io.StringIO(campaign.results_csv(make_store(store)))))
    assert {r["formula_pretty"]: r["novelty"] for r in rows} == {
        "AlNi": "known", "AlNi3": "known", "Al3Ni": "new"}  # fmt: skip
    assert run_campaign(config, store) == hull  # a rerun reuses the cache and every stage
    assert len(hand_made_mp) == 1
