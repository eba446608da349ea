"""Screening with a cross-architecture ensemble records each candidate's spread."""

import numpy as np
import pytest
from jobflow import run_locally
from pymatgen.core import Lattice, Structure

from discoverflow.makers import MLScreenMaker
from discoverflow.makers.crystal import screen
from discoverflow.plugins import load_model
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.stores import make_store


def test_ensemble_screening_records_the_members_spread():
    structures = {
        "b2": Structure(Lattice.cubic(2.89), ["Fe", "Al"], [[0, 0, 0], [0.5] * 3]),
        "rocksalt": Structure.from_spacegroup(
            "Fm-3m", Lattice.cubic(4.6), ["Fe", "Al"], [[0, 0, 0], [0.5] * 3]
        ),
    }
    maker = MLScreenMaker(
        settings={"model": "ensemble", "model_options": {"members": ["chgnet", "sevennet"]}}
    )
    chunk = GenerationDocument(
        elements=["Al", "Fe"],
        n_templates=0,
        assignments_total=2,
        assignments_distinct=2,
        structures=structures,
    )
    job = maker.screen_batch(chunk)
    store = make_store("memory")
    run_locally(job, store=store, log=False, ensure_success=True)
    batch = store.get_output(job.uuid, load=True)
    records = {r["candidate_id"]: r for r in batch["records"]}

    members = np.array(
        [
            load_model(name).predict_energy_per_atom(list(structures.values()))
            for name in ("chgnet", "sevennet")
        ]
    )
    for index, cid in enumerate(structures):
        assert records[cid]["energy_per_atom"] == pytest.approx(members[:, index].mean(), abs=1e-5)
        assert records[cid]["energy_spread"] == pytest.approx(
            abs(members[0, index] - members[1, index]) / 2, abs=1e-5
        )
        assert records[cid]["energy_spread"] > 0


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_prediction_is_a_screen_failure_not_an_energy(monkeypatch, bad):
    structures = {
        "b2": Structure(Lattice.cubic(2.89), ["Fe", "Al"], [[0, 0, 0], [0.5] * 3]),
        "fcc": Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.6), ["Ni"], [[0, 0, 0]]),
    }
    real = screen.predict

    def one_bad(model, batch):
        energies, spreads = real(model, batch)
        return [bad, *energies[1:]], spreads

    monkeypatch.setattr(screen, "predict", one_bad)
    chunk = GenerationDocument(
        elements=["Al", "Fe", "Ni"], n_templates=0, assignments_total=2, assignments_distinct=2,
        structures=structures,
    )  # fmt: skip
    job = MLScreenMaker().screen_batch(chunk)
    store = make_store("memory")
    run_locally(job, store=store, log=False, ensure_success=True)
    batch = store.get_output(job.uuid, load=True)
    assert batch["failures"] == {"b2": "model returned a non-finite energy"}
    assert [r["candidate_id"] for r in batch["records"]] == ["fcc"]
    assert np.isfinite(batch["records"][0]["energy_per_atom"])
