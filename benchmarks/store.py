"""The embedded store's backends side by side: MontyDB (maggma's MontyStore, sqlite storage,
discoverflow's embedded store until issue 25) and SQLiteStore (discoverflow.sqlite_store).

    python benchmarks/store.py [N ...] [--monty-max N] [--repeats R]

For each N (default 1000 10000) each backend runs in its own process, alternately (A B A B),
on N candidate-like documents of about 8 kB: insert_many rate, keyed upsert of one document,
find by key, ``$in`` find of 1,000 ids, a filtered count, reopen + first keyed find, and the
process's peak RSS. The best of the repeats is printed, with MontyDB / SQLite ratios. MontyDB
is skipped above --monty-max (default 10000): it decodes every document per operation, so one
operation takes minutes there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from statistics import median

CAMPAIGN = "bench"
KEY = ["campaign", "candidate_id"]
BATCH = 1000
TIMED = ("upsert_ms", "find_ms", "in_find_ms", "count_ms", "reopen_find_ms")
LABELS = {
    "insert_per_s": "insert_many (docs/s)",
    "upsert_ms": "keyed upsert of 1 doc (ms)",
    "find_ms": "find by key (ms)",
    "in_find_ms": "$in find of 1,000 ids (ms)",
    "count_ms": "filtered count (ms)",
    "reopen_find_ms": "reopen + first keyed find (ms)",
    "peak_rss_mb": "peak RSS (MB)",
}


def candidate(i: int) -> dict:
    """A document shaped like a candidate's: metadata, a 36-site structure, stage records."""
    sites = [
        {
            "species": [{"element": ["Ce", "Fe", "In"][s % 3], "occu": 1}],
            "abc": [((i + s) * 0.0137) % 1, (s * 0.291) % 1, (i * 0.071 + s) % 1],
            "xyz": [(i + s) * 0.0531 % 7, s * 0.977 % 7, (i * s) * 0.013 % 7],
            "label": ["Ce", "Fe", "In"][s % 3],
            "properties": {"magmom": round((i * s) % 7 * 0.13, 3)},
        }
        for s in range(36)
    ]
    stages = {
        stage: {
            "status": "done",
            "reason": None,
            "fingerprint": f"{hash((stage, i % 97)) & 0xFFFFFFFF:08x}",
            "settings": {"model": "chgnet", "fmax": 0.05},
            "job_uuid": f"{i:08d}-0000-4000-8000-{stage:>12}",
            "record": {"energy_per_atom": -5.0 - (i % 100) * 0.01},
        }
        for stage in ("generation", "screen", "select", "relax")
    }
    return {
        "campaign": CAMPAIGN,
        "candidate_id": f"cand-{i:07d}",
        "role": "candidate",
        "chemsys": "Ce-Fe-In",
        "formula_pretty": ["CeFe2", "CeIn3", "Ce2Fe17"][i % 3],
        "energy_above_hull": (i % 50) * 0.01,
        "status": ["relaxed", "on hull", "promising", "failed"][i % 4],
        "structure": {
            "@module": "pymatgen.core.structure",
            "@class": "Structure",
            "lattice": {"matrix": [[4.1, 0, 0], [0, 4.1, 0], [0, 0, 8.2]], "pbc": [True] * 3},
            "sites": sites,
        },
        "stages": stages,
        "job_uuids": [stages[s]["job_uuid"] for s in stages],
    }


def open_store(backend: str, folder: str):
    if backend == "monty":
        from maggma.stores import MontyStore

        store = MontyStore("candidates", database_path=folder, storage="sqlite")
    else:
        from discoverflow.sqlite_store import SQLiteStore

        store = SQLiteStore("candidates", folder)
    store.connect()
    return store


