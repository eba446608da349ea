"""The coordinate pattern as a crystal campaign's relax stage, from the campaign file and the
command line: lookups are not predicted, confident predictions are not relaxed, unsure ones
are, the CHGNet and SevenNet members are fine-tuned on the relaxations, and every candidate's
document says where its energy came from."""

import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from test_cli import cli

from discoverflow.campaigns import CampaignRecord, load_config
from discoverflow.campaigns.crystal.campaign import CrystalCampaign
from discoverflow.campaigns.crystal.driver import check_inputs, run_campaign
from discoverflow.campaigns.crystal.fingerprints import stage_fingerprints
from discoverflow.core.crystal.prototypes import write_prototypes
from discoverflow.core.crystal.substitution import SubstitutionSettings, substitute
from discoverflow.core.structures import read_structure_folder
from discoverflow.models.ensemble import EnsembleModel
from discoverflow.stores import document_store, make_store

COORDINATE = "relax.pattern=coordinate"


def l12_alni3() -> Structure:
    return Structure(Lattice.cubic(3.57), ["Al", "Ni", "Ni", "Ni"],
                     [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])  # fmt: skip


@pytest.fixture
def campaign(tmp_path) -> Path:
    """Al-Ni from three prototypes (five distinct candidates); L1_2 AlNi3 is a known phase."""
    write_prototypes(tmp_path / "templates", ["Cu3Au", "CuZn", "AlB2"])
    (tmp_path / "known").mkdir()
    l12_alni3().to(filename=str(tmp_path / "known" / "AlNi3.cif"))
    config = {
        "name": "alni-coordinate",
        "elements": ["Al", "Ni"],
        "inputs": {"templates": "templates", "known_phases": "known"},
        "generation": {"lattice_scales": [1.0]},
        "screening": {"formation_energy_threshold": 1.5},
        "relax": {
            "fmax": 0.1,
            "steps": 150,
            "batch_size": 4,
            "coordinate": {"buffer_size": 1, "finetune_epochs": 10},
        },
        "hull": {"plot": False},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path / "config.json"


def test_the_section_is_in_the_campaign_file_and_on_the_command_line(campaign):
    config = load_config(campaign, [COORDINATE, "relax.coordinate.uncertainty_threshold=0.02"])
    assert config.relax.pattern == "coordinate"
    assert config.relax.coordinate.uncertainty_threshold == 0.02
    assert config.relax.coordinate.model_options == {"members": ["chgnet", "sevennet"]}
    plain = load_config(campaign)
    assert plain.relax.pattern == "relax"
    before, after = stage_fingerprints(plain, {}, []), stage_fingerprints(config, {}, [])
    assert before["screen"] == after["screen"] and before["relax_engine"] == after["relax_engine"]
    assert before["relax"] != after["relax"] and before["hull"] != after["hull"]
    bad = load_config(campaign, [COORDINATE, "relax.coordinate.model=nosuch"])
    assert any(
        p.startswith("relax.coordinate.model: no plugin named 'nosuch'") for p in check_inputs(bad)
    )

    shown = cli("config", "show")
    assert shown.returncode == 0, shown.stderr
    assert '"pattern": "relax"' in shown.stdout and '"uncertainty_threshold": 0.05' in shown.stdout
    typo = cli("validate", str(campaign), "--set", "relax.pattern=coordinat")
    assert typo.returncode == 2 and len(typo.stderr.strip().splitlines()) == 1
    assert "relax.pattern" in typo.stderr


def selected_structures(config_file: Path) -> dict[str, Structure]:
    """The campaign's candidates, generated here independently of the campaign."""
    templates, _ = read_structure_folder(config_file.parent / "templates")
    result = substitute(templates, ["Al", "Ni"], SubstitutionSettings(lattice_scales=[1.0]))
    return {c.candidate_id: c.structure for c in result.candidates}


@pytest.mark.slow
def test_coordinate_campaign_end_to_end(campaign, tmp_path, monkeypatch):
    monkeypatch.setenv("DISCOVERFLOW_MODEL_DIR", str(tmp_path / "models"))
    structures = selected_structures(campaign)
    means, spreads = EnsembleModel(["chgnet", "sevennet"]).predict_with_uncertainty(
        list(structures.values())
    )
    spread = dict(zip(structures, spreads, strict=True))
    mean = dict(zip(structures, means, strict=True))
    unknown = sorted(
        s for c, s in spread.items() if structures[c].composition.reduced_formula != "AlNi3"
    )
    assert len(unknown) == 4
    threshold = (unknown[1] + unknown[2]) / 2  # two below it, two above
    assert unknown[2] - unknown[1] > 1e-3

    store = str(tmp_path / "db")
    config = load_config(
        campaign, [COORDINATE, f"relax.coordinate.uncertainty_threshold={threshold}"]
    )
    hull = run_campaign(config, store)
    documents = document_store(make_store(store), "candidates")
    documents.connect()
    docs = {
        d["candidate_id"]: d
        for d in documents.query({"campaign": config.name, "role": "candidate"})
    }
    assert set(docs) == set(structures)
    record = CampaignRecord(make_store(store), config.name)
    references = record.output(record.latest("references"), load=True)
    (alni3,) = [p for p in references["phases"] if p["name"] == "AlNi3"]

    records = document_store(make_store(store), "records")  # the documents' full results
    records.connect()
    sources = {cid: doc["energy_source"] for cid, doc in docs.items()}
    for cid, doc in docs.items():
        if structures[cid].composition.reduced_formula == "AlNi3":  # the known phase's energy
            assert sources[cid] == "lookup" and doc["looked_up_from"] == "phase:AlNi3"
            assert doc["energy_per_atom"] == pytest.approx(alni3["energy_per_atom"])
            assert doc["energy_models"] == [] and doc["energy_per_atom_std"] is None
            assert "relax" not in doc["stages"]  # neither predicted nor relaxed
            continue
        assert doc["energy_per_atom_std"] == pytest.approx(spread[cid], abs=1e-5)
        assert doc["energy_models"] == ["chgnet-0.3.0", "sevennet-7net-0"]
        if spread[cid] < threshold:
            assert sources[cid] == "prediction" and "relax" not in doc["stages"]
            assert doc["energy_per_atom"] == pytest.approx(mean[cid], abs=1e-5)
        else:
            assert sources[cid] == "relaxation"
            relaxed = records.query_one({"item_id": cid, "stage": "relax"}, ["record"])["record"]
            assert doc["energy_per_atom"] == relaxed["energy_per_atom"]
            assert doc["relax_engine"] == "chgnet-0.3.0"
    assert sorted(sources.values()) == ["lookup", "prediction", "prediction"] + ["relaxation"] * 2

    mu = hull["elemental_energies"]
    for entry in hull["entries"]:  # every energy on the hull, against the same references
        doc = docs[entry["candidate_id"]]
        fractions = structures[entry["candidate_id"]].composition.fractional_composition
        expected = doc["energy_per_atom"] - sum(x * mu[str(el)] for el, x in fractions.items())
        assert entry["formation_energy_per_atom"] == pytest.approx(expected, abs=1e-6)
    assert len(hull["entries"]) == 5

    card = CrystalCampaign(config).summary(make_store(store))  # scored per round
    assert (card["n_relaxed"], card["n_predicted"]) == (3, 2)  # two relaxed, one looked up
    (scored,) = card["rounds"]
    assert scored["model_error"]["n"] == 2 and scored["hit_rate"]["n"] == 3
    assert card["screen"]["n_rejected"] == 0 and card["screen"]["recall"] == 1.0

    rounds = [d for d in record.docs("active-update")]
    state = record.output(rounds[-1], load=True)
    (report,) = state["rounds"]
    assert report["finetuned"] and report["mae_after"] < report["mae_before"]
    members = state["model_options"]["members"]
    chgnet_file = Path(members[0]["model_options"]["model_file"])
    sevennet_file = Path(members[1]["model_options"]["model"])
    assert chgnet_file.is_file() and chgnet_file.parent == tmp_path / "models"
    assert sevennet_file.is_file() and sevennet_file.suffix == ".pth"

    table = cli("results", str(campaign), "--store", store)
    assert table.returncode == 0, table.stderr
    assert "energy source" in table.stdout
    for cid, source in sources.items():
        (line,) = [line for line in table.stdout.splitlines() if cid in line]
        assert source in line
    rows = json.loads(cli("results", str(campaign), "--store", store, "--json").stdout)
    assert {r["candidate_id"]: r["energy_source"] for r in rows} == sources

    # a stricter threshold reruns the stage: what was relaxed is looked up in the store,
    # what was predicted is relaxed now
    strict = load_config(campaign, [COORDINATE, "relax.coordinate.uncertainty_threshold=1e-6"])
    run_campaign(strict, store)
    again = {
        d["candidate_id"]: d
        for d in documents.query({"campaign": config.name, "role": "candidate"})
    }
    for cid, before in sources.items():
        after = again[cid]
        if before == "relaxation":
            assert after["energy_source"] == "lookup" and after["looked_up_from"] == cid
            assert after["energy_per_atom"] == docs[cid]["energy_per_atom"]
        elif before == "prediction":
            assert after["energy_source"] == "relaxation" and "relax" in after["stages"]
    assert np.isfinite([d["energy_above_hull"] for d in again.values()]).all()
