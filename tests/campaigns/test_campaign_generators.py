"""The two guided generators from a campaign file through the hull: every candidate's
document carries its provenance (orbit and share; probability), and the candidates are
charge-balanced (intermetallics count) as the settings ask."""

import json

import pytest
from pymatgen.core import Lattice, Structure
from smact.screening import smact_validity

from discoverflow.campaigns import load_config
from discoverflow.campaigns.crystal.driver import check_inputs, run_campaign
from discoverflow.core.crystal.prototypes import write_prototypes
from discoverflow.stores import document_store, make_store


def run_documents(folder, config: dict) -> list[dict]:
    (folder / "config.json").write_text(json.dumps(config))
    loaded = load_config(folder / "config.json")
    assert check_inputs(loaded) == []
    store = str(folder / "db")
    assert run_campaign(loaded, store) is not None
    documents = document_store(make_store(store), "candidates")
    documents.connect()
    return list(documents.query({"campaign": config["name"], "role": "candidate"}))


@pytest.mark.slow
def test_partial_substitution_campaign(tmp_path):
    write_prototypes(tmp_path / "templates", ["AlB2"])
    docs = run_documents(
        tmp_path,
        {
            "name": "alni-saps",
            "elements": ["Al", "Ni", "Ti"],
            "inputs": {"templates": "templates"},
            "generation": {
                "method": "partial-substitution",
                "options": {"fractions": [1.0, 0.5], "max_candidates_per_template": 8},
            },
            "screening": {"formation_energy_threshold": 0.3, "max_candidates": 2},
            "relax": {"fmax": 0.1, "steps": 100},
            "hull": {"plot": False},
        },
    )
    assert docs
    for doc in docs:
        provenance = doc["provenance"]
        assert provenance["generator"] == "partial-substitution"
        assert provenance["orbit"] and 0 < provenance["fraction"] <= 1
        assert provenance["n_replaced"] <= len(provenance["orbit_sites"])
        assert doc["template"] == "AlB2" and smact_validity(doc["formula_pretty"])
    assert {d["provenance"]["fraction"] for d in docs} == {1.0, 0.5}
    assert any(d.get("energy_above_hull") is not None for d in docs)


@pytest.mark.slow
def test_substitution_predictor_campaign(tmp_path):
    (tmp_path / "templates").mkdir()
    sphalerite = Structure.from_spacegroup(
        "F-43m", Lattice.cubic(5.41), ["Zn", "S"], [[0, 0, 0], [0.25, 0.25, 0.25]]
    )
    sphalerite.to(filename=str(tmp_path / "templates" / "ZnS.cif"))
    docs = run_documents(
        tmp_path,
        {
            "name": "mgs-predicted",
            "elements": ["Mg", "S"],
            "inputs": {"templates": "templates"},
            "generation": {"method": "substitution-predictor"},
            "screening": {"formation_energy_threshold": 0.5},
            "relax": {"fmax": 0.1, "steps": 100},
            "hull": {"plot": False},
        },
    )
    (doc,) = docs
    assert doc["formula_pretty"] == "MgS" and doc["template"] == "ZnS"
    assert doc["provenance"]["generator"] == "substitution-predictor"
    assert doc["provenance"]["substitutions"] == {"Zn2+": "Mg2+"}
    assert 1e-3 < doc["provenance"]["probability"] < 1
    assert doc["formation_energy_per_atom"] is not None
