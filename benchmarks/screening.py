"""ML screening throughput: batched energy-only CHGNet vs a loop of CHGNet.predict_structure.

python benchmarks/screening.py [N]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from chgnet.model import CHGNet
from common import candidates, interleaved, report

from discoverflow.models.chgnet import CHGNetEnergyModel

warnings.filterwarnings("ignore")


def main(n: int = 400) -> None:
    structures = [c.structure for c in candidates(["Ce", "Fe", "In"])][:n]
    n = len(structures)
    sites = np.mean([len(s) for s in structures])
    chgnet = CHGNet.load(verbose=False)
    model = CHGNetEnergyModel()
    chgnet.predict_structure(structures[:4])
    model.predict_energy_per_atom(structures[:4])

    forward = time_forward_passes(model.model)
    shares: list[float] = []

    def ours() -> np.ndarray:
        forward.clear()
        start = time.perf_counter()
        energies = model.predict_energy_per_atom(structures)
        shares.append(sum(forward) / (time.perf_counter() - start))
        return energies

    def baseline() -> np.ndarray:
        return np.array([float(chgnet.predict_structure(s)["e"]) for s in structures])

    theirs_s, ours_s, theirs, mine = interleaved(baseline, ours)
    report(
        f"ML screening of {n} Ce-Fe-In candidates ({sites:.1f} sites on average), "
        "baseline and ours interleaved, best of 2 each",
        n,
        "structures",
        ours_s,
        theirs_s,
        f"max |dE| = {np.abs(mine - theirs).max():.1e} eV/atom",
    )
    print(f"  in the model's forward pass: {max(shares):.0%} of screening time")


def time_forward_passes(chgnet: CHGNet) -> list[float]:
    """Seconds spent in each ``predict_graph`` call (batching + forward) of this instance."""
    spent: list[float] = []
    original = chgnet.predict_graph

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    chgnet.predict_graph = timed
    return spent


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
