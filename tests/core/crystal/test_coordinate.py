import numpy as np
import pytest

from discoverflow.core.crystal.coordinate import KnownResult, ResultLookup, decide


class ScriptedModel:
    """Predictions and spreads set by the test, per reduced formula."""

    name = "scripted"

    def __init__(self, table):
        self.table = table

    def predict_with_uncertainty(self, structures):
        values = [self.table[s.composition.reduced_formula] for s in structures]
        return np.array([v[0] for v in values]), np.array([v[1] for v in values])


def test_lookup_finds_a_symmetry_equivalent_copy(rocksalt):
    lookup = ResultLookup([KnownResult("nacl-1", rocksalt, -3.4)])
    copy = rocksalt.copy()
    copy.translate_sites(list(range(len(copy))), [0.25, 0.25, 0.25])  # same crystal, other origin
    copy.make_supercell([1, 1, 2])
    copy.scale_lattice(copy.volume * 1.03)
    found = lookup.find(copy)
    assert found is not None and found.candidate_id == "nacl-1" and found.energy_per_atom == -3.4
    other = rocksalt.copy()
    other.replace_species({"Na": "K"})
    assert lookup.find(other) is None


def test_gate_sends_only_uncertain_cases_to_the_relax_engine(rocksalt, prototypes):
    kcl = rocksalt.copy()
    kcl.replace_species({"Na": "K"})
    model = ScriptedModel({"KCl": (-3.3, 0.01), "Cu3Au": (-3.9, 0.2), "NaCl": (-9.0, 0.5)})
    lookup = ResultLookup([KnownResult("nacl-1", rocksalt, -3.4)])
    decisions = decide(
        {"a": rocksalt, "b": kcl, "c": prototypes["Cu3Au"]}, lookup, model, threshold=0.05
    )
    actions = {d.candidate_id: d.action for d in decisions}
    assert actions == {"a": "lookup", "b": "ml", "c": "relax"}
    assert decisions[0].energy_per_atom == -3.4  # the stored value, not the model's -9.0
    assert decisions[1].energy_per_atom == pytest.approx(-3.3)
    assert decisions[2].energy_per_atom is None and decisions[2].uncertainty == pytest.approx(0.2)
