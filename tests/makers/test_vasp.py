"""The VASP relax engine against real VASP outputs (atomate2's fake_run_vasp mechanism)."""

import os
import shutil
from pathlib import Path

import pytest
from jobflow import run_locally
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints

from discoverflow.core.crystal.vasp import MaxForceErrorHandler, VaspSettings, relax_convergence
from discoverflow.errors import DiscoverflowError
from discoverflow.makers.vasp import VaspRelaxMaker
from discoverflow.schemas.hull import HullDocument
from discoverflow.schemas.relax import RelaxBatchDocument
from discoverflow.stores import make_store

FIXTURES = Path(
    os.environ.get(
        "DISCOVERFLOW_VASP_FIXTURES",
        Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "vasp",
    )
)
needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"VASP reference outputs not found at {FIXTURES}"
)
CHECKED_INCAR = ["ENCUT", "ISIF", "ISMEAR", "SIGMA", "LREAL", "ISPIN", "LDAU"]


@pytest.fixture
def mock_vasp(monkeypatch, tmp_path):
    from atomate2.utils.testing.vasp import monkeypatch_vasp

    monkeypatch.chdir(tmp_path)
    yield from monkeypatch_vasp(monkeypatch, FIXTURES)


def fixture_structure(name: str) -> Structure:
    return Structure.from_file(FIXTURES / name / "inputs" / "POSCAR")


def run_relax(maker, cid, structure, mock_vasp, reference):
    mock_vasp(
        {f"{maker.name} {cid}": reference},
        {
            f"{maker.name} {cid}": {
                "incar_settings": CHECKED_INCAR,
                "check_inputs": ["incar", "poscar"],
            }
        },
    )
    store = make_store("memory")
    job = maker.make({cid: structure})
    run_locally(job, store=store, log=False, ensure_success=True, raise_immediately=True)
    return RelaxBatchDocument.model_validate(store.get_output(job.uuid, load=True))


@needs_fixtures
def test_feo_relaxation_yields_a_converged_document(mock_vasp):
    maker = VaspRelaxMaker(
        settings={"static": False, "incar": {"IBRION": 2, "NSW": 99}}, check_environment=False
    )
    out = run_relax(maker, "FeO-test", fixture_structure("FeO_relax"), mock_vasp, "FeO_relax")
    (record,) = out.records
    assert record.status == "relaxed" and record.reason is None
    assert record.energy == pytest.approx(-28.21851457)  # final energy in vasprun.xml
    assert record.energy_per_atom == pytest.approx(-28.21851457 / 4)
    assert record.n_steps == 28
    assert record.max_force < 0.015
    assert record.entry.parameters["is_hubbard"] is True
    assert out.structures["FeO-test"].composition.reduced_formula == "FeO"
    task = out.task_documents["FeO-test"]
    assert task["output"]["energy"] == pytest.approx(-28.21851457)
    assert Path(record.task_dir, "relax", "INCAR").is_file()


@needs_fixtures
def test_relaxation_then_static_run(mock_vasp):
    """The static step runs in its own folder after a converged relaxation (the reference
    outputs stand in for both runs, so only the bookkeeping is checked)."""
    maker = VaspRelaxMaker(settings={"incar": {"IBRION": 2, "NSW": 99}}, check_environment=False)
    cid = "FeO-static"
    mock_vasp({f"{maker.name} {cid}": "FeO_relax"}, {f"{maker.name} {cid}": {"check_inputs": []}})
    store = make_store("memory")
    job = maker.make({cid: fixture_structure("FeO_relax")})
    run_locally(job, store=store, log=False, ensure_success=True, raise_immediately=True)
    (record,) = RelaxBatchDocument.model_validate(store.get_output(job.uuid, load=True)).records
    assert record.status == "relaxed" and record.reason is None
    assert Path(record.task_dir, "static", "INCAR").is_file()
    assert record.energy == pytest.approx(-28.21851457)


@needs_fixtures
def test_unconverged_relaxation_is_recorded_not_raised(mock_vasp):
    structure = fixture_structure("SbXeClF_relax_unconverged")
    maker = VaspRelaxMaker(
        settings={"static": False, "incar": {"IBRION": 2, "NSW": 99}}, check_environment=False
    )
    checked = {"incar_settings": ["ENCUT", "ISIF", "ISMEAR"], "check_inputs": ["poscar"]}
    mock_vasp(
        {f"{maker.name} SbXeClF": "SbXeClF_relax_unconverged"}, {f"{maker.name} SbXeClF": checked}
    )
    store = make_store("memory")
    job = maker.make({"SbXeClF": structure})
    run_locally(job, store=store, log=False, ensure_success=True, raise_immediately=True)
    (record,) = RelaxBatchDocument.model_validate(store.get_output(job.uuid, load=True)).records
    assert record.status == "unconverged", record.reason
    assert "max force 0.717 eV/A" in record.reason
    assert record.n_steps == 3


