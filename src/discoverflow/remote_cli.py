"""The ``discoverflow remote`` commands: a starter jobflow-remote project, a job estimate."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from discoverflow.console import Command, ConfigArg, SetOpt, commands, say

if TYPE_CHECKING:
    from discoverflow.remote import StageJobs
    from discoverflow.remote_project import BatchLimits

remote_app = commands("jobflow-remote helpers.")

DEFAULT_BATCH = {
    "allocations": 4,
    "max_jobs_per_batch": None,
    "max_wait": 300,
    "max_time": 3 * 3600,
    "parallel_jobs": 1,
}  # remote_project.BatchLimits()'s, here so that --help does not import jobflow-remote

AllocationsOpt = Annotated[
    int,
    typer.Option(
        "--batch-allocations",
        min=1,
        metavar="N",
        help="Batch allocations in the queue at a time, per worker (its max_jobs)",
    ),
]
JobsPerBatchOpt = Annotated[
    int | None,
    typer.Option(
        "--batch-max-jobs",
        min=1,
        metavar="N",
        help="Jobs an allocation runs (per parallel slot) before it ends (default: no limit)",
    ),
]
MaxTimeOpt = Annotated[
    int,
    typer.Option(
        "--batch-max-time",
        min=60,
        metavar="SECONDS",
        help="An allocation starts no job after this; its SLURM time is this plus 1 h",
    ),
]
ParallelOpt = Annotated[
    int,
    typer.Option("--batch-parallel", min=1, metavar="N", help="Jobs an allocation runs at once"),
]


@remote_app.command("init", cls=Command)
def remote_init(
    name: Annotated[str, typer.Option(help="Project name")] = "discoverflow",
    mongo_uri: Annotated[str, typer.Option(help="MongoDB URI for queue and results")] = (
        "mongodb://localhost:27017"
    ),
    work_dir: Annotated[
        str | None,
        typer.Option(help="Run folder (absolute; default ~/discoverflow-runs for local workers)"),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Cluster login host (omit to run locally)")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Login user")] = None,
    gpu_partition: Annotated[str, typer.Option(help="SLURM partition for GPU jobs")] = "gpu",
    cpu_partition: Annotated[str, typer.Option(help="SLURM partition for CPU jobs")] = "cpu",
    python_env: Annotated[
        str | None, typer.Option(help="Virtual environment on the cluster to activate")
    ] = None,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch/--no-batch",
            help="The GPU worker runs many jobs in each queue allocation (a batch worker)",
        ),
    ] = True,
    cpu_batch: Annotated[
        bool, typer.Option("--cpu-batch", help="The CPU worker is a batch worker too")
    ] = False,
    allocations: AllocationsOpt = DEFAULT_BATCH["allocations"],
    max_jobs_per_batch: JobsPerBatchOpt = DEFAULT_BATCH["max_jobs_per_batch"],
    max_wait: Annotated[
        int,
        typer.Option(
            "--batch-max-wait",
            min=1,
            metavar="SECONDS",
            help="An allocation ends after waiting this long for a job",
        ),
    ] = DEFAULT_BATCH["max_wait"],
    max_time: MaxTimeOpt = DEFAULT_BATCH["max_time"],
    parallel_jobs: ParallelOpt = DEFAULT_BATCH["parallel_jobs"],
    output: Annotated[
        Path | None,
        typer.Option(
            help="File to write (default NAME.yaml in $JFREMOTE_PROJECTS_FOLDER, else ~/.jfremote)"
        ),
    ] = None,
) -> None:
    """Write a starter jobflow-remote project: SLURM GPU and CPU workers, MongoDB stores."""
    from discoverflow.remote_project import BatchLimits, write_starter_project

    limits = BatchLimits(allocations, max_jobs_per_batch, max_wait, max_time, parallel_jobs)
    folder = os.environ.get("JFREMOTE_PROJECTS_FOLDER", str(Path.home() / ".jfremote"))
    path = output or Path(folder).expanduser() / f"{name}.yaml"
    write_starter_project(
        path,
        name=name,
        mongo_uri=mongo_uri,
        work_dir=work_dir,
        host=host,
        user=user,
        gpu_partition=gpu_partition,
        cpu_partition=cpu_partition,
        python_env=python_env,
        gpu_batch=limits if batch else None,
        cpu_batch=limits if cpu_batch else None,
    )
    batch_workers = [kind for kind, on in (("gpu", batch), ("cpu", cpu_batch)) if on]
    if batch_workers:
        say(f"batch workers: {', '.join(batch_workers)}")
    say(f"wrote {path}; check it with `jf project check -p {name}`, then `jf runner start`")


@remote_app.command("estimate", cls=Command)
def remote_estimate(
    config: ConfigArg,
    candidates: Annotated[
        int, typer.Option("--candidates", min=0, metavar="N", help="Candidates generated")
    ],
    set_: SetOpt = None,
    sites: Annotated[
        int | None,
        typer.Option(
            "--sites", min=1, metavar="N", help="Sites per candidate (default: 10, full chunks)"
        ),
    ] = None,
    selected: Annotated[
        int | None,
        typer.Option(
            "--selected",
            min=0,
            metavar="N",
            help="Candidates relaxed (default: screening.max_candidates, else all)",
        ),
    ] = None,
    job_minutes: Annotated[
        float | None,
        typer.Option(
            "--job-minutes",
            min=0,
            metavar="MINUTES",
            help="Typical minutes per job, to count allocations that reach --batch-max-time "
            "(default: none does)",
        ),
    ] = None,
    allocations: AllocationsOpt = DEFAULT_BATCH["allocations"],
    max_jobs_per_batch: JobsPerBatchOpt = DEFAULT_BATCH["max_jobs_per_batch"],
    max_time: MaxTimeOpt = DEFAULT_BATCH["max_time"],
    parallel_jobs: ParallelOpt = DEFAULT_BATCH["parallel_jobs"],
    as_json: Annotated[bool, typer.Option("--json", help="The estimate as JSON rows")] = False,
) -> None:
    """Jobs a fresh campaign creates per stage, and the queue allocations they take with
    plain workers (one per job) and with batch workers."""
    from discoverflow.campaigns import load_campaign
    from discoverflow.remote import DEFAULT_SITES, campaign_jobs
    from discoverflow.remote_project import BatchLimits

    campaign = load_campaign(config, set_ or [])
    stages = campaign_jobs(campaign, candidates, sites or DEFAULT_SITES, selected)
    limits = BatchLimits(
        allocations, max_jobs_per_batch, max_time=max_time, parallel_jobs=parallel_jobs
    )
    job_seconds = job_minutes * 60 if job_minutes else None
    rows = estimate_rows(stages, limits, job_seconds)
    if as_json:
        print(json.dumps(rows, indent=1))
    else:
        say(estimate_table(f"{campaign.name}: {candidates} candidates", rows, limits))


BATCHED_ON = {"plain": (), "batch_gpu": ("gpu",), "batch_gpu_cpu": ("gpu", "cpu")}
"""The worker set-ups an estimate compares: which kinds of worker run batch allocations."""


def estimate_rows(
    stages: list[StageJobs], limits: BatchLimits, job_seconds: float | None
) -> list[dict]:
    """Jobs and allocations (per worker set-up of ``BATCHED_ON``) per stage, then in all per
    kind of worker and for both."""

    def row(label: str, runs_on: str, chosen: list[StageJobs]) -> dict:
        return {
            "stage": label,
            "runs_on": runs_on,
            "jobs": sum(s.jobs for s in chosen),
            "allocations": {
                name: sum(
                    s.allocations(limits if s.runs_on in batch_on else None, job_seconds)
                    for s in chosen
                )
                for name, batch_on in BATCHED_ON.items()
            },
        }

    rows = [row(stage.stage, stage.runs_on, [stage]) for stage in stages]
    rows += [row("all", kind, [s for s in stages if s.runs_on == kind]) for kind in ("gpu", "cpu")]
    return [*rows, row("all", "gpu+cpu", stages)]


def estimate_table(title: str, rows: list[dict], limits: BatchLimits) -> Table:
    """``estimate_rows`` as a table: with plain workers, a batch GPU worker (``remote init``'s
    default) and batch GPU and CPU workers."""
    per_job = f"{limits.max_jobs_per_batch} jobs" if limits.max_jobs_per_batch else "no job limit"
    table = Table(
        title=title,
        caption=f"batch workers: {limits.allocations} allocations at a time, {per_job} per "
        f"allocation, {limits.parallel_jobs} at once, none started after {limits.max_time} s; "
        "each stage's jobs counted as released together, with no allocation left waiting "
        "from the stage before",
    )
    table.add_column("stage", no_wrap=True)
    table.add_column("runs on", no_wrap=True)
    for column in ("jobs", "allocations: plain", "batch GPU", "batch GPU+CPU"):
        table.add_column(column, justify="right", no_wrap=True)
    totals = sum(r["stage"] == "all" for r in rows)
    for index, r in enumerate(rows):
        table.add_row(
            r["stage"],
            r["runs_on"],
            str(r["jobs"]),
            *(str(r["allocations"][name]) for name in BATCHED_ON),
            end_section=index == len(rows) - totals - 1,
        )
    return table
