"""Shared helpers for the benchmark scripts."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

import bson
import numpy as np
from pymatgen.core import Composition, Lattice, Structure

from discoverflow.core.crystal.generators import random_crystals
from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.core.crystal.substitution import SubstitutionSettings, substitute

T = TypeVar("T")
ELEMENTS = ["Co", "Fe", "Mn", "Si", "Ni", "Al"]


def candidates(elements: list[str], scales=(0.96, 0.98, 1.00, 1.02, 1.04)):
    """Substitution candidates from every prototype of the library."""
    templates = {name: p.structure() for name, p in PROTOTYPES.items()}
    return substitute(
        templates, elements, SubstitutionSettings(lattice_scales=list(scales))
    ).candidates


def substitution_set(n: int, seed: int = 0) -> list[Structure]:
    """``n`` substitution candidates of Co-Fe-Mn-Si-Ni over five lattice scales."""
    pool = candidates(["Co", "Fe", "Mn", "Si", "Ni"])
    chosen = np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False)
    return [pool[i].structure for i in chosen]


def _variant(structure: Structure, rng: np.random.Generator, rattle: float) -> Structure:
    """A copy scaled, strained a little, rattled by up to ``rattle`` A and its sites shuffled."""
    strain = np.eye(3) + rng.normal(0, 0.01, (3, 3))
    lattice = Lattice(structure.lattice.matrix @ strain * rng.uniform(0.95, 1.05))
    frac = structure.frac_coords + rng.uniform(-1, 1, (len(structure), 3)) * rattle / np.array(
        structure.lattice.abc
    )
    order = rng.permutation(len(structure))
    return Structure(lattice, [structure.species[i] for i in order], frac[order])


def pyxtal_set(n: int, seed: int = 0, copies: int = 8) -> list[Structure]:
    """pyxtal random crystals (``core/crystal/generators``) with scaled and rattled copies."""
    formulas = ["FeNi", "Fe2Ni", "CoSi", "MnNi3", "FeCoSi"]
    originals = []
    per_formula = -(-n // (copies * len(formulas)))
    for k, formula in enumerate(formulas):
        crystals = random_crystals(Composition(formula), per_formula, 8, seed=seed + k)
        originals.extend(s for _, s in crystals)
    rng = np.random.default_rng(seed)
    structures = []
    for original in originals:
        structures.append(original)
        for copy in range(copies - 1):
            if copy % 3 == 0:
                scaled = original.copy()
                scaled.scale_lattice(original.volume * rng.uniform(0.9, 1.1))
                structures.append(scaled)
            else:
                structures.append(_variant(original, rng, rng.uniform(0.0, 0.6)))
    order = rng.permutation(len(structures))[:n]
    return [structures[i] for i in order]


def rattled_set(n: int, seed: int = 0) -> list[Structure]:
    """Copies of every prototype, each scaled, strained and rattled by 0-0.5 A."""
    templates = [p.structure() for p in PROTOTYPES.values()]
    rng = np.random.default_rng(seed)
    return [_variant(templates[i % len(templates)], rng, rng.uniform(0.0, 0.5)) for i in range(n)]


@contextmanager
def timer(results: dict, key: str):
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start


def conditions() -> str:
    """What the machine was doing: cores, 1-minute load average, torch's intra-op threads."""
    try:
        import torch

        threads = str(torch.get_num_threads())
    except ImportError:
        threads = "-"
    return f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, torch threads {threads}"


def interleaved(
    baseline: Callable[[], T], ours: Callable[[], T], rounds: int = 2
) -> tuple[float, float, T, T]:
    """Baseline and ours run alternately (A B A B ...), so that a change in load hits both:
    the best time of each and the last result of each."""
    times: dict[str, list[float]] = {"baseline": [], "ours": []}
    results: dict[str, T] = {}
    for _ in range(rounds):
        for name, function in (("baseline", baseline), ("ours", ours)):
            start = time.perf_counter()
            results[name] = function()
            times[name].append(time.perf_counter() - start)
    return min(times["baseline"]), min(times["ours"]), results["baseline"], results["ours"]


def report(title: str, n: int, unit: str, ours: float, baseline: float, note: str = "") -> None:
    print(f"\n{title}")
    print(f"  baseline: {n / baseline:10.1f} {unit}/s  ({baseline:.2f} s)")
    print(f"  discoverflow: {n / ours:6.1f} {unit}/s  ({ours:.2f} s)")
    print(f"  speed-up: {baseline / ours:.1f}x" + (f"  {note}" if note else ""))
    print(f"  ran with: {conditions()}")


def best_of(repeats: int, function: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def plan(n: int) -> tuple[list[str], list[float], int]:
    """Elements and lattice scales whose substitutions give at least ``n`` candidates."""
    templates = {name: p.structure() for name, p in PROTOTYPES.items()}
    for count in range(4, len(ELEMENTS) + 1):
        elements = ELEMENTS[:count]
        single = SubstitutionSettings(lattice_scales=[1.0])
        one = len(substitute(templates, elements, single).candidates)
        if one * 21 >= n or count == len(ELEMENTS):
            break
    n_scales = max(1, math.ceil(n / one))
    scales = [round(float(s), 4) for s in np.linspace(0.9, 1.1, n_scales)]
    return elements, scales, one * n_scales


def largest_documents(store) -> dict[str, tuple[int, int]]:
    """Per collection: number of documents and the largest one in BSON bytes."""
    stores = {"outputs": store.docs_store, **store.additional_stores}
    found = {}
    for name, sub in stores.items():
        sub.connect()
        sizes = [len(bson.encode(doc)) for doc in sub.query({})]
        found[name] = (len(sizes), max(sizes, default=0))
    return found


def collection_stores(store) -> dict:
    """A JobStore's stores by collection name: ``outputs``, ``outputs_data`` and the
    additional stores (``candidates``, ``mofs``, ``records`` as ``stores.make_store`` builds
    them), whatever their backend."""
    found = {"outputs": store.docs_store}
    for key, sub in store.additional_stores.items():
        found[getattr(sub, "collection_name", None) or key] = sub
    return found


def documents_by_stage(store, outside: str) -> dict[str, dict[str, list[int]]]:
    """Per collection and stage: [documents, largest in BSON bytes].

    A job output counts for its job's ``metadata.stage``; an ``outputs_data`` blob or a stage
    record for the stage of the job that wrote it (``job_uuid``); a document written outside
    jobs (the per-item view built at the end of a run) for ``outside``."""
    stores = collection_stores(store)
    for sub in stores.values():
        sub.connect()
    stage_of = {
        doc["uuid"]: (doc.get("metadata") or {}).get("stage", "?")
        for doc in stores["outputs"].query({}, properties=["uuid", "metadata.stage"])
    }
    found: dict[str, dict[str, list[int]]] = {}
    for name, sub in stores.items():
        per_stage: dict[str, list[int]] = {}
        for doc in sub.query({}):
            if name == "outputs":
                stage = (doc.get("metadata") or {}).get("stage", "?")
            elif doc.get("job_uuid"):
                stage = stage_of.get(doc["job_uuid"], "?")
            else:
                stage = outside
            size = len(bson.encode(doc))
            entry = per_stage.setdefault(stage, [0, 0])
            entry[0] += 1
            entry[1] = max(entry[1], size)
        found[name] = per_stage
    return found
