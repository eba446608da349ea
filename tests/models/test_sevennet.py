import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from discoverflow.errors import DiscoverflowError
from discoverflow.models import load_model, load_relaxer
from discoverflow.models.chgnet import CHGNetEnergyModel
from discoverflow.models.sevennet import (
    SevenNetEnergyModel,
    SevenNetRelaxer,
    load_sevennet,
    resolve_modal,
    sevennet_calculator,
)


def b2(a: str, b: str, lattice: float) -> Structure:
    return Structure(Lattice.cubic(lattice), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])


def fcc(element: str, lattice: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(lattice), [element], [[0, 0, 0]])


# experimental lattice constants (A); AgFe B2 does not exist (Ag and Fe do not mix)
EXPERIMENT = {
    "Fe": b2("Fe", "Fe", 2.866),
    "Al": fcc("Al", 4.050),
    "Ag": fcc("Ag", 4.086),
    "FeAl": b2("Fe", "Al", 2.909),
    "AgFe": b2("Ag", "Fe", 2.98),
}


def calculator_results(structures, calculator):
    results = []
    for structure in structures:
        atoms = AseAtomsAdaptor.get_atoms(structure)
        atoms.calc = calculator
        results.append((atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()))
    return results


def test_batched_pass_equals_the_ase_calculator(prototypes):
    structures = [prototypes[n] for n in ("Cu3Au", "CuZn", "MgAgAs")]
    structures[1] = structures[1].copy()
    structures[1].translate_sites([0], [0.15, 0.1, 0.05], frac_coords=False)  # off its site
    expected = calculator_results(structures, sevennet_calculator())
    model = SevenNetEnergyModel(batch_size=2)
    energies = model.predict_energy_per_atom(structures)
    per_atom = [e / len(s) for (e, _, _), s in zip(expected, structures, strict=True)]
    np.testing.assert_allclose(energies, per_atom, atol=1e-5)
    for (e, f, s), (e_ref, f_ref, s_ref) in zip(
        model.predict_energy_forces_stress(structures), expected, strict=True
    ):
        assert e == pytest.approx(e_ref, abs=1e-4)
        np.testing.assert_allclose(f, f_ref, atol=1e-5)
        np.testing.assert_allclose(s, s_ref, atol=1e-6)
    assert np.abs(expected[1][1]).max() > 0.05  # the perturbed cell has real forces


@pytest.mark.parametrize("model", [SevenNetEnergyModel(), CHGNetEnergyModel()])
def test_formation_energy_signs_of_a_compound_and_an_immiscible_pair(model):
    e = dict(zip(EXPERIMENT, model.predict_energy_per_atom(list(EXPERIMENT.values())), strict=True))
    # FeAl (B2) is stable: MP (PBE) about -0.37 eV/atom, experiment about -0.26
    assert -0.6 < e["FeAl"] - (e["Fe"] + e["Al"]) / 2 < -0.15
    # Ag and Fe are immiscible even as liquids: an AgFe B2 cell lies well above the elements
    assert e["AgFe"] - (e["Fe"] + e["Ag"]) / 2 > 0.2


def test_relaxation_lowers_the_energy_and_forces_below_fmax():
    strained = b2("Fe", "Al", 2.75)
    strained.translate_sites([1], [0.03, 0.02, 0.0])
    relaxer = SevenNetRelaxer(fmax=0.03, steps=200)
    start = SevenNetEnergyModel().predict_energy_per_atom([strained])[0]
    outcome = relaxer.relax(strained)
    assert outcome.converged, outcome
    assert outcome.max_force < 0.03
    assert outcome.energy_per_atom < start - 0.01
    assert outcome.structure.volume > strained.volume  # 2.75 A is compressed; B2 FeAl is 2.9
    _, forces, _ = SevenNetEnergyModel().predict_energy_forces_stress([outcome.structure])[0]
    assert np.linalg.norm(forces, axis=1).max() < 0.03


def test_multi_fidelity_model_defaults_to_its_pbe_modal():
    network = load_sevennet("7net-mf-0")
    assert resolve_modal(network, "7net-mf-0", None) == "PBE"
    with pytest.raises(DiscoverflowError, match=r"unknown modal 'mpa'.*R2SCAN"):
        resolve_modal(network, "7net-mf-0", "mpa")
    with pytest.raises(DiscoverflowError, match="has no modals"):
        resolve_modal(load_sevennet("7net-0"), "7net-0", "PBE")
    structure = [EXPERIMENT["FeAl"]]
    pbe = SevenNetEnergyModel("7net-mf-0").predict_energy_per_atom(structure)
    scan = SevenNetEnergyModel("7net-mf-0", modal="R2SCAN").predict_energy_per_atom(structure)
    seven = SevenNetEnergyModel("7net-0").predict_energy_per_atom(structure)
    # the PBE modal is on 7net-0's (MPtrj) scale; r2SCAN total energies are on another one
    assert abs(pbe[0] - seven[0]) < 0.1
    assert abs(scan[0] - pbe[0]) > 0.5


def test_plugins_are_found_by_name():
    model = load_model("sevennet", model="7net-l3i5")
    assert isinstance(model, SevenNetEnergyModel)
    assert model.name == "sevennet-7net-l3i5"
    assert load_model("sevennet").model == "7net-0"
    relaxer = load_relaxer("sevennet", fmax=0.1)
    assert isinstance(relaxer, SevenNetRelaxer)
    assert relaxer.fmax == 0.1


def test_a_bad_model_name_or_element_gives_a_clear_error():
    with pytest.raises(DiscoverflowError, match=r"cannot load SevenNet model '7net-9'.*7net-0"):
        SevenNetEnergyModel(model="7net-9").predict_energy_per_atom([EXPERIMENT["Fe"]])
    polonium = Structure(Lattice.cubic(3.35), ["Po"], [[0, 0, 0]])
    with pytest.raises(DiscoverflowError, match="no parameters for Po"):
        SevenNetEnergyModel().predict_energy_per_atom([polonium])
    with pytest.raises(DiscoverflowError, match="unknown optimizer"):
        SevenNetRelaxer(optimizer="SD")


@pytest.mark.slow
def test_batched_relaxation_matches_one_by_one():
    from discoverflow.core.relax import relax_many

    strained = b2("Fe", "Al", 2.75)
    strained.translate_sites([1], [0.03, 0.02, 0.0])
    iron = EXPERIMENT["Fe"].copy()
    iron.apply_strain([0.03, -0.02, 0.01])
    batch = {"feal": strained, "fe": iron, "bad": b2("Fe", "Og", 3.0)}
    relaxer = SevenNetRelaxer(fmax=0.05, steps=200)
    alone = relax_many(batch, relaxer, batched=False)
    together = relax_many(batch, relaxer)
    assert [r.status for r in together] == [r.status for r in alone] == ["relaxed"] * 2 + ["failed"]
    assert "no parameters for Og" in together[2].reason
    for one, batched in zip(alone[:2], together[:2], strict=True):
        assert batched.energy_per_atom == pytest.approx(one.energy_per_atom, abs=1e-3)
        assert batched.max_force < 0.05
