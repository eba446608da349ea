"""A generation in bounded chunks: every consumer sees all candidates, no output holds them."""

import bson
import pytest
from jobflow import Flow, run_locally

from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.core.crystal.substitution import SubstitutionSettings, substitute
from discoverflow.makers import MLScreenMaker, ReferenceMaker, SubstitutionMaker
from discoverflow.makers.crystal import chunks
from discoverflow.makers.crystal.chunks import chunk_bounds, merged_generation
from discoverflow.makers.crystal.dedup import DedupMaker
from discoverflow.makers.crystal.generators import ValidityFilterMaker
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.schemas.records import RECORDS
from discoverflow.stores import document_store, make_store

TEMPLATES = {n: PROTOTYPES[n].structure() for n in ("Cu3Au", "CuZn", "MgCu2")}
SCALES = [0.98, 1.0, 1.02]


def test_chunk_bounds_cap_candidates_and_sites(monkeypatch):
    monkeypatch.setattr(chunks, "MAX_CANDIDATES_PER_CHUNK", 3)
    monkeypatch.setattr(chunks, "MAX_SITES_PER_CHUNK", 10)
    assert chunk_bounds([1] * 7) == [(0, 3), (3, 6), (6, 7)]
    assert chunk_bounds([4, 4, 4, 12, 1]) == [(0, 2), (2, 3), (3, 4), (4, 5)]
    assert chunk_bounds([]) == []


@pytest.fixture(scope="module")
def chunked_run():
    """Al-Ni substitution in chunks of at most 4 candidates, filtered, screened, deduplicated."""
    patch = pytest.MonkeyPatch()
    patch.setattr(chunks, "MAX_CANDIDATES_PER_CHUNK", 4)
    relax = MLRelaxMaker(settings={"fmax": 0.1, "steps": 150, "batch_size": 2})
    references = ReferenceMaker(relax_maker=relax).make(["Al", "Ni"])
    generation = SubstitutionMaker(settings={"lattice_scales": SCALES}).make(
        TEMPLATES, ["Al", "Ni"]
    )
    validity = ValidityFilterMaker(settings={"charge_neutral": False}).make(generation.output)
    screen = MLScreenMaker(settings={"batch_size": 3}).make(validity.output, references.output)
    dedup = DedupMaker().make(validity.output, screen.output)
    store = make_store("memory")
    flow = Flow([references, generation, validity, screen, dedup])
    run_locally(flow, store=store, log=False, ensure_success=True, raise_immediately=True)
    patch.undo()
    jobs = {"generation": generation, "validity": validity, "screen": screen, "dedup": dedup}
    outputs = {name: store.get_output(j.uuid, load=True) for name, j in jobs.items()}
    return store, {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in outputs.items()}


def test_chunks_hold_what_one_substitution_makes(chunked_run):
    store, outputs = chunked_run
    index = GenerationDocument.model_validate(outputs["generation"])
    expected = substitute(TEMPLATES, ["Al", "Ni"], SubstitutionSettings(lattice_scales=SCALES))
    assert index.n_candidates == len(expected.candidates) == 15
    assert len(index.chunks) == 4 and not index.structures
    merged = merged_generation(index, store)
    assert [c.candidate_id for c in merged.candidates] == [
        c.candidate_id for c in expected.candidates
    ]
    for candidate in expected.candidates:
        built = merged.structures[candidate.candidate_id]
        assert built.lattice.abc == pytest.approx(candidate.structure.lattice.abc, abs=1e-9)
        assert [str(s.specie) for s in built] == [str(s.specie) for s in candidate.structure]


def test_every_stage_sees_candidates_of_all_chunks(chunked_run):
    store, outputs = chunked_run
    valid = merged_generation(GenerationDocument.model_validate(outputs["validity"]), store)
    removed = sum(outputs["validity"]["filter_counts"].values())
    assert valid.n_candidates == len(valid.candidates) == 15 - removed
    assert outputs["screen"]["n_screened"] == valid.n_candidates
    batches = list(store.query({"metadata.stage": "screen-batch"}))
    assert all(len(b["output"]["records"]) <= 3 for b in batches)
    kept = {r["candidate_id"] for r in outputs["dedup"]["kept"]}
    assert kept <= {c.candidate_id for c in valid.candidates}
    assert len(kept) + len(outputs["dedup"]["duplicate_of"]) == outputs["dedup"]["n_input"]


