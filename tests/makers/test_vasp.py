"""The VASP relax engine (atomate2's VASP Makers) against real VASP outputs under atomate2's mock
VASP (``monkeypatch_vasp`` / ``fake_run_vasp``)."""

import shutil
from pathlib import Path

import pytest
from atomate2.vasp.jobs.core import RelaxMaker, StaticMaker
from jobflow import run_locally
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints, Vasprun

from discoverflow.core.crystal.vasp import (
    MaxForceErrorHandler,
    VaspSettings,
    final_max_force,
    relax_problem,
)
from discoverflow.errors import DiscoverflowError
from discoverflow.makers.vasp import VaspRelaxMaker
from discoverflow.schemas.hull import HullDocument
from discoverflow.schemas.relax import RelaxBatchDocument
from discoverflow.stores import make_store

FIXTURES = Path(__file__).resolve().parents[1] / "test_data" / "vasp"
"""Real VASP outputs in atomate2's mock layout (see its README)."""
# what exa-AMD sets (ENCUT, ISIF, ISMEAR, SIGMA, LREAL), ISPIN per structure, atomate2's GGA+U
# and the overrides the FeO reference run used (IBRION 2, NSW 99, EDIFF 2e-4)
CHECKED_INCAR = [
    "ENCUT",
    "ISIF",
    "ISMEAR",
    "SIGMA",
    "LREAL",
    "ISPIN",
    "LDAU",
    "IBRION",
    "NSW",
    "EDIFF",
]
FEO_RUN = {"IBRION": 2, "NSW": 99, "EDIFF": 2e-4}
FEO_CHECKS = {
    "incar_settings": CHECKED_INCAR,
    "check_inputs": ["incar", "kpoints", "poscar", "potcar"],
}

# the recorded outputs carry POTCAR.spec files, not the licensed POTCARs, so pymatgen cannot
# match the vasprun's TITEL fields to a POTCAR file when it parses them
pytestmark = pytest.mark.filterwarnings("ignore:No POTCAR file with matching TITEL:UserWarning")


@pytest.fixture
def mock_vasp(monkeypatch, tmp_path):
    """atomate2's mock VASP: each job (by name) gets a reference run's outputs after its
    inputs are checked against that run's (POTCAR.spec written instead of POTCARs)."""
    from atomate2.utils.testing.vasp import monkeypatch_vasp

    monkeypatch.chdir(tmp_path)
    yield from monkeypatch_vasp(monkeypatch, FIXTURES)


def fixture_structure(name: str) -> Structure:
    return Structure.from_file(FIXTURES / name / "inputs" / "POSCAR")


def run_maker(maker, structures, **kwargs) -> tuple[RelaxBatchDocument, object]:
    store = make_store("memory")
    flow = maker.make(structures)
    options = {"ensure_success": True, "raise_immediately": True} | kwargs
    run_locally(flow, store=store, log=False, **options)
    return RelaxBatchDocument.model_validate(store.get_output(flow.output.uuid, load=True)), store


def run_relax(maker, cid, structure, mock_vasp, reference):
    mock_vasp({f"relax {cid}": reference}, {f"relax {cid}": FEO_CHECKS})
    return run_maker(maker, {cid: structure})[0]


def feo_maker(**settings) -> VaspRelaxMaker:
    incar = FEO_RUN | settings.pop("incar", {})
    return VaspRelaxMaker(
        settings={"static": False, "incar": incar, **settings}, check_environment=False
    )


def test_feo_relaxation_through_atomate2_relax_maker(mock_vasp):
    maker = feo_maker()
    assert isinstance(maker.maker, RelaxMaker) and maker.static_maker is None
    out = run_relax(maker, "FeO-test", fixture_structure("FeO_relax"), mock_vasp, "FeO_relax")
    (record,) = out.records
    assert record.status == "relaxed" and record.reason is None
    vasprun = Vasprun(str(FIXTURES / "FeO_relax" / "outputs" / "vasprun.xml.gz"))
    assert record.energy == pytest.approx(vasprun.final_energy) == pytest.approx(-28.21851457)
    assert record.energy_per_atom == pytest.approx(vasprun.final_energy / 4)
    assert record.n_steps == len(vasprun.ionic_steps) == 28
    assert record.max_force == pytest.approx(final_max_force(vasprun)) and record.max_force < 0.015
    assert record.entry.parameters["is_hubbard"] is True
    relaxed = out.structures["FeO-test"]
    assert relaxed.composition.reduced_formula == "FeO"
    assert relaxed.lattice.abc == pytest.approx(vasprun.final_structure.lattice.abc)
    assert relaxed.volume == pytest.approx(vasprun.final_structure.volume)
    task = out.task_documents["FeO-test"]
    assert task["output"]["energy"] == pytest.approx(-28.21851457)
    assert task["task_label"] == "relax FeO-test"  # written by atomate2's RelaxMaker
    assert Path(record.task_dir.split(":")[-1], "INCAR.gz").is_file()


