"""Each Maker through jobflow's run_locally on an in-memory store."""

import pytest
from jobflow import Flow, run_locally

from discoverflow.core.relax import RelaxSettings
from discoverflow.makers import (
    DedupMaker,
    HullMaker,
    MLRelaxMaker,
    MLScreenMaker,
    ReferenceMaker,
    SubstitutionMaker,
)
from discoverflow.makers.crystal.chunks import merged_generation
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.stores import make_store

FAST_RELAX = MLRelaxMaker(settings=RelaxSettings(fmax=0.1, steps=150, batch_size=2))


def run(flow_or_job, store):
    responses = run_locally(flow_or_job, store=store, log=False, ensure_success=True)
    return responses


@pytest.fixture(scope="module")
def store():
    return make_store("memory")


@pytest.fixture(scope="module")
def pipeline(store):
    """References, generation, screen, dedup, relax and hull for Al-Ni on three templates."""
    from discoverflow.core.crystal.prototypes import PROTOTYPES
    from discoverflow.makers.relax import RelaxSelectedMaker

    templates = {n: PROTOTYPES[n].structure() for n in ("Cu3Au", "CuZn", "MgCu2")}
    references = ReferenceMaker(relax_maker=FAST_RELAX).make(["Al", "Ni"])
    generation = SubstitutionMaker(settings={"lattice_scales": [0.98, 1.0, 1.02]}).make(
        templates, ["Al", "Ni"]
    )
    screen = MLScreenMaker(settings={"batch_size": 7, "formation_energy_threshold": -0.2}).make(
        generation.output, references.output
    )
    dedup = DedupMaker().make(generation.output, screen.output)
    relaxed = RelaxSelectedMaker(relax_maker=FAST_RELAX).make(generation.output, dedup.output)
    hull = HullMaker().make(
        relaxed=relaxed.output, references=references.output, selection=dedup.output
    )
    flow = Flow([references, generation, screen, dedup, relaxed, hull])
    run(flow, store)

    def output(step):
        value = store.get_output(step.output.uuid, load=True)
        if step is generation:
            index = GenerationDocument.model_validate(value)
            return merged_generation(index, store).model_dump()
        return value.model_dump() if hasattr(value, "model_dump") else value

    return {name: output(step) for name, step in locals().items() if name in {
        "references", "generation", "screen", "dedup", "relaxed", "hull"}}  # fmt: skip


def test_references(pipeline):
    refs = pipeline["references"]
    assert set(refs["elemental_energies"]) == {"Al", "Ni"}
    # CHGNet reproduces MP's GGA energies: fcc Al -3.75, fcc Ni -5.78 eV/atom
    assert refs["elemental_energies"]["Al"] == pytest.approx(-3.75, abs=0.1)
    assert refs["elemental_energies"]["Ni"] == pytest.approx(-5.78, abs=0.1)


def test_generation(pipeline):
    gen = pipeline["generation"]
    # L1_2 and C15: 2 assignments each; B2: 1 (swap symmetry); x 3 scales
    assert len(gen["candidates"]) == (2 + 2 + 1) * 3
    assert set(gen["structures"]) == {c["candidate_id"] for c in gen["candidates"]}
    assert gen["n_candidates"] == len(gen["candidates"])


def test_per_candidate_lists_live_in_the_data_store(pipeline, store):
    """The job outputs users' queries scan hold counts; what grows with the number of
    candidates (provenance, kept records, structures) is in the data store."""
    import bson

    for stage in ("generation", "screen", "dedup"):
        (doc,) = store.docs_store.query({"metadata.stage": stage})
        assert len(bson.encode(doc)) < 3000, stage
    (generation,) = store.docs_store.query({"metadata.stage": "generation"})
    assert generation["output"]["n_candidates"] == 15
    assert generation["output"]["candidates"] == []
    (chunk,) = store.docs_store.query({"metadata.stage": "generation-chunk"})
    assert generation["output"]["chunks"] == [chunk["uuid"]]
    assert len(chunk["output"]["candidates"]) == 15
    assert "blob_uuid" in chunk["output"]["structures"]


def test_screen_fans_out_and_applies_the_threshold(pipeline, store):
    screen = pipeline["screen"]
    assert screen["n_screened"] == 15
    assert screen["kept"], "NiAl and Ni3Al must pass -0.2 eV/atom"
    assert all(r["formation_energy_per_atom"] < -0.2 for r in screen["kept"])
    energies = [r["formation_energy_per_atom"] for r in screen["kept"]]
    assert energies == sorted(energies)
    batches = list(store.query({"metadata.stage": "screen-batch"}))
    assert len(batches) == 3  # 15 candidates in batches of 7


def test_dedup_collapses_lattice_scales(pipeline):
    dedup = pipeline["dedup"]
    info = {c["candidate_id"]: c for c in pipeline["generation"]["candidates"]}

    def origin(cid):
        return info[cid]["template"], tuple(sorted(info[cid]["species_map"].items()))

    screened = {origin(r["candidate_id"]) for r in pipeline["screen"]["kept"]}
    kept = [origin(r["candidate_id"]) for r in dedup["kept"]]
    assert sorted(kept) == sorted(screened)  # one survivor per template and assignment
    assert len(dedup["kept"]) + len(dedup["duplicate_of"]) == dedup["n_input"]
    energy = {r["candidate_id"]: r["formation_energy_per_atom"] for r in pipeline["screen"]["kept"]}
    for removed, survivor in dedup["duplicate_of"].items():
        assert origin(removed) == origin(survivor)
        assert energy[survivor] <= energy[removed]


def test_relax_and_hull(pipeline):
    relaxed = pipeline["relaxed"]
    kept = {r["candidate_id"] for r in pipeline["dedup"]["kept"]}
    assert {r["candidate_id"] for r in relaxed["records"]} == kept
    hull = pipeline["hull"]
    assert "AlNi" in hull["stable_formulas"]  # B2 NiAl is the deepest Al-Ni phase
    nial = next(e for e in hull["entries"] if e["formula"] == "AlNi")
    assert nial["e_above_hull"] == 0.0
    assert nial["formation_energy_per_atom"] == pytest.approx(-0.65, abs=0.15)  # MP: -0.66
    assert all(e["e_above_hull"] >= 0 for e in hull["entries"])
    assert set(hull["promising_structures"]) == {
        e["candidate_id"] for e in hull["entries"] if e["promising"]
    }
