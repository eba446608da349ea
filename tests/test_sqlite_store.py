"""The embedded SQLite store answers as MongoDB (maggma's MemoryStore, mongomock) does, keeps
what it acknowledged through kill -9, and never loses a concurrent writer's documents."""

import math
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest
from jobflow import Flow, JobStore, job, run_locally
from maggma.stores import MemoryStore

from discoverflow.sqlite_store import DATABASE_FILE, SQLiteStore

SYSTEMS = ["Ce-Fe", "Ce-Fe-In", "Fe-In", "Ce-In", "Fe", "Al-Ni"]
START = datetime(2025, 1, 2, 3, 4, 5, 678000)


def candidate(i: int) -> dict:
    doc = {
        "campaign": "ce-fe-in" if i % 5 else "other",
        "candidate_id": f"cand-{i:03d}",
        "role": "candidate" if i % 7 else "reference",
        "chemsys": SYSTEMS[i % len(SYSTEMS)],
        "formula_pretty": ["CeFe2", "CeIn3", "FeIn", "Fe"][i % 4],
        "status": ["generated", "relaxed", "superseded", "on hull", "promising"][i % 5],
        "symmetry": {"symbol": ["Fd-3m", "Pm-3m", "P1"][i % 3], "number": i % 230},
        "job_uuids": [f"job-{i % 4}", f"job-{i % 3 + 10}"],
        "decomposes_to": [{"formula": "Fe", "amount": 0.5}, {"formula": "Ce", "amount": i}],
        "relax_engine": "chgnet" if i % 2 else "sevennet",
        "last_updated": START + timedelta(minutes=i),
        "stages": {"generation": {"status": "generated", "fingerprint": f"fp{i % 3}"}},
    }
    if i % 3:
        doc["energy_above_hull"] = round((i % 11) * 0.013, 4)
    elif i % 2:
        doc["energy_above_hull"] = None
    if i % 4 == 1:
        doc["stages"]["relax"] = {"status": "relaxed" if i % 8 == 1 else "failed"}
        doc["is_stable"] = i % 8 == 1
    if i % 6 == 2:
        doc["stages"]["coordinate"] = {"status": "relaxed"}
    return doc


def mof(i: int) -> dict:
    return {
        "campaign": "mof-co2",
        "mof_id": f"mof-{i}",
        "stable": i % 3 != 0,
        "overlap_ok": i % 4 != 0,
        "uptake_mol_per_kg": i * 0.04,
        "strain": 0.01 * (i % 5),
        "linkers": [f"L{i % 2}", "L9"],
    }


def output(i: int) -> dict:
    return {
        "uuid": f"u{i // 2}",
        "index": 1 + i % 2,
        "completed_at": f"2025-01-0{1 + i % 9}T00:00:00",
        "metadata": {"campaign": "ce-fe-in", "stage": ["hull", "relax-batch", "generation"][i % 3]},
        "output": {"energy": -float(i), "uuid": f"u{i}"},
    }