def test_the_written_incar_is_checked_against_the_reference_run(mock_vasp):
    """exa-AMD's IBRION 1 is what the Maker writes without overrides; the FeO reference run
    used IBRION 2, and atomate2's mock refuses the mismatch."""
    maker = VaspRelaxMaker(settings={"static": False}, check_environment=False)
    mock_vasp(
        {"relax FeO": "FeO_relax"}, {"relax FeO": FEO_CHECKS | {"incar_settings": ["IBRION"]}}
    )
    with pytest.raises(
        ValueError, match="INCAR value of IBRION is inconsistent: expected 2, got 1"
    ):
        run_maker(maker, {"FeO": fixture_structure("FeO_relax")})


def test_relaxation_then_static_run(mock_vasp):
    """atomate2's StaticMaker runs in its own folder from the relaxed structure with exa-AMD's
    static INCAR (the reference relaxation stands in for both runs)."""
    maker = VaspRelaxMaker(settings={"incar": FEO_RUN}, check_environment=False)
    assert isinstance(maker.static_maker, StaticMaker)
    cid = "FeO-static"
    static_checks = {
        "incar_settings": ["ENCUT", "ISMEAR", "SIGMA", "ISPIN", "LORBIT"],
        "check_inputs": ["incar"],
    }
    mock_vasp(
        {f"relax {cid}": "FeO_relax", f"static {cid}": "FeO_relax"},
        {f"relax {cid}": FEO_CHECKS, f"static {cid}": static_checks},
    )
    out, store = run_maker(maker, {cid: fixture_structure("FeO_relax")}, create_folders=True)
    (record,) = out.records
    assert record.status == "relaxed" and record.reason is None
    assert record.energy == pytest.approx(-28.21851457) and record.n_steps == 28
    static_task = out.task_documents[cid]
    assert (
        static_task["task_label"] == f"static {cid}" and static_task["dir_name"] != record.task_dir
    )
    tasks = {d["name"] for d in store.query({"metadata.stage": "relax-task"})}
    assert tasks == {f"relax {cid}", f"static {cid}"}


def test_a_failed_static_run_leaves_the_relaxation_unconverged(mock_vasp):
    """No reference run for the static job: atomate2's mock fails it, and the record keeps
    the relaxation's energy with the reason."""
    maker = VaspRelaxMaker(settings={"incar": FEO_RUN}, check_environment=False)
    mock_vasp({"relax FeO": "FeO_relax"}, {"relax FeO": FEO_CHECKS})
    out, _ = run_maker(
        maker,
        {"FeO": fixture_structure("FeO_relax")},
        ensure_success=False,
        raise_immediately=False,
        create_folders=True,
    )
    (record,) = out.records
    assert record.status == "unconverged" and "static job failed" in record.reason
    assert record.energy == pytest.approx(-28.21851457)


def test_double_relaxation(mock_vasp):
    maker = feo_maker(double_relax=True)
    cid = "FeO-double"
    second = {"incar_settings": CHECKED_INCAR, "check_inputs": ["incar"]}  # from the first's cell
    mock_vasp(
        {f"relax 1 {cid}": "FeO_relax", f"relax 2 {cid}": "FeO_relax"},
        {f"relax 1 {cid}": FEO_CHECKS, f"relax 2 {cid}": second},
    )
    out, store = run_maker(maker, {cid: fixture_structure("FeO_relax")}, create_folders=True)
    (record,) = out.records
    assert record.status == "relaxed" and record.energy == pytest.approx(-28.21851457)
    assert len(list(store.query({"metadata.stage": "relax-task"}))) == 2


def test_a_relaxation_above_the_force_criterion_is_recorded_unconverged(mock_vasp):
    """The FeO run ends with 0.011 eV/A: unconverged against EDIFFG = -0.005."""
    maker = feo_maker(incar={"EDIFFG": -0.005})
    mock_vasp(
        {"relax FeO": "FeO_relax"}, {"relax FeO": FEO_CHECKS | {"incar_settings": [*CHECKED_INCAR]}}
    )
    (record,) = run_maker(maker, {"FeO": fixture_structure("FeO_relax")})[0].records
    assert record.status == "unconverged"
    assert record.reason == "max force 0.011 eV/A above 0.005 eV/A"
    assert record.energy == pytest.approx(-28.21851457)


