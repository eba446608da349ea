"""The last job of a flow composed in Python: the per-item documents of its results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobflow import CURRENT_JOB, Job, JobStore, Maker, job

from discoverflow.builders.documents import RecordSelection, build_documents
from discoverflow.makers.documents import DEFAULT_CAMPAIGN, FINGERPRINT_KEYS, WRITES_RECORDS
from discoverflow.routing import JobStage, RunsOn, placed
from discoverflow.schemas.candidate import CANDIDATES, MOFS
from discoverflow.stores import shared_job_store


@dataclass
class DocumentsMaker(Maker):
    """Build the ``candidates`` and ``mofs`` documents from the records of the running
    flow's campaign (``flow_selection``). Give it the outputs it must wait for (e.g. the
    hull's).

    Parameters
    ----------
    name
        The job's (or flow's) name.
    collections
        The per-item collections to build (candidates, mofs).
    """

    name: str = "documents"
    collections: tuple[str, ...] = (CANDIDATES, MOFS)

    @job(config=WRITES_RECORDS, metadata=placed(JobStage.DOCUMENTS, RunsOn.CPU))
    def make(self, *after: Any) -> dict[str, int]:
        """The stage's jobs.

        Parameters
        ----------
        after
            Outputs of the jobs it runs after (not read).

        Returns
        -------
        dict[str, int]
            Documents written per collection.
        """
        running, store = CURRENT_JOB.job, CURRENT_JOB.store
        selection = flow_selection(running, store)
        campaign = running.metadata.get("campaign") or DEFAULT_CAMPAIGN
        return {
            collection: len(build_documents(store, campaign, collection, selection).current)
            for collection in self.collections
        }


def campaign_selection(fingerprints: dict[str, str]) -> RecordSelection:
    """The records of a crystal campaign's current fingerprints (``stage_fingerprints``)."""
    return RecordSelection(
        fingerprints={stage: fingerprints[key] for stage, key in FINGERPRINT_KEYS.items()}
    )


def flow_selection(running: Job, store: JobStore) -> RecordSelection:
    """The campaign's current fingerprints where the job has them, else every record of its
    named campaign, else (a flow composed without a campaign) the records of the jobs of
    the flow it runs in."""
    if fingerprints := running.metadata.get("fingerprints"):
        return campaign_selection(fingerprints)
    if running.metadata.get("campaign"):
        return RecordSelection()
    flow = running.hosts[-1] if running.hosts else None
    criteria = {"hosts": flow} if flow else {"uuid": running.uuid}
    jobs = [doc["uuid"] for doc in shared_job_store(store).query(criteria, properties=["uuid"])]
    return RecordSelection(job_uuids=[*jobs, running.uuid])
