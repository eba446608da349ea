"""Stability MD: UFF4MOF in LAMMPS against CHGNet (the default engine) on the same MOFs.

Each MOF gets the same NPT MD (same steps, 0.5 fs, 300 K, 1 atm) from both engines; printed
are the steps per second of each on MOF-5 (LAMMPS also over 20x the steps, where typing and
minimisation no longer dominate) and, per MOF, both strains and whether their
stable/unstable verdicts (strain < 0.1) agree. The MOFs: MOF-5, a grown BDC derivative on
Zn4O, Cu paddlewheels with BDC (nbo), a dicyanobenzene-pillared Zn paddlewheel, and MOF-5
with its cell expanded 30% (built to fall apart).

python benchmarks/mof_md.py [STEPS]
"""

from __future__ import annotations

import sys
import time

from discoverflow.core.mof.assembly import AssemblySettings, assemble_mof
from discoverflow.core.mof.lammps import lammps_npt_md
from discoverflow.core.mof.linkers import process_linker
from discoverflow.core.mof.md import StabilitySettings, npt_md
from discoverflow.models.chgnet import chgnet_calculator

BDC = "OC(=O)c1ccc(cc1)C(=O)O"


def frameworks() -> dict:
    bdc = process_linker(BDC)
    mof5 = assemble_mof([bdc], settings=AssemblySettings(supercell=1)).structure
    grown = process_linker("Cc1cc(C(=O)O)c(F)cc1C(=O)O")
    expanded = mof5.copy()
    expanded.scale_lattice(mof5.volume * 1.3**3)
    nbo = AssemblySettings(node="Cu-paddlewheel", topology="nbo")
    pillared = AssemblySettings(node="Zn-paddlewheel-pillared", topology="pcu")
    pillar = process_linker("N#Cc1ccc(cc1)C#N")
    return {
        "MOF-5": mof5,
        "Zn4O + grown linker": assemble_mof(
            [grown], settings=AssemblySettings(supercell=1)
        ).structure,
        "Cu paddlewheel nbo": assemble_mof([bdc], settings=nbo).structure.get_primitive_structure(
            tolerance=0.25
        ),
        "pillared Zn paddlewheel": assemble_mof([bdc, bdc], pillar, pillared).structure,
        "MOF-5 expanded 30%": expanded,
    }


def timed(function):
    start = time.perf_counter()
    outcome = function()
    return outcome, time.perf_counter() - start


def main(steps: int = 300) -> None:
    lammps_settings = StabilitySettings(engine="lammps", steps=steps)
    chgnet_settings = StabilitySettings(steps=steps)
    calculator = chgnet_calculator(chgnet_settings.model)
    threshold = chgnet_settings.stable_strain
    rows, rates = [], {}
    for name, structure in frameworks().items():
        ours, t_ours = timed(lambda s=structure: lammps_npt_md(s, lammps_settings))
        try:
            base, t_base = timed(lambda s=structure: npt_md(s, calculator, chgnet_settings))
            base_strain = base.strain
        except RuntimeError as error:
            base_strain, t_base = float("inf"), float("nan")
            print(f"  CHGNet on {name}: {error}")
        if name == "MOF-5":
            longer = StabilitySettings(engine="lammps", steps=20 * steps)
            _, t_long = timed(lambda s=structure, more=longer: lammps_npt_md(s, more))
            rates = {"lammps": steps / t_ours, "long": 20 * steps / t_long}
            rates["chgnet"] = steps / t_base
        rows.append((name, len(structure), ours.strain, base_strain))
    print(f"\nNPT MD, {steps} steps of 0.5 fs at 300 K and 1 atm, one process")
    print(f"  MOF-5 (53 atoms): LAMMPS UFF4MOF {rates['lammps']:8.1f} steps/s (typing and")
    print(
        f"                    minimisation included; {rates['long']:.0f} steps/s over {20 * steps})"
    )
    print(f"                    CHGNet 0.3.0   {rates['chgnet']:8.1f} steps/s (baseline)")
    print(
        f"  speed-up: {rates['long'] / rates['chgnet']:.0f}x (same steps: "
        f"{rates['lammps'] / rates['chgnet']:.0f}x)"
    )
    print(f"\n  {'MOF':26s} {'atoms':>5s} {'LAMMPS':>8s} {'CHGNet':>8s}  verdicts (< {threshold})")
    agree = 0
    for name, atoms, ours, base in rows:
        same = (ours < threshold) == (base < threshold)
        agree += same
        verdict = ("stable" if ours < threshold else "unstable") + (
            ", agree" if same else ", DIFFER"
        )
        print(f"  {name:26s} {atoms:5d} {ours:8.3f} {base:8.3f}  {verdict}")
    print(f"  verdicts agree on {agree}/{len(rows)} MOFs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
