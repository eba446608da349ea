"""Shared helpers for the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

from discoverflow.core.crystal.prototypes import PROTOTYPES
from discoverflow.core.crystal.substitution import SubstitutionSettings, substitute


def candidates(elements: list[str], scales=(0.96, 0.98, 1.00, 1.02, 1.04)):
    """Substitution candidates from every prototype of the library."""
    templates = {name: p.structure() for name, p in PROTOTYPES.items()}
    return substitute(
        templates, elements, SubstitutionSettings(lattice_scales=list(scales))
    ).candidates


@contextmanager
def timer(results: dict, key: str):
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start


def report(title: str, n: int, unit: str, ours: float, baseline: float, note: str = "") -> None:
    print(f"\n{title}")
    print(f"  baseline: {n / baseline:10.1f} {unit}/s  ({baseline:.2f} s)")
    print(f"  discoverflow: {n / ours:6.1f} {unit}/s  ({ours:.2f} s)")
    print(f"  speed-up: {baseline / ours:.1f}x" + (f"  {note}" if note else ""))


def best_of(repeats: int, function: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)
