"""The campaign driver: resuming from what the store holds."""

import json

import pytest

from discoverflow.campaigns import CampaignRecord, load_config
from discoverflow.campaigns.base import ResultFilter
from discoverflow.campaigns.crystal import driver as campaign_module
from discoverflow.campaigns.crystal.campaign import CrystalCampaign
from discoverflow.campaigns.crystal.driver import build_flow, run_campaign
from discoverflow.errors import ConfigError
from discoverflow.makers import relax as relax_module
from discoverflow.stores import make_store


class Killed(BaseException):
    """Stands in for the process dying: not an Exception, so nothing catches it."""


REAL_LOAD_RELAXER = relax_module.load_relaxer


def counting_relaxer(calls: list, die_after: int | None = None):
    """The relax engine, counting relaxations (one by one or batched) and dying at the
    ``die_after``-th one."""

    def count(structure):
        if die_after is not None and len(calls) >= die_after:
            raise Killed
        calls.append(structure.composition.reduced_formula)

    def load(name, **options):
        relaxer = REAL_LOAD_RELAXER(name, **options)
        original, batch = relaxer.relax, getattr(relaxer, "relax_batch", None)

        def relax(structure):
            count(structure)
            return original(structure)

        def relax_batch(structures):
            for key, outcome in batch(structures):
                count(structures[key])
                yield key, outcome

        relaxer.relax = relax
        if batch is not None:
            relaxer.relax_batch = relax_batch
        return relaxer

    return load


def loaded(record: CampaignRecord, stage: str) -> dict:
    """The latest output of ``stage`` with its data-store fields (kept records, values)."""
    value = record.output(record.latest(stage), load=True)
    return value.model_dump() if hasattr(value, "model_dump") else value


def stage_counts(store_path, name) -> dict[str, int]:
    record = CampaignRecord(make_store(store_path), name)
    return {s: len(record.docs(s)) for s in ("references", "generation", "screen-batch", "screen", "dedup", "relax-batch", "relax", "hull")}  # fmt: skip


def audited(record: CampaignRecord) -> list[dict]:
    """The rejected candidates the campaign relaxed as its control sample."""
    return loaded(record, "audit")["kept"]


def test_resume_after_a_kill_during_relaxations(campaign_dir, tmp_path, monkeypatch):
    config = load_config(campaign_dir / "config.json")
    store = str(tmp_path / "db")
    first_calls: list = []
    # one relaxation per element reference, then die after two candidates
    monkeypatch.setattr(
        relax_module,
        "load_relaxer",
        counting_relaxer(first_calls, die_after=len(config.elements) + 2),
    )
    with pytest.raises(Killed):
        run_campaign(config, store)
    before = stage_counts(store, config.name)
    assert before["generation"] == 1 and before["screen"] == 1 and before["hull"] == 0
    finished = list(first_calls[len(config.elements) :])
    assert len(finished) == 2

    second_calls: list = []
    monkeypatch.setattr(relax_module, "load_relaxer", counting_relaxer(second_calls))
    hull = run_campaign(config, store)
    after = stage_counts(store, config.name)
    for stage in ("references", "generation", "screen-batch", "screen", "dedup"):
        assert after[stage] == before[stage], stage
    assert after["hull"] == 1
    # the two relaxations finished before the kill were not redone (and the audit's are new)
    record = CampaignRecord(make_store(store), config.name)
    selected = len(loaded(record, "dedup")["kept"])
    assert len(second_calls) == selected - len(finished) + len(audited(record))
    assert hull is not None
    assert build_flow(config, make_store(store)) is None  # nothing left to do


def test_changed_threshold_reuses_screening(campaign_dir, tmp_path, monkeypatch):
    config = load_config(campaign_dir / "config.json")
    store = str(tmp_path / "db")
    run_campaign(config, store)
    before = stage_counts(store, config.name)
    stricter = load_config(
        campaign_dir / "config.json", ["screening.formation_energy_threshold=-0.6"]
    )
    calls: list = []
    monkeypatch.setattr(relax_module, "load_relaxer", counting_relaxer(calls))
    run_campaign(stricter, store)
    after = stage_counts(store, config.name)
    assert after["screen-batch"] == before["screen-batch"]  # energies reused
    assert after["screen"] == before["screen"] + 1  # new selection
    record = CampaignRecord(make_store(store), config.name)
    # every selected candidate was already relaxed; only the new audit sample's were not
    assert set(calls) <= {r["formula"] for r in audited(record)}
    selected = {r["candidate_id"] for r in loaded(record, "dedup")["kept"]}
    hull = record.latest("hull", ["output.entries"])["output"]["entries"]
    assert {e["candidate_id"] for e in hull} == selected  # earlier, looser selections stay out

    nothing = load_config(campaign_dir / "config.json", ["screening.formation_energy_threshold=-5"])
    run_campaign(nothing, store)  # nothing passes: the status says why, with the best value
    campaign, results = CrystalCampaign(nothing), make_store(store)
    note = next(line for line in campaign.status_report(results) if isinstance(line, str))
    predicted = [
        doc["predicted_formation_energy_per_atom"]
        for doc in campaign.results_json(results, ResultFilter(everything=True))
        if doc.get("predicted_formation_energy_per_atom") is not None
    ]
    assert "screening.formation_energy_threshold (-5 eV/atom)" in note
    assert f"best predicted formation energy is {min(predicted):.3f} eV/atom" in note
    suggested = float(note.rsplit("=", 1)[1])
    assert min(predicted) < suggested <= min(predicted) + 0.05


