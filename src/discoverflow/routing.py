"""What each job is and where it runs: a job's metadata names its ``stage`` (a ``JobStage``)
and ``runs_on`` (gpu or cpu), declared with ``placed`` in its ``@job`` decorator, or with
``place`` where only the running flow knows them; a routing table maps ``runs_on`` to a
jobflow-remote worker, exec config and resources."""

from __future__ import annotations

from enum import StrEnum

from jobflow import CURRENT_JOB, Flow, Job

ROUTING_KEY = "routing"


class RunsOn(StrEnum):
    """The kind of worker a job needs."""

    GPU = "gpu"
    CPU = "cpu"


class JobStage(StrEnum):
    """The ``stage`` of a job's metadata, by which the store is queried
    (``{"metadata.stage": "relax-batch"}``) and a resumed campaign finds finished work."""

    REFERENCES = "references"
    REFERENCE_RELAX = "reference-relax"
    GENERATION = "generation"
    GENERATION_CHUNK = "generation-chunk"
    CHUNKS_FINISH = "chunks-finish"
    VALIDITY = "validity"
    VALIDITY_CHUNK = "validity-chunk"
    SCREEN_FANOUT = "screen-fanout"
    SCREEN_BATCH = "screen-batch"
    SCREEN = "screen"
    DEDUP = "dedup"
    PROPERTY_SCREEN = "property-screen"
    RELAX_FANOUT = "relax-fanout"
    RELAX_BATCH = "relax-batch"
    RELAX_TASK = "relax-task"
    RELAX_MERGE = "relax-merge"
    RELAX = "relax"
    ACTIVE_ROUND = "active-round"
    ACTIVE_UPDATE = "active-update"
    HULL_ANALYSIS = "hull-analysis"
    KNOWN_PHASES = "known-phases"
    STABILITY_SPREAD = "stability-spread"
    HULL = "hull"
    HULL_OUTPUTS = "hull-outputs"
    AUDIT_SAMPLE = "audit-sample"
    AUDIT_RELAX = "audit-relax"
    AUDIT = "audit"
    SCORECARD = "scorecard"
    SCORECARD_OUTPUTS = "scorecard-outputs"
    DOCUMENTS = "documents"
    MOF_READ = "mof-read"
    MOF_EVALUATION = "mof-evaluation"
    MOF_LINKERS = "mof-linkers"
    MOF_ASSEMBLY = "mof-assembly"
    MOF_CHARACTERISATION = "mof-characterisation"
    MOF_STABILITY = "mof-stability"
    MOF_SELECT = "mof-select"
    MOF_ADSORPTION = "mof-adsorption"
    MOF_ROUND = "mof-round"
    MOF_UPDATE = "mof-update"
    MOF_RETRAIN = "mof-retrain"
    MOF_SUMMARY = "mof-summary"


def placed(stage: JobStage | None = None, runs_on: RunsOn | None = None) -> dict[str, str]:
    """A job's ``stage`` and ``runs_on`` metadata, as plain strings (what the store holds
    and is queried by; an enum member would be stored as an MSON dict)."""
    found = {"stage": stage, "runs_on": runs_on}
    return {key: str(value) for key, value in found.items() if value is not None}


def place(
    step: Job | Flow,
    stage: JobStage | None = None,
    runs_on: RunsOn | None = None,
    dynamic: bool = True,
) -> Job | Flow:
    """``step`` (every job of a flow, and with ``dynamic`` the jobs they create at run time)
    with its ``stage`` and ``runs_on`` set, where they are known only when the flow is
    built; ``step`` is returned."""
    step.update_metadata(placed(stage, runs_on), dynamic=dynamic)
    return step


def running_job_stage() -> JobStage | None:
    """The stage of the running job (None outside a job or for a job without one)."""
    running = CURRENT_JOB.job
    stage = running.metadata.get("stage") if running is not None else None
    try:
        return JobStage(stage)
    except ValueError:
        return None


def iter_jobs(flow_or_job: Flow | Job):
    if isinstance(flow_or_job, Job):
        yield flow_or_job
        return
    for item in flow_or_job.jobs:
        yield from iter_jobs(item)


def route(flow_or_job: Flow | Job, routing: dict[str, dict]) -> Flow | Job:
    """Set ``manager_config`` (worker, exec_config, resources) on every job from its ``runs_on``.

    Routed jobs stop passing their own manager config to the jobs they create at run time
    (jobflow's default), which are routed by ``route_new_jobs`` instead.
    """
    for job in iter_jobs(flow_or_job):
        settings = routing.get(job.metadata.get("runs_on", ""))
        if settings:
            job.config.manager_config = {**job.config.manager_config, **settings}
            job.config.pass_manager_config = False
    return flow_or_job


def route_new_jobs(flow_or_job: Flow | Job) -> Flow | Job:
    """Route jobs created at run time with the table the running job carries, if any."""
    running = CURRENT_JOB.job
    routing = running.metadata.get(ROUTING_KEY) if running is not None else None
    return route(flow_or_job, routing) if routing else flow_or_job
