import pytest
from pymatgen.core import Structure

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