def test_a_campaign_name_cannot_change_its_elements(campaign_dir, tmp_path):
    store = str(tmp_path / "db")
    config = load_config(campaign_dir / "config.json", ["screening.formation_energy_threshold=-5"])
    run_campaign(config, store)
    other = load_config(campaign_dir / "config.json", ['elements=["Al", "Ni"]'])
    with pytest.raises(ConfigError, match="was run for elements"):
        build_flow(other, make_store(store))


def test_discovery_maker_settings_come_from_the_config(campaign_dir):
    data = json.loads((campaign_dir / "config.json").read_text())
    data["dedup"] = {"enabled": False}
    (campaign_dir / "config.json").write_text(json.dumps(data))
    config = load_config(campaign_dir / "config.json", ["relax.steps=77"])
    maker = campaign_module.discovery_maker(config)
    assert maker.dedup_maker is None
    assert maker.relax_maker.settings.steps == 77
    assert maker.screen_maker.settings.formation_energy_threshold == -0.25
    assert maker.relax_maker.documents == "candidates"  # relaxations resume from the store


def test_vasp_engine_from_the_config(campaign_dir):
    config = load_config(
        campaign_dir / "config.json",
        ["relax.engine=vasp", 'relax.vasp.incar={"NSW": 60}', "relax.vasp.vasp_cmd=no-such-vasp"],
    )
    maker = campaign_module.relax_maker(config)
    assert maker.settings.incar == {"NSW": 60} and maker.batch_size == 1
    problems = campaign_module.check_inputs(config)
    assert any("relax.vasp: VASP command 'no-such-vasp' not found" in p for p in problems)


def test_directive_campaign_random_structures_through_the_hull(campaign_dir, tmp_path):
    from discoverflow.campaigns.base import ResultFilter
    from discoverflow.campaigns.crystal.campaign import CrystalCampaign
    from discoverflow.campaigns.crystal.report import campaign_status, candidate_documents
    from discoverflow.stores import document_store

    config = load_config(
        campaign_dir / "config.json",
        ["generation.method=random", 'generation.options={"per_composition": 3, "max_atoms": 2}',
         "screening.formation_energy_threshold=5", 'elements=["Al", "Ni"]'],
    )  # fmt: skip
    assert config.validity.enabled
    store = str(tmp_path / "db")
    hull = run_campaign(config, store)
    assert hull is not None
    record = CampaignRecord(make_store(store), config.name)
    fingerprints = CrystalCampaign(config).fingerprints()
    stages = {s.stage: s for s in campaign_status(record, fingerprints)}
    assert stages["validity"].done and "valid; removed" in stages["validity"].detail
    documents = document_store(make_store(store), "candidates")
    rows = candidate_documents(documents, config.name, ResultFilter(everything=True))
    assert rows and all(r["template"].startswith("pyxtal:") for r in rows)
    assert {r["status"] for r in rows} & {"on hull", "promising", "above hull"}
    invalid = [r for r in rows if r["status"] == "invalid"]
    assert all(r["reason"] and r["structure_initial"] for r in invalid)


def test_surrogate_property_screen_between_dedup_and_relax(campaign_dir, tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(relax_module, "load_relaxer", counting_relaxer(calls))
    config = load_config(
        campaign_dir / "config.json",
        ['property_screen={"model": "chgnet-magmom", "maximum": 0.05}'],
    )
    store = str(tmp_path / "db")
    run_campaign(config, store)
    record = CampaignRecord(make_store(store), config.name)
    screened = loaded(record, "property-screen")
    dedup = loaded(record, "dedup")["kept"]
    assert screened["unit"] == "mu_B/atom" and set(screened["values"]) == {
        r["candidate_id"] for r in dedup
    }
    kept = {r["candidate_id"] for r in screened["kept"]}
    assert kept == {cid for cid, v in screened["values"].items() if v <= 0.05}
    relaxed = {
        r["candidate_id"]
        for b in record.docs("relax-batch", ["output.records"])
        for r in b["output"]["records"]
    }
    assert relaxed == kept
    assert len(calls) == len(config.elements) + len(kept) + len(audited(record))
