import numpy as np
import pytest
from chgnet.model import CHGNet

from discoverflow.core.crystal.elements import elemental_reference_candidates
from discoverflow.core.crystal.hull import formation_energy_per_atom
from discoverflow.errors import DiscoverflowError
from discoverflow.models import available_plugins, load_model, load_relaxer
from discoverflow.models.chgnet import CHGNetEnergyModel, CHGNetRelaxer


# CHGNet's own predict_structure, the reference here, warns inside CHGNet (tensor to scalar)
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad:UserWarning")
def test_batched_energies_equal_predict_structure(prototypes):
    structures = [prototypes[n] for n in ("Cu3Au", "CuZn", "MgAgAs", "CaCu5", "TiNiSi")]
    reference = CHGNet.load(verbose=False).predict_structure(structures, task="e")
    expected = np.array([float(p["e"]) for p in reference])
    model = CHGNetEnergyModel(batch_size=2)
    np.testing.assert_allclose(model.predict_energy_per_atom(structures), expected, atol=1e-5)


def test_graph_worker_pipeline_gives_the_same_energies(prototypes):
    structures = [prototypes[n] for n in ("Cu3Au", "CuZn", "MgAgAs")]
    serial = CHGNetEnergyModel(graph_workers=0).predict_energy_per_atom(structures)
    piped = CHGNetEnergyModel(graph_workers=1, batch_size=1).predict_energy_per_atom(structures)
    np.testing.assert_allclose(piped, serial, atol=1e-5)


def test_nacl_is_below_sodium_and_chlorine(rocksalt):
    relaxer = CHGNetRelaxer(fmax=0.05, steps=300)
    nacl = relaxer.relax(rocksalt)
    refs = {}
    for element in ("Na", "Cl"):
        outcomes = [relaxer.relax(s) for s in elemental_reference_candidates(element).values()]
        refs[element] = min(o.energy_per_atom for o in outcomes)
    ef = formation_energy_per_atom([rocksalt.composition], [nacl.energy_per_atom], refs)[0]
    # experiment: -2.13 eV/atom (-411 kJ/mol); MP (PBE): about -1.8 to -2.1
    assert -2.4 < ef < -1.6


def test_plugins_are_found_by_name():
    assert "chgnet" in available_plugins("discoverflow.models")
    assert isinstance(load_model("chgnet"), CHGNetEnergyModel)
    assert load_relaxer("chgnet", fmax=0.1).fmax == 0.1
    with pytest.raises(DiscoverflowError, match=r"no plugin named 'cgcnn'.*available: chgnet"):
        load_model("cgcnn")


def test_missing_weights_give_a_clear_error():
    with pytest.raises(DiscoverflowError, match=r"cannot load CHGNet weights '9\.9\.9'"):
        CHGNetEnergyModel(model_name="9.9.9").predict_energy_per_atom([])


def test_batched_evaluation_equals_the_ase_calculator(prototypes):
    from pymatgen.io.ase import AseAtomsAdaptor

    from discoverflow.models.chgnet import chgnet_calculator

    structures = [prototypes[n] for n in ("Cu3Au", "CuZn", "MgAgAs")]
    structures[1].apply_strain([0.03, -0.02, 0.01])
    displacement = np.array([0.05, 0.02, -0.03])
    structures[2].translate_sites([0], displacement, frac_coords=False)
    energies, forces, stresses = CHGNetRelaxer().evaluate(structures)
    calculator = chgnet_calculator()
    for structure, energy, force, stress in zip(
        structures, energies, forces, stresses, strict=True
    ):
        atoms = AseAtomsAdaptor.get_atoms(structure)
        atoms.calc = calculator
        assert energy == pytest.approx(atoms.get_potential_energy(), abs=1e-4 * len(atoms))
        np.testing.assert_allclose(force, atoms.get_forces(), atol=1e-4)
        np.testing.assert_allclose(stress, atoms.get_stress(voigt=False), atol=1e-5)
    assert np.abs(stresses[1]).max() > 1e-3  # the strained cell is under stress
    assert forces[2][0] @ displacement < -0.003  # the displaced atom is pushed back
    fixed_cell = CHGNetRelaxer(relax_cell=False).evaluate(structures)
    assert fixed_cell[2] is None
    np.testing.assert_allclose(fixed_cell[1][2], forces[2], atol=1e-5)
