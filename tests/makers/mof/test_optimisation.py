"""The MOF campaign's cell optimisation with ``engine: cp2k``: the stage the campaign builds,
run through jobflow into the ``mofs`` documents, and its validate-time checks."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure

from discoverflow.campaigns.base import campaign_flow
from discoverflow.campaigns.mof.config import MOFCampaignConfig
from discoverflow.campaigns.mof.driver import mof_discovery_maker
from discoverflow.campaigns.mof.inputs import optimisation_problems
from discoverflow.core.checkpoint import fingerprint
from discoverflow.core.mof.cp2k import CP2KOutcome, CP2KSettings, cp2k_problems, single_point
from discoverflow.core.relax import relaxer_settings
from discoverflow.makers.mof import CP2KCellMaker
from discoverflow.makers.mof.optimisation import cp2k_record
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.schemas.records import MOFS, Stage
from discoverflow.stores import document_store

EXAMPLE = Path(__file__).parents[3] / "examples" / "mof_co2" / "config.json"
CP2K_MISSING = cp2k_problems(CP2KSettings())
needs_cp2k = pytest.mark.skipif(
    bool(CP2K_MISSING), reason=f"CP2K is not usable here: {'; '.join(CP2K_MISSING)}"
)
# a small grid for two shared cores (MOFA: 600 / 50 Ry), a tight SCF for clean forces
TINY = {"cutoff": 300.0, "rel_cutoff": 40.0, "eps_scf": 1e-7, "steps": 4}


def campaign(**cp2k) -> MOFCampaignConfig:
    return MOFCampaignConfig(
        name="cp2k-test", workflow="mof", optimisation={"engine": "cp2k", "cp2k": cp2k}
    )


def water() -> Structure:
    """A water molecule with stretched bonds (1.05 A) and an opened angle in a 5.5 A box."""
    return Structure(
        Lattice.cubic(5.5),
        ["O", "H", "H"],
        [[2.4, 2.4, 2.75], [3.45, 2.4, 2.75], [2.1, 3.4, 2.75]],
        coords_are_cartesian=True,
    )


def run_in_campaign(maker: CP2KCellMaker, structures: dict[str, Structure], store: JobStore):
    """Run the stage as the campaign runs it: its jobs write into the campaign's documents."""
    optimise = maker.make(structures)
    flow = campaign_flow(optimise, "cp2k-test", MOFS)
    run_locally(flow, store=store, log=False, ensure_success=True, raise_immediately=True)
    return store.get_output(optimise.uuid, load=True)


def oh_bonds(structure: Structure) -> list[float]:
    return [structure.get_distance(0, i) for i in (1, 2)]


def test_the_campaign_picks_cp2k_and_fingerprints_only_its_settings():
    maker = mof_discovery_maker(campaign(cutoff=400.0)).optimise_maker
    assert isinstance(maker, CP2KCellMaker) and maker.settings.cutoff == 400.0
    assert maker.make({}).metadata["runs_on"] == "cpu"
    stamp = fingerprint(maker.settings.fingerprint_settings())
    elsewhere = CP2KSettings(cutoff=400.0, command="/opt/cp2k/bin/cp2k.psmp -s", mpi_ranks=8)
    assert fingerprint(elsewhere.fingerprint_settings()) == stamp  # how CP2K starts: same results
    assert fingerprint(CP2KSettings(cutoff=500.0).fingerprint_settings()) != stamp
    chgnet = MOFCampaignConfig(name="m", workflow="mof", optimisation={"cp2k": {"cutoff": 1.0}})
    ml = mof_discovery_maker(chgnet).optimise_maker
    assert isinstance(ml, MLRelaxMaker) and "cp2k" not in ml.settings.model_dump()
    default = mof_discovery_maker(MOFCampaignConfig(name="m", workflow="mof")).optimise_maker
    assert fingerprint(relaxer_settings(default.relaxer())) == "1f6b524d589e"  # as before CP2K
    assert fingerprint(relaxer_settings(ml.relaxer())) == "1f6b524d589e"


def test_a_missing_cp2k_is_one_problem_at_validate_time():
    (problem,) = optimisation_problems(campaign(command="no-such-cp2k -s"))
    assert problem.startswith("optimisation.cp2k: CP2K executable 'no-such-cp2k' not found")
    unknown = MOFCampaignConfig(name="m", workflow="mof", optimisation={"engine": "dft"})
    assert "no engine named 'dft' (available: cp2k, chgnet" in optimisation_problems(unknown)[0]
    off = MOFCampaignConfig(
        name="m",
        workflow="mof",
        optimisation={"enabled": False, "engine": "cp2k", "cp2k": {"command": "none -s"}},
        adsorption={"enabled": False},
    )
    assert optimisation_problems(off) == []