@needs_fixtures
def test_max_force_handler_on_the_unconverged_run(tmp_path):
    shutil.copytree(
        FIXTURES / "SbXeClF_relax_unconverged" / "outputs", tmp_path, dirs_exist_ok=True
    )
    shutil.copy(tmp_path / "vasprun.xml.gz", tmp_path / "vasprun.xml.gz.bak")
    handler = MaxForceErrorHandler(max_force_threshold=0.25)
    assert handler.check(str(tmp_path))  # VASP stopped (energy criterion) with 0.72 eV/A left
    correction = handler.correct(str(tmp_path))
    assert correction["errors"] == ["MaxForce"]
    incar = Incar.from_file(tmp_path / "INCAR")
    assert incar["EDIFFG"] == -0.25
    assert incar["EDIFF"] == pytest.approx(0.0005)
    assert Structure.from_file(tmp_path / "POSCAR") == Structure.from_file(tmp_path / "CONTCAR")
    assert not MaxForceErrorHandler(max_force_threshold=1.0).check(str(tmp_path))


@needs_fixtures
def test_converged_run_does_not_trigger_max_force(tmp_path):
    shutil.copytree(FIXTURES / "FeO_relax" / "outputs", tmp_path, dirs_exist_ok=True)
    assert not MaxForceErrorHandler().check(str(tmp_path))


