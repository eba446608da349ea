"""Pictures of a MOF campaign."""

from __future__ import annotations

from pathlib import Path


def plot_stability_rounds(summaries, path: Path, stable_strain: float = 0.1) -> Path:
    """Distribution of MD lattice strain per round (box plot with the points on top).

    Parameters
    ----------
    summaries
        The rounds' summaries (their ``strains``).
    path
        The image to write.
    stable_strain
        The stability threshold, drawn as a line.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 4))
    rounds = [s.round for s in summaries]
    data = [s.strains or [np.nan] for s in summaries]
    ax.boxplot(data, positions=rounds, widths=0.5, showfliers=False)
    for r, strains in zip(rounds, data, strict=True):
        jitter = np.random.default_rng(r).uniform(-0.15, 0.15, len(strains))
        ax.scatter(np.full(len(strains), r) + jitter, strains, s=12, alpha=0.7)
    ax.axhline(stable_strain, color="grey", linestyle="--", label=f"stable (< {stable_strain})")
    ax.set_xlabel("round")
    ax.set_ylabel("MD lattice strain (max |eigenvalue|)")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
