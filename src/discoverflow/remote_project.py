"""A starter jobflow-remote project file: SLURM GPU and CPU workers (batch workers by
default), MongoDB queue and JobStore."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, floor
from pathlib import Path

import yaml
from jobflow_remote.config.base import Project

from discoverflow.errors import DiscoverflowError
from discoverflow.stores import check_reachable, mongo_uri_of

LAST_JOB_HOURS = 1
"""Walltime a batch allocation has beyond ``max_time`` for the last job it started."""


@dataclass(frozen=True)
class BatchLimits:
    """A jobflow-remote batch worker: up to ``allocations`` queue allocations at a time, each
    running jobs (``parallel_jobs`` at once) until it has started ``max_jobs_per_batch`` per
    slot, found none for ``max_wait`` seconds, or run ``max_time`` seconds."""

    allocations: int = 4
    max_jobs_per_batch: int | None = None
    max_wait: int = 300
    max_time: int = 3 * 3600
    parallel_jobs: int = 1

    def batch_section(self, folder: str) -> dict:
        """The worker's ``batch`` section, with its folders under ``folder``."""
        section = {"jobs_handle_dir": f"{folder}/jobs", "work_dir": f"{folder}/allocations"}
        if self.max_jobs_per_batch:
            section["max_jobs_per_batch"] = self.max_jobs_per_batch
        return section | {
            "max_wait": self.max_wait,
            "max_time": self.max_time,
            "parallel_jobs": self.parallel_jobs,
        }

    def walltime(self) -> str:
        """The allocation's SLURM time limit: ``max_time`` and room for a last job."""
        minutes = -(-self.max_time // 60) + 60 * LAST_JOB_HOURS
        return f"{minutes // 60:02d}:{minutes % 60:02d}:00"

    def allocations_for(self, jobs: int, job_seconds: float | None = None) -> int:
        """Allocations that run ``jobs`` released together (e.g. one stage's batches), each
        taking ``job_seconds`` (default: too short to reach ``max_time``).

        The runner submits one allocation per ``parallel_jobs`` waiting jobs, up to
        ``allocations`` at a time, and a new one when one ends while jobs still wait.
        """
        if jobs <= 0:
            return 0
        at_once = min(self.allocations, ceil(jobs / self.parallel_jobs))
        per_slot = [self.max_jobs_per_batch] if self.max_jobs_per_batch else []
        if job_seconds:
            per_slot.append(floor(self.max_time / job_seconds) + 1)
        if not per_slot:
            return at_once
        return max(at_once, ceil(jobs / (min(per_slot) * self.parallel_jobs)))


def starter_project(
    name: str,
    mongo_uri: str,
    work_dir: str,
    host: str | None = None,
    user: str | None = None,
    gpu_partition: str = "gpu",
    cpu_partition: str = "cpu",
    python_env: str | None = None,
    gpu_batch: BatchLimits | None = BatchLimits(),
    cpu_batch: BatchLimits | None = None,
) -> dict:
    """A jobflow-remote project: a SLURM GPU worker and CPU worker, MongoDB queue and JobStore.

    A worker with ``BatchLimits`` is a batch worker: its jobs run one after another inside
    a few queue allocations instead of one queue job each.
    """
    runs = work_dir.rstrip("/")

    def worker(kind: str, partition: str, device: str, extra: dict, batch) -> dict:
        spec = {
            "scheduler_type": "slurm",
            "work_dir": f"{runs}/{partition}",
            "resources": {"partition": partition, **extra},
            "pre_run": "\n".join(
                line
                for line in (
                    f"source {python_env}/bin/activate" if python_env else None,
                    f"export DISCOVERFLOW_DEVICE={device}",
                    f"export DISCOVERFLOW_STORE='{mongo_uri}'",
                    f"export DISCOVERFLOW_DATABASE={name}",
                )
                if line
            ),
        }
        if batch is not None:
            spec["resources"]["time"] = batch.walltime()
            spec["max_jobs"] = batch.allocations
            spec["batch"] = batch.batch_section(f"{runs}/batch/{kind}")
        if host:
            spec.update({"type": "remote", "host": host, **({"user": user} if user else {})})
        else:
            spec["type"] = "local"
        return spec

    return {
        "name": name,
        "workers": {
            "gpu": worker("gpu", gpu_partition, "cuda", {"gres": "gpu:1"}, gpu_batch),
            "cpu": worker("cpu", cpu_partition, "cpu", {}, cpu_batch),
        },
        "queue": {
            "store": {
                "type": "MongoStore",
                "uri": mongo_uri,
                "database": name,
                "collection_name": "jobs",
            }
        },
        "jobstore": {
            "docs_store": {
                "type": "MongoStore",
                "uri": mongo_uri,
                "database": name,
                "collection_name": "outputs",
            },
            "additional_stores": {
                "data": {
                    "type": "GridFSStore",
                    "uri": mongo_uri,
                    "database": name,
                    "collection_name": "outputs_data",
                },
            },
        },
    }


def write_starter_project(path: Path, **options) -> Path:
    """Write a starter project after jobflow-remote has validated it."""
    if path.exists():
        raise DiscoverflowError(f"{path} exists; not overwriting it")
    work_dir = options.get("work_dir")
    if work_dir is None:
        if options.get("host"):
            raise DiscoverflowError(
                "--work-dir: give the run folder's absolute path on the cluster"
            )
        work_dir = options["work_dir"] = str(Path.home() / "discoverflow-runs")
    elif work_dir.startswith("~") and not options.get("host"):
        work_dir = options["work_dir"] = str(Path(work_dir).expanduser())
    if not Path(work_dir).is_absolute():
        raise DiscoverflowError(f"--work-dir must be an absolute path, not {work_dir}")
    project = starter_project(**options)
    try:
        Project.model_validate(project)
    except ValueError as exc:
        raise DiscoverflowError(f"invalid project: {str(exc).splitlines()[0]}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(project, sort_keys=False))
    return path


def reachable_project(project: str | None = None) -> Project:
    """A jobflow-remote project (the current one by default) whose queue and JobStore
    databases answer a ping: one line in seconds when they do not, not pymongo's 30 s."""
    from jobflow_remote import ConfigManager

    try:
        found = ConfigManager().get_project(project)
        stores = [found.get_queue_store(), found.get_jobstore().docs_store]
    except Exception as exc:
        raise DiscoverflowError(f"jobflow-remote project {project or '(default)'}: {exc}") from None
    for uri in dict.fromkeys(mongo_uri_of(store) for store in stores):
        if uri is not None:
            check_reachable(uri)
    return found