def test_a_geometry_reached_through_an_unconverged_scf_is_not_relaxed():
    start = water()
    outcome = CP2KOutcome(start, -468.5, -468.3, 3, True, 0.004, 90, False, 0.3, 30.0)
    record = cp2k_record("water", start, outcome)
    assert record["status"] == "unconverged" and record["reason"] == "an SCF did not converge"
    assert record["energy_per_atom"] == pytest.approx(-468.5 / 3) and record["scf_steps"] == 90
    fine = CP2KOutcome(start, -468.5, -468.3, 3, True, 0.004, 90, True, 0.3, 30.0)
    assert cp2k_record("water", start, fine)["status"] == "relaxed"


@pytest.mark.parametrize("command", ["validate", "run"])
def test_the_cli_stops_on_a_missing_cp2k_before_the_flow_starts(tmp_path, command):
    store = tmp_path / "store"
    result = subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", command, str(EXAMPLE)]
        + ["--set", "optimisation.engine=cp2k", "--set", "optimisation.cp2k.command=no-cp2k -s"]
        + (["--store", str(store)] if command == "run" else []),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "optimisation.cp2k: CP2K executable 'no-cp2k' not found" in line
    assert not store.exists()


@needs_cp2k
def test_cp2k_optimises_cells_into_the_mof_documents_and_a_rerun_reuses_them():
    maker = mof_discovery_maker(campaign(**TINY)).optimise_maker
    lanthanum = Structure(Lattice.cubic(5.3), ["La", "H", "H"], [[0, 0, 0], [0.25] * 3, [0.75] * 3])
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    output = run_in_campaign(maker, {"water": water(), "lanthanum": lanthanum}, store)

    assert output.engine == "cp2k-PBE-DFTD3"
    records = {r.candidate_id: r for r in output.records}
    failed = records["lanthanum"]  # the round goes on without it
    assert failed.status == "failed" and "DZVP-MOLOPT" in failed.reason
    assert "La" in failed.reason and set(output.structures) == {"water"}
    done = records["water"]
    assert done.status == "unconverged" and done.n_steps == 4
    assert done.reason == f"not converged in 4 steps (max force {done.max_force:.3f} eV/A)"
    assert done.scf_converged and done.scf_steps > done.n_steps
    assert done.seconds_per_scf_step > 0
    initial = single_point(water(), maker.settings)  # independent: a fresh CP2K run
    assert done.energy < initial - 0.05
    optimised = output.structures["water"]
    assert all(abs(b - 0.97) < abs(1.05 - 0.97) for b in oh_bonds(optimised))  # PBE: 0.97 A
    assert not np.allclose(optimised.lattice.matrix, water().lattice.matrix, atol=1e-4)
    routes = {
        d["name"]: d["metadata"]["runs_on"]
        for d in store.query({"metadata.campaign": "cp2k-test"}, properties=["name", "metadata"])
    }
    assert routes["mof cp2k cell optimisation water"] == "cpu"

    docs = {d["mof_id"]: d for d in document_store(store, MOFS).query({"campaign": "cp2k-test"})}
    doc = docs["water"]
    assert doc["optimisation_engine"] == "cp2k-PBE-DFTD3" and doc["status"] == "unconverged"
    assert doc["optimisation_converged"] is False and doc["reason"] == done.reason
    assert doc["energy"] == done.energy and doc["n_steps"] == 4
    assert doc["scf_steps"] == done.scf_steps
    assert doc["seconds_per_scf_step"] == done.seconds_per_scf_step
    assert doc["lattice_abc"] == pytest.approx(list(optimised.lattice.abc))
    assert doc["stages"][Stage.OPTIMISATION]["fingerprint"] == fingerprint(
        maker.settings.fingerprint_settings()
    )
    assert docs["lanthanum"]["status"] == "failed" and docs["lanthanum"]["reason"]

    # the same settings started another way (here: no CP2K at all) take the stored results
    again = maker.settings.model_copy(update={"command": "no-such-cp2k -s"})
    rerun = run_in_campaign(CP2KCellMaker(settings=again), {"water": water()}, store)
    assert rerun.records[0].energy == done.energy
