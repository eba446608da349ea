"""A crystal campaign of N generated candidates, end to end on one store: per stage the wall
time, the time inside ML model calls, jobs, documents, the largest stored document and peak
RSS; in total the same, with the load average and torch's thread count.

python benchmarks/scale.py N [--store DIR|memory] [--keep DIR] [--json FILE] [--relax K]
                             [--backend default|montydb]

Candidates are substitutions of the prototype library's templates with four to six target
elements over as many lattice scales as it takes to reach N (the campaign then holds at least
N); relaxation is capped at K candidates (``screening.max_candidates``, default 8).

The store is whatever ``discoverflow.stores.make_store(DIR)`` returns (``--backend default``),
or the same JobStore layout on maggma's MontyStore with sqlite storage (``--backend
montydb``, the embedded store before the SQLite backend) to measure both side by side. The
store folder is a temporary one, removed at the end, unless ``--store`` names one;
``--keep DIR`` moves (or, for a ``--store`` folder, copies) it to DIR after the run.

Rows: ``flow build`` is ``Campaign.build_flow`` (inputs, fingerprints, what the store holds,
the flow); one row per job stage (``metadata.stage``; jobs timed by ``Job.run``, which
includes storing their outputs); ``(between jobs)`` is what ``run_locally`` spends outside
jobs; the flow's own ``documents`` and ``hull-outputs`` jobs build the per-item view and
write ``output_dir``, and ``documents (final)`` / ``output files`` are what
``Campaign.build_view`` adds after the flow (nothing when the flow ran; the whole view and
the files when every stage was reused). Model time is the time inside the energy
model's ``predict_energy_per_atom`` / ``predict_with_uncertainty`` and the relaxer's
``relax_batch`` (its iteration, optimiser steps included) / ``relax``, charged to the stage
of the running job; nested calls count once.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import tempfile
import threading
import time
import warnings
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil
import torch
from common import collection_stores, documents_by_stage, plan
from jobflow import JobStore
from jobflow.core.job import Job
from maggma.stores import MontyStore
from rich.console import Console
from rich.table import Table

from discoverflow.builders.documents import ItemDocumentBuilder
from discoverflow.campaigns.loading import load_campaign
from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.plugins import MODELS, RELAXERS, load_plugin
from discoverflow.stores import (
    DATA_COLLECTION,
    DOCS_COLLECTION,
    DOCUMENT_COLLECTIONS,
    make_store,
)

warnings.filterwarnings("ignore")

FLOW_BUILD = "flow build"
BETWEEN = "(between jobs)"
FINAL_VIEW = "documents (final)"
OUTPUT_FILES = "output files"
OUTSIDE = "(outside the run)"
VIEW_DOCS = "view documents"
"""Where per-item documents (written by the view builder, not by one job) are counted."""


class Meter:
    """Per stage: wall time, jobs, time inside model calls and peak RSS (sampled every
    0.1 s). ``current`` is the stage running now, set by the wrappers of ``Job.run``,
    ``build_flow`` and ``build_view``."""

    def __init__(self) -> None:
        self.current = OUTSIDE
        self.wall: dict[str, float] = defaultdict(float)
        self.model: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.jobs: dict[str, int] = defaultdict(int)
        self.peak: dict[str, float] = defaultdict(float)
        self.order: list[str] = []
        self.depth = 0
        self.stop = threading.Event()
        self.process = psutil.Process()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.stop.wait(0.1):
            rss = self.process.memory_info().rss / 2**20
            self.peak[self.current] = max(self.peak[self.current], rss)

    @contextmanager
    def stage(self, name: str, job: bool = False):
        if name not in self.order:
            self.order.append(name)
        previous, self.current = self.current, name
        start = time.perf_counter()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - start
            self.jobs[name] += job
            self.current = previous

    @contextmanager
    def model_call(self):
        if self.depth:
            yield
            return
        self.depth += 1
        start = time.perf_counter()
        try:
            yield
        finally:
            self.depth -= 1
            self.model[self.current] += time.perf_counter() - start
            self.calls[self.current] += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def timed_call(meter: Meter, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with meter.model_call():
            return function(*args, **kwargs)

    return wrapper


def timed_iteration(meter: Meter, function):
    """A wrapper for a call that returns an iterator (``relax_batch`` yields outcomes as
    they end): the call and each step of the iteration count as model time."""

    def steps(iterator):
        while True:
            with meter.model_call():
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with meter.model_call():
            result = iter(function(*args, **kwargs))
        return steps(result)

    return wrapper


@contextmanager
def patched(owner, name: str, replacement):
    """``owner.name`` replaced for the run only (nothing when ``owner`` has no ``name``)."""
    if not hasattr(owner, name):
        yield
        return
    inherited = name not in vars(owner)
    original = getattr(owner, name)
    setattr(owner, name, replacement(original))
    try:
        yield
    finally:
        if inherited:
            delattr(owner, name)
        else:
            setattr(owner, name, original)


def instrument(meter: Meter, campaign, stack: ExitStack) -> list[str]:
    """Wrap the jobs, the model entry points and the campaign's build steps for the run;
    returns what was wrapped."""
    config = campaign.config

    def job_run(original):
        @functools.wraps(original)
        def run(job, *args, **kwargs):
            with meter.stage((job.metadata or {}).get("stage", "?"), job=True):
                return original(job, *args, **kwargs)

        return run

    stack.enter_context(patched(Job, "run", job_run))
    wrapped = []
    model = load_plugin(MODELS, config.screening.model)
    for name in ("predict_energy_per_atom", "predict_with_uncertainty"):
        if hasattr(model, name):
            stack.enter_context(patched(model, name, lambda f: timed_call(meter, f)))
            wrapped.append(f"{model.__name__}.{name}")
    if config.relax.engine != "vasp" and not config.relax.maker:
        relaxer = load_plugin(RELAXERS, config.relax.engine)
        if hasattr(relaxer, "relax_batch"):
            stack.enter_context(
                patched(relaxer, "relax_batch", lambda f: timed_iteration(meter, f))
            )
            wrapped.append(f"{relaxer.__name__}.relax_batch")
        if hasattr(relaxer, "relax"):
            stack.enter_context(patched(relaxer, "relax", lambda f: timed_call(meter, f)))
            wrapped.append(f"{relaxer.__name__}.relax")

    def builder_run(original):
        @functools.wraps(original)
        def run(builder, *args, **kwargs):
            if meter.current != OUTPUT_FILES:  # a documents job: part of its stage
                return original(builder, *args, **kwargs)
            with meter.stage(FINAL_VIEW):
                return original(builder, *args, **kwargs)

        return run

    stack.enter_context(patched(ItemDocumentBuilder, "run", builder_run))

    build_flow, build_view = campaign.build_flow, campaign.build_view

    def timed_build_flow(store):
        with meter.stage(FLOW_BUILD):
            return build_flow(store)

    def timed_build_view(store, **options):
        with meter.stage(OUTPUT_FILES):
            return build_view(store, **options)

    campaign.build_flow, campaign.build_view = timed_build_flow, timed_build_view
    return wrapped


def montydb_store(folder: Path) -> JobStore:
    """The JobStore ``stores.make_store`` builds, on maggma's MontyStore (sqlite storage)."""
    folder.mkdir(parents=True, exist_ok=True)

    def collection(name: str) -> MontyStore:
        return MontyStore(name, database_path=str(folder), storage="sqlite")

    documents = {name: collection(name) for name in DOCUMENT_COLLECTIONS}
    return JobStore(
        collection(DOCS_COLLECTION),
        additional_stores={"data": collection(DATA_COLLECTION), **documents},
    )