QUERIES = [
    (
        "candidates",
        {"campaign": "ce-fe-in", "candidate_id": {"$in": ["cand-001", "cand-004", "x"]}},
        ["candidate_id", "stages.generation.fingerprint"],
        None,
    ),
    (
        "candidates",
        {
            "campaign": "ce-fe-in",
            "role": "candidate",
            "candidate_id": {"$nin": ["cand-001", "cand-002"]},
            "status": {"$nin": ["superseded", "invalid"]},
        },
        ["candidate_id"],
        None,
    ),
    (
        "candidates",
        {
            "formula_pretty": {"$in": ["CeIn3", "FeIn"]},
            "relax_engine": "chgnet",
            "stages.relax.status": "relaxed",
        },
        ["candidate_id", "stages.relax", "structure_initial"],
        None,
    ),
    (
        "candidates",
        {
            "campaign": "ce-fe-in",
            "role": "candidate",
            "status": {"$ne": "superseded"},
            "$or": [{"stages.relax": {"$exists": True}}, {"stages.coordinate": {"$exists": True}}],
        },
        None,
        None,
    ),
    (
        "candidates",
        {
            "campaign": "ce-fe-in",
            "is_stable": True,
            "energy_above_hull": {"$lte": 0.05},
            "formula_pretty": "CeIn3",
        },
        None,
        None,
    ),
    (
        "candidates",
        {"chemsys": "Ce-Fe-In", "energy_above_hull": {"$lt": 0.05}},
        None,
        {"energy_above_hull": 1},
    ),
    (
        "candidates",
        {
            "role": "candidate",
            "chemsys": {"$in": ["Ce", "Fe", "In", "Ce-Fe", "Ce-In", "Fe-In", "Ce-Fe-In"]},
            "energy_above_hull": {"$lte": 0.05},
        },
        ["candidate_id", "formula_pretty", "symmetry.symbol", "energy_above_hull"],
        {"energy_above_hull": 1, "candidate_id": -1},
    ),
    ("candidates", {"job_uuids": "job-2"}, ["candidate_id"], None),
    ("candidates", {"job_uuids": {"$all": ["job-1", "job-11"]}}, ["candidate_id"], None),
    (
        "candidates",
        {"decomposes_to.formula": "Ce", "decomposes_to.amount": {"$gte": 30}},
        ["candidate_id", "decomposes_to.amount"],
        None,
    ),
    ("candidates", {"energy_above_hull": None}, ["candidate_id"], None),
    ("candidates", {"energy_above_hull": {"$exists": False}}, ["candidate_id"], None),
    (
        "candidates",
        {
            "formula_pretty": {"$regex": "^ce", "$options": "i"},
            "symmetry.number": {"$gt": 10, "$lt": 40},
        },
        None,
        None,
    ),
    (
        "candidates",
        {"$and": [{"campaign": "ce-fe-in"}, {"status": {"$in": ["on hull", "promising"]}}]},
        {"candidate_id": 1, "_id": 0},
        {"last_updated": -1},
    ),
    (
        "candidates",
        {"last_updated": {"$gt": START + timedelta(minutes=30)}},
        {"stages": 0, "decomposes_to": 0},
        None,
    ),
    ("candidates", {"$nor": [{"role": "candidate"}, {"chemsys": "Fe"}]}, ["candidate_id"], None),
    (
        "candidates",
        {"stages.relax.status": {"$not": {"$eq": "relaxed"}}},
        ["candidate_id"],
        {"symmetry.number": -1},
    ),
    (
        "candidates",
        {"decomposes_to": {"$elemMatch": {"formula": "Ce", "amount": {"$lt": 3}}}},
        ["candidate_id"],
        None,
    ),
    ("candidates", {"job_uuids": {"$size": 2}, "status": "relaxed"}, ["candidate_id"], None),
    (
        "candidates",
        {},
        ["candidate_id", "energy_above_hull"],
        {"energy_above_hull": -1, "candidate_id": 1},
    ),
    (
        "mofs",
        {"campaign": "mof-co2", "stable": True, "uptake_mol_per_kg": {"$gt": 0.1}},
        {"mof_id": 1, "linkers": 1, "strain": 1, "uptake_mol_per_kg": 1},
        None,
    ),
    (
        "mofs",
        {"campaign": "mof-co2", "mof_id": {"$in": ["mof-1", "mof-4", "mof-8"]}, "overlap_ok": True},
        None,
        None,
    ),
    ("mofs", {"linkers": "L1", "stable": {"$ne": True}}, ["mof_id"], None),
    (
        "outputs",
        {"metadata.campaign": "ce-fe-in", "metadata.stage": "hull", "index": 1},
        ["uuid", "completed_at"],
        None,
    ),
    ("outputs", {"uuid": {"$in": ["u1", "u3", "u9"]}, "index": 1}, ["uuid"], None),
    (  # top-level fields of index-selected documents: read without decoding the rest
        "candidates",
        {"campaign": "ce-fe-in", "candidate_id": {"$in": ["cand-001", "cand-007", "cand-030"]}},
        ["candidate_id", "job_uuids", "last_updated", "symmetry", "stages", "no_such_field"],
        None,
    ),
    (
        "mofs",
        {"campaign": "mof-co2"},
        {"mof_id": 1, "stable": 1, "strain": 1, "overlap_ok": 1, "_id": 0},
        None,
    ),
    ("outputs", {"metadata.stage": "relax-batch"}, ["uuid"], {"index": -1, "uuid": 1}),
    ("outputs", {"uuid": "u2"}, ["output"], {"index": -1}),
]


