"""Per-candidate documents as the campaign's output and checkpoint; resume by fingerprint."""

import json

import pytest

from discoverflow.campaigns import CampaignRecord, load_config
from discoverflow.campaigns.base import ResultFilter
from discoverflow.campaigns.crystal.campaign import CrystalCampaign
from discoverflow.campaigns.crystal.driver import run_campaign
from discoverflow.campaigns.crystal.report import candidate_documents, stage_reuse
from discoverflow.schemas.records import Stage
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
    assert reuse["generation"] == "reuses it" and reuse["hull"] == "redoes it"
    assert reuse["screen"] == "reuses the energies, selects again"
    assert reuse["relax"] == "redoes it"
    run_campaign(changed, store)
    after = counts(store, "alniti")
    assert after["screen-batch"] == before["screen-batch"] and after["generation"] == 1
    assert after["relax-batch"] > before["relax-batch"] and after["hull"] == 2
    for doc in documents(store, "alniti"):
        assert doc["stages"]["relax"]["settings"]["fmax"] == 0.2


def test_a_new_hull_threshold_redoes_only_the_promising_set(finished):
    config_file, store = finished
    before = counts(store, "alniti")
    config = load_config(config_file)
    cifs = config.output_dir / "promising"
    promising = {d["candidate_id"] for d in documents(store, "alniti") if d["promising"]}
    assert promising and {p.stem for p in cifs.glob("*.cif")} == promising
    tight = load_config(config_file, ["hull.e_above_hull_threshold=0.0"])
    run_campaign(tight, store)
    after = counts(store, "alniti")
    assert after == {**before, "hull": before["hull"] + 1}
    docs = documents(store, "alniti")
    assert {d["status"] for d in docs} <= {"on hull", "above hull"}
    on_hull = {d["candidate_id"] for d in docs if d["status"] == "on hull"}
    assert on_hull < promising  # the tighter threshold drops some
    assert {p.stem for p in cifs.glob("*.cif")} == on_hull  # the others' CIFs are gone
    run = json.loads((config.output_dir / "run.json").read_text())
    assert run["hull_fingerprint"] == CrystalCampaign(tight).fingerprints()["hull"]
    assert set(run["files"]) >= {f"promising/{cid}.cif" for cid in on_hull} | {"hull.csv"}


def test_new_lattice_scales_replace_the_old_candidates_in_the_view(finished):
    config_file, store = finished
    before = {d["candidate_id"] for d in documents(store, "alniti", everything=True)}
    run_campaign(load_config(config_file, ["generation.lattice_scales=[1.0]"]), store)
    after = documents(store, "alniti", everything=True)
    assert {d["candidate_id"] for d in after} < before
    assert counts(store, "alniti")["generation"] == 2
    candidates = document_store(make_store(store), "candidates")
    candidates.connect()
    assert {
        d["candidate_id"] for d in candidates.query({"campaign": "alniti", "role": "candidate"})
    } == {d["candidate_id"] for d in after}
    records = document_store(make_store(store), "records")
    records.connect()
    recorded = set(records.distinct("item_id", {"campaign": "alniti", "stage": "generation"}))
    assert recorded == before  # the old generation's records stay in the store


def test_a_threshold_round_trip_shows_the_current_settings(finished, monkeypatch):
    """-0.2 (the file), then 0.0, then -0.2 again: everything is reused, and the documents,
    status and results show the -0.2 selection, not the last one written."""
    config_file, store = finished
    first = {d["candidate_id"]: d["status"] for d in documents(store, "alniti", everything=True)}
    loose = load_config(config_file, ["screening.formation_energy_threshold=0.0"])
    run_campaign(loose, store)
    loose_view = {
        d["candidate_id"]: d["status"] for d in documents(store, "alniti", everything=True)
    }
    assert loose_view != first
    campaign = CrystalCampaign(load_config(config_file))
    assert campaign.summary(make_store(store))["formation_energy_threshold"] == 0.0
    before = counts(store, "alniti")
    campaign.run(make_store(store))
    assert counts(store, "alniti") == before  # every stage reused
    summary = campaign.summary(make_store(store))  # the scorecard of these settings again
    assert summary["formation_energy_threshold"] == -0.25
    assert summary["hit_rate"]["n"] == len(documents(store, "alniti"))
    again = {d["candidate_id"]: d["status"] for d in documents(store, "alniti", everything=True)}
    assert again == first
    rows = campaign.results_json(make_store(store))
    assert {d["candidate_id"] for d in rows} == {
        cid for cid, status in first.items() if status in ("on hull", "promising", "above hull")
    }
    predicted = [d["predicted_formation_energy_per_atom"] for d in rows]
    assert all(value < -0.2 for value in predicted)
    from discoverflow.campaigns.crystal.report import campaign_status

    record = CampaignRecord(make_store(store), "alniti")
    relax = {s.stage: s for s in campaign_status(record, campaign.fingerprints())}["relax"]
    relaxed, selected = relax.detail.split(" ")[0].split("/")
    assert relaxed == selected  # the 0.0 run's extra relaxations are not counted


def test_every_document_validates_against_its_schema(finished):
    from discoverflow.schemas.candidate import CandidateDoc

    _, store = finished
    for doc in documents(store, "alniti", everything=True):
        CandidateDoc.model_validate({k: v for k, v in doc.items() if k != "_id"})


def test_status_counts_every_stored_relaxation(finished):
    """The relax row counts the relaxation records of the current engine settings, finished
    batch or not (a batch killed half way leaves records without a job output)."""
    from discoverflow.campaigns.crystal.report import campaign_status, selected_ids

    config_file, store = finished
    job_store = make_store(store)
    record = CampaignRecord(job_store, "alniti")
    campaign = CrystalCampaign(load_config(config_file))
    fingerprints = campaign.fingerprints()
    relaxed = record.results(
        Stage.RELAX, fingerprints["relax_engine"], {"fields.role": "candidate"}
    )
    relaxed = relaxed.keys() & selected_ids(record, fingerprints)  # not the audit sample's
    batches = job_store.query({"metadata.campaign": "alniti", "metadata.stage": "relax-batch"})
    job_store.docs_store.remove_docs({"uuid": next(batches)["uuid"]})  # as if never finished
    relax = {s.stage: s for s in campaign_status(record, fingerprints)}["relax"]
    assert relax.detail.startswith(f"{len(relaxed)}/")


def test_results_sort_by_a_field_descending_with_missing_values_last():
    from discoverflow.campaigns.base import ResultFilter

    docs = [{"id": "a", "p": 0.2}, {"id": "b"}, {"id": "c", "p": 0.9}, {"id": "d", "p": 0.5}]
    assert [d["id"] for d in ResultFilter(sort="-p").ordered(docs)] == ["c", "d", "a", "b"]
    assert [d["id"] for d in ResultFilter(sort="p").ordered(docs)] == ["a", "d", "c", "b"]
    assert ResultFilter().ordered(docs) == docs


def test_relaxations_reused_under_new_engine_options_stay_in_the_documents(finished):
    """max_batch changes the engine's fingerprint, not the relaxations: they are reused from
    their records, and the documents of the new settings still show them."""
    config_file, store = finished
    before = {d["candidate_id"]: d["energy_per_atom"] for d in documents(store, "alniti")}
    changed = load_config(config_file, ['relax.engine_options={"max_batch": 3}'])
    run_campaign(changed, store)
    after = {d["candidate_id"]: d["energy_per_atom"] for d in documents(store, "alniti")}
    assert after == before and all(value is not None for value in after.values())
