import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from discoverflow.core.crystal.coordinate import ResultLookup, decide
from discoverflow.core.crystal.stability_probability import stability_probability
from discoverflow.errors import DiscoverflowError
from discoverflow.models import UncertaintyModel, load_model
from discoverflow.models.chgnet import CHGNetEnergyModel
from discoverflow.models.ensemble import EnsembleModel
from discoverflow.models.sevennet import SevenNetEnergyModel


def b2(a: str, b: str, lattice: float) -> Structure:
    return Structure(Lattice.cubic(lattice), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])


def l12(a: str, b: str, lattice: float) -> Structure:
    return Structure(
        Lattice.cubic(lattice),
        [b, a, a, a],
        [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    )


@pytest.fixture(scope="module")
def structures():
    fcc_al = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.05), ["Al"], [[0, 0, 0]])
    return {
        "Fe": b2("Fe", "Fe", 2.866),
        "Al": fcc_al,
        "FeAl": b2("Fe", "Al", 2.909),
        "Fe3Al": l12("Fe", "Al", 3.66),
        "FeAl3": l12("Al", "Fe", 3.85),
        "NiAl": b2("Ni", "Al", 2.887),
        "FeAl-rocksalt": Structure.from_spacegroup(
            "Fm-3m", Lattice.cubic(4.8), ["Fe", "Al"], [[0, 0, 0], [0.5, 0.5, 0.5]]
        ),
    }


@pytest.fixture(scope="module")
def members(structures):
    """Each member's energies per atom, computed on its own."""
    batch = list(structures.values())
    return np.array(
        [
            CHGNetEnergyModel().predict_energy_per_atom(batch),
            SevenNetEnergyModel().predict_energy_per_atom(batch),
        ]
    )


