"""The scorecard's jobs on hand-made stage documents: a coordinate relax stage's rounds give
the per-round figures (its model's predictions scored only where a relaxation checked them),
and audited candidates are placed against the campaign's hull without changing it."""

import pytest
from jobflow import run_locally
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from discoverflow.makers.crystal.scorecard import place_on_hull, score_campaign
from discoverflow.schemas.hull import HullDocument, HullEntryInfo
from discoverflow.schemas.relax import RelaxBatchDocument, RelaxRecordInfo
from discoverflow.schemas.scorecard import AuditDocument
from discoverflow.schemas.screen import ScreenDocument, ScreenRecord

MU = {"Al": -3.7, "Ni": -5.5}


def entry(cid, formula, ef, ehull, predicted=None):
    return HullEntryInfo(
        candidate_id=cid,
        formula=formula,
        formation_energy_per_atom=ef,
        e_above_hull=ehull,
        promising=ehull <= 0.1,
        predicted_formation_energy_per_atom=predicted,
    )


def hull() -> HullDocument:
    return HullDocument(
        elements=["Al", "Ni"],
        e_above_hull_threshold=0.1,
        elemental_energies=MU,
        entries=[
            entry("a", "AlNi", -0.6, 0.0, -0.5),
            entry("b", "AlNi3", -0.3, 0.15, -0.45),
            entry("c", "Al3Ni", -0.35, 0.05, -0.3),
            entry("d", "Al2Ni", -0.2, 0.2, -0.4),
        ],
    )


def energy(formula: str, ef: float) -> float:
    """Energy per atom of a formation energy ``ef`` against ``MU``."""
    fractions = Composition(formula).fractional_composition
    return ef + sum(x * MU[str(el)] for el, x in fractions.items())


def record(cid, formula, ef, source, round_, predicted=None, spread=None):
    return RelaxRecordInfo(
        candidate_id=cid,
        formula=formula,
        status={"relaxation": "relaxed", "prediction": "predicted"}[source],
        energy_per_atom=energy(formula, ef),
        energy_source=source,
        round=round_,
        predicted_energy_per_atom=predicted,
        energy_per_atom_std=spread,
    )


def test_coordinate_rounds_are_scored_apart():
    relaxed = RelaxBatchDocument(
        engine="coordinate(chgnet)",
        records=[
            record("a", "AlNi", -0.6, "relaxation", 0, energy("AlNi", -0.6) + 0.15, 0.1),
            record("b", "AlNi3", -0.3, "relaxation", 0, energy("AlNi3", -0.3) - 0.05, 0.1),
            record("c", "Al3Ni", -0.35, "relaxation", 1, energy("Al3Ni", -0.35) + 0.02, 0.05),
            record("d", "Al2Ni", -0.2, "prediction", 1, None, 0.01),
        ],
    )
    kept = [ScreenRecord(candidate_id=c, formula="x", energy_per_atom=0.0) for c in "abcd"]
    screen = ScreenDocument(
        model="chgnet",
        formation_energy_threshold=-0.25,
        reference_energies=MU,
        n_screened=6,
        n_below_threshold=4,
        n_kept=4,
        kept=kept,
    )
    audit = AuditDocument(
        audit_fraction=0.5, seed=0, n_rejected=2, entries=[entry("e", "AlNi2", -0.1, 0.3)]
    )
    card = run_locally(score_campaign(screen, screen, relaxed, hull(), audit), log=False)
    card = next(iter(card.values()))[1].output
    assert (card.n_relaxed, card.n_predicted, card.n_audited) == (3, 1, 1)
    assert (card.hit_rate.k, card.hit_rate.n, card.on_hull.k) == (2, 3, 1)
    assert card.formation_energy_error.mae == pytest.approx((0.1 + 0.15 + 0.05) / 3)
    first, second = card.rounds
    assert (first.hit_rate.k, first.hit_rate.n) == (1, 2)
    assert first.model_error.mae == pytest.approx(0.1)
    assert (first.model_coverage.within_1.k, first.model_coverage.within_2.k) == (1, 2)
    assert second.hit_rate.n == 1 and second.model_error.mae == pytest.approx(0.02)
    # precision 2/3 of 4 kept; 0 of 1 audited of 2 rejected stable
    assert card.screen.precision.value == pytest.approx(2 / 3)
    assert card.screen.recall == 1.0 and card.screen.daf == pytest.approx((2 / 3) / (8 / 3 / 6))


def test_audited_candidates_are_placed_against_the_hull():
    relaxed = RelaxBatchDocument(
        engine="chgnet",
        records=[
            record("low", "AlNi2", -0.55, "relaxation", 0),
            record("high", "AlNi2", -0.2, "relaxation", 0),
        ],
    )
    placed = {e.candidate_id: e for e in place_on_hull(relaxed, hull())}
    entries = [PDEntry(Composition(el), 0.0) for el in MU]
    entries += [
        PDEntry(
            Composition(e.formula), e.formation_energy_per_atom * Composition(e.formula).num_atoms
        )
        for e in hull().entries
    ]
    diagram = PhaseDiagram(entries)
    for cid, ef in (("low", -0.55), ("high", -0.2)):
        assert placed[cid].formation_energy_per_atom == pytest.approx(ef)
        _, expected = diagram.get_decomp_and_e_above_hull(
            PDEntry(Composition("AlNi2"), ef * 3), allow_negative=True
        )
        assert placed[cid].e_above_hull == pytest.approx(expected)
    assert placed["low"].e_above_hull < 0 < placed["high"].e_above_hull  # below the hull
