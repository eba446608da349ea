"""How good a campaign's screen was, judged by the relaxed results: hit rates, precision,
recall, F1 and discovery acceleration factor (Matbench Discovery's DAF), the error of the
predicted formation energies, and how well an ensemble's spread covers that error.

The screen splits the screened candidates in two strata: those it kept (relaxed, up to the
near-duplicates removed) and those it rejected (a random audit sample relaxed). Each stratum's
share of stable candidates is estimated from its relaxed sample, so recall and DAF are those of
the whole screened set, exact when every candidate of both strata was relaxed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from discoverflow.core.crystal.hull import ON_HULL_TOLERANCE

Z_95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


@dataclass
class Rate:
    """``k`` of ``n``, their share and its Wilson score interval (95%)."""

    k: int
    n: int
    value: float | None
    low: float | None
    high: float | None


def wilson_interval(k: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``k / n`` (``n > 0``)."""
    p = k / n
    denominator = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low = 0.0 if k == 0 else max(0.0, centre - half)
    return low, 1.0 if k == n else min(1.0, centre + half)


def rate(k: int, n: int) -> Rate:
    """``k`` of ``n`` with its interval; no value when ``n`` is zero."""
    if n == 0:
        return Rate(k, n, None, None, None)
    low, high = wilson_interval(k, n)
    return Rate(k, n, k / n, low, high)


@dataclass
class ErrorMetrics:
    """Predicted against relaxed values (eV/atom): mean absolute and root-mean-square error,
    and the coefficient of determination."""

    n: int
    mae: float | None = None
    rmse: float | None = None
    r2: float | None = None


def error_metrics(predicted: Sequence[float], relaxed: Sequence[float]) -> ErrorMetrics:
    """MAE, RMSE and R^2 (None with fewer than two values or no variance)."""
    predicted, relaxed = np.asarray(predicted, float), np.asarray(relaxed, float)
    if not len(relaxed):
        return ErrorMetrics(0)
    error = predicted - relaxed
    variance = float(((relaxed - relaxed.mean()) ** 2).sum())
    r2 = 1 - float((error**2).sum()) / variance if len(relaxed) > 1 and variance > 0 else None
    mae, rmse = float(np.abs(error).mean()), float(np.sqrt((error**2).mean()))
    return ErrorMetrics(len(relaxed), mae, rmse, r2)


@dataclass
class SpreadCoverage:
    """The share of relaxed values within one and two spreads of the prediction (a calibrated
    Gaussian spread gives 68% and 95%)."""

    within_1: Rate
    within_2: Rate


def spread_coverage(
    predicted: Sequence[float], relaxed: Sequence[float], spread: Sequence[float]
) -> SpreadCoverage:
    """How often the relaxed value lies within one and two spreads of the prediction.

    Parameters
    ----------
    predicted, relaxed
        Predicted and relaxed values (eV/atom).
    spread
        The ensemble's spread of each prediction (eV/atom).

    Returns
    -------
    SpreadCoverage
        The two rates with their counts and intervals."""
    error = np.abs(np.asarray(predicted, float) - np.asarray(relaxed, float))
    spread = np.asarray(spread, float)
    return SpreadCoverage(
        rate(int((error <= spread).sum()), len(error)),
        rate(int((error <= 2 * spread).sum()), len(error)),
    )


@dataclass
class ScreenMetrics:
    """The screen's decision against the relaxed answer ("stable": within the hull
    threshold); counts first, then the estimates that rest on them."""

    n_kept: int
    n_rejected: int
    true_positives: int
    false_positives: int
    audit_positives: int
    audit_negatives: int
    precision: Rate
    audit_miss_rate: Rate
    recall: float | None = None
    recall_low: float | None = None
    recall_high: float | None = None
    f1: float | None = None
    prevalence: float | None = None
    daf: float | None = None


def estimated_recall(precision: float, miss_rate: float, n_kept: int, n_rejected: int) -> float:
    """Stable candidates kept over all stable ones, each stratum's count from its rate."""
    kept, missed = precision * n_kept, miss_rate * n_rejected
    return kept / (kept + missed) if kept + missed else 0.0


