"""MOF discovery for CO2 capture on a laptop: MOF-5 from terephthalic acid, then generated
BDC-family linkers on Zn4O/pcu, short CHGNet NPT MD, CHGNet cell optimisation, RASPA2 CO2
GCMC at 0.1 bar and 300 K, and retraining of the linker generator between rounds.

    python examples/mof_co2/run.py [--rounds 2] [--linkers 3] [--store PATH]

Settings are short so that it finishes on 2 CPU cores in about 15 minutes; raise
``steps``/``cycles`` for production (MOFA: 10^6 MD steps, 10,000 GCMC cycles).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jobflow import run_locally
from rich.console import Console
from rich.table import Table

from discoverflow.makers.mof import (
    AdsorptionMaker,
    LinkerGenerationMaker,
    MOFAssemblyMaker,
    MOFDiscoveryMaker,
    MOFStabilityMaker,
)
from discoverflow.makers.relax import MLRelaxMaker
from discoverflow.stores import make_store

TEREPHTHALIC_ACID = "OC(=O)c1ccc(cc1)C(=O)O"
MOF5_EXPERIMENT = 25.83


def canonical(smiles: str) -> str:
    from rdkit import Chem

    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


def discovery(rounds: int, linkers: int, output: Path) -> MOFDiscoveryMaker:
    return MOFDiscoveryMaker(
        rounds=rounds,
        linker_maker=LinkerGenerationMaker(count=linkers, seed_linkers=(TEREPHTHALIC_ACID,)),
        assembly_maker=MOFAssemblyMaker(node="Zn4O", topology="pcu", max_mofs=linkers + 1),
        stability_maker=MOFStabilityMaker(steps=60, timestep_fs=0.5),
        optimise_maker=MLRelaxMaker(name="mof cell optimisation", fmax=0.1, steps=150),
        adsorption_maker=AdsorptionMaker(cycles=150, init_cycles=50),
        adsorb_per_round=2,
        output_dir=str(output),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--linkers", type=int, default=3, help="generated linkers per round")
    parser.add_argument("--store", default=None, help="folder, mongodb:// URI or 'memory'")
    parser.add_argument("--output", default="mof_co2_results")
    args = parser.parse_args()

    output = Path(args.output)
    flow = discovery(args.rounds, args.linkers, output).make()
    responses = run_locally(flow, store=make_store(args.store), ensure_success=True)
    document = next(
        r.output
        for r in reversed([v[1] for v in responses.values()])
        if r.output is not None and hasattr(r.output, "rounds")
    )
    console = Console()
    table = Table(title="Rounds")
    for column in ("round", "generator", "linkers valid", "MOFs", "stable", "best uptake (mol/kg)"):
        table.add_column(column)
    for s in document.rounds:
        table.add_row(
            str(s.round),
            f"v{s.generator_version}",
            f"{s.linkers_valid}/{s.linkers_proposed}",
            str(s.mofs_assembled),
            f"{s.stable}/{s.mofs_validated}",
            f"{s.best_uptake:.3f}" if s.best_uptake is not None else "-",
        )
    console.print(table)
    mofs = Table(title="MOFs")
    for column in ("mof", "linker", "strain", "stable", "E (eV/atom)", "CO2 (mol/kg)"):
        mofs.add_column(column)
    for r in document.results:
        mofs.add_row(
            r.mof_id,
            r.linkers[0],
            f"{r.strain:.3f}" if r.strain is not None else "-",
            "yes" if r.stable else "no",
            f"{r.energy_per_atom:.3f}" if r.energy_per_atom is not None else "-",
            f"{r.uptake_mol_per_kg:.3f}" if r.uptake_mol_per_kg is not None else "-",
        )
    console.print(mofs)
    bdc = canonical(TEREPHTHALIC_ACID)
    mof5 = next((r for r in document.results if r.linkers == [bdc]), None)
    print(f"stability plot: {document.plot}")
    if mof5 is not None and mof5.conventional_abc:
        a = mof5.conventional_abc[0]
        print(
            f"MOF-5 relaxed: {mof5.space_group}, conventional a = {a:.2f} A "
            f"(experiment {MOF5_EXPERIMENT} A, {100 * (a / MOF5_EXPERIMENT - 1):+.1f}%)"
        )


if __name__ == "__main__":
    main()