def filled(store, key: str) -> None:
    store.connect()
    docs = {
        "candidates": ([candidate(i) for i in range(60)], ["campaign", "candidate_id"]),
        "mofs": ([mof(i) for i in range(12)], ["campaign", "mof_id"]),
        "outputs": ([output(i) for i in range(20)], ["uuid", "index"]),
    }
    store.update(*docs[key])


@pytest.fixture
def pairs(tmp_path):
    made = {}
    for name in ("candidates", "mofs", "outputs"):
        mine, theirs = SQLiteStore(name, str(tmp_path)), MemoryStore(name)
        filled(mine, name)
        filled(theirs, name)
        made[name] = (mine, theirs)
    return made


def without_id(docs) -> list[dict]:
    return [{k: v for k, v in d.items() if k != "_id"} for d in docs]


@pytest.mark.parametrize("number", range(len(QUERIES)))
def test_queries_answer_as_mongodb(pairs, number):
    collection, criteria, properties, sort = QUERIES[number]
    mine, theirs = pairs[collection]
    found = without_id(mine.query(criteria, properties, sort))
    expected = without_id(theirs.query(criteria, properties, sort))
    if sort is None:
        order = lambda d: repr(sorted(d.items()))  # noqa: E731
        found, expected = sorted(found, key=order), sorted(expected, key=order)
    assert found == expected
    assert mine.count(criteria) == theirs.count(criteria) == len(expected)
    if sort:
        assert without_id(mine.query(criteria, properties, sort, skip=1, limit=2)) == expected[1:3]


def test_queries_select_something(pairs):
    sizes = [pairs[c][1].count(q) for c, q, _, _ in QUERIES]
    assert all(sizes) and sorted(sizes)[-2] < 60  # only the empty filter takes every one


def test_distinct_groupby_and_last_updated(pairs):
    mine, theirs = pairs["candidates"]
    for field in ("chemsys", "job_uuids", "symmetry.symbol", "energy_above_hull"):
        assert sorted(map(repr, mine.distinct(field))) == sorted(map(repr, theirs.distinct(field)))
    criteria = {"campaign": "ce-fe-in"}
    for field in ("chemsys", "job_uuids", "symmetry", "last_updated", "no_such_field"):
        assert sorted(map(repr, mine.distinct(field, criteria))) == sorted(
            map(repr, theirs.distinct(field, criteria))
        )
    assert [k for k, _ in mine.groupby("chemsys", criteria)] == [
        k for k, _ in theirs.groupby("chemsys", criteria)
    ]
    sizes = {k["formula_pretty"]: len(v) for k, v in mine.groupby(["formula_pretty"], criteria)}
    assert sizes == {"CeFe2": 12, "CeIn3": 12, "FeIn": 12, "Fe": 12}
    assert mine.last_updated == theirs.last_updated == START + timedelta(minutes=59)


def test_upsert_replaces_by_key_and_remove_deletes(pairs):
    mine, theirs = pairs["candidates"]
    for store in (mine, theirs):
        doc = store.query_one({"candidate_id": "cand-007"})
        doc["status"] = "relaxed"
        del doc["decomposes_to"]
        store.update(
            [doc, {"campaign": "new", "candidate_id": "cand-007"}], key=["campaign", "candidate_id"]
        )
        store.remove_docs({"chemsys": "Fe", "campaign": "ce-fe-in"})
    assert mine.count() == theirs.count() == 53
    assert without_id(
        [mine.query_one({"candidate_id": "cand-007", "campaign": "ce-fe-in"})]
    ) == without_id([theirs.query_one({"candidate_id": "cand-007", "campaign": "ce-fe-in"})])
    assert mine.count({"candidate_id": "cand-007"}) == 2