def test_a_failed_vasp_job_is_recorded_and_the_others_go_on(mock_vasp):
    """The SbXeClF reference run has no OUTCAR, so atomate2 cannot build its task document and
    the job fails; its record says so and FeO, in the same flow, is relaxed."""
    maker = feo_maker()
    checks = {
        "incar_settings": ["ENCUT", "ISIF", "ISMEAR", "IBRION", "NSW"],
        "check_inputs": ["incar", "poscar", "potcar"],
    }
    mock_vasp(
        {"relax FeO": "FeO_relax", "relax SbXeClF": "SbXeClF_relax_unconverged"},
        {"relax FeO": FEO_CHECKS, "relax SbXeClF": checks},
    )
    structures = {
        "SbXeClF": fixture_structure("SbXeClF_relax_unconverged"),
        "FeO": fixture_structure("FeO_relax"),
    }
    out, _ = run_maker(
        maker, structures, ensure_success=False, raise_immediately=False, create_folders=True
    )
    records = {r.candidate_id: r for r in out.records}
    assert (
        records["SbXeClF"].status == "failed"
        and "relaxation job failed" in records["SbXeClF"].reason
    )
    assert records["FeO"].status == "relaxed"
    assert set(out.structures) == {"FeO"}


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
    relax, static_maker = maker.makers_for(feo)
    inputs = relax.input_set_generator.get_input_set(feo, potcar_spec=True)
    incar = inputs.incar
    expected = {"ENCUT": 520, "EDIFF": 1e-4, "EDIFFG": -0.02, "IBRION": 1, "ISIF": 3, "ISMEAR": 0,
                "SIGMA": 0.05, "LREAL": "Auto", "NSW": 200, "NCORE": 4, "ISPIN": 2}  # fmt: skip
    for key, value in expected.items():
        assert incar[key] == value, key
    assert incar["LDAU"] is True  # MP's GGA+U for Fe oxides comes from atomate2's base set
    assert inputs.kpoints.kpts == Kpoints.automatic_density_by_vol(feo, 100, force_gamma=True).kpts

    nacl_relax, _ = maker.makers_for(rocksalt)
    nacl = nacl_relax.input_set_generator.get_input_set(rocksalt, potcar_spec=True).incar
    assert nacl["ISPIN"] == 1  # no d- or f-block element

    static = static_maker.input_set_generator.get_input_set(feo, potcar_spec=True).incar
    assert static["NSW"] == 0 and static["LORBIT"] == 11 and static["ENCUT"] == 520
    assert static["NCORE"] == 4 and "EDIFFG" not in static


def test_unconfigured_vasp_is_refused_before_any_job(rocksalt, monkeypatch):
    from pymatgen.core import SETTINGS

    monkeypatch.setitem(SETTINGS, "PMG_VASP_PSP_DIR", None)
    with pytest.raises(
        DiscoverflowError, match=r"VASP command 'no-such-vasp' not found.*POTCARs not configured"
    ):
        VaspRelaxMaker(settings={"vasp_cmd": "no-such-vasp"}).make({"x": rocksalt})


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
    flow = HullMaker().make(relaxed=relaxed, references=references)
    run_locally(flow, store=store, log=False, ensure_success=True, raise_immediately=True)
    return HullDocument.model_validate(store.get_output(flow.output.uuid, load=True)), fe, o


def test_mp2020_rejects_a_u_value_it_does_not_know(mock_vasp):
    maker = feo_maker()
    relaxed = run_relax(maker, "FeO-test", fixture_structure("FeO_relax"), mock_vasp, "FeO_relax")
    hull, _, _ = hull_with_feo(relaxed)  # the fixture used U(Fe) = 4.0; MP2020 expects 5.3
    assert hull.energy_corrections == "MP2020"
    assert hull.entries == []
    (excluded,) = hull.excluded
    assert excluded.status == "rejected" and "Invalid U value of 4.0 on Fe" in excluded.reason


def test_mp2020_corrects_candidates_and_references_alike(mock_vasp):
    from pymatgen.entries.compatibility import MaterialsProject2020Compatibility

    maker = feo_maker()
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


def test_relax_problem_from_the_reference_vaspruns():
    def problem(name: str, settings: VaspSettings) -> str | None:
        vasprun = Vasprun(str(FIXTURES / name / "outputs" / "vasprun.xml.gz"))
        ediffg = vasprun.incar.get("EDIFFG")
        return relax_problem(
            len(vasprun.ionic_steps),
            final_max_force(vasprun),
            vasprun.converged,
            vasprun.parameters["NSW"],
            ediffg,
            settings,
        )

    assert problem("FeO_relax", VaspSettings()) is None  # 0.011 eV/A against EDIFFG -0.01
    unconverged = "SbXeClF_relax_unconverged"
    assert problem(unconverged, VaspSettings()) == "max force 0.717 eV/A above 0.01 eV/A"
    loose = VaspSettings(incar={"EDIFFG": 0.001}, max_force_threshold=1.0)
    assert problem(unconverged, loose) is None
    assert relax_problem(99, 0.0, False, 99, None, VaspSettings()) == "NSW=99 ionic steps reached"
    assert (
        relax_problem(5, 0.0, False, 99, None, VaspSettings()) == "electronic SCF did not converge"
    )
