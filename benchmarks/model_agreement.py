"""CHGNet and SevenNet on the examples' candidates and on binaries of known sign.

For the Ce-Fe-In and Co-Fe-Mn-Si examples: every substitution candidate of the example's
campaign file, screened by each model against the model's own relaxed elemental references
(as a campaign does): candidates each keeps below the example's threshold, how the two kept sets
overlap, the agreement of the formation energies, and time per structure.

Independent check: formation energies of ordered binaries whose sign is known from experiment
(compound-forming systems, negative) and from immiscible systems (positive mixing enthalpy),
each relaxed with each model against that model's relaxed elements.

python benchmarks/model_agreement.py
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Composition, Lattice, Structure
from scipy.stats import spearmanr

from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.core.crystal.elements import elemental_reference_candidates
from discoverflow.core.crystal.hull import formation_energy_per_atom
from discoverflow.core.crystal.substitution import substitute
from discoverflow.core.structures import read_structure_folder
from discoverflow.plugins import load_model, load_relaxer

warnings.filterwarnings("ignore")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MODELS = ("chgnet", "sevennet")


def b2(a: str, b: str, lattice: float) -> Structure:
    return Structure(Lattice.cubic(lattice), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])


def l12(a: str, b: str, lattice: float) -> Structure:
    """A3B in Cu3Au's structure (B at the cube corner)."""
    coords = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    return Structure(Lattice.cubic(lattice), [b, a, a, a], coords)


def l10(a: str, b: str, lattice: float) -> Structure:
    """AB in CuAu's structure (alternating (001) planes of the fcc cell)."""
    coords = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    return Structure(Lattice.cubic(lattice), [a, a, b, b], coords)


# Sign of the formation energy: experiment (NiAl -0.61, FeAl -0.26, CoAl -0.57, Ni3Al -0.42,
# CoSi -0.52 eV/atom, calorimetry) or immiscibility (Cu-Ag, Fe-Cu, Ag-Ni: no compound, positive
# enthalpy of mixing in the assessed phase diagrams).
BINARIES = {
    "NiAl (B2)": (b2("Ni", "Al", 2.88), -1),
    "FeAl (B2)": (b2("Fe", "Al", 2.91), -1),
    "CoAl (B2)": (b2("Co", "Al", 2.86), -1),
    "Ni3Al (L1_2)": (l12("Ni", "Al", 3.57), -1),
    "CoSi (B2)": (b2("Co", "Si", 2.77), -1),
    "CuAg (B2)": (b2("Cu", "Ag", 3.10), +1),
    "FeCu (B2)": (b2("Fe", "Cu", 2.90), +1),
    "AgNi (L1_0)": (l10("Ag", "Ni", 3.80), +1),
}


def relaxed_elements(relaxer, elements) -> dict[str, float]:
    """Lowest relaxed energy per atom of each element's reference candidates."""
    found = {}
    for el in elements:
        outcomes = [relaxer.relax(s) for s in elemental_reference_candidates(el).values()]
        found[el] = min(o.energy_per_atom for o in outcomes)
    return found


def example_candidates(name: str) -> tuple[CampaignConfig, list[Structure]]:
    path = EXAMPLES / name / "config.json"
    config = CampaignConfig(**json.loads(path.read_text())).resolve_paths(path.parent)
    templates, _ = read_structure_folder(config.inputs.templates)
    result = substitute(templates, config.elements, config.generation.substitution())
    return config, [c.structure for c in result.candidates]


def compare_example(name: str, relaxers: dict) -> None:
    config, structures = example_candidates(name)
    threshold = config.screening.formation_energy_threshold
    compositions = [s.composition for s in structures]
    formation, seconds = {}, {}
    for model_name in MODELS:
        model = load_model(model_name)
        refs = relaxed_elements(relaxers[model_name], config.elements)
        model.predict_energy_per_atom(structures[:2])
        start = time.perf_counter()
        energies = model.predict_energy_per_atom(structures)
        seconds[model_name] = time.perf_counter() - start
        formation[model_name] = np.asarray(formation_energy_per_atom(compositions, energies, refs))
    kept = {m: set(np.flatnonzero(formation[m] < threshold)) for m in MODELS}
    both, either = kept["chgnet"] & kept["sevennet"], kept["chgnet"] | kept["sevennet"]
    difference = formation["sevennet"] - formation["chgnet"]
    rho = spearmanr(formation["chgnet"], formation["sevennet"]).statistic
    print(f"\n{name}: {len(structures)} candidates, kept below {threshold} eV/atom")
    for m in MODELS:
        rate = 1000 * seconds[m] / len(structures)
        print(f"  {m:<9} kept {len(kept[m]):4d}   {rate:6.1f} ms/structure (batched)")
    print(
        f"  kept by both {len(both)}, by either {len(either)} (Jaccard "
        f"{len(both) / max(1, len(either)):.2f})"
    )
    print(
        f"  formation energy SevenNet - CHGNet: MAE {np.abs(difference).mean():.3f}, "
        f"mean {difference.mean():+.3f}, max |d| {np.abs(difference).max():.3f} eV/atom; "
        f"Spearman {rho:.2f}"
    )


def check_binaries(relaxers: dict) -> None:
    elements = sorted({str(e) for s, _ in BINARIES.values() for e in s.composition.elements})
    refs = {m: relaxed_elements(relaxers[m], elements) for m in MODELS}
    print("\nFormation energies of binaries of known sign (eV/atom, relaxed with each model)")
    print(f"  {'binary':<14} {'known':>5} " + " ".join(f"{m:>9}" for m in MODELS))
    right = dict.fromkeys(MODELS, 0)
    for label, (structure, sign) in BINARIES.items():
        values = []
        for m in MODELS:
            outcome = relaxers[m].relax(structure)
            ef = formation_energy_per_atom(
                [Composition(structure.composition)], [outcome.energy_per_atom], refs[m]
            )[0]
            right[m] += int(np.sign(ef) == sign)
            values.append(f"{ef:+9.3f}")
        print(f"  {label:<14} {'+' if sign > 0 else '-':>5} " + " ".join(values))
    summary = ", ".join(f"{m} {right[m]}/{len(BINARIES)}" for m in MODELS)
    print(f"  signs right: {summary}")


def main() -> None:
    relaxers = {m: load_relaxer(m, fmax=0.02, steps=300) for m in MODELS}
    check_binaries(relaxers)
    for name in ("ce_fe_in", "co_fe_mn_si"):
        compare_example(name, relaxers)


if __name__ == "__main__":
    main()