def test_an_indexed_field_holding_an_array_is_still_matched_as_mongodb(tmp_path):
    mine, theirs = SQLiteStore("items", str(tmp_path)), MemoryStore("items")
    for store in (mine, theirs):
        store.connect()
        store.update(
            [{"item_id": "a", "campaign": "x"}, {"item_id": "b", "campaign": ["x", "y"]}],
            key="item_id",
        )
    assert "USING INDEX" not in " ".join(mine.explain({"campaign": "y"}))  # back to a scan
    for criteria in ({"campaign": "x"}, {"campaign": "y"}, {"campaign": {"$in": ["y"]}}):
        assert mine.count(criteria) == theirs.count(criteria)
    assert mine.count({"campaign": "x"}) == 2


def test_keyed_finds_use_the_indexes(pairs, tmp_path):
    candidates, outputs = pairs["candidates"][0], pairs["outputs"][0]
    keyed = [
        (outputs, {"uuid": "u1", "index": 1}),
        (outputs, {"uuid": {"$in": ["u1", "u2"]}}),
        (outputs, {"metadata.campaign": "ce-fe-in", "metadata.stage": "hull"}),
        (candidates, {"campaign": "ce-fe-in", "candidate_id": {"$in": ["cand-001"]}}),
    ]
    for store, criteria in keyed:
        assert any("USING INDEX" in step for step in store.explain(criteria)), criteria
    assert candidates.explain({"chemsys": "Fe"}) == ["SCAN candidates"]
    assert candidates.ensure_index("chemsys")
    assert any("USING INDEX" in step for step in candidates.explain({"chemsys": "Fe"}))
    assert candidates.count({"chemsys": "Fe"}) == 10


def test_types_survive_the_round_trip(tmp_path):
    store = SQLiteStore("things", str(tmp_path), key="name")
    store.connect()
    aware = datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    doc = {
        "name": "n",
        "when": aware,
        "naive": aware.replace(tzinfo=None),
        "floats": [math.inf, -math.inf, 1.5, 1e300],
        "nested": {"a": [None, True, False, {"b": "$date"}], "date": {"$date": "not a date"}},
        "big": 2**62,
        "text": 'quotes " and {"$date": x} inside',
    }
    store.update(doc)
    store.update({"name": "nan", "value": math.nan})
    store.close()
    store.connect()
    back = store.query_one({"name": "n"}, {"_id": 0})
    assert back["when"] == aware and back["when"].tzinfo is not None
    assert back["naive"] == aware.replace(tzinfo=None) and back["naive"].tzinfo is None
    assert back["floats"] == [math.inf, -math.inf, 1.5, 1e300]
    assert back["nested"]["a"] == [None, True, False, {"b": "$date"}]
    assert back["big"] == 2**62 and back["text"] == doc["text"]
    assert math.isnan(store.query_one({"name": "nan"})["value"])
    assert store.count({"value": {"$gt": 0}}) == 0


def test_msonable_and_equal_by_file_and_collection(tmp_path):
    store = SQLiteStore("outputs", str(tmp_path), key="uuid")
    again = SQLiteStore.from_dict(store.as_dict())
    assert again == store and hash(again) == hash(store) and again.key == "uuid"
    assert again != SQLiteStore("other", str(tmp_path))
    assert store.name == f"sqlite://{tmp_path / DATABASE_FILE}/outputs"
    store.connect()
    assert not hasattr(
        store, "_collection"
    )  # no pymongo collection: jobflow-remote uses ensure_index


@job(data="blob")
def make_blob(n: int) -> dict:
    return {"blob": list(range(n)), "n": n}


@job
def total(result: dict) -> int:
    return sum(result["blob"]) + result["n"]


def test_a_jobflow_flow_runs_on_it(tmp_path):
    docs, data = SQLiteStore("outputs", str(tmp_path)), SQLiteStore("outputs_data", str(tmp_path))
    store = JobStore(docs, additional_stores={"data": data})
    first = make_blob(100)
    second = total(first.output)
    run_locally(Flow([first, second]), store=store, ensure_success=True)
    store.connect()
    assert store.get_output(first.uuid, load=True) == {"blob": list(range(100)), "n": 100}
    assert store.get_output(second.uuid) == 5050
    assert data.count() == 1 and data.query_one()["data"] == list(range(100))
    stored = store.query_one({"uuid": first.uuid}, load=False)["output"]["blob"]
    assert stored["blob_uuid"] == data.query_one()["blob_uuid"]