def screen_metrics(
    kept_stable: Sequence[bool],
    n_kept: int,
    audit_stable: Sequence[bool],
    n_rejected: int,
) -> ScreenMetrics:
    """Precision, recall, F1 and DAF of a screen that kept ``n_kept`` candidates and
    rejected ``n_rejected``, from the relaxed ones it kept (``kept_stable``: stable or not)
    and the audited ones it rejected (``audit_stable``).

    Recall's interval takes the ends of the two strata's Wilson intervals (a conservative
    bound); recall, F1 and DAF need an audit sample unless nothing was rejected.
    """
    tp = sum(map(bool, kept_stable))
    fp = len(kept_stable) - tp
    missed = sum(map(bool, audit_stable))
    precision, miss = rate(tp, tp + fp), rate(missed, len(audit_stable))
    metrics = ScreenMetrics(
        n_kept, n_rejected, tp, fp, missed, len(audit_stable) - missed, precision, miss
    )
    if precision.value is None or (miss.value is None and n_rejected):
        return metrics
    miss_value, miss_low, miss_high = (
        (miss.value, miss.low, miss.high) if miss.value is not None else (0.0, 0.0, 0.0)
    )
    recall = estimated_recall(precision.value, miss_value, n_kept, n_rejected)
    metrics.recall = recall
    metrics.recall_low = estimated_recall(precision.low, miss_high, n_kept, n_rejected)
    metrics.recall_high = estimated_recall(precision.high, miss_low, n_kept, n_rejected)
    metrics.f1 = (
        2 * precision.value * recall / (precision.value + recall)
        if precision.value + recall
        else 0.0
    )
    total = n_kept + n_rejected
    metrics.prevalence = (precision.value * n_kept + miss_value * n_rejected) / total
    metrics.daf = precision.value / metrics.prevalence if metrics.prevalence else None
    return metrics


def audit_size(rejected: int, fraction: float, cap: int | None = None) -> int:
    """How many of ``rejected`` candidates the audit relaxes: ``ceil(fraction * rejected)``,
    at most ``cap``."""
    size = math.ceil(fraction * rejected) if fraction > 0 else 0
    return size if cap is None else min(size, cap)


def audit_sample(
    ids: Sequence[str], fraction: float, seed: int = 0, cap: int | None = None
) -> list[str]:
    """``audit_size`` of ``ids``, the same for the same seed whatever their order; a larger
    fraction (or cap) adds to the sample of a smaller one.

    Parameters
    ----------
    ids
        The rejected candidates' ids.
    fraction, cap
        The share to sample (at least one where any are given) and the most, if any.
    seed
        The sample's seed.

    Returns
    -------
    list of str
        The sampled ids.
    """
    if not ids:
        return []

    def key(cid: str) -> str:
        return hashlib.sha256(f"{seed}:{cid}".encode()).hexdigest()

    return sorted(ids, key=key)[: audit_size(len(ids), fraction, cap)]


@dataclass
class Evaluated:
    """One relaxed candidate as the scorecard reads it."""

    candidate_id: str
    e_above_hull: float
    formation_energy_per_atom: float
    predicted_formation_energy_per_atom: float | None = None
    predicted_spread: float | None = None
    round: int = 0
    model_energy_per_atom: float | None = None
    model_spread: float | None = None
    energy_per_atom: float | None = None


@dataclass
class RoundFigures:
    """The figures of the candidates relaxed in one round (one round without the coordinate
    pattern): hit rates, the screen's error and, for the coordinate pattern, its model's error
    on the candidates it was unsure of (after the fine-tunes before that round)."""

    round: int
    hit_rate: Rate
    on_hull: Rate
    formation_energy_error: ErrorMetrics
    model_error: ErrorMetrics | None = None
    model_coverage: SpreadCoverage | None = None


