"""A crystal campaign of N generated candidates, end to end on one store: per-stage wall time,
throughput, peak RSS, store size, documents, jobs and the largest stored document.

python benchmarks/scale.py N [--store memory|<folder>] [--relax K]

Candidates are substitutions of the prototype library's templates with four to six target
elements over as many lattice scales as it takes to reach N (the campaign then holds at least
N); relaxation is capped at K candidates (``screening.max_candidates``, default 8).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import threading
import time
import warnings
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np
import psutil
from common import largest_documents, plan
from jobflow import CURRENT_JOB
from rich.console import Console
from rich.table import Table

from discoverflow.campaigns.loading import load_campaign
from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.stores import DOCUMENT_COLLECTIONS, make_store

warnings.filterwarnings("ignore")


class StageSampler:
    """Samples RSS every 0.1 s and charges it to the stage of the running job."""

    def __init__(self) -> None:
        self.peak: dict[str, float] = defaultdict(float)
        self.stop = threading.Event()
        self.process = psutil.Process()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(0.1):
            job = CURRENT_JOB.job
            stage = job.metadata.get("stage", "?") if job is not None else "(between jobs)"
            rss = self.process.memory_info().rss / 2**20
            self.peak[stage] = max(self.peak[stage], rss)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def write_campaign(folder: Path, n: int, relax: int) -> tuple[Path, int]:
    elements, scales, expected = plan(n)
    templates = folder / "templates"
    templates.mkdir()
    for name, prototype in PROTOTYPES.items():
        prototype.structure().to(filename=str(templates / f"{name}.cif"))
    config = {
        "name": f"scale-{n}",
        "elements": elements,
        "inputs": {"templates": "templates"},
        "output_dir": "results",
        "generation": {"lattice_scales": scales},
        "screening": {"max_candidates": relax},
        "relax": {"steps": 50, "batch_size": relax},
    }
    path = folder / "campaign.json"
    path.write_text(json.dumps(config, indent=1))
    return path, expected


def stage_times(store, started: np.datetime64) -> dict[str, tuple[float, int]]:
    """Wall time (s) and job count per stage, from the jobs' completion times (one process
    runs them one after another, the first from ``started``)."""
    docs = sorted(
        store.query({}, properties=["completed_at", "metadata.stage"]),
        key=lambda d: d["completed_at"],
    )
    totals: dict[str, list] = defaultdict(lambda: [0.0, 0])
    previous = started
    for doc in docs:
        done = np.datetime64(doc["completed_at"])
        stage = totals[doc["metadata"].get("stage", "?")]
        stage[0] += float((done - previous) / np.timedelta64(1, "s"))
        stage[1] += 1
        previous = done
    return {stage: (t, k) for stage, (t, k) in totals.items()}


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("--store", default=None, help="memory, or a folder (default: temporary)")
    parser.add_argument("--relax", type=int, default=8)
    args = parser.parse_args()
    console = Console(width=120)
    work = Path(tempfile.mkdtemp(prefix="discoverflow-scale-"))
    try:
        path, expected = write_campaign(work, args.n, args.relax)
        spec = args.store or str(work / "store")
        store = make_store(spec)
        campaign = load_campaign(path)
        console.print(f"{campaign.describe()}: about {expected} candidates, store {spec}")
        start = time.perf_counter()
        started = np.datetime64(datetime.now())  # jobflow stamps local time
        with StageSampler() as sampler:
            campaign.run(store)
        wall = time.perf_counter() - start
        peak_total = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        times = stage_times(store, started)
        table = Table(title=f"Scale: {args.n} requested candidates, {wall:.0f} s in all")
        for column in ("stage", "jobs", "wall (s)", "candidates/s", "peak RSS (MiB)"):
            table.add_column(column, justify="right")
        candidates = DOCUMENT_COLLECTIONS[0]
        n_docs = store.additional_stores[candidates].count({"campaign": campaign.name})
        for stage, (seconds, jobs) in times.items():
            rate = n_docs / seconds if seconds > 0 else float("nan")
            table.add_row(
                stage, str(jobs), f"{seconds:.1f}", f"{rate:.0f}", f"{sampler.peak[stage]:.0f}"
            )
        console.print(table)
        sizes = largest_documents(store)
        for name, (count, largest) in sizes.items():
            console.print(f"  {name}: {count} documents, largest {largest / 1e6:.3f} MB")
        if args.store is None:
            console.print(f"  store on disk: {folder_size(work / 'store') / 1e6:.1f} MB")
        console.print(f"  candidate documents: {n_docs}; peak RSS {peak_total:.0f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