def script(tmp_path, body: str) -> list[str]:
    code = f"import sys\nfrom discoverflow.sqlite_store import SQLiteStore\nstore = SQLiteStore('items', {str(tmp_path)!r}, key='item_id')\nstore.connect()\n{body}"
    return [sys.executable, "-c", code]


def test_acknowledged_writes_survive_kill_9(tmp_path):
    body = (
        "batch = 0\n"
        "while True:\n"
        "    store.update([{'item_id': f'{batch}-{i}', 'batch': batch, 'pad': 'x' * 2000} for i in range(20)])\n"
        "    print(batch, flush=True)\n"
        "    batch += 1\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(script(tmp_path, body), stdout=subprocess.PIPE, text=True, env=env)
    acknowledged = []
    while len(acknowledged) < 40:
        acknowledged.append(int(child.stdout.readline()))
    os.kill(child.pid, signal.SIGKILL)
    acknowledged += [int(line) for line in child.stdout.read().split()]
    child.wait()
    store = SQLiteStore("items", str(tmp_path), key="item_id")
    store.connect()
    for batch in acknowledged:
        assert store.count({"batch": batch}) == 20
    assert store.count() >= 20 * len(acknowledged) >= 800
    check = sqlite3.connect(tmp_path / DATABASE_FILE).execute("PRAGMA integrity_check")
    assert check.fetchall() == [("ok",)]


def test_two_writer_processes_lose_nothing(tmp_path):
    body = (
        "name = sys.argv[1]\n"
        "for i in range(150):\n"
        "    store.update({'item_id': f'{name}-{i}', 'writer': name})\n"
        "    store.update({'item_id': 'shared', 'writer': name, 'i': i})\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [subprocess.Popen([*script(tmp_path, body), name], env=env) for name in "ab"]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]
    store = SQLiteStore("items", str(tmp_path), key="item_id")
    store.connect()
    assert store.count({"writer": "a"}) + store.count({"writer": "b"}) == 301
    assert store.count({"item_id": "shared"}) == 1
    for name in "ab":
        ids = {d["item_id"] for d in store.query({"item_id": {"$regex": f"^{name}-"}})}
        assert ids == {f"{name}-{i}" for i in range(150)}


def test_readme_query_shape_with_combinations(pairs):
    mine, theirs = pairs["candidates"]
    systems = ["-".join(c) for n in (1, 2, 3) for c in combinations(["Ce", "Fe", "In"], n)]
    criteria = {
        "role": "candidate",
        "chemsys": {"$in": systems},
        "energy_above_hull": {"$lte": 0.05},
    }
    sort = {"energy_above_hull": 1}
    found = [d["candidate_id"] for d in mine.query(criteria, ["candidate_id"], sort)]
    assert found == [d["candidate_id"] for d in theirs.query(criteria, ["candidate_id"], sort)]
    assert len(found) >= 10


def test_ids_of_a_large_campaign_are_looked_up_by_their_index(tmp_path):
    """Grown past a thousand rows, the store has statistics: the ids of one campaign are found
    through the ``item_id`` index, not by scanning the campaign's rows."""
    records = SQLiteStore("records", str(tmp_path))
    records.connect()
    for field in ("campaign", "item_id"):
        records.ensure_index(field)
    for part in range(5):
        records.insert([{"campaign": "c", "item_id": f"{part}-{i}"} for i in range(1000)])
    with sqlite3.connect(tmp_path / DATABASE_FILE) as db:
        (item_index,) = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%item_id%'"
        ).fetchone()
    criteria = {"campaign": "c", "item_id": {"$in": ["3-7", "4-999", "9-9"]}}
    assert f"USING INDEX {item_index}" in records.explain(criteria)[0]
    assert sorted(records.distinct("item_id", criteria)) == ["3-7", "4-999"]