def test_no_output_holds_the_whole_generation(chunked_run):
    store, _ = chunked_run
    for doc in store.docs_store.query({"metadata.stage": {"$in": ["generation", "validity"]}}):
        assert doc["output"]["candidates"] == [] and doc["output"]["structures"] == {}
        assert len(bson.encode(doc)) < 3000
    for doc in store.docs_store.query({"metadata.stage": "generation-chunk"}):
        assert len(doc["output"]["candidates"]) <= 4


def test_finish_chunks_rebuilds_only_the_missing_ones_under_their_uuids(monkeypatch):
    """A run killed while chunk jobs ran: the missing chunk comes back with its own uuid and
    the same candidates; the finished ones are not run again."""
    monkeypatch.setattr(chunks, "MAX_CANDIDATES_PER_CHUNK", 4)
    maker = SubstitutionMaker(settings={"lattice_scales": SCALES})
    store = make_store("memory")
    step = maker.make(TEMPLATES, ["Al", "Ni"])
    run_locally(step, store=store, log=False, ensure_success=True, raise_immediately=True)
    index = GenerationDocument.model_validate(store.get_output(step.uuid, load=True))
    lost = index.chunks[2]
    before = GenerationDocument.model_validate(store.get_output(lost, load=True))
    kept = {d["uuid"]: d["completed_at"] for d in store.query({"uuid": {"$ne": lost}})}
    store.docs_store.remove_docs({"uuid": lost})

    finish = chunks.finish_chunks(maker, [TEMPLATES, ["Al", "Ni"]], index, [lost])
    run_locally(finish, store=store, log=False, ensure_success=True, raise_immediately=True)
    after = GenerationDocument.model_validate(store.get_output(lost, load=True))
    assert [c.candidate_id for c in after.candidates] == [c.candidate_id for c in before.candidates]
    assert set(after.structures) == set(before.structures)
    for uuid, completed in kept.items():
        assert store.query_one({"uuid": uuid})["completed_at"] == completed
    again = GenerationDocument.model_validate(store.get_output(finish.uuid, load=True))
    assert again.chunks == index.chunks


def test_a_generation_without_candidates_has_no_chunks():
    store = make_store("memory")
    step = SubstitutionMaker().make({"CuZn": PROTOTYPES["CuZn"].structure()}, ["Al"])
    run_locally(step, store=store, log=False, ensure_success=True, raise_immediately=True)
    index = GenerationDocument.model_validate(store.get_output(step.uuid, load=True))
    assert index.n_candidates == 0 and index.chunks == []
    assert index.skipped_templates[0].template == "CuZn"


def test_chunk_jobs_record_the_candidates_they_build_once(monkeypatch):
    """In a campaign each candidate gets one generation record, written by the chunk job that
    built it; the screen's fan-out finds them all recorded and loads no chunk."""
    monkeypatch.setattr(chunks, "MAX_CANDIDATES_PER_CHUNK", 4)
    generation = SubstitutionMaker(settings={"lattice_scales": SCALES}).make(
        TEMPLATES, ["Al", "Ni"]
    )
    flow = Flow([generation])
    flow.update_metadata(
        {"campaign": "chunk-records", "fingerprints": {"generation": "g-1"}}, dynamic=True
    )
    store = make_store("memory")
    run_locally(flow, store=store, log=False, ensure_success=True, raise_immediately=True)
    chunk_jobs = {d["uuid"] for d in store.query({"metadata.stage": "generation-chunk"})}
    records = list(
        document_store(store, RECORDS).query({"campaign": "chunk-records", "stage": "generation"})
    )
    assert len(chunk_jobs) == 4 and len(records) == 15
    assert len({r["item_id"] for r in records}) == 15
    assert {r["job_uuid"] for r in records} == chunk_jobs
    assert {r["fingerprint"] for r in records} == {"g-1"}
    assert all(r["fields"]["structure_initial"]["@class"] == "Structure" for r in records)
