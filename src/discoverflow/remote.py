"""jobflow-remote: GPU/CPU routing, campaign submission and a starter project file."""

from __future__ import annotations

from pathlib import Path

import yaml
from jobflow import JobStore
from jobflow_remote import ConfigManager, JobController, submit_flow
from jobflow_remote.config.base import Project
from qtoolkit.io.shell import ShellIO, ShellState

from discoverflow.campaigns import Campaign
from discoverflow.errors import DiscoverflowError
from discoverflow.routing import ROUTING_KEY, route
from discoverflow.stores import (
    DOCUMENT_COLLECTIONS,
    check_reachable,
    document_store,
    ensure_document_indexes,
    mongo_uri_of,
)

FINISHED_STATES = ("COMPLETED", "CANCELLED", "STOPPED")


class LenientShellIO(ShellIO):
    """qtoolkit's shell scheduler, skipping processes in states it does not know.

    As root, ``ps`` lists kernel threads in state ``I`` (idle), which qtoolkit 0.1.7
    rejects, so no job could be checked.
    """

    def parse_jobs_list_output(self, exit_code, stdout, stderr):
        if isinstance(stdout, bytes):
            stdout = stdout.decode()
        known = {state.value for state in ShellState}
        lines = stdout.splitlines()
        kept = lines[:1] + [
            line for line in lines[1:] if len(line.split()) > 3 and line.split()[3][0] in known
        ]
        return super().parse_jobs_list_output(exit_code, "\n".join(kept) + "\n", stderr)


def project_jobstore(project: str | None = None) -> JobStore:
    """The JobStore of a jobflow-remote project (the current one by default)."""
    try:
        store = ConfigManager().get_project(project).get_jobstore()
    except Exception as exc:
        raise DiscoverflowError(f"jobflow-remote project {project or '(default)'}: {exc}") from None
    if (uri := mongo_uri_of(store.docs_store)) is not None:
        check_reachable(uri)
    return store


def active_campaign_jobs(campaign: str, project: str | None = None) -> int:
    """Jobs of this campaign still waiting or running in the project's queue."""
    controller = JobController.from_project_name(project)
    return controller.count_jobs(
        query={"job.metadata.campaign": campaign, "state": {"$nin": list(FINISHED_STATES)}}
    )  # failed jobs count: rerun them (jf job rerun) rather than submit them twice


def submit_campaign(campaign: Campaign, project: str | None = None) -> list:
    """Submit what the campaign still needs to a jobflow-remote project; return the db ids.

    Finished per-item results live in the campaign's documents in the project's database,
    so a job interrupted on one worker resumes on any other.
    """
    if active := active_campaign_jobs(campaign.name, project):
        raise DiscoverflowError(
            f"campaign {campaign.name!r} still has {active} jobs queued or running (or failed); "
            "wait for them, or rerun failed ones with `jf job rerun`"
        )
    store = project_jobstore(project)
    for name in DOCUMENT_COLLECTIONS:
        ensure_document_indexes(document_store(store, name))
    flow = campaign.build_flow(store)
    if flow is None:
        return []
    table = campaign.routing_table()
    flow.update_metadata({ROUTING_KEY: table}, dynamic=True)
    route(flow, table)
    return submit_flow(
        flow, worker=table["cpu"]["worker"], project=project, allow_external_references=True
    )


def starter_project(
    name: str,
    mongo_uri: str,
    work_dir: str,
    host: str | None = None,
    user: str | None = None,
    gpu_partition: str = "gpu",
    cpu_partition: str = "cpu",
    python_env: str | None = None,
) -> dict:
    """A jobflow-remote project: a SLURM GPU worker and CPU worker, MongoDB queue and JobStore."""

    def worker(partition: str, device: str, extra: dict) -> dict:
        spec = {
            "scheduler_type": "slurm",
            "work_dir": f"{work_dir.rstrip('/')}/{partition}",
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
        if host:
            spec.update({"type": "remote", "host": host, **({"user": user} if user else {})})
        else:
            spec["type"] = "local"
        return spec

    return {
        "name": name,
        "workers": {
            "gpu": worker(gpu_partition, "cuda", {"gres": "gpu:1"}),
            "cpu": worker(cpu_partition, "cpu", {}),
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
