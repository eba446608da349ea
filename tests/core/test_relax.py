import ase.optimize
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.filters import FrechetCellFilter
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from discoverflow.core.batched_relax import relax_batch
from discoverflow.core.relax import RelaxOutcome, relax_checkpoint, relax_many
from discoverflow.models.chgnet import CHGNetRelaxer


class ScriptedRelaxer:
    """Fails on chosen ids, otherwise returns the structure unchanged; counts calls."""

    name = "scripted"

    def __init__(self, failing=()):
        self.failing = set(failing)
        self.calls = []

    def relax(self, structure: Structure) -> RelaxOutcome:
        self.calls.append(structure.composition.reduced_formula)
        if structure.composition.reduced_formula in self.failing:
            raise RuntimeError("SCF did not converge")
        return RelaxOutcome(structure.copy(), -3.0 * len(structure), 4, True, 0.01)


def test_failure_is_recorded_and_the_rest_go_on(rocksalt):
    other = rocksalt.copy()
    other.replace_species({"Na": "K"})
    relaxer = ScriptedRelaxer(failing={"NaCl"})
    records = relax_many({"a": rocksalt, "b": other}, relaxer)
    assert [r.status for r in records] == ["failed", "relaxed"]
    assert "SCF did not converge" in records[0].reason
    assert records[1].energy_per_atom == -3.0


def test_checkpoint_avoids_redoing_finished_work(tmp_path, rocksalt):
    first = ScriptedRelaxer()
    checkpoint = relax_checkpoint(tmp_path, first)
    relax_many({"a": rocksalt}, first, checkpoint)
    second = ScriptedRelaxer()
    other = rocksalt.copy()
    other.replace_species({"Na": "K"})
    records = relax_many({"a": rocksalt, "b": other}, second, relax_checkpoint(tmp_path, second))
    assert second.calls == ["KCl"]
    assert [r.candidate_id for r in records] == ["a", "b"]
    assert records[0].structure == rocksalt


def test_chgnet_relaxes_rocksalt_to_its_lattice(rocksalt):
    strained = rocksalt.copy()
    strained.scale_lattice(rocksalt.volume * 1.15)
    outcome = CHGNetRelaxer(fmax=0.05, steps=300).relax(strained)
    assert outcome.converged
    # conventional NaCl: experiment 5.64 A; CHGNet (PBE-trained) ~5.70 A
    assert outcome.structure.lattice.a == pytest.approx(5.70, abs=0.08)
    assert outcome.max_force < 0.05


def test_unconverged_relaxation_is_reported(rocksalt):
    strained = rocksalt.copy()
    strained.scale_lattice(rocksalt.volume * 1.3)
    records = relax_many({"x": strained}, CHGNetRelaxer(steps=2))
    assert records[0].status == "unconverged"
    assert "not converged in 2 steps" in records[0].reason


class ScriptedBatchRelaxer(ScriptedRelaxer):
    """Relaxes a batch by yielding each structure unchanged; optionally breaks after some."""

    def __init__(self, failing=(), break_after=None):
        super().__init__(failing)
        self.break_after = break_after

    def relax_batch(self, structures):
        for done, (key, structure) in enumerate(structures.items()):
            if done == self.break_after:
                raise RuntimeError("CUDA out of memory")
            try:
                yield key, self.relax(structure)
            except RuntimeError as error:
                yield key, error


@pytest.fixture
def mixed(rocksalt) -> dict[str, Structure]:
    """Rattled silicon, strained bcc iron and an expanded rocksalt (primitive cells)."""
    rng = np.random.default_rng(7)
    silicon = Structure(
        Lattice([[0, 2.73, 2.73], [2.73, 0, 2.73], [2.73, 2.73, 0]]),
        ["Si", "Si"],
        [[0, 0, 0], [1.365, 1.365, 1.365]],
        coords_are_cartesian=True,
    )
    silicon = Structure(
        silicon.lattice,
        silicon.species,
        silicon.cart_coords + rng.normal(0, 0.08, (2, 3)),
        coords_are_cartesian=True,
    )
    iron = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    iron.apply_strain([0.04, -0.02, 0.03])
    salt = rocksalt.get_primitive_structure()
    salt.scale_lattice(salt.volume * 1.1)
    return {"si": silicon, "fe": iron, "nacl": salt}


def test_batched_relaxation_matches_one_by_one(mixed):
    relaxer = CHGNetRelaxer(fmax=0.05, steps=200)
    alone = relax_many(mixed, relaxer, batched=False)
    together = relax_many(mixed, relaxer)
    assert [r.candidate_id for r in together] == list(mixed)
    for one, batched in zip(alone, together, strict=True):
        assert one.status == batched.status == "relaxed"
        assert batched.energy_per_atom == pytest.approx(one.energy_per_atom, abs=1e-3)
        assert batched.max_force < 0.05
        assert abs(batched.n_steps - one.n_steps) <= 3
        np.testing.assert_allclose(
            batched.structure.lattice.abc, one.structure.lattice.abc, atol=0.01
        )
    # CHGNet's bcc iron: a ~2.83-2.86 A (experiment 2.87)
    iron = together[1].structure
    assert iron.volume ** (1 / 3) == pytest.approx(2.845, abs=0.03)


