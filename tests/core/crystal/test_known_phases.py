"""Known phases from entry files, structure folders and the Materials Project (hand-made entries:
no network), and matching candidates against them."""

import json

import pytest
from conftest import b2_alni, fcc, hand_made_mp_entries
from monty.serialization import dumpfn
from pymatgen.core import Lattice, Structure

from discoverflow.core.crystal import known_phases as kp


def test_entries_file_reads_names_energies_and_method(tmp_path):
    path = tmp_path / "entries.json"
    dumpfn(hand_made_mp_entries(), path)
    phases = kp.read_known_phases(path)
    assert [p.name for p in phases][:3] == ["mp-134-GGA", "mp-23-GGA", "mp-1487-GGA"]
    assert phases[2].energy_per_atom == pytest.approx(-5.43)
    assert phases[2].engine == "DFT GGA" and phases[2].source == "entries.json"
    assert phases[2].label == "mp-1487-GGA (entries.json)"


def test_not_an_entries_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"a": 1}))
    with pytest.raises(ValueError, match="ComputedStructureEntry"):
        kp.read_known_phases(path)


def test_folder_of_cifs_with_and_without_energies(tmp_path):
    b2_alni().to(filename=str(tmp_path / "AlNi.cif"))
    fcc("Ni", 3.52).to(filename=str(tmp_path / "Ni.cif"))
    (tmp_path / kp.ENERGIES_FILE).write_text(
        json.dumps({"AlNi": {"energy_per_atom": -5.9, "engine": "chgnet-0.3.0"}})
    )
    (tmp_path / "notes.md").write_text("where the structures come from")
    phases = {p.name: p for p in kp.read_known_phases(tmp_path)}
    assert set(phases) == {"AlNi", "Ni"}
    assert (phases["AlNi"].energy_per_atom, phases["AlNi"].engine) == (-5.9, "chgnet-0.3.0")
    assert phases["Ni"].energy_per_atom is None and phases["Ni"].engine is None
    (tmp_path / kp.ENERGIES_FILE).write_text(json.dumps({"AlNi": {"energy_per_atom": -5.9}}))
    assert "engine" in kp.read_folder(tmp_path)[1][0]


def test_filter_keeps_phases_near_their_sources_hull():
    phases = kp.from_entries(hand_made_mp_entries(), kp.MATERIALS_PROJECT)
    phases.append(kp.KnownPhase("user", b2_alni(2.9), "file"))  # no energy: kept
    kept = {p.name for p in kp.near_source_hull(phases, 0.1)}
    assert kept == {"mp-134-GGA", "mp-23-GGA", "mp-1487-GGA", "user"}
    assert len(kp.near_source_hull(phases, None)) == 5


def test_materials_project_entries_are_fetched_once_and_cached(tmp_path, monkeypatch, hand_made_mp):
    monkeypatch.delenv(kp.MP_API_KEY, raising=False)
    assert "MP_API_KEY" in kp.materials_project_problem(tmp_path, ["Ni", "Al"])
    with pytest.raises(ValueError, match="MP_API_KEY"):
        kp.materials_project_phases(tmp_path, ["Ni", "Al"])
    monkeypatch.setenv(kp.MP_API_KEY, "k" * 32)
    phases = kp.materials_project_phases(tmp_path, ["Ni", "Al"])
    assert hand_made_mp == [("k" * 32, ["Al", "Ni"])]
    assert kp.cache_file(tmp_path, ["Ni", "Al"]).name == "mp-entries-Al-Ni.json"
    assert {p.source for p in phases} == {"Materials Project"}
    monkeypatch.delenv(kp.MP_API_KEY)  # offline later: the cache serves the same entries
    again = kp.materials_project_phases(tmp_path, ["Al", "Ni"])
    assert len(hand_made_mp) == 1
    assert [(p.name, p.energy_per_atom) for p in again] == [
        (p.name, p.energy_per_atom) for p in phases
    ]
    assert kp.materials_project_problem(tmp_path, ["Al", "Ni"]) is None


def test_candidates_matching_a_known_phase_get_its_label():
    known = {"mp-1487": b2_alni(), "Ni": fcc("Ni", 3.52)}
    labels = {"mp-1487": "mp-1487 (Materials Project)", "Ni": "Ni (file)"}
    strained = b2_alni(2.95)  # the same phase at another volume
    l12 = Structure(Lattice.cubic(3.57), ["Al", "Ni", "Ni", "Ni"],
                    [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])  # fmt: skip
    rocksalt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.6), ["Al", "Ni"],
                                         [[0, 0, 0], [0.5, 0.5, 0.5]])  # fmt: skip
    found = kp.match_known_phases({"a": strained, "b": l12, "c": rocksalt}, known, labels)
    assert found == {"a": "mp-1487 (Materials Project)", "b": None, "c": None}
