"""Existing MOFs from a folder of CIFs: each through checks and pores, MD, optimisation and
GCMC into its document; bad files recorded with their reasons; reruns redo nothing."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MOF5_CIF, in_process, write_bad_cifs
from jobflow import JobStore
from maggma.stores import MemoryStore
from pymatgen.core import Structure
from rich.console import Console

from discoverflow.campaigns.existing_mofs.campaign import ExistingMOFsCampaign
from discoverflow.campaigns.existing_mofs.config import ExistingMOFsConfig
from discoverflow.campaigns.existing_mofs.driver import stored_evaluation
from discoverflow.stores import document_store, make_store

EXAMPLE = Path(__file__).parents[2] / "examples" / "existing_mofs"
BATTERY = Path(__file__).parents[1] / "test_data" / "mofs"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
    )


def by_file(store) -> dict[str, dict]:
    mofs = document_store(store, "mofs")
    mofs.connect()
    return {d["source_file"]: d for d in mofs.query({"campaign": "screen"})}


def rendered(renderables) -> str:
    console = Console(record=True, width=400)
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


def assert_mof5_descriptors(doc: dict) -> None:
    """Zeo++ on MOF-5 with a CO2 probe: a cavity wider than its windows, both wider than the
    probe; about 3,800 m2/g and four fifths empty (its helium void fraction is about 0.8)."""
    assert doc["checks_passed"] is True and doc["charge_balanced"] is True
    assert doc["metal_oxidation_state"] == 2 and doc["open_metal_sites"] == []
    assert 14.5 < doc["largest_included_sphere"] < 15.5
    assert 2 * doc["probe_radius"] < doc["largest_free_sphere"] < 8.5
    assert 3300 < doc["accessible_surface_area_m2_g"] < 4300
    assert 0.75 < doc["void_fraction"] < 0.85


def test_bad_cifs_get_their_reasons_the_good_mof_goes_on_and_a_rerun_redoes_nothing(
    tmp_path, monkeypatch
):
    folder = tmp_path / "mofs"
    write_bad_cifs(folder)
    shutil.copy(MOF5_CIF, folder)
    config = ExistingMOFsConfig(
        name="screen",
        workflow="existing-mofs",
        inputs={"mofs": folder},
        output_dir=tmp_path / "results",
        stability={"steps": 4},
        optimisation={"enabled": False},
        adsorption={"enabled": False},
    )
    campaign = ExistingMOFsCampaign(config)
    assert campaign.check_inputs() == []
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    campaign.run(store)

    docs = by_file(store)
    assert set(docs) == {f"{k}.cif" for k in write_bad_cifs(tmp_path / "again")} | {"MOF-5.cif"}
    for kind, reason in [
        ("malformed", "cannot parse malformed.cif"),
        ("partial", "partially occupied site (H0.5)"),
        ("coincident", "0.30 A apart"),
    ]:
        doc = docs[f"{kind}.cif"]
        assert doc["status"] == "invalid" and reason in doc["reason"]
        assert list(doc["stages"]) == ["read"] and "structure" not in doc
    for kind, reason in [("overlapping", "overlapping atoms"), ("no_hydrogens", "missing hyd")]:
        doc = docs[f"{kind}.cif"]
        assert doc["status"] == "failed" and reason in doc["reason"]
        assert doc["checks_passed"] is False and "stability" not in doc["stages"]
    assert docs["overlapping.cif"]["overlapping_atoms"]  # the two sites, by index
    assert docs["no_hydrogens.cif"]["missing_hydrogens"] is True
    mof5 = docs["MOF-5.cif"]
    assert mof5["status"] == "stable" and mof5["reason"] is None
    assert mof5["formula_pretty"] == "Zn4H12C24O13" and mof5["nsites"] == 106
    assert Structure.from_dict(mof5["structure_initial"]) == Structure.from_file(MOF5_CIF)
    assert_mof5_descriptors(mof5)
    assert 0 <= mof5["strain"] < 0.1 and mof5["md_engine"].startswith("chgnet")
    summary = stored_evaluation(store, "screen")
    assert summary.counts == {"invalid": 3, "failed": 2, "stable": 1}
    assert campaign.results_json(store)[0]["source_file"] == "MOF-5.cif"  # strained MOFs first

    assert campaign.build_flow(store) is None  # same MOFs, same settings: nothing to do

    def no_model(*args, **kwargs):
        raise AssertionError("MD was run again")

    monkeypatch.setattr("discoverflow.makers.mof.stability.chgnet_calculator", no_model)
    (folder / "empty.cif").write_text("")
    campaign.run(store)  # one more file: only it is read, MOF-5's MD comes from its document
    docs = by_file(store)
    assert docs["empty.cif"]["status"] == "invalid"
    assert docs["MOF-5.cif"]["status"] == "stable" and docs["MOF-5.cif"]["strain"] == mof5["strain"]
    assert stored_evaluation(store, "screen").counts["invalid"] == 4


def test_a_missing_or_empty_folder_is_one_line_at_validate(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"name": "screen", "workflow": "existing-mofs", "inputs": {"mofs": "mofs"}})
    )
    (tmp_path / "mofs").mkdir()
    (tmp_path / "mofs" / "README.txt").write_text("no CIFs here")
    for folder, message in [
        ("nope", "inputs.mofs: folder not found:"),
        ("mofs", "inputs.mofs: no CIF files (.cif) in"),
    ]:
        for command in ("validate", "run"):
            override = f"inputs.mofs={tmp_path / folder}"
            code, _, err = in_process(capsys, monkeypatch, command, str(config), "--set", override)
            lines = err.strip().splitlines()
            assert code == 2 and len(lines) == 1 and message in lines[0], err
    code, _, err = in_process(
        capsys, monkeypatch, "validate", str(config), "--set", "inputs.mofz=a"
    )
    assert code == 2 and "did you mean 'mofs'?" in err


@pytest.mark.slow
def test_the_example_folder_runs_end_to_end_from_the_cli(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "example")
    config = str(tmp_path / "example" / "config.json")
    result = cli("run", config)
    assert result.returncode == 0, result.stderr
    assert "existing-mofs: 5 MOFs (finished)" in result.stdout

    result = cli("results", config, "--json")
    assert result.returncode == 0, result.stderr
    docs = {d["source_file"]: d for d in json.loads(result.stdout)}
    assert {d["status"] for d in docs.values()} == {"done", "invalid", "failed"}
    assert "cannot parse broken.cif" in docs["broken.cif"]["reason"]
    assert "partially occupied site" in docs["disordered.cif"]["reason"]
    assert "missing hydrogens" in docs["no_hydrogens.cif"]["reason"]
    assert_mof5_descriptors(docs["MOF-5.cif"])
    for name in ("MOF-5.cif", "Cu-BDC-cds.cif"):
        doc = docs[name]
        assert doc["status"] == "done" and doc["stable"] is True and doc["strain"] < 0.1
        assert doc["uptake_mol_per_kg"] > 0 and doc["charges_method"].startswith("RASPA")
        assert doc["uptake_converged"] is True and doc["gcmc_cycles"] == 1000
        assert 0 < doc["uptake_error"] < doc["uptake_mol_per_kg"]
        assert doc["uptake_molecules"] > 0
        assert doc["adsorption_pressure"] == 10000 and doc["adsorption_temperature"] == 300
        initial = Structure.from_dict(doc["structure_initial"]).lattice.abc
        for optimised, read in zip(doc["lattice_abc"], initial, strict=True):
            assert abs(optimised / read - 1) < 0.05
        assert (tmp_path / "example" / "results" / "mofs" / f"{doc['mof_id']}.cif").is_file()
    assert len(docs["Cu-BDC-cds.cif"]["open_metal_sites"]) == 4  # one per Cu

    table = cli("results", config).stdout
    assert "MOF-5-" in table and "partially occupied site (H0.5)" in table
    status = cli("status", config).stdout
    assert "5 MOFs (finished)" in status and "invalid" in status

    store = make_store(str(tmp_path / "example" / "discoverflow-data"))
    store.connect()
    jobs = store.count({"metadata.campaign": "existing-mofs"})
    again = cli("run", config)
    assert again.returncode == 0 and "5 MOFs (finished)" in again.stdout
    store.connect(force_reset=True)
    assert store.count({"metadata.campaign": "existing-mofs"}) == jobs  # ran nothing


def test_the_real_cif_battery_evaluates_each_file_or_says_why(tmp_path):
    """Symmetry operations, coordinates outside [0, 1), labels without type symbols, free
    solvent (removed), counter-ions (kept) and a short axis: every MOF reaches the MD."""
    folder = tmp_path / "mofs"
    shutil.copytree(BATTERY, folder)
    (folder / "truncated.cif").write_text((BATTERY / "MIL-47.cif").read_text()[:900])
    config = ExistingMOFsConfig(
        name="screen",
        workflow="existing-mofs",
        inputs={"mofs": folder},
        characterisation={"remove_solvent": True, "surface_samples": 200, "volume_samples": 5000},
        stability={"engine": "lammps", "steps": 20, "lammps_minimise": 20, "lammps_cutoff": 6},
        optimisation={"enabled": False},
        adsorption={"enabled": False},
    )
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    ExistingMOFsCampaign(config).run(store)

    docs = by_file(store)
    assert docs["truncated.cif"]["status"] == "invalid"
    assert "truncated.cif" in docs["truncated.cif"]["reason"]
    good = {name: doc for name, doc in docs.items() if name != "truncated.cif"}
    assert len(good) == 5
    for name, doc in good.items():
        assert doc["status"] == "stable" and doc["reason"] is None, (name, doc.get("reason"))
        assert doc["checks_passed"] is True and doc["md_engine"] == "lammps-uff4mof"
    assert good["MIL-47.cif"]["bond_graph_supercell"] == [2, 1, 1]
    assert good["MIL-47.cif"]["md_supercell"] == [2, 1, 1]  # 6.8 A: two cells above 12 A
    solvated = good["DMOF-1_solvated.cif"]
    assert solvated["free_molecules"] == ["C3H7NO (solvent)", "H2O (solvent)"]
    assert solvated["solvent_removed"] is True and solvated["nsites"] == 54
    assert solvated["formula_pretty"] == "ZnH10C11NO4"  # Zn2(bdc)2(dabco), as the MD had it
    assert len(Structure.from_dict(solvated["structure_initial"])) == 69  # as read
    salt = good["MIL-53-Al_ammonium.cif"]
    assert salt["free_molecules"] == ["H4N (+1 ion)", "H4N (+1 ion)"]
    assert salt["solvent_removed"] is False and salt["metal_oxidation_state"] == 3


@pytest.mark.slow
def test_a_short_axis_mof_goes_through_every_stage_in_supercells(tmp_path):
    """MIL-47 (a = 6.82 A) through checks, pores, LAMMPS MD, cell optimisation and GCMC, then
    CHGNet MD: each method's supercell in its document, the uptake with its error and verdict."""
    folder = tmp_path / "mofs"
    folder.mkdir()
    shutil.copy(BATTERY / "MIL-47.cif", folder)
    config = ExistingMOFsConfig(
        name="screen",
        workflow="existing-mofs",
        inputs={"mofs": folder},
        stability={"engine": "lammps", "steps": 100, "lammps_minimise": 50},
        optimisation={"fmax": 0.5, "steps": 2},
        adsorption={"cycles": 20, "init_cycles": 10, "cutoff": 6.0, "pressure": 1.0},
    )  # 1 Pa: a few hundredths of a molecule, which 20 cycles cannot measure
    campaign = ExistingMOFsCampaign(config)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    campaign.run(store)

    doc = by_file(store)["MIL-47.cif"]
    assert doc["checks_passed"] is True and doc["bond_graph_supercell"] == [2, 1, 1]
    assert 7 < doc["largest_included_sphere"] < 8  # MIL-47's channels, from the cell as read
    assert doc["md_supercell"] == [4, 2, 2] and doc["strain"] < 0.1  # widths above 25 A
    assert doc["gcmc_unit_cells"] == [2, 1, 1] and doc["gcmc_cycles"] == 20
    assert doc["uptake_mol_per_kg"] >= 0 and doc["uptake_error"] >= 0
    assert doc["uptake_molecules"] >= 0 and doc["uptake_converged"] is False
    assert doc["status"] == "not converged"
    assert doc["reason"].startswith("not converged after 20 cycles")
    table = rendered(campaign.results_report(store))
    assert "not converged after 20 cycles" in table and "+/-" in table
    assert "not converged" in rendered(campaign.status_report(store))

    campaign.config.stability = campaign.config.stability.model_copy(
        update={"engine": "chgnet", "steps": 4}
    )
    campaign.run(store)
    doc = by_file(store)["MIL-47.cif"]
    assert doc["md_engine"].startswith("chgnet") and doc["md_supercell"] == [1, 1, 1]
    assert doc["strain"] < 0.1 and doc["uptake_error"] is not None