@dataclass
class Scorecard:
    """A campaign's figures of merit.

    Parameters
    ----------
    hit_rate
        Share of the relaxed candidates within the hull threshold.
    on_hull
        Share of them on the hull.
    screen
        Precision, recall, F1 and DAF of the screen.
    formation_energy_error
        Error of the predicted formation energies against the relaxed ones.
    spread_coverage
        With an ensemble screen, how often the relaxed value lies within its spreads.
    rounds
        The same per coordinate round."""

    hit_rate: Rate
    on_hull: Rate
    screen: ScreenMetrics
    formation_energy_error: ErrorMetrics
    spread_coverage: SpreadCoverage | None
    rounds: list[RoundFigures]


def hit_rates(
    evaluated: Sequence[Evaluated], threshold: float, tolerance: float = ON_HULL_TOLERANCE
) -> tuple[Rate, Rate]:
    """Shares within ``threshold`` of the hull, and on it."""
    above = [e.e_above_hull for e in evaluated]
    return (
        rate(sum(h <= threshold for h in above), len(above)),
        rate(sum(h <= tolerance for h in above), len(above)),
    )


def predicted_error(evaluated: Sequence[Evaluated]) -> ErrorMetrics:
    """The error of the screen's formation energies against the relaxed ones.

    Parameters
    ----------
    evaluated
        The relaxed candidates.

    Returns
    -------
    ErrorMetrics
        MAE, RMSE and R^2 over those with a prediction."""
    known = [e for e in evaluated if e.predicted_formation_energy_per_atom is not None]
    return error_metrics(
        [e.predicted_formation_energy_per_atom for e in known],
        [e.formation_energy_per_atom for e in known],
    )


def round_figures(evaluated: Sequence[Evaluated], threshold: float) -> list[RoundFigures]:
    """The scorecard's figures per coordinate round (one round otherwise).

    Parameters
    ----------
    evaluated
        The relaxed candidates, each with its round.
    threshold
        Stable within this of the hull (eV/atom).

    Returns
    -------
    list of RoundFigures
        One entry per round, in order."""
    figures = []
    for number in sorted({e.round for e in evaluated}):
        members = [e for e in evaluated if e.round == number]
        modelled = [
            e
            for e in members
            if e.model_energy_per_atom is not None and e.energy_per_atom is not None
        ]
        spread = [e for e in modelled if e.model_spread is not None]
        figures.append(
            RoundFigures(
                number,
                *hit_rates(members, threshold),
                predicted_error(members),
                error_metrics(
                    [e.model_energy_per_atom for e in modelled],
                    [e.energy_per_atom for e in modelled],
                )
                if modelled
                else None,
                spread_coverage(
                    [e.model_energy_per_atom for e in spread],
                    [e.energy_per_atom for e in spread],
                    [e.model_spread for e in spread],
                )
                if spread
                else None,
            )
        )
    return figures


def scorecard(
    kept: Sequence[Evaluated],
    n_kept: int,
    audited: Sequence[Evaluated],
    n_rejected: int,
    threshold: float,
) -> Scorecard:
    """The campaign's figures: hit rates of the relaxed candidates the screen ``kept``
    (``n_kept`` in all), the screen judged on them and the ``audited`` rejected ones
    (``n_rejected`` in all) at the hull ``threshold`` (eV/atom), the error of the predicted
    formation energies and the spread's coverage on the kept ones, per round.

    Parameters
    ----------
    kept
        The relaxed candidates the screen kept.
    n_kept
        All candidates the screen kept.
    audited
        The relaxed candidates of the audit sample.
    n_rejected
        All candidates the screen rejected.
    threshold
        Stable within this of the hull (eV/atom).

    Returns
    -------
    Scorecard
        The figures with their counts and intervals.
    """
    within, on_hull = hit_rates(kept, threshold)
    spread = [
        e
        for e in kept
        if e.predicted_spread is not None and e.predicted_formation_energy_per_atom is not None
    ]
    return Scorecard(
        within,
        on_hull,
        screen_metrics(
            [e.e_above_hull <= threshold for e in kept],
            n_kept,
            [e.e_above_hull <= threshold for e in audited],
            n_rejected,
        ),
        predicted_error(kept),
        spread_coverage(
            [e.predicted_formation_energy_per_atom for e in spread],
            [e.formation_energy_per_atom for e in spread],
            [e.predicted_spread for e in spread],
        )
        if spread
        else None,
        round_figures(kept, threshold),
    )