def test_a_structure_the_model_cannot_take_fails_while_the_others_finish(mixed):
    curium = Structure(Lattice.cubic(3.5), ["Cm"], [[0, 0, 0]])  # CHGNet embeds Z <= 94 only
    batch = {"cm": curium, "fe": mixed["fe"]}
    records = relax_many(batch, CHGNetRelaxer(fmax=0.05, steps=200))
    assert [r.status for r in records] == ["failed", "relaxed"]
    assert records[0].reason and records[0].structure is None
    assert all(r.max_force < 0.05 for r in records[1:])


def test_non_finite_energy_fails_one_structure_mid_relaxation(mixed):
    relaxer = CHGNetRelaxer(fmax=0.05, steps=200)
    calls = {"fe": 0}

    def evaluate(structures):
        energies, forces, stresses = relaxer.evaluate(structures)
        for i, structure in enumerate(structures):
            if structure.composition.reduced_formula == "Fe":
                calls["fe"] += 1
                if calls["fe"] >= 3:
                    energies[i] = float("nan")
        return energies, forces, stresses

    outcomes = dict(relax_batch({"fe": mixed["fe"], "nacl": mixed["nacl"]}, evaluate))
    assert isinstance(outcomes["fe"], RuntimeError)
    assert "non-finite energy or forces at step 2" in str(outcomes["fe"])
    assert outcomes["nacl"].converged and outcomes["nacl"].max_force < 0.05


def test_batched_records_are_checkpointed_as_each_finishes(tmp_path, rocksalt):
    other = rocksalt.copy()
    other.replace_species({"Na": "K"})
    third = rocksalt.copy()
    third.replace_species({"Na": "Li"})
    batch = {"a": rocksalt, "b": other, "c": third}
    first = ScriptedBatchRelaxer()

    def killed(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        relax_many(batch, first, relax_checkpoint(tmp_path, first), on_done=killed)
    second = ScriptedBatchRelaxer()
    records = relax_many(batch, second, relax_checkpoint(tmp_path, second))
    assert second.calls == ["KCl", "LiCl"]
    assert [r.status for r in records] == ["relaxed"] * 3


def test_a_broken_batch_engine_fails_what_is_left(rocksalt):
    other = rocksalt.copy()
    other.replace_species({"Na": "K"})
    records = relax_many({"a": rocksalt, "b": other}, ScriptedBatchRelaxer(break_after=1))
    assert [r.status for r in records] == ["relaxed", "failed"]
    assert "CUDA out of memory" in records[1].reason


def emt_metals() -> dict[str, Structure]:
    """Strained, rattled fcc Cu, Al and Ni cells of 4-8 atoms (seeded)."""
    rng = np.random.default_rng(0)
    cells = {}
    for name, element, repeat in [
        ("cu", "Cu", (1, 1, 2)),
        ("al", "Al", (2, 1, 1)),
        ("ni", "Ni", (1, 1, 1)),
    ]:
        atoms = bulk(element, cubic=True) * repeat
        atoms.set_cell(atoms.cell @ (np.eye(3) + rng.normal(0, 0.03, (3, 3))), scale_atoms=True)
        atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
        cells[name] = AseAtomsAdaptor.get_structure(atoms)
    return cells


def emt_evaluate(relax_cell: bool):
    def evaluate(structures):
        results = []
        for structure in structures:
            atoms = AseAtomsAdaptor.get_atoms(structure)
            atoms.calc = EMT()
            stress = atoms.get_stress(voigt=False) if relax_cell else None
            results.append((atoms.get_potential_energy(), atoms.get_forces(), stress))
        energies, forces, stresses = zip(*results, strict=True)
        return energies, forces, stresses if relax_cell else None

    return evaluate


@pytest.mark.parametrize(
    ("optimizer", "relax_cell"), [("FIRE", True), ("FIRE", False), ("BFGS", True)]
)
def test_batched_trajectories_are_ases_one_by_one(optimizer, relax_cell):
    structures = emt_metals()
    evaluate = emt_evaluate(relax_cell)
    together = dict(
        relax_batch(structures, evaluate, 0.02, 300, relax_cell, optimizer, max_batch=2)
    )
    for key, structure in structures.items():
        atoms = AseAtomsAdaptor.get_atoms(structure)
        atoms.calc = EMT()
        target = FrechetCellFilter(atoms) if relax_cell else atoms
        dynamics = getattr(ase.optimize, optimizer)(target, logfile=None)
        assert dynamics.run(fmax=0.02, steps=300)
        batched = together[key]
        assert batched.converged and batched.n_steps == dynamics.nsteps
        assert batched.energy == pytest.approx(atoms.get_potential_energy(), abs=1e-9)
        np.testing.assert_allclose(batched.structure.lattice.matrix, atoms.cell[:], atol=1e-9)
        np.testing.assert_allclose(batched.structure.cart_coords, atoms.positions, atol=1e-9)


def test_a_disordered_structure_fails_alone():
    alloy = Structure(Lattice.cubic(3.6), [{"Cu": 0.5, "Ni": 0.5}], [[0, 0, 0]])
    outcomes = dict(relax_batch({"alloy": alloy, "cu": emt_metals()["cu"]}, emt_evaluate(True)))
    assert "disordered" in str(outcomes["alloy"])
    assert outcomes["cu"].converged