def test_incar_and_kpoints_key_by_key(rocksalt):
    feo = Structure.from_spacegroup(
        "Fm-3m", rocksalt.lattice, ["Fe", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    maker = VaspRelaxMaker(
        settings={"incar": {"EDIFFG": -0.02, "NSW": 200, "NCORE": 4}, "kpoint_density": 100}
    )
    inputs = maker.relax_input_set(feo).get_input_set(feo, potcar_spec=True)
    incar = inputs.incar
    expected = {"ENCUT": 520, "EDIFF": 1e-4, "EDIFFG": -0.02, "IBRION": 1, "ISIF": 3, "ISMEAR": 0,
                "SIGMA": 0.05, "LREAL": "Auto", "NSW": 200, "NCORE": 4, "ISPIN": 2}  # fmt: skip
    for key, value in expected.items():
        assert incar[key] == value, key
    assert incar["LDAU"] is True  # MP's GGA+U for Fe oxides comes from atomate2's base set
    assert inputs.kpoints.kpts == Kpoints.automatic_density_by_vol(feo, 100, force_gamma=True).kpts

    nacl = maker.relax_input_set(rocksalt).get_input_set(rocksalt, potcar_spec=True).incar
    assert nacl["ISPIN"] == 1  # no d- or f-block element

    static = maker.static_input_set(feo).get_input_set(feo, potcar_spec=True).incar
    assert static["NSW"] == 0 and static["LORBIT"] == 11 and static["ENCUT"] == 520
    assert static["NCORE"] == 4 and "EDIFFG" not in static


def test_unconfigured_vasp_is_refused_before_any_job(rocksalt, monkeypatch):
    from pymatgen.core import SETTINGS

    monkeypatch.setitem(SETTINGS, "PMG_VASP_PSP_DIR", None)
    with pytest.raises(
        DiscoverflowError, match=r"VASP command 'no-such-vasp' not found.*POTCARs not configured"
    ):
        VaspRelaxMaker(settings={"vasp_cmd": "no-such-vasp"}).make({"x": rocksalt})


def test_a_failing_run_is_recorded_with_the_custodian_reason(rocksalt, monkeypatch, tmp_path):
    from atomate2.vasp import run as vasp_run
    from atomate2.vasp.sets.base import VaspInputSet
    from custodian.custodian import MaxCorrectionsError

    def failing_run(*args, **kwargs):
        raise MaxCorrectionsError("Max errors reached: VaspErrorHandler (ZBRENT)", True, 5)

    original = VaspInputSet.get_input_set
    monkeypatch.setattr(
        VaspInputSet,
        "get_input_set",
        lambda self, *a, **k: original(self, *a, **{**k, "potcar_spec": True}),
    )
    monkeypatch.setattr(vasp_run, "run_vasp", failing_run)
    monkeypatch.chdir(tmp_path)
    store = make_store("memory")
    job = VaspRelaxMaker(check_environment=False).make({"NaCl-x": rocksalt})
    run_locally(job, store=store, log=False, ensure_success=True, raise_immediately=True)
    (record,) = RelaxBatchDocument.model_validate(store.get_output(job.uuid, load=True)).records
    assert record.status == "failed"
    assert "MaxCorrectionsError" in record.reason and "ZBRENT" in record.reason


def hull_with_feo(relaxed, hubbard_u=None):
    from pymatgen.entries.computed_entries import ComputedEntry

    from discoverflow.makers.crystal.hull import HullMaker
    from discoverflow.schemas.relax import ReferenceDocument

    if hubbard_u is not None:
        entry = relaxed.records[0].entry
        entry.parameters["hubbards"] = {"Fe": hubbard_u, "O": 0.0}
    gga = {"run_type": "GGA", "is_hubbard": False, "hubbards": {}, "potcar_spec": []}
    fe = ComputedEntry("Fe", -8.3, parameters=gga)
    o = ComputedEntry("O2", -2 * 4.95, parameters=gga)
    references = ReferenceDocument(
        engine="vasp",
        elements=["Fe", "O"],
        elemental_energies={"Fe": -8.3, "O": -4.95},
        elemental_sources={"Fe": "Fe:ase", "O": "O:dimer"},
        elemental_entries={"Fe": fe, "O": o},
    )
    store = make_store("memory")
    job = HullMaker().make(relaxed, references)
    run_locally(job, store=store, log=False, ensure_success=True, raise_immediately=True)
    return HullDocument.model_validate(store.get_output(job.uuid, load=True)), fe, o


@needs_fixtures
def test_mp2020_rejects_a_u_value_it_does_not_know(mock_vasp):
    maker = VaspRelaxMaker(
        settings={"static": False, "incar": {"IBRION": 2, "NSW": 99}}, check_environment=False
    )
    relaxed = run_relax(maker, "FeO-test", fixture_structure("FeO_relax"), mock_vasp, "FeO_relax")
    hull, _, _ = hull_with_feo(relaxed)  # the fixture used U(Fe) = 4.0; MP2020 expects 5.3
    assert hull.energy_corrections == "MP2020"
    assert hull.entries == []
    (excluded,) = hull.excluded
    assert excluded.status == "rejected" and "Invalid U value of 4.0 on Fe" in excluded.reason


@needs_fixtures
def test_mp2020_corrects_candidates_and_references_alike(mock_vasp):
    from pymatgen.entries.compatibility import MaterialsProject2020Compatibility

    maker = VaspRelaxMaker(
        settings={"static": False, "incar": {"IBRION": 2, "NSW": 99}}, check_environment=False
    )
    relaxed = run_relax(maker, "FeO-test", fixture_structure("FeO_relax"), mock_vasp, "FeO_relax")
    hull, fe, o = hull_with_feo(relaxed, hubbard_u=5.3)
    compat = MaterialsProject2020Compatibility(check_potcar=False)
    feo_c, fe_c, o_c = (
        compat.process_entries([e], inplace=False)[0] for e in (relaxed.records[0].entry, fe, o)
    )
    expected = feo_c.energy_per_atom - 0.5 * (fe_c.energy_per_atom + o_c.energy_per_atom)
    (row,) = hull.entries
    assert row.formation_energy_per_atom == pytest.approx(expected)
    uncorrected = relaxed.records[0].energy_per_atom - 0.5 * (-8.3 - 4.95)
    assert abs(expected - uncorrected) > 0.5  # the oxide and U corrections are large


@needs_fixtures
def test_relax_convergence_reads_vaspruns():
    converged, steps, force, why = relax_convergence(
        FIXTURES / "FeO_relax" / "outputs", VaspSettings()
    )
    assert converged and steps == 28 and force < 0.015 and why is None
    converged, steps, force, why = relax_convergence(
        FIXTURES / "SbXeClF_relax_unconverged" / "outputs", VaspSettings()
    )
    assert not converged and force == pytest.approx(0.717, abs=1e-3)
    assert why == "max force 0.717 eV/A above 0.01 eV/A"
    loose = VaspSettings(incar={"EDIFFG": 0.001}, max_force_threshold=1.0)
    assert relax_convergence(FIXTURES / "SbXeClF_relax_unconverged" / "outputs", loose)[0]