def describe_backend(store: JobStore) -> str:
    docs = store.docs_store
    kinds = {type(s).__name__ for s in collection_stores(store).values()}
    details = [
        f"{key}={value}"
        for key in ("storage", "database_path", "uri", "host", "path", "database")
        if isinstance(value := getattr(docs, key, None), str | int)
    ]
    return f"{'/'.join(sorted(kinds))} ({', '.join(details) or 'no settings'})"


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


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(args, console: Console, work: Path, store_folder: Path | None) -> dict:
    path, expected = write_campaign(work, args.n, args.relax)
    spec = str(store_folder) if store_folder else "memory"
    if args.backend == "montydb":
        if store_folder is None:
            raise SystemExit("--backend montydb needs a store folder, not memory")
        store = montydb_store(store_folder)
    else:
        store = make_store(spec)
    backend = f"{args.backend}: {describe_backend(store)}"
    campaign = load_campaign(path)
    console.print(
        f"{campaign.describe()}: about {expected} candidates, store {spec}\nbackend {backend}"
    )
    meter = Meter()
    load_start = load_average()
    with ExitStack() as stack:
        wrapped = instrument(meter, campaign, stack)
        with meter:
            start = time.perf_counter()
            campaign.run(store)
            wall = time.perf_counter() - start
    load_end = load_average()
    peak_total = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    meter.wall[OUTPUT_FILES] -= meter.wall[FINAL_VIEW]
    in_stages = sum(meter.wall.values())
    meter.wall[BETWEEN] = wall - in_stages
    meter.peak[BETWEEN] = meter.peak.get(OUTSIDE, 0.0)

    docs = documents_by_stage(store, VIEW_DOCS)
    collections = {
        name: {
            "documents": sum(c for c, _ in per_stage.values()),
            "largest_bytes": max((b for _, b in per_stage.values()), default=0),
        }
        for name, per_stage in docs.items()
    }
    stores = collection_stores(store)
    mine = {"campaign": campaign.name}
    generated = set(stores["records"].distinct("item_id", {**mine, "stage": "generation"}))
    documented = set(stores[DOCUMENT_COLLECTIONS[0]].distinct("candidate_id", mine))
    references = documented - generated  # the relaxed elemental references (role reference)
    candidates = len(documented & generated)

    def stage_docs(stage: str) -> tuple[int, int]:
        found = [per_stage[stage] for per_stage in docs.values() if stage in per_stage]
        return sum(c for c, _ in found), max((b for _, b in found), default=0)

    rows = [
        FLOW_BUILD,
        *[s for s in meter.order if s not in (FLOW_BUILD, OUTPUT_FILES, FINAL_VIEW)],
    ]
    rows += [BETWEEN, FINAL_VIEW, OUTPUT_FILES]
    stages = {}
    for stage in rows:
        n_docs, largest = stage_docs(stage)
        if stage == FINAL_VIEW:
            n_docs, largest = stage_docs(VIEW_DOCS)
        stages[stage] = {
            "wall_s": round(meter.wall[stage], 3),
            "model_s": round(meter.model[stage], 3),
            "model_calls": meter.calls[stage],
            "jobs": meter.jobs[stage],
            "documents": n_docs,
            "largest_document_bytes": largest,
            "peak_rss_mb": round(meter.peak[stage], 1),
        }
    model_s = sum(meter.model.values())
    figures = {
        "n_requested": args.n,
        "backend": args.backend,
        "backend_stores": describe_backend(store),
        "wall_s": round(wall, 3),
        "model_s": round(model_s, 3),
        "model_share": round(model_s / wall, 4) if wall else None,
        "candidates": candidates,
        "generated": len(generated),
        "generated_without_document": len(generated - documented),
        "reference_documents": len(references),
        "jobs": sum(meter.jobs.values()),
        "documents": sum(c["documents"] for c in collections.values()),
        "largest_document_bytes": max(
            (c["largest_bytes"] for c in collections.values()), default=0
        ),
        "peak_rss_mb": round(peak_total, 1),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "model_entry_points": wrapped,
        "collections": collections,
        "stages": stages,
        "units": "seconds, bytes (BSON), MiB (peak_rss_mb)",
    }
    if store_folder is not None:
        figures["store_bytes_on_disk"] = folder_size(store_folder)
    return figures


