"""Start-up of the commands that run no campaign: each in a fresh process, several times.

    python benchmarks/cli_startup.py [--repeat 5] [--baseline OTHER_CHECKOUT/src]

Prints the median and fastest seconds per command (and, with ``--baseline``, the same
commands run from another checkout's sources and the ratio), with the load average of the
machine before and after: on a shared machine the numbers move with the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ce_fe_in" / "config.json"


def commands(scratch: Path) -> dict[str, tuple[list[str], int]]:
    """Label -> (arguments, expected exit code)."""
    return {
        "--help": (["--help"], 0),
        "validate": (["validate", str(EXAMPLE)], 0),
        "config show": (["config", "show"], 0),
        "remote init --help": (["remote", "init", "--help"], 0),
        "remote init": (["remote", "init", "--output", str(scratch / "project.yaml")], 0),
        "bad input: no file": (["validate", str(scratch / "missing.json")], 2),
        "bad input: bad key": (["validate", str(EXAMPLE), "--set", "screening.nosuch=1"], 2),
    }


def timed(source: Path, arguments: list[str], expected: int, scratch: Path) -> float:
    (scratch / "project.yaml").unlink(missing_ok=True)
    environment = {**os.environ, "PYTHONPATH": str(source)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "discoverflow.cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        cwd=scratch,
    )
    seconds = time.perf_counter() - start
    if done.returncode != expected:
        raise SystemExit(
            f"{arguments}: exit {done.returncode}, expected {expected}: {done.stderr.strip()}"
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="Another checkout's src folder")
    args = parser.parse_args()
    sources = {"this": ROOT / "src"} | ({"baseline": args.baseline} if args.baseline else {})
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        header = f"{'command':<22} {'median s':>9} {'min s':>7}"
        print(header + (f" {'baseline s':>11} {'ratio':>6}" if args.baseline else ""))
        for label, (arguments, expected) in commands(scratch).items():
            runs = {
                name: [timed(src, arguments, expected, scratch) for _ in range(args.repeat)]
                for name, src in sources.items()
            }
            ours = statistics.median(runs["this"])
            line = f"{label:<22} {ours:9.2f} {min(runs['this']):7.2f}"
            if "baseline" in runs:
                theirs = statistics.median(runs["baseline"])
                line += f" {theirs:11.2f} {theirs / ours:6.1f}"
            print(line, flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