def timed(action, repeats: int) -> float:
    """Median wall time of ``action`` in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return median(times)


def child(backend: str, n: int) -> dict:
    """One backend at one size, in this process."""
    from discoverflow.stores import ensure_document_indexes

    results: dict = {"doc_bytes": len(json.dumps(candidate(0)))}
    with tempfile.TemporaryDirectory(prefix="store-bench-") as folder:
        store = open_store(backend, folder)
        ensure_document_indexes(store)  # as `run` does; False for MontyDB
        elapsed = 0.0
        for first in range(0, n, BATCH):
            batch = [candidate(i) for i in range(first, min(n, first + BATCH))]
            start = time.perf_counter()
            if backend == "monty":
                store._collection.insert_many(batch)
            else:
                store.insert(batch)
            elapsed += time.perf_counter() - start
        results["insert_per_s"] = n / elapsed
        repeats = 3 if backend == "monty" and n >= 10000 else 7
        probe = [candidate((k * 7919) % n) for k in range(repeats)]
        picks = iter(probe)

        def upsert() -> None:
            doc = dict(next(picks))
            doc["note"] = "upserted"
            store.update(doc, key=KEY)

        results["upsert_ms"] = timed(upsert, repeats)
        picks = iter(probe)
        results["find_ms"] = timed(
            lambda: store.query_one(
                {"campaign": CAMPAIGN, "candidate_id": next(picks)["candidate_id"]}
            ),
            repeats,
        )
        wanted = [candidate((k * 7919) % n)["candidate_id"] for k in range(min(1000, n))]
        found = []
        results["in_find_ms"] = timed(
            lambda: found.append(len(list(store.query({"candidate_id": {"$in": wanted}})))),
            min(repeats, 3),
        )
        counts = []
        results["count_ms"] = timed(
            lambda: counts.append(store.count({"campaign": CAMPAIGN, "status": "failed"})),
            min(repeats, 3),
        )
        assert found[0] == len(set(wanted)) and counts[0] == n // 4, (found, counts)
        store.close()
        start = time.perf_counter()
        again = open_store(backend, folder)
        assert again.query_one(
            {"campaign": CAMPAIGN, "candidate_id": candidate(n // 2)["candidate_id"]}
        )
        results["reopen_find_ms"] = (time.perf_counter() - start) * 1000
        again.close()
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def run_child(backend: str, n: int) -> dict:
    command = [sys.executable, __file__, "--child", backend, str(n)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{backend} at {n} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def best(runs: list[dict]) -> dict:
    """The best of repeated runs: highest rate, lowest times and memory."""
    merged = {k: min(r[k] for r in runs) for k in (*TIMED, "peak_rss_mb", "doc_bytes")}
    merged["insert_per_s"] = max(r["insert_per_s"] for r in runs)
    return merged


def table(n: int, monty: dict | None, sqlite: dict) -> str:
    head = f"N = {n:,} (document ~{sqlite['doc_bytes'] / 1000:.1f} kB)"
    lines = [head, f"{'':34}{'MontyDB':>12}{'SQLite':>12}{'Monty/SQLite':>14}"]
    for key, label in LABELS.items():
        new = sqlite[key]
        if monty is None:
            lines.append(f"{label:34}{'skipped':>12}{new:>12.1f}{'':>14}")
            continue
        old = monty[key]
        ratio = new / old if key == "insert_per_s" else old / new
        lines.append(f"{label:34}{old:>12.1f}{new:>12.1f}{ratio:>13.1f}x")
    return "\n".join(lines)


def conditions() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    torch = sys.modules.get("torch")
    threads = f", torch threads {torch.get_num_threads()}" if torch else ", torch not imported"
    return f"load average {load} on {os.cpu_count()} CPUs{threads}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--monty-max", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("BACKEND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    print(f"start: {conditions()}")
    for n in args.sizes:
        monty_runs, sqlite_runs = [], []
        for _ in range(args.repeats):
            if n <= args.monty_max:
                monty_runs.append(run_child("monty", n))
            sqlite_runs.append(run_child("sqlite", n))
        print()
        print(table(n, best(monty_runs) if monty_runs else None, best(sqlite_runs)))
        if not monty_runs:
            print(f"MontyDB skipped above --monty-max {args.monty_max}: minutes per operation")
        print(f"after N = {n:,}: {conditions()}")
    print(f"\nbest of {args.repeats} runs per backend, alternating; ratios > 1 favour SQLite")


if __name__ == "__main__":
    main()