def print_figures(console: Console, figures: dict) -> None:
    wall, candidates = figures["wall_s"], figures["candidates"]
    table = Table(
        title=f"Scale: {figures['n_requested']} requested, {candidates} candidates, "
        f"{wall:.0f} s in all ({figures['backend']} backend)"
    )
    columns = (
        "stage",
        "jobs",
        "wall (s)",
        "model (s)",
        "model share",
        "candidates/s",
        "documents",
        "largest doc (kB)",
        "peak RSS (MiB)",
    )
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)

    def add(name: str, s: dict, **style) -> None:
        seconds = s["wall_s"]
        rate = f"{candidates / seconds:.0f}" if seconds > 0 else "-"
        share = f"{s['model_s'] / seconds:.0%}" if seconds > 0 else "-"
        table.add_row(
            name,
            str(s["jobs"]),
            f"{seconds:.1f}",
            f"{s['model_s']:.1f}",
            share,
            rate,
            str(s["documents"]),
            f"{s['largest_document_bytes'] / 1e3:.1f}",
            f"{s['peak_rss_mb']:.0f}" if s["peak_rss_mb"] else "-",
            **style,
        )

    for stage, s in figures["stages"].items():
        add(stage, s)
    table.add_section()
    add("total", {**figures, "documents": figures["documents"]}, style="bold")
    console.print(table)
    for name, c in figures["collections"].items():
        console.print(
            f"  {name}: {c['documents']} documents, largest {c['largest_bytes'] / 1e6:.3f} MB"
        )
    if "store_bytes_on_disk" in figures:
        console.print(f"  store on disk: {figures['store_bytes_on_disk'] / 1e6:.1f} MB")
    console.print(
        f"  backend {figures['backend']}: {figures['backend_stores']}\n"
        f"  candidate documents: {candidates} of {figures['generated']} generated"
        f"{' [red](some have none)[/red]' if figures['generated_without_document'] else ''}, "
        f"and {figures['reference_documents']} of elemental references; "
        f"model time {figures['model_s']:.1f} s "
        f"({figures['model_share']:.0%} of the wall time) in "
        f"{', '.join(figures['model_entry_points'])}\n"
        f"  peak RSS {figures['peak_rss_mb']:.0f} MiB; torch threads "
        f"{figures['torch_threads']} (interop {figures['torch_interop_threads']}) on "
        f"{figures['cpu_count']} CPUs; load average {figures['load_average_start']} at the "
        f"start, {figures['load_average_end']} at the end"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="candidates to generate (at least)")
    parser.add_argument(
        "--store", default=None, help="the store folder, or memory (default: temporary)"
    )
    parser.add_argument("--keep", default=None, help="keep the store folder there after the run")
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    parser.add_argument("--relax", type=int, default=8, help="candidates relaxed (default 8)")
    parser.add_argument(
        "--backend",
        choices=("default", "montydb"),
        default="default",
        help="default: stores.make_store(DIR); montydb: the same layout on MontyStore (sqlite)",
    )
    args = parser.parse_args()
    console = Console(width=160)
    work = Path(tempfile.mkdtemp(prefix="discoverflow-scale-"))
    if args.store == "memory":
        store_folder = None
    elif args.store:
        store_folder = Path(args.store).expanduser().resolve()
    else:
        store_folder = work / "store"
    try:
        figures = measure(args, console, work, store_folder)
        print_figures(console, figures)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
            console.print(f"  figures written to {args.json}")
    finally:
        if args.keep and store_folder is not None and store_folder.exists():
            keep = Path(args.keep).expanduser().resolve()
            if store_folder.is_relative_to(work):
                shutil.move(store_folder, keep)
            else:
                shutil.copytree(store_folder, keep, dirs_exist_ok=True)
            console.print(f"  store kept at {keep}")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
