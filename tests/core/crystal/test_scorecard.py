"""The scorecard's figures against hand-computed values and independent implementations
(scipy's Wilson interval, scikit-learn's classification and regression metrics)."""

import csv
import math

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn import metrics

from discoverflow.core.crystal.scorecard import (
    Evaluated,
    audit_sample,
    audit_size,
    error_metrics,
    rate,
    scorecard,
    screen_metrics,
    spread_coverage,
    wilson_interval,
)
from discoverflow.core.crystal.scorecard_files import write_scorecard_files


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (3, 10), (8, 10), (17, 250)])
def test_wilson_interval_matches_scipy(k, n):
    expected = binomtest(k, n).proportion_ci(method="wilson")
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)
    assert rate(0, 0).value is None and rate(k, n).value == k / n


def test_error_metrics_match_scikit_learn():
    rng = np.random.default_rng(3)
    relaxed = rng.normal(-0.4, 0.2, 40)
    predicted = relaxed + rng.normal(0.02, 0.05, 40)
    found = error_metrics(predicted, relaxed)
    assert found.n == 40
    assert found.mae == pytest.approx(metrics.mean_absolute_error(relaxed, predicted))
    assert found.rmse == pytest.approx(metrics.root_mean_squared_error(relaxed, predicted))
    assert found.r2 == pytest.approx(metrics.r2_score(relaxed, predicted))
    assert error_metrics([], []).mae is None and error_metrics([1.0], [1.0]).r2 is None


def test_every_candidate_relaxed_gives_the_plain_metrics():
    """With every kept and every rejected candidate relaxed, the estimates are the plain
    confusion-matrix figures, and DAF is precision over the share of stable candidates."""
    kept = [True, True, False, True, False, True]
    rejected = [False, True, False, False, False, False, False, True, False]
    truth = kept + rejected
    chosen = [True] * len(kept) + [False] * len(rejected)
    found = screen_metrics(kept, len(kept), rejected, len(rejected))
    assert found.precision.value == pytest.approx(metrics.precision_score(truth, chosen))
    assert found.recall == pytest.approx(metrics.recall_score(truth, chosen))
    assert found.f1 == pytest.approx(metrics.f1_score(truth, chosen))
    assert found.prevalence == pytest.approx(sum(truth) / len(truth))
    assert found.daf == pytest.approx((4 / 6) / (6 / 15))
    assert (found.true_positives, found.false_positives) == (4, 2)
    assert (found.audit_positives, found.audit_negatives) == (2, 7)


def test_audited_sample_scales_to_the_rejected_stratum():
    """Hand-checked: 10 kept, 5 of them relaxed (4 stable); 100 rejected, 10 audited (1
    stable). Stable kept: 0.8 * 10 = 8; stable rejected: 0.1 * 100 = 10."""
    found = screen_metrics([True, True, True, True, False], 10, [True] + [False] * 9, 100)
    assert found.precision.value == 0.8 and found.audit_miss_rate.value == 0.1
    assert found.recall == pytest.approx(8 / 18)
    assert found.f1 == pytest.approx(2 * 0.8 * (8 / 18) / (0.8 + 8 / 18))
    assert found.prevalence == pytest.approx(18 / 110)
    assert found.daf == pytest.approx(0.8 / (18 / 110))
    # recall's interval: the ends of the two strata's intervals
    p_low, p_high = wilson_interval(4, 5)
    m_low, m_high = wilson_interval(1, 10)
    assert found.recall_low == pytest.approx(p_low * 10 / (p_low * 10 + m_high * 100))
    assert found.recall_high == pytest.approx(p_high * 10 / (p_high * 10 + m_low * 100))
    assert found.recall_low < found.recall < found.recall_high


def test_without_an_audit_recall_is_not_claimed():
    found = screen_metrics([True, False], 2, [], 30)
    assert found.precision.value == 0.5 and found.recall is None and found.daf is None
    nothing_rejected = screen_metrics([True, False], 2, [], 0)
    assert nothing_rejected.recall == 1.0


def test_audit_sample_is_seeded_sized_and_nested():
    ids = [f"c{i}" for i in range(230)]
    small = audit_sample(ids, 0.02, seed=7)
    assert len(small) == math.ceil(0.02 * 230) == 5
    assert small == audit_sample(list(reversed(ids)), 0.02, seed=7)
    assert set(small) <= set(audit_sample(ids, 0.1, seed=7))
    assert small != audit_sample(ids, 0.02, seed=8)
    assert audit_sample(ids, 0.0) == [] and len(audit_sample(ids[:3], 0.02)) == 1
    capped = audit_sample(ids, 0.1, seed=7, cap=3)  # the cap keeps the first of the same order
    assert capped == audit_sample(ids, 0.1, seed=7)[:3] and set(capped) <= set(small)
    assert len(audit_sample(ids, 1.0, cap=100)) == 100 == audit_size(230, 1.0, 100)


def test_spread_coverage_counts_errors_within_one_and_two_spreads():
    found = spread_coverage([0.0, 0.0, 0.0, 0.0], [0.05, -0.15, 0.3, 0.1], [0.1] * 4)
    assert (found.within_1.k, found.within_2.k, found.within_1.n) == (2, 3, 4)


def test_scorecard_per_round():
    def item(cid, ehull, ef, predicted, round_, model=None, energy=None, spread=None):
        return Evaluated(cid, ehull, ef, predicted, None, round_, model, spread, energy)

    kept = [
        item("a", 0.0, -0.5, -0.4, 0, -5.0, -5.15, 0.1),
        item("b", 0.3, -0.1, -0.4, 0, -4.0, -4.05, 0.1),
        item("c", 0.05, -0.3, -0.32, 1, -6.0, -6.01, 0.02),
    ]
    card = scorecard(kept, 3, [], 0, threshold=0.1)
    assert (card.hit_rate.k, card.hit_rate.n, card.on_hull.k) == (2, 3, 1)
    first, second = card.rounds
    assert (first.round, first.hit_rate.k, first.hit_rate.n) == (0, 1, 2)
    assert first.formation_energy_error.mae == pytest.approx((0.1 + 0.3) / 2)
    assert first.model_error.mae == pytest.approx((0.15 + 0.05) / 2)
    assert (first.model_coverage.within_1.k, first.model_coverage.within_2.k) == (1, 2)
    assert second.hit_rate.value == 1.0 and second.model_error.mae == pytest.approx(0.01)
    assert card.formation_energy_error.mae == pytest.approx((0.1 + 0.3 + 0.02) / 3)


def test_round_table_and_plot(tmp_path):
    def item(cid, ehull, round_):
        return Evaluated(cid, ehull, -0.3, -0.25, None, round_)

    kept = [item("a", 0.0, 0), item("b", 0.0, 0), item("c", 0.5, 1), item("d", 0.4, 1)]
    card = scorecard(kept, 4, [], 0, threshold=0.1)  # all stable, then none
    written = write_scorecard_files(card.rounds, tmp_path, "test")
    assert [p.name for p in written] == ["scorecard_rounds.csv", "scorecard_rounds.png"]
    rows = list(csv.DictReader(written[0].read_text().splitlines()))
    assert [(r["round"], r["n_relaxed"], r["hit_rate"]) for r in rows] == [
        ("0", "2", "1.0"),
        ("1", "2", "0.0"),
    ]
    assert float(rows[0]["mae"]) == pytest.approx(0.05)
    assert written[1].stat().st_size > 10_000
