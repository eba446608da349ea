"""Faults a long campaign meets: SIGKILL in each stage (at a named point, through
``discoverflow.faults``), and a candidate whose relaxation fails.

Each run is the ``discoverflow`` command in its own process, as users run it."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from discoverflow.campaigns.loading import load_campaign
from discoverflow.faults import KILL_AT as KILL_AT_VARIABLE
from discoverflow.stores import document_store, make_store

KILL_AT = ("relax", "generation", "screening", "selection", "relax", "hull")
"""Stages whose first committed record write ends a run (``discoverflow.faults``). The first
relaxation records are the elemental references' (the first job), the second ``relax`` kill
comes after the first relaxed candidate, in the middle of a batch job."""


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


def stored_stages(store: Path) -> dict[str, set[str]]:
    """Stage -> uuids of the finished jobs of that stage in the store."""
    if not store.exists():
        return {}
    outputs = make_store(str(store)).docs_store
    outputs.connect()
    found: dict[str, set[str]] = {}
    for doc in outputs.query({}, properties=["uuid", "metadata.stage"]):
        found.setdefault(doc["metadata"].get("stage", "?"), set()).add(doc["uuid"])
    return found


def results(config: Path, store: Path) -> dict[str, tuple]:
    rows = json.loads(cli("results", str(config), "--store", str(store), "--json", "--all").stdout)
    return {
        r["candidate_id"]: (r["status"], round(r.get("energy_above_hull") or 0.0, 4)) for r in rows
    }


def run_killed_at(config: Path, store: Path, stage: str) -> subprocess.CompletedProcess:
    """A run that SIGKILLs itself right after its first write of ``stage``'s records."""
    return subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", "run", str(config), "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, KILL_AT_VARIABLE: f"{stage}:1"},
    )


@pytest.fixture
def config(campaign_dir) -> Path:
    path = campaign_dir / "config.json"
    settings = json.loads(path.read_text())
    settings["screening"]["batch_size"] = 8
    path.write_text(json.dumps(settings))
    return path


def test_sigkill_in_every_stage_resumes_to_the_uninterrupted_results(config, tmp_path):
    """Killed once in each stage in turn, the campaign ends with what an uninterrupted run
    gives, and no job that had finished before a kill runs again."""
    uninterrupted = tmp_path / "once"
    assert cli("run", str(config), "--store", str(uninterrupted)).returncode == 0
    expected = results(config, uninterrupted)

    store = tmp_path / "killed"
    for stage in KILL_AT:
        before = stored_stages(store)
        run = run_killed_at(config, store, stage)
        assert run.returncode == -signal.SIGKILL, f"{stage}: {run.stderr[-500:]}"
        after = stored_stages(store)
        for finished, uuids in before.items():  # finished jobs are kept and not run again
            assert uuids <= after.get(finished, set())
            # batch stages grow by the batches still to do; a fan-out only plans work, so a
            # rerun plans again (without redoing the batches that were finished)
            growing = finished in ("screen-batch", "relax-batch", "reference-relax")
            # the scorecard's audit is planned again until the scorecard is stored (its
            # relaxations come back from their records, not recomputed)
            replanned = finished.endswith("-fanout") or finished.startswith("audit")
            if not growing and not replanned:
                assert len(after[finished]) == len(uuids), finished

    final = cli("run", str(config), "--store", str(store))
    assert final.returncode == 0, final.stderr
    assert results(config, store) == expected
    once, killed = stored_stages(uninterrupted), stored_stages(store)
    for stage in ("generation", "screen", "dedup", "relax", "hull"):
        assert len(killed[stage]) == len(once[stage]) == 1, stage


def test_a_candidate_whose_relaxation_fails_is_recorded_and_the_rest_goes_on(tmp_path):
    """Two atoms 0.6 A apart cannot relax in a few steps: that candidate is recorded with its
    reason, the others reach the hull, and status and results say so."""
    folder = tmp_path / "structures"
    folder.mkdir()
    good = {
        "NiAl_B2": Structure(Lattice.cubic(2.88), ["Ni", "Al"], [[0, 0, 0], [0.5] * 3]),
        "Ni3Al_L12": Structure(
            Lattice.cubic(3.57),
            ["Al", "Ni", "Ni", "Ni"],
            [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        ),
    }
    crushed = Structure(Lattice.cubic(4.0), ["Ni", "Al"], [[0, 0, 0], [0.15, 0, 0]])
    for name, structure in {**good, "crushed": crushed}.items():
        structure.to(filename=str(folder / f"{name}.cif"))
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "name": "nial-fault",
                "elements": ["Al", "Ni"],
                "inputs": {"templates": "structures"},
                "generation": {"method": "user"},
                "validity": {"enabled": False},
                "dedup": {"enabled": False},
                "screening": {"formation_energy_threshold": 50.0},
                "relax": {"fmax": 0.05, "steps": 40, "batch_size": 3},
            }
        )
    )
    store = tmp_path / "db"
    run = cli("run", str(config), "--store", str(store))
    assert run.returncode == 0, run.stderr

    campaign = load_campaign(config)
    documents = document_store(make_store(str(store)), "candidates")
    documents.connect()
    docs = list(documents.query({"campaign": campaign.name, "role": "candidate"}))
    assert len(docs) == 3
    (bad,) = [
        d for d in docs if Structure.from_dict(d["structure_initial"]).distance_matrix[0, 1] < 1
    ]
    assert bad["status"] in ("failed", "unconverged") and bad["reason"], bad["status"]
    assert bad.get("energy_above_hull") is None
    others = [d for d in docs if d is not bad]
    assert all(d.get("energy_above_hull") is not None for d in others), [
        d["status"] for d in others
    ]
    assert "AlNi" in {d["formula_pretty"] for d in others}

    rows = json.loads(cli("results", str(config), "--store", str(store), "--json").stdout)
    assert bad["candidate_id"] in {r["candidate_id"] for r in rows}
    status = cli("status", str(config), "--store", str(store))
    assert status.returncode == 0 and "3/3 relaxed (1 failed or unconverged)" in status.stdout
