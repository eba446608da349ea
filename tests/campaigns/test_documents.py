"""Per-candidate documents as the campaign's output and checkpoint; resume by fingerprint."""

import pytest

from discoverflow.campaigns import CampaignRecord, load_config
from discoverflow.campaigns.base import ResultFilter
from discoverflow.campaigns.crystal.campaign import CrystalCampaign
from discoverflow.campaigns.crystal.driver import run_campaign
from discoverflow.campaigns.crystal.report import candidate_documents, stage_reuse
from discoverflow.stores import document_store, make_store

STAGES = ("references", "generation", "screen-batch", "screen", "dedup", "relax-batch", "hull")


def counts(store: str, name: str) -> dict[str, int]:
    record = CampaignRecord(make_store(store), name)
    return {stage: len(record.docs(stage)) for stage in STAGES}


def documents(store: str, name: str, **wanted) -> list[dict]:
    found = document_store(make_store(store), "candidates")
    return candidate_documents(found, name, ResultFilter(**wanted))


@pytest.fixture
def finished(campaign_dir, tmp_path):
    config_file = campaign_dir / "config.json"
    store = str(tmp_path / "db")
    run_campaign(load_config(config_file), store)
    return config_file, store


def test_documents_hold_every_stage_with_its_fingerprint(finished):
    _, store = finished
    everything = documents(store, "alniti", everything=True)
    relaxed = documents(store, "alniti")
    statuses = {d["status"] for d in everything}
    assert {"on hull", "screened out", "duplicate"} <= statuses
    for doc in relaxed:
        assert set(doc["stages"]) >= {"generation", "screening", "selection", "relax", "hull"}
        assert all(record["fingerprint"] for record in doc["stages"].values())
        assert doc["stages"]["relax"]["settings"]["fmax"] == 0.1
        assert doc["energy_per_atom"] is not None and doc["structure_initial"]
    duplicate = next(d for d in everything if d["status"] == "duplicate")
    assert duplicate["duplicate_of"] in {d["candidate_id"] for d in everything}
    on_hull = documents(store, "alniti", stable=True)
    assert on_hull and all(d["is_stable"] and d["energy_above_hull"] < 1e-8 for d in on_hull)
    assert all(d["energy_above_hull"] <= 0.02 for d in documents(store, "alniti", max_ehull=0.02))
    assert {d["formula_pretty"] for d in documents(store, "alniti", formula="NiAl")} == {"AlNi"}


def test_a_new_fmax_redoes_relaxations_and_hull_but_not_screening(finished):
    config_file, store = finished
    before = counts(store, "alniti")
    changed = load_config(config_file, ["relax.fmax=0.2"])
    reuse = stage_reuse(
        CampaignRecord(make_store(store), "alniti"), CrystalCampaign(changed).fingerprints()
    )
    assert reuse["generation"] and not reuse["relax"] and not reuse["hull"]
    run_campaign(changed, store)
    after = counts(store, "alniti")
    assert after["screen-batch"] == before["screen-batch"] and after["generation"] == 1
    assert after["relax-batch"] > before["relax-batch"] and after["hull"] == 2
    for doc in documents(store, "alniti"):
        assert doc["stages"]["relax"]["settings"]["fmax"] == 0.2


def test_a_new_hull_threshold_redoes_only_the_promising_set(finished):
    config_file, store = finished
    before = counts(store, "alniti")
    run_campaign(load_config(config_file, ["hull.e_above_hull_threshold=0.0"]), store)
    after = counts(store, "alniti")
    assert after == {**before, "hull": before["hull"] + 1}
    assert {d["status"] for d in documents(store, "alniti")} <= {"on hull", "above hull"}


def test_new_lattice_scales_supersede_the_old_candidates(finished):
    config_file, store = finished
    before = {d["candidate_id"] for d in documents(store, "alniti", everything=True)}
    run_campaign(load_config(config_file, ["generation.lattice_scales=[1.0]"]), store)
    after = documents(store, "alniti", everything=True)
    assert {d["candidate_id"] for d in after} < before
    assert counts(store, "alniti")["generation"] == 2
    everything = document_store(make_store(store), "candidates")
    everything.connect()
    superseded = list(everything.query({"campaign": "alniti", "status": "superseded"}))
    assert superseded and all(d["energy_above_hull"] is None for d in superseded)


def test_results_sort_by_a_field_descending_with_missing_values_last():
    from discoverflow.campaigns.base import ResultFilter

    docs = [{"id": "a", "p": 0.2}, {"id": "b"}, {"id": "c", "p": 0.9}, {"id": "d", "p": 0.5}]
    assert [d["id"] for d in ResultFilter(sort="-p").ordered(docs)] == ["c", "d", "a", "b"]
    assert [d["id"] for d in ResultFilter(sort="p").ordered(docs)] == ["a", "d", "c", "b"]
    assert ResultFilter().ordered(docs) == docs
