"""The document view: records of the current fingerprints, merged in stage order."""

from datetime import UTC, datetime, timedelta

from maggma.stores import MemoryStore
from monty.json import jsanitize
from pymatgen.core import Lattice, Structure

from discoverflow.builders.documents import ItemDocumentBuilder, RecordSelection
from discoverflow.schemas.candidate import CandidateDoc
from discoverflow.schemas.records import Stage, StageResult

NIAL = Structure(Lattice.cubic(2.88), ["Ni", "Al"], [[0, 0, 0], [0.5, 0.5, 0.5]])
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def result(item, stage, status, stamp, minutes=0, **fields) -> dict:
    record = StageResult(
        campaign="c",
        collection="candidates",
        item_id=item,
        stage=stage,
        fingerprint=stamp,
        status=status,
        fields=fields,
        job_uuid=f"job-{stage}-{stamp}",
        written_at=T0 + timedelta(minutes=minutes),
    )
    return jsanitize(record.model_dump(), strict=True, allow_bson=True, enum_values=True)


def generated(item: str) -> dict:
    return result(item, Stage.GENERATION, "generated", "g1", template="CsCl", structure=NIAL)


def stores(records: list[dict]) -> tuple[MemoryStore, MemoryStore]:
    source, target = MemoryStore("records"), MemoryStore("candidates")
    source.connect()
    target.connect()
    source.update(records, key="record_id")
    return source, target


SELECTION = RecordSelection(
    fingerprints={
        Stage.GENERATION: "g1",
        Stage.SCREENING: "m1",
        Stage.SELECTION: "s2",
        Stage.RELAX: "r1",
        Stage.HULL: "h2",
    }
)


def build(source, target) -> ItemDocumentBuilder:
    builder = ItemDocumentBuilder(source, target, "c", selection=SELECTION)
    builder.run()
    return builder


def test_the_view_follows_the_current_fingerprints_not_the_last_write():
    records = [generated("a"), generated("b")]
    records += [
        result(i, Stage.SCREENING, "screened", "m1", predicted_energy_per_atom=-5.0) for i in "ab"
    ]
    # an older selection (s1) kept both; the current one (s2) keeps only "a"
    records += [result(i, Stage.SELECTION, "selected", "s1", minutes=5) for i in "ab"]
    records += [result("a", Stage.SELECTION, "selected", "s2", minutes=1)]
    records += [result("b", Stage.SELECTION, "screened out", "s2", minutes=1)]
    records += [
        result(i, Stage.RELAX, "relaxed", "r1", minutes=6, energy_per_atom=-5.5) for i in "ab"
    ]
    records += [result("b", Stage.HULL, "promising", "h1", minutes=7, energy_above_hull=0.01)]
    records += [result("a", Stage.HULL, "on hull", "h2", minutes=7, energy_above_hull=0.0)]
    source, target = stores(records)
    build(source, target)
    docs = {d["candidate_id"]: d for d in target.query({})}
    assert docs["a"]["status"] == "on hull" and docs["a"]["energy_per_atom"] == -5.5
    assert docs["b"]["status"] == "screened out"
    assert docs["b"].get("energy_per_atom") is None and docs["b"].get("energy_above_hull") is None
    assert set(docs["b"]["stages"]) == {"generation", "screening", "selection"}
    for doc in docs.values():
        CandidateDoc.model_validate(doc)


def test_candidates_of_another_generation_leave_the_view_and_unchanged_ones_stay():
    source, target = stores([generated("a"), generated("b")])
    first = build(source, target)
    assert first.written == 2 and first.removed == 0
    again = build(source, target)
    assert again.written == 0  # nothing changed: nothing rewritten
    source.remove_docs({"item_id": "b"})
    source.update(
        [result("b", Stage.GENERATION, "generated", "g0", structure=NIAL)],
        key="record_id",
    )
    third = build(source, target)
    assert third.removed == 1 and [d["candidate_id"] for d in target.query({})] == ["a"]
    assert source.count({"item_id": "b"}) == 1  # its record stays


def test_a_screened_candidate_without_a_current_generation_is_not_shown():
    records = [generated("a"), result("z", Stage.SCREENING, "screened", "m1")]
    source, target = stores(records)
    build(source, target)
    assert [d["candidate_id"] for d in target.query({})] == ["a"]


def test_references_need_no_generation():
    records = [result("Ni", Stage.RELAX, "relaxed", "r1", role="reference", energy=-5.0)]
    source, target = stores(records)
    build(source, target)
    (doc,) = target.query({})
    assert doc["role"] == "reference" and doc["status"] == "relaxed"
