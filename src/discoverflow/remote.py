"""jobflow-remote: GPU/CPU routing, campaign submission and a starter project file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from typing import TYPE_CHECKING

from jobflow import JobStore
from jobflow_remote import JobController, submit_flow
from qtoolkit.io.shell import ShellIO, ShellState

from discoverflow.campaigns.crystal.config import CampaignConfig
from discoverflow.core.crystal.scorecard import audit_size
from discoverflow.errors import DiscoverflowError
from discoverflow.makers.crystal.chunks import (
    MAX_CANDIDATES_PER_CHUNK,
    MAX_SITES_PER_CHUNK,
    chunk_bounds,
)
from discoverflow.remote_project import BatchLimits, reachable_project
from discoverflow.routing import ROUTING_KEY, JobStage, RunsOn, route
from discoverflow.stores import (
    DOCUMENT_COLLECTIONS,
    document_store,
    ensure_document_indexes,
)

if TYPE_CHECKING:
    from discoverflow.campaigns.base import Campaign

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
    return reachable_project(project).get_jobstore()


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
    store = project_jobstore(project)
    if active := active_campaign_jobs(campaign.name, project):
        raise DiscoverflowError(
            f"campaign {campaign.name!r} still has {active} jobs queued or running (or failed); "
            "wait for them, or rerun failed ones with `jf job rerun`"
        )
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


@dataclass(frozen=True)
class StageJobs:
    """The jobs a campaign stage creates: how many, where they run, and whether they are
    released together (a fan-out) or one after another."""

    stage: JobStage
    runs_on: RunsOn
    jobs: int
    together: bool = True

    def allocations(self, batch: BatchLimits | None, job_seconds: float | None = None) -> int:
        """Queue allocations for these jobs: one each, or shared in a batch worker's."""
        if batch is None:
            return self.jobs
        if self.together:
            return batch.allocations_for(self.jobs, job_seconds)
        return self.jobs * batch.allocations_for(1)


def fanout(stage: JobStage, jobs: StageJobs, collect: JobStage) -> list[StageJobs]:
    """A job replaced at run time by ``jobs`` and a ``collect`` job; jobflow adds one job
    under the fan-out's own stage that stores the replacing flow's output."""
    return [
        StageJobs(stage, RunsOn.CPU, 2, together=False),
        jobs,
        StageJobs(collect, RunsOn.CPU, 1),
    ]


def chunk_count(n_sites: Sequence[int]) -> list[int]:
    """The candidates in each generation chunk of candidates with these site counts."""
    return [stop - start for start, stop in chunk_bounds(n_sites)]


def crystal_stage_jobs(
    config: CampaignConfig,
    n_sites: Sequence[int],
    selected: int | None = None,
    audited: int | None = None,
) -> list[StageJobs]:
    """The jobs a fresh crystal campaign creates for candidates of ``n_sites`` sites each
    (all passing the validity filter), ``selected`` of them relaxed (by default
    ``screening.max_candidates``, else all) and ``audited`` rejected ones relaxed as the
    scorecard's control sample (by default ``screening.audit_fraction`` of the others)."""
    if config.relax.pattern != "relax" or config.relax.maker or config.relax.engine == "vasp":
        raise DiscoverflowError(
            "estimate: only ML relax engines with relax.pattern 'relax' are estimated"
        )
    chunks = chunk_count(n_sites)
    screen_batches = sum(ceil(size / config.screening.batch_size) for size in chunks)
    stages = [
        StageJobs(JobStage.REFERENCE_RELAX, RunsOn.GPU, 1),
        StageJobs(JobStage.REFERENCES, RunsOn.CPU, 1),
        StageJobs(JobStage.GENERATION, RunsOn.CPU, 1),
        StageJobs(JobStage.GENERATION_CHUNK, RunsOn.CPU, len(chunks)),
    ]
    if config.validity.enabled:
        stages += [
            StageJobs(JobStage.VALIDITY, RunsOn.CPU, 1),
            StageJobs(JobStage.VALIDITY_CHUNK, RunsOn.CPU, len(chunks)),
        ]
    stages += fanout(
        JobStage.SCREEN_FANOUT,
        StageJobs(JobStage.SCREEN_BATCH, RunsOn.GPU, screen_batches),
        JobStage.SCREEN,
    )
    if config.dedup.enabled:
        stages.append(StageJobs(JobStage.DEDUP, RunsOn.CPU, 1))
    if config.property_screen.enabled:
        stages.append(StageJobs(JobStage.PROPERTY_SCREEN, RunsOn.GPU, 1))
    if selected is None:
        selected = config.screening.max_candidates or len(n_sites)
    relaxed = min(selected, len(n_sites))
    relax_batches = StageJobs(
        JobStage.RELAX_BATCH, RunsOn.GPU, ceil(relaxed / config.relax.batch_size)
    )
    relax = fanout(JobStage.RELAX_FANOUT, relax_batches, JobStage.RELAX)
    if audited is None:
        screening = config.screening
        audited = audit_size(len(n_sites) - relaxed, screening.audit_fraction, screening.audit_max)
    audit_batches = StageJobs(
        JobStage.AUDIT_RELAX, RunsOn.GPU, ceil(audited / config.relax.batch_size)
    )
    audit = [
        StageJobs(JobStage.AUDIT_SAMPLE, RunsOn.CPU, 1),
        *fanout(JobStage.AUDIT_RELAX, audit_batches, JobStage.AUDIT_RELAX),
        StageJobs(JobStage.AUDIT, RunsOn.CPU, 1),
    ]
    hull = [StageJobs(JobStage.HULL_ANALYSIS, RunsOn.CPU, 1)]
    hull.append(StageJobs(JobStage.KNOWN_PHASES, RunsOn.CPU, 1))
    if config.hull.ensemble:
        hull.append(StageJobs(JobStage.STABILITY_SPREAD, RunsOn.GPU, 1))
    ends = [
        StageJobs(stage, RunsOn.CPU, 1)
        for stage in (
            JobStage.HULL,
            JobStage.SCORECARD,
            JobStage.SCORECARD_OUTPUTS,
            JobStage.HULL_OUTPUTS,
            JobStage.DOCUMENTS,
        )
    ]
    return [*stages, *relax, *hull, *audit, *ends]


ESTIMATES = {CampaignConfig: crystal_stage_jobs}
"""Campaign file types whose jobs ``campaign_jobs`` estimates."""
DEFAULT_SITES = MAX_SITES_PER_CHUNK // MAX_CANDIDATES_PER_CHUNK
"""Sites per candidate: the most that still fill generation chunks with candidates."""


def campaign_jobs(
    campaign: Campaign, candidates: int, sites: int = DEFAULT_SITES, selected: int | None = None
) -> list[StageJobs]:
    """The jobs a fresh campaign of ``candidates`` candidates of ``sites`` sites each
    creates, ``selected`` of them relaxed (default: as many as the screen may keep)."""
    if candidates < 0 or sites < 1 or (selected is not None and selected < 0):
        raise DiscoverflowError("estimate: candidates and selected >= 0, sites >= 1")
    estimate = ESTIMATES.get(type(campaign.config))
    if estimate is None:
        raise DiscoverflowError(f"estimate: {campaign.kind} campaigns are not estimated yet")
    return estimate(campaign.config, [sites] * candidates, selected)
