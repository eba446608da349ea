"""CO2 uptake of MOF-5: discoverflow's charge-then-GCMC vs RASPA2's one-shot run.

Baseline: one RASPA run on the cell as given, charge equilibration inside it on the repeated
cell (what ``RASPA2.run`` and most scripts do). discoverflow: charge equilibration once on
the given cell, then GCMC with those charges in the cell that needs the fewest atoms (here
the conventional one). Both use the same force field, charges and cycles; the charges agree
and the uptakes agree within their error bars.

python benchmarks/gcmc.py [CYCLES]
"""

from __future__ import annotations

import sys
import time

from common import report

from discoverflow.core.mof import adsorption
from discoverflow.core.mof.assembly import assemble_mof
from discoverflow.core.mof.linkers import process_linker


def one_shot(structure, settings: adsorption.AdsorptionSettings):
    """Charge equilibration and GCMC in a single RASPA run on the repeated input cell."""
    import RASPA2

    cells = adsorption.unit_cells(structure, settings.cutoff)
    script = adsorption.gcmc_script(settings, cells).replace(
        "UseChargesFromCIFFile yes",
        "UseChargesFromCIFFile no\nChargeFromChargeEquilibration yes\n"
        "ChargeEquilibrationPeriodic yes\nChargeEquilibrationEwald yes",
    )
    output = adsorption.run_raspa(script, adsorption.framework_cif(structure))
    loading = RASPA2.parse(output)["Number of molecules"]["CO2"]
    absolute = loading["Average loading absolute [mol/kg framework]"]
    return float(absolute[0]), float(absolute[2]), adsorption.framework_charges(output), cells


def main(cycles: int = 500) -> None:
    mof5 = assemble_mof([process_linker("OC(=O)c1ccc(cc1)C(=O)O")]).structure
    settings = adsorption.AdsorptionSettings(cycles=cycles, init_cycles=cycles // 2)

    start = time.perf_counter()
    uptake, error, charges, cells = one_shot(mof5, settings)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    ours = adsorption.co2_uptake(mof5, settings)
    fast = time.perf_counter() - start

    worst = max(abs(charges[el] - ours.charges[el]) for el in ours.charges)
    print(f"baseline: {len(mof5)} atoms x {cells} cells, {uptake:.3f} +- {error:.3f} mol/kg")
    print(
        f"discoverflow: {ours.framework_atoms} atoms in the GCMC cell, "
        f"{ours.uptake_mol_per_kg:.3f} +- {ours.uptake_error:.3f} mol/kg; "
        f"largest charge difference {worst:.1e} e"
    )
    report(f"MOF-5 CO2 uptake, 0.1 bar, 300 K, {cycles} cycles", 1, "MOFs", fast, baseline)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