def test_mean_and_spread_are_those_of_the_members(structures, members):
    model = load_model("ensemble", members=["chgnet", "sevennet"])
    assert isinstance(model, EnsembleModel) and isinstance(model, UncertaintyModel)
    assert model.name == "ensemble(chgnet-0.3.0+sevennet-7net-0)"
    mean, spread = model.predict_with_uncertainty(list(structures.values()))
    np.testing.assert_allclose(mean, members.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(spread, np.abs(members[0] - members[1]) / 2, atol=1e-6)
    assert np.all(spread > 1e-4)


def test_members_take_options(structures, members):
    l3i5 = {"model": "sevennet", "model_options": {"model": "7net-l3i5"}}
    model = EnsembleModel(members=["chgnet", "sevennet", l3i5])
    assert model.name == "ensemble(chgnet-0.3.0+sevennet-7net-0+sevennet-7net-l3i5)"
    batch = list(structures.values())
    third = SevenNetEnergyModel("7net-l3i5").predict_energy_per_atom(batch)
    three = np.vstack([members, third])
    np.testing.assert_allclose(model.member_energies(batch), three, atol=1e-6)
    np.testing.assert_allclose(model.predict_with_uncertainty(batch)[1], three.std(axis=0))


def test_bad_members_are_refused():
    with pytest.raises(DiscoverflowError, match="at least two members"):
        EnsembleModel(members=["chgnet"])
    with pytest.raises(DiscoverflowError, match="a model name or"):
        EnsembleModel(members=["chgnet", {"name": "sevennet"}])
    with pytest.raises(DiscoverflowError, match="no plugin named 'mace'"):
        EnsembleModel(members=["chgnet", "mace"])


def test_the_coordinate_pattern_gates_on_the_cross_architecture_spread(structures, members):
    spread = np.abs(members[0] - members[1]) / 2
    threshold = float(np.median(spread))
    model = EnsembleModel(members=["chgnet", "sevennet"])
    decisions = decide(structures, ResultLookup(), model, threshold)
    for decision, s, mean in zip(decisions, spread, members.mean(axis=0), strict=True):
        assert decision.uncertainty == pytest.approx(s, abs=1e-6)
        assert decision.action == ("ml" if s < threshold else "relax")
        if decision.action == "ml":
            assert decision.energy_per_atom == pytest.approx(mean, abs=1e-6)
    assert {d.action for d in decisions} == {"ml", "relax"}


def test_probability_of_stability_from_the_members_hulls(structures, members):
    """Fe-Al with CHGNet and SevenNet as members: each member's hull computed by hand."""
    energies = dict(zip(structures, members.T, strict=True))
    model = EnsembleModel(members=["chgnet", "sevennet"])
    entries = {e.key: e for e in model.entries(structures)}
    for key, entry in entries.items():
        assert entry.composition == structures[key].composition
        np.testing.assert_allclose(entry.energies_per_atom, energies[key], atol=1e-6)
    names = ["FeAl", "Fe3Al", "FeAl3", "FeAl-rocksalt"]
    results = stability_probability(
        [entries[n] for n in names], [entries["Fe"], entries["Al"]], threshold=0.05
    )
    x = {"Fe": 0.0, "Al": 1.0, "FeAl": 0.5, "Fe3Al": 0.25, "FeAl3": 0.75, "FeAl-rocksalt": 0.5}
    by_member = []
    for k in range(2):
        ef = {
            n: energies[n][k] - (1 - x[n]) * energies["Fe"][k] - x[n] * energies["Al"][k] for n in x
        }
        # on a binary, the hull at x is the lowest point at x or chord over x
        hull = {}
        for n in names:
            chords = [ef[a] for a in x if x[a] == x[n]] + [
                ef[a] + (ef[b] - ef[a]) * (x[n] - x[a]) / (x[b] - x[a])
                for a in x
                for b in x
                if x[a] < x[n] < x[b]
            ]
            hull[n] = ef[n] - min(chords)
        by_member.append([hull[n] for n in names])
    by_member = np.array(by_member)
    for i, result in enumerate(results):
        assert result.e_above_hull_mean == pytest.approx(by_member[:, i].mean(), abs=1e-6)
        assert result.e_above_hull_std == pytest.approx(by_member[:, i].std(), abs=1e-6)
        assert result.probability_stable == np.mean(by_member[:, i] <= 0.05)
    # B2 FeAl lies deep below the elements' line (about -0.4 eV/atom) for both models; the
    # six-coordinated rocksalt polymorph of the intermetallic lies far above it
    assert results[0].probability_stable == 1.0 and results[0].e_above_hull_mean == 0.0
    assert results[3].probability_stable == 0.0 and results[3].e_above_hull_mean > 0.2


def test_chgnet_ensemble_still_gives_the_spread_of_its_versions(structures):
    batch = [structures["FeAl"], structures["NiAl"]]
    model = load_model("chgnet-ensemble")
    mean, spread = model.predict_with_uncertainty(batch)
    versions = np.array(
        [CHGNetEnergyModel(model_name=v).predict_energy_per_atom(batch) for v in ("0.3.0", "0.2.0")]
    )
    np.testing.assert_allclose(mean, versions.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(spread, versions.std(axis=0), atol=1e-5)
    assert np.all(spread > 0)


def test_fine_tuning_trains_every_member_towards_the_reference(structures, members, tmp_path):
    """CHGNet and SevenNet members, each fine-tuned by its own package's trainer on energies
    shifted from their mean (stand-ins for DFT values the ensemble has not seen), move
    towards them; the ensemble of the tuned copies loads from the saved files."""
    names = ["Fe", "FeAl", "Fe3Al", "NiAl"]
    batch = [structures[n] for n in names]
    rows = [list(structures).index(n) for n in names]
    targets = members[:, rows].mean(axis=0) + np.array([0.05, -0.05, 0.05, -0.05])
    model = EnsembleModel(members=["chgnet", "sevennet"])
    options = model.finetuned(batch, targets, 20, 1e-3, tmp_path / "round0")
    tuned = EnsembleModel(**options)
    assert tuned.member_names() == ["chgnet-round0-member0", "sevennet-round0-member1"]
    assert (tmp_path / "round0-member0.pt").is_file()
    assert (tmp_path / "round0-member1.pth").is_file()
    after = tuned.member_energies(batch)
    for before_row, after_row in zip(members[:, rows], after, strict=True):
        assert np.abs(after_row - targets).mean() < 0.7 * np.abs(before_row - targets).mean()
    np.testing.assert_allclose(model.member_energies(batch), members[:, rows], atol=1e-6)
