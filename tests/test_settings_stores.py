import subprocess
import sys

import pytest

from discoverflow.settings import get_settings
from discoverflow.stores import document_store, make_store


def test_settings_from_yaml_and_environment(tmp_path, monkeypatch):
    yaml_file = tmp_path / "settings.yaml"
    yaml_file.write_text("STORE: /data/here\nDEVICE: cuda\n")
    monkeypatch.setenv("DISCOVERFLOW_CONFIG_FILE", str(yaml_file))
    settings = get_settings()
    assert settings.STORE == "/data/here"
    assert settings.DEVICE == "cuda"
    monkeypatch.setenv("DISCOVERFLOW_STORE", "mongodb://db:27017")
    assert get_settings().STORE == "mongodb://db:27017"


def test_memory_store_has_data_store():
    store = make_store("memory")
    assert {"data", "candidates", "mofs"} <= set(store.additional_stores)
    assert document_store(store, "candidates") is store.additional_stores["candidates"]


def test_embedded_store_survives_the_process(tmp_path):
    folder = tmp_path / "db"
    writer = (
        "from discoverflow.stores import make_store\n"
        f"s = make_store({str(folder)!r}); s.connect()\n"
        "s.docs_store.update([{'uuid': 'u1', 'index': 1, 'output': {'x': 42}}], key=['uuid', 'index'])\n"
        "s.close()\n"
    )
    subprocess.run([sys.executable, "-c", writer], check=True)
    store = make_store(str(folder))
    store.connect()
    assert store.query_one({"uuid": "u1"})["output"]["x"] == 42
    candidates = document_store(store, "candidates")
    assert candidates.database_path == str(folder.resolve())
    assert candidates.collection_name == "candidates"


def test_one_rule_for_the_default_store(tmp_path, monkeypatch):
    from discoverflow.locations import store_spec

    monkeypatch.chdir(tmp_path)
    campaign = tmp_path / "campaigns" / "mine"
    assert store_spec(None, campaign) == str(campaign / "discoverflow-data")
    assert store_spec(None) == str(tmp_path / "discoverflow-data")  # no campaign file
    assert store_spec("memory", campaign) == "memory"
    monkeypatch.setenv("DISCOVERFLOW_STORE", "mongodb://db:27017")
    assert store_spec(None, campaign) == "mongodb://db:27017"
    assert store_spec(str(tmp_path / "x"), campaign) == str(tmp_path / "x")


def test_a_second_run_on_a_held_store_is_refused_naming_the_holder(tmp_path):
    import os

    import pytest

    from discoverflow.errors import DiscoverflowError
    from discoverflow.stores import exclusive_run

    store = str(tmp_path / "db")
    refused = pytest.raises(DiscoverflowError, match=f"in use by process {os.getpid()} on ")
    with exclusive_run(store), refused, exclusive_run(store):
        pass
    with exclusive_run(store), exclusive_run("memory"):  # free again; memory takes no lock
        pass


def test_torch_threads_setting_is_applied_when_a_model_loads(monkeypatch):
    import torch

    from discoverflow.models.base import configure_torch

    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("DISCOVERFLOW_TORCH_THREADS", "1")
        configure_torch()
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("DISCOVERFLOW_TORCH_THREADS", "0")
        with pytest.raises(ValueError, match="TORCH_THREADS"):
            configure_torch()
    finally:
        torch.set_num_threads(before)


def test_each_job_store_has_its_own_documents():
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    for i in range(50):
        store = JobStore(MemoryStore("outputs"))
        store.connect()
        documents = document_store(store, "candidates")
        documents.connect()
        documents.update({"candidate_id": f"c{i}", "campaign": "x"}, key="candidate_id")
        assert document_store(store, "candidates") is documents
        assert [d["candidate_id"] for d in documents.query()] == [f"c{i}"]
        del store, documents


def test_an_old_montydb_store_is_copied_in_on_first_open(tmp_path, capsys):
    from datetime import datetime

    from maggma.stores import MontyStore

    folder = tmp_path / "old"
    for collection, docs, key in (
        (
            "outputs",
            [{"uuid": f"u{i}", "index": 1, "output": {"x": i}} for i in range(3)],
            ["uuid", "index"],
        ),
        (
            "candidates",
            [{"campaign": "c", "candidate_id": "a", "when": datetime(2025, 1, 2)}],
            "candidate_id",
        ),
    ):
        old = MontyStore(collection, database_path=str(folder), storage="sqlite")
        old.connect()
        old.update(docs, key=key)
        old.close()
    store = make_store(str(folder))
    assert "copied the MontyDB store" in capsys.readouterr().err
    store.connect()
    assert store.get_output("u2") == {"x": 2} and store.count() == 3
    candidates = document_store(store, "candidates")
    assert candidates.query_one({"candidate_id": "a"}, {"_id": 0}) == {
        "campaign": "c",
        "candidate_id": "a",
        "when": datetime(2025, 1, 2),
    }
    assert (folder / "db" / "outputs.collection").exists()  # kept
    make_store(str(folder)).connect()  # once only
    assert capsys.readouterr().err == "" and make_store(str(folder)).count() == 3
