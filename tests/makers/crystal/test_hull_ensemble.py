"""The hull stage with an ensemble: a spread of energy above the hull and a probability of
stability per candidate, from the members' own hulls."""

import pytest
from jobflow import run_locally
from pymatgen.core import Lattice, Structure

from discoverflow.makers import HullMaker
from discoverflow.plugins import load_model
from discoverflow.schemas.relax import ReferenceDocument, RelaxBatchDocument, RelaxRecordInfo
from discoverflow.stores import make_store


def test_ensemble_gives_b2_feal_certain_stability_and_rocksalt_none():
    candidates = {
        "b2": Structure(Lattice.cubic(2.89), ["Fe", "Al"], [[0, 0, 0], [0.5] * 3]),
        "rocksalt": Structure.from_spacegroup(
            "Fm-3m", Lattice.cubic(4.6), ["Fe", "Al"], [[0, 0, 0], [0.5] * 3]
        ),
    }
    elements = {
        "Fe:bcc": Structure(Lattice.cubic(2.83), ["Fe", "Fe"], [[0, 0, 0], [0.5] * 3]),
        "Al:fcc": Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.04), ["Al"], [[0, 0, 0]]),
    }
    chgnet = load_model("chgnet")
    energy = dict(
        zip(candidates, chgnet.predict_energy_per_atom(list(candidates.values())), strict=True)
    )
    element_energy = dict(
        zip(("Fe", "Al"), chgnet.predict_energy_per_atom(list(elements.values())), strict=True)
    )
    relaxed = RelaxBatchDocument(
        engine="chgnet",
        records=[
            RelaxRecordInfo(
                candidate_id=cid, formula="AlFe", status="relaxed", energy_per_atom=float(e)
            )
            for cid, e in energy.items()
        ],
        structures=candidates,
    )
    references = ReferenceDocument(
        engine="chgnet",
        elements=["Al", "Fe"],
        elemental_energies={k: float(v) for k, v in element_energy.items()},
        elemental_sources={"Fe": "Fe:bcc", "Al": "Al:fcc"},
        structures=elements,
    )
    flow = HullMaker(settings={"ensemble": ["chgnet", "sevennet"], "plot": False}).make(
        relaxed=relaxed, references=references
    )
    stages = {j.metadata["stage"]: j.metadata["runs_on"] for j in flow.jobs}
    assert stages == {
        "hull-analysis": "cpu",
        "known-phases": "cpu",
        "stability-spread": "gpu",  # the models run where the models run
        "hull": "cpu",
    }
    store = make_store("memory")
    run_locally(flow, store=store, log=False, ensure_success=True)
    output = store.get_output(flow.output.uuid, load=True)
    entries = {e["candidate_id"]: e for e in output["entries"]}
    assert entries["b2"]["probability_stable"] == 1.0
    assert entries["rocksalt"]["probability_stable"] == 0.0
    assert entries["b2"]["e_above_hull_std"] == pytest.approx(0.0, abs=1e-6)  # on both hulls
    assert entries["rocksalt"]["e_above_hull_std"] > 0


def test_hull_takes_its_inputs_by_name_and_runs_no_model_without_an_ensemble():
    with pytest.raises(TypeError):
        HullMaker().make(RelaxBatchDocument(engine="x"), None)  # positional: refused
    relaxed = RelaxBatchDocument(engine="chgnet")
    references = ReferenceDocument(
        engine="chgnet", elements=["Al"], elemental_energies={}, elemental_sources={}
    )
    flow = HullMaker().make(relaxed=relaxed, references=references)
    assert [j.metadata["stage"] for j in flow.jobs] == ["hull-analysis", "known-phases", "hull"]
    assert {j.metadata["runs_on"] for j in flow.jobs} == {"cpu"}
