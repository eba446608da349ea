"""The scorecard's files in a campaign's ``output_dir``: a table per round and a plot of the
hit rate and the screen's error per round."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from discoverflow.core.crystal.plots import save
from discoverflow.core.crystal.scorecard import RoundFigures

ROUNDS_TABLE = "scorecard_rounds.csv"
ROUNDS_PLOT = "scorecard_rounds.png"
ROUND_COLUMNS = [
    "round",
    "n_relaxed",
    "hit_rate",
    "hit_rate_low",
    "hit_rate_high",
    "n_within_threshold",
    "n_on_hull",
    "mae",
    "rmse",
    "r2",
    "model_mae",
    "model_within_1_spread",
    "model_within_2_spreads",
]


def round_row(figures: RoundFigures) -> list:
    """One round's figures as a row of ``scorecard_rounds.csv``.

    Parameters
    ----------
    figures
        The round's figures.

    Returns
    -------
    list
        The values in the order of ``ROUND_COLUMNS``."""
    error, model, coverage = figures.formation_energy_error, figures.model_error, None
    if figures.model_coverage is not None:
        coverage = figures.model_coverage
    return [
        figures.round,
        figures.hit_rate.n,
        figures.hit_rate.value,
        figures.hit_rate.low,
        figures.hit_rate.high,
        figures.hit_rate.k,
        figures.on_hull.k,
        error.mae,
        error.rmse,
        error.r2,
        model.mae if model else None,
        coverage.within_1.value if coverage else None,
        coverage.within_2.value if coverage else None,
    ]


def write_round_table(rounds: Sequence[RoundFigures], path: Path) -> Path:
    """Write the per-round figures as CSV.

    Parameters
    ----------
    rounds
        The figures of each round.
    path
        The CSV file.

    Returns
    -------
    Path
        ``path``."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROUND_COLUMNS)
        writer.writerows(["" if v is None else v for v in round_row(figures)] for figures in rounds)
    return path


def plot_rounds(rounds: Sequence[RoundFigures], path: Path, title: str) -> Path:
    """Hit rate (with its 95% interval) and the screen's MAE per round."""
    numbers = [r.round for r in rounds]
    figure, left = plt.subplots(figsize=(5, 3.5))
    rates = [r.hit_rate for r in rounds]
    shown = [(n, r) for n, r in zip(numbers, rates, strict=True) if r.value is not None]
    if shown:
        x, values = zip(*shown, strict=True)
        left.errorbar(
            x,
            [r.value for r in values],
            yerr=[
                [max(0.0, r.value - r.low) for r in values],
                [max(0.0, r.high - r.value) for r in values],
            ],
            marker="o",
            capsize=3,
            color="tab:blue",
            label="hit rate",
        )
    left.set_ylim(0, 1.05)
    left.set_xlabel("round")
    left.set_ylabel("hit rate (within the hull threshold)", color="tab:blue")
    right = left.twinx()
    errors = [(n, r.formation_energy_error.mae) for n, r in zip(numbers, rounds, strict=True)]
    errors = [(n, mae) for n, mae in errors if mae is not None]
    if errors:
        right.plot(*zip(*errors, strict=True), marker="s", color="tab:red", label="screen MAE")
    right.set_ylim(bottom=0)
    right.set_ylabel("MAE of predicted E_f (eV/atom)", color="tab:red")
    left.set_xticks(numbers)
    left.set_title(title)
    return save(figure, path)


def write_scorecard_files(rounds: Sequence[RoundFigures], folder: Path, title: str) -> list[Path]:
    """The per-round table and (with any round) its plot.

    Parameters
    ----------
    rounds
        The figures of each round.
    folder
        The campaign's output folder.
    title
        The plot's title.

    Returns
    -------
    list of Path
        ``scorecard_rounds.csv`` and ``scorecard_rounds.png``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_round_table(rounds, folder / ROUNDS_TABLE)]
    if rounds:
        written.append(plot_rounds(rounds, folder / ROUNDS_PLOT, title))
    return written
