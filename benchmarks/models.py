"""CHGNet vs SevenNet (7net-0) on the same Ce-Fe-In candidates: time per structure, batched and
one by one, and how far apart their energies per atom are.

Baselines, side by side: CHGNet.predict_structure per structure, and sevenn's ASE calculator
per structure (energy, forces and stress, what sevenn offers for one structure).

python benchmarks/models.py [N]
"""

from __future__ import annotations

import resource
import sys
import warnings

import numpy as np
import torch
from chgnet.model import CHGNet
from common import candidates, timer
from pymatgen.io.ase import AseAtomsAdaptor

from discoverflow.models.chgnet import CHGNetEnergyModel
from discoverflow.models.ensemble import EnsembleModel
from discoverflow.models.sevennet import SevenNetEnergyModel, sevennet_calculator

warnings.filterwarnings("ignore")


def sample(n: int):
    """``n`` candidates spread over the prototype library (every k-th one)."""
    pool = [c.structure for c in candidates(["Ce", "Fe", "In"], scales=(1.0,))]
    step = max(1, len(pool) // n)
    return pool[::step][:n]


def calculator_energies(structures, calculator) -> np.ndarray:
    energies = []
    for structure in structures:
        atoms = AseAtomsAdaptor.get_atoms(structure)
        atoms.calc = calculator
        energies.append(atoms.get_potential_energy() / len(atoms))
    return np.array(energies)


def line(label: str, n: int, seconds: float, baseline: float | None = None) -> None:
    ratio = f"  {baseline / seconds:5.1f}x the baseline" if baseline else ""
    print(f"  {label:<42} {1000 * seconds / n:8.1f} ms/structure{ratio}")


def main(n: int = 50) -> None:
    structures = sample(n)
    n = len(structures)
    sites = np.mean([len(s) for s in structures])
    chgnet = CHGNet.load(verbose=False)
    chgnet_batched = CHGNetEnergyModel()
    seven_batched = SevenNetEnergyModel()
    calculator = sevennet_calculator()
    ensemble = EnsembleModel(members=["chgnet", "sevennet"])
    warm = structures[:2]
    chgnet.predict_structure(warm)
    chgnet_batched.predict_energy_per_atom(warm)
    seven_batched.predict_energy_per_atom(warm)
    seven_batched.predict_energy_forces_stress(warm)
    calculator_energies(warm, calculator)

    t: dict[str, float] = {}
    with timer(t, "chgnet one"):
        e_chgnet_one = np.array([float(chgnet.predict_structure(s)["e"]) for s in structures])
    with timer(t, "chgnet energy one"):
        CHGNetEnergyModel(batch_size=1).predict_energy_per_atom(structures)
    with timer(t, "chgnet batched"):
        e_chgnet = chgnet_batched.predict_energy_per_atom(structures)
    with timer(t, "7net calculator"):
        e_seven_one = calculator_energies(structures, calculator)
    with timer(t, "7net energy one"):
        SevenNetEnergyModel(batch_size=1).predict_energy_per_atom(structures)
    with timer(t, "7net batched"):
        e_seven = seven_batched.predict_energy_per_atom(structures)
    with timer(t, "7net batched efs"):
        efs = seven_batched.predict_energy_forces_stress(structures)
    with timer(t, "ensemble"):
        _, spread = ensemble.predict_with_uncertainty(structures)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"\n{n} Ce-Fe-In candidates ({sites:.1f} sites on average), CPU, "
        f"{torch.get_num_threads()} torch threads"
    )
    print(" CHGNet 0.3.0")
    line("predict_structure, one by one (baseline)", n, t["chgnet one"])
    line("CHGNetEnergyModel, one by one, energy only", n, t["chgnet energy one"], t["chgnet one"])
    line("CHGNetEnergyModel, batched, energy only", n, t["chgnet batched"], t["chgnet one"])
    print(" SevenNet 7net-0")
    line("ASE calculator, one by one (baseline)", n, t["7net calculator"])
    line(
        "SevenNetEnergyModel, one by one, energy only",
        n,
        t["7net energy one"],
        t["7net calculator"],
    )
    line("SevenNetEnergyModel, batched, energy only", n, t["7net batched"], t["7net calculator"])
    line("batched energy + forces + stress", n, t["7net batched efs"], t["7net calculator"])
    print(" ensemble(chgnet+sevennet)")
    line("mean and spread, batched", n, t["ensemble"])
    ratio = t["7net batched"] / t["chgnet batched"]
    print(f"  SevenNet takes {ratio:.1f}x CHGNet's time per structure (batched, energy only)")
    e_efs = np.array([e / len(s) for (e, _, _), s in zip(efs, structures, strict=True)])
    difference = e_seven - e_chgnet
    print(" agreement (eV/atom)")
    print(f"  batched vs one by one: CHGNet max |dE| {np.abs(e_chgnet - e_chgnet_one).max():.1e},")
    print(
        f"    SevenNet max |dE| {np.abs(e_seven - e_seven_one).max():.1e} (efs pass "
        f"{np.abs(e_efs - e_seven_one).max():.1e})"
    )
    print(
        f"  SevenNet - CHGNet: MAE {np.abs(difference).mean():.3f}, mean {difference.mean():+.3f}, "
        f"max |d| {np.abs(difference).max():.3f}, MAE after removing the mean offset "
        f"{np.abs(difference - difference.mean()).mean():.3f}"
    )
    print(f"  ensemble spread: median {np.median(spread):.3f}, max {spread.max():.3f}")
    print(f"  peak resident memory {peak:.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
