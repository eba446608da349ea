"""Where jobs run: each job declares ``runs_on`` (gpu or cpu) in its metadata; a routing
table maps that to a jobflow-remote worker, exec config and resources."""

from __future__ import annotations

from jobflow import CURRENT_JOB, Flow, Job

ROUTING_KEY = "routing"


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
