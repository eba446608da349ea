"""Checks and pores of a batch of MOFs into their documents; failures leave before the MD,
which runs with UFF4MOF in LAMMPS on the rest."""

from jobflow import Flow, JobStore, run_locally
from maggma.stores import MemoryStore

from discoverflow.core.mof.assembly import AssemblySettings, assemble_mof
from discoverflow.core.mof.linkers import process_linker
from discoverflow.makers import DocumentsMaker
from discoverflow.makers.mof import MOFCharacterisationMaker, MOFStabilityMaker
from discoverflow.schemas.mof import AssemblyDocument
from discoverflow.stores import document_store

BDC = "OC(=O)c1ccc(cc1)C(=O)O"


def run(flow, store):
    flow.update_metadata({"campaign": "checks"}, dynamic=True)
    flow.update_config({"expose_store": True}, attributes="expose_store", dynamic=True)
    run_locally(flow, store=store, log=False, ensure_success=True, raise_immediately=True)


def test_a_mof_failing_a_check_is_recorded_and_skips_the_md():
    mof5 = assemble_mof([process_linker(BDC)], settings=AssemblySettings(supercell=1)).structure
    bare = mof5.copy()
    bare.remove_species(["H"])
    assembly = AssemblyDocument(round=0, structures={"mof-5": mof5, "mof-bare": bare})
    checks = MOFCharacterisationMaker().make(assembly)
    md = MOFStabilityMaker(settings={"engine": "lammps", "steps": 200}).make(checks.output)
    assert md.metadata["runs_on"] == "cpu" and md.metadata["stage"] == "mof-stability"
    assert MOFStabilityMaker().make(checks.output).metadata["runs_on"] == "gpu"
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    run(Flow([checks, md, DocumentsMaker().make(md.output)]), store)

    document = store.get_output(checks.uuid, load=True)
    status = {r["mof_id"]: r["status"] for r in document["records"]}
    assert status == {"mof-5": "passed", "mof-bare": "failed"}
    assert set(document["structures"]) == {"mof-5"}
    stability = store.get_output(md.uuid)
    assert [r["mof_id"] for r in stability["records"]] == ["mof-5"]
    assert stability["engine"] == "lammps-uff4mof"

    docs = {d["mof_id"]: d for d in document_store(store, "mofs").query({"campaign": "checks"})}
    good, bad = docs["mof-5"], docs["mof-bare"]
    assert good["checks_passed"] is True and good["charge_balanced"] is True
    assert good["open_metal_sites"] == [] and good["probe_radius"] == 1.65
    assert 0.75 < good["void_fraction"] < 0.85 and good["largest_free_sphere"] > 3.3
    assert good["md_engine"] == "lammps-uff4mof" and good["strain"] < 0.1
    assert good["stages"]["characterisation"]["status"] == "passed"
    assert bad["checks_passed"] is False and bad["missing_hydrogens"] is True
    assert bad["status"] == "failed" and "missing hydrogens" in bad["reason"]
    assert bad.get("strain") is None and "stability" not in bad["stages"]
