"""Batched ML relaxation against relaxing the same structures one by one (same CHGNet, same
optimiser and settings): structures/s, the ratio, max |dE| per atom, and peak RSS of each.
Throughput is given by wall time and by the process's CPU time: on a shared machine the
load of other processes slows each side's wall clock differently, its CPU time less so (shared
caches and cores still slow it).

    python benchmarks/relax.py [N] [--steps S] [--threads T]

N rattled and strained Ce-Fe-In substitution candidates of mixed sizes; each way runs in a
fresh process so that its peak RSS is its own, both with T PyTorch threads (default 1: on a
shared two-core machine two OpenMP threads ran CHGNet 15-25x slower than one).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from pymatgen.core import Structure

sys.path.insert(0, str(Path(__file__).parent))
from common import candidates

from discoverflow.core.relax import RelaxSettings, relax_many
from discoverflow.models.chgnet import CHGNetRelaxer


def perturbed(n: int, seed: int = 0) -> dict[str, Structure]:
    """``n`` candidates spread over sizes, each strained up to 3% and rattled by 0.03 A."""
    rng = np.random.default_rng(seed)
    pool = sorted((c.structure for c in candidates(["Ce", "Fe", "In"])), key=len)
    picked = [pool[i] for i in np.linspace(0, len(pool) - 1, n).astype(int)]
    structures = {}
    for i, structure in enumerate(picked):
        s = structure.copy()
        s.apply_strain(rng.uniform(-0.03, 0.03, 3))
        coords = s.cart_coords + rng.normal(0, 0.03, (len(s), 3))
        structures[f"c{i}"] = Structure(s.lattice, s.species, coords, coords_are_cartesian=True)
    return structures


def run(batched: bool, n: int, steps: int, threads: int, queue) -> None:
    torch.set_num_threads(threads)
    structures = perturbed(n)
    settings = RelaxSettings(steps=steps)
    relaxer = CHGNetRelaxer(
        fmax=settings.fmax, steps=settings.steps, relax_cell=settings.relax_cell
    )
    relaxer.evaluate([next(iter(structures.values()))])  # load the model outside the timing
    start, cpu = time.perf_counter(), time.process_time()
    records = relax_many(structures, relaxer, batched=batched)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = [(r.status, r.energy_per_atom, r.n_steps) for r in records]
    queue.put((elapsed, cpu, peak, summary))


def measure(batched: bool, n: int, steps: int, threads: int):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=run, args=(batched, n, steps, threads, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=32)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    sizes = [len(s) for s in perturbed(args.n).values()]
    alone_s, alone_cpu, alone_rss, alone = measure(False, args.n, args.steps, args.threads)
    together_s, together_cpu, together_rss, together = measure(
        True, args.n, args.steps, args.threads
    )
    both = [(a, b) for a, b in zip(alone, together, strict=True) if a[0] != "failed" != b[0]]
    d_e = max(abs(a[1] - b[1]) for a, b in both) if both else float("nan")
    same = sum(a[0] == b[0] for a, b in zip(alone, together, strict=True))
    n_steps = sum(r[2] for r in alone)
    print(
        f"\nCHGNet relaxation of {args.n} Ce-Fe-In candidates ({min(sizes)}-{max(sizes)} atoms, "
        f"mean {np.mean(sizes):.1f}; FIRE + FrechetCellFilter, fmax 0.05, <= {args.steps} steps, "
        f"{args.threads} torch thread(s))"
    )
    for label, seconds, cpu, rss, records in (
        ("one by one", alone_s, alone_cpu, alone_rss, alone),
        ("batched", together_s, together_cpu, together_rss, together),
    ):
        relaxed = sum(r[0] == "relaxed" for r in records)
        print(
            f"  {label:10s}: {args.n / seconds:6.3f} structures/s ({seconds:6.1f} s wall), "
            f"{args.n / cpu:6.3f} per CPU s ({cpu:6.1f} s CPU), {relaxed}/{args.n} converged, "
            f"{sum(r[2] for r in records)} steps, peak RSS {rss:.0f} MB"
        )
    print(f"  speed-up: {alone_s / together_s:.2f}x wall, {alone_cpu / together_cpu:.2f}x CPU")
    print(f"  max |dE| per atom: {d_e * 1000:.3f} meV/atom over {len(both)} structures")
    print(f"  same status: {same}/{args.n}; one-by-one steps {n_steps}")
    print(f"  load average at the end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
