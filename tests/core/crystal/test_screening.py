"""Which candidates a screen keeps."""

from dataclasses import dataclass

from discoverflow.core.crystal.screening import (
    PropertyScreenSettings,
    ScreeningSettings,
    below_threshold,
    keep_best,
)


@dataclass
class Record:
    candidate_id: str
    formation_energy_per_atom: float


RECORDS = [Record("c", -0.3), Record("a", -0.5), Record("b", -0.3), Record("d", -0.1)]


def test_below_threshold_lowest_first_ties_by_id():
    kept = below_threshold(RECORDS, ScreeningSettings(formation_energy_threshold=-0.2))
    assert [r.candidate_id for r in kept] == ["a", "b", "c"]
    assert below_threshold(RECORDS, ScreeningSettings(formation_energy_threshold=-0.5)) == []


def test_keep_best_caps_the_count():
    below = below_threshold(RECORDS, ScreeningSettings(formation_energy_threshold=0.0))
    assert [r.candidate_id for r in keep_best(below, ScreeningSettings(max_candidates=2))] == [
        "a",
        "b",
    ]
    assert len(keep_best(below, ScreeningSettings())) == 4


def test_property_window_is_inclusive_and_open_ended():
    window = PropertyScreenSettings(minimum=0.0, maximum=0.05)
    assert window.admits(0.0) and window.admits(0.05) and not window.admits(0.06)
    assert PropertyScreenSettings(maximum=1.0).admits(-100.0)
