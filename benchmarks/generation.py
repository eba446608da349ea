"""Generation at campaign scale: the stored documents stay bounded.

python benchmarks/generation.py N [--store memory|<folder>]

Side by side, each in its own process: the baseline builds every substitution candidate in
one call and one GenerationDocument (what the generation job stored before chunking); the
SubstitutionMaker plans the candidates and stores them in chunk jobs. Printed: wall time,
candidates/s, peak RSS, the largest stored document (outputs and data store, BSON bytes),
the largest chunk job as jobflow-remote stores it (its inputs), and the time to stream every
chunk back as the screening fan-out does.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import bson
from common import conditions, largest_documents, plan
from jobflow import run_locally
from monty.json import jsanitize
from rich.console import Console
from rich.table import Table

from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.core.crystal.substitution import SubstitutionSettings, substitute
from discoverflow.makers import SubstitutionMaker
from discoverflow.makers.crystal.chunks import candidate_info, generation_chunks
from discoverflow.schemas.generation import GenerationDocument
from discoverflow.stores import make_store

warnings.filterwarnings("ignore")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bson_size(document: dict) -> int:
    return len(bson.encode(jsanitize(document, strict=True, allow_bson=True)))


def baseline(n: int, queue) -> None:
    """Every candidate built at once, in one document."""
    elements, scales, _ = plan(n)
    templates = {name: p.structure() for name, p in PROTOTYPES.items()}
    start = time.perf_counter()
    result = substitute(templates, elements, SubstitutionSettings(lattice_scales=scales))
    document = GenerationDocument(
        elements=elements,
        n_templates=len(templates),
        assignments_total=result.assignments_total,
        assignments_distinct=result.assignments_distinct,
        n_candidates=len(result.candidates),
        candidates=[candidate_info(c) for c in result.candidates],
        structures={c.candidate_id: c.structure for c in result.candidates},
    )
    wall = time.perf_counter() - start
    size = bson_size(document.model_dump())
    queue.put(
        {"candidates": len(result.candidates), "wall": wall, "rss": peak_rss_mib(), "doc": size}
    )


def chunked(n: int, spec: str, queue) -> None:
    """The SubstitutionMaker through run_locally, then every chunk streamed back."""
    elements, scales, _ = plan(n)
    templates = {name: p.structure() for name, p in PROTOTYPES.items()}
    maker = SubstitutionMaker(settings={"lattice_scales": scales})
    store = make_store(spec)
    step = maker.make(templates, elements)
    start = time.perf_counter()
    run_locally(step, store=store, log=False, ensure_success=True, raise_immediately=True)
    wall = time.perf_counter() - start
    index = GenerationDocument.model_validate(store.get_output(step.uuid, load=True))
    chunk_jobs = maker.make.original(maker, templates, elements).detour.jobs
    largest_job = max(bson_size(j.as_dict()) for j in chunk_jobs)
    start = time.perf_counter()
    streamed = sum(len(chunk.structures) for chunk in generation_chunks(index, store))
    stream = time.perf_counter() - start
    sizes = largest_documents(store)
    queue.put(
        {
            "candidates": index.n_candidates,
            "chunks": len(index.chunks),
            "wall": wall,
            "rss": peak_rss_mib(),
            "sizes": sizes,
            "job": largest_job,
            "streamed": streamed,
            "stream": stream,
        }
    )


def measure(target, *args) -> dict:
    queue = multiprocessing.get_context("fork").SimpleQueue()
    process = multiprocessing.get_context("fork").Process(target=target, args=(*args, queue))
    process.start()
    found = queue.get()
    process.join()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("--store", default=None, help="memory, or a folder (default: temporary)")
    args = parser.parse_args()
    console = Console(width=120)
    work = Path(tempfile.mkdtemp(prefix="discoverflow-generation-"))
    try:
        runs: dict[str, list[dict]] = {"old": [], "new": []}
        for round_ in range(2):
            spec = args.store or str(work / f"store-{round_}")
            runs["old"].append(measure(baseline, args.n))
            runs["new"].append(measure(chunked, args.n, spec))
        old = min(runs["old"], key=lambda run: run["wall"])
        new = min(runs["new"], key=lambda run: run["wall"])
        stream = min(run["stream"] for run in runs["new"])
        table = Table(title=f"Generation of {new['candidates']} candidates")
        for column in ("", "wall (s)", "candidates/s", "peak RSS (MiB)", "largest document"):
            table.add_column(column, justify="right")
        table.add_row(
            "one document (baseline)",
            f"{old['wall']:.1f}",
            f"{old['candidates'] / old['wall']:.0f}",
            f"{old['rss']:.0f}",
            f"{old['doc'] / 1e6:.2f} MB",
        )
        largest = max(size for _, size in new["sizes"].values())
        table.add_row(
            f"chunks ({new['chunks']} jobs)",
            f"{new['wall']:.1f}",
            f"{new['candidates'] / new['wall']:.0f}",
            f"{new['rss']:.0f}",
            f"{largest / 1e6:.2f} MB",
        )
        console.print(table)
        console.print(f"  largest document: {old['doc'] / largest:.0f}x smaller than the baseline")
        for name, (count, size) in new["sizes"].items():
            console.print(f"  {name}: {count} documents, largest {size / 1e6:.3f} MB")
        console.print(f"  largest chunk job (inputs, as jobflow-remote stores it): "
                      f"{new['job'] / 1e6:.3f} MB")  # fmt: skip
        console.print(
            f"  streaming the {new['streamed']} candidates back chunk by chunk: "
            f"{stream:.1f} s ({new['streamed'] / stream:.0f} candidates/s)"
        )
        console.print(
            f"  each side in its own process, interleaved, best of 2; ran with {conditions()}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
