"""What every campaign kind shares: the common part of its file, read access to its documents
in a JobStore, and the interface every command uses (``Campaign``)."""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import ClassVar

from jobflow import Flow, Job, JobStore, run_locally
from monty.json import jsanitize
from rich.console import RenderableType

from discoverflow.builders.documents import RecordSelection, build_documents
from discoverflow.campaigns.config import CampaignConfigBase
from discoverflow.errors import DiscoverflowError
from discoverflow.makers.views import DocumentsMaker
from discoverflow.routing import JobStage
from discoverflow.schemas.records import RECORDS, Stage
from discoverflow.stores import DOCUMENT_COLLECTIONS, document_store, ensure_document_indexes


@dataclass
class ResultFilter:
    """Which results to show: all of them, only stable ones, within a hull distance (eV/atom),
    of one formula; in which order (a document field, ``-field`` for descending); each
    campaign kind applies what applies to it."""

    everything: bool = False
    stable: bool = False
    max_ehull: float | None = None
    formula: str | None = None
    sort: str | None = None

    def ordered(self, docs: list[dict]) -> list[dict]:
        """``docs`` by the ``sort`` field (documents without it last), else unchanged."""
        if not self.sort:
            return docs
        field = self.sort.removeprefix("-")
        if docs and not any(field in doc for doc in docs):
            fields = sorted({key for doc in docs for key in doc if not key.startswith("_")})
            meant = get_close_matches(field, fields, n=1)
            hint = f"did you mean {meant[0]!r}? " if meant else ""
            raise DiscoverflowError(
                f"--sort {self.sort}: no result has a field {field!r} ({hint}fields: "
                f"{', '.join(fields)})"
            )
        present = [d for d in docs if d.get(field) is not None]
        missing = [d for d in docs if d.get(field) is None]
        present.sort(key=lambda d: d[field], reverse=self.sort.startswith("-"))
        return present + missing


class CampaignRecord:
    """Read access to one campaign's documents in a JobStore."""

    def __init__(self, store: JobStore, campaign: str) -> None:
        self.store = store
        self.campaign = campaign
        store.connect()

    def docs(
        self, stage: JobStage, properties: list[str] | None = None, criteria: dict | None = None
    ) -> list[dict]:
        """The stage's job documents (the jobs' own outputs), oldest first."""
        criteria = {
            "metadata.campaign": self.campaign,
            "metadata.stage": JobStage(stage).value,
            "index": 1,
            **(criteria or {}),
        }
        fields = ["uuid", "completed_at", *(properties or [])]
        return sorted(
            self.store.query(criteria, properties=fields), key=lambda d: d.get("completed_at") or ""
        )

    def latest(self, stage: JobStage, properties: list[str] | None = None) -> dict | None:
        found = self.docs(stage, properties)
        return found[-1] if found else None

    def output(self, doc: dict | None, load: bool = False) -> dict | None:
        return self.store.get_output(doc["uuid"], load=load) if doc else None

    def results(self, stage: Stage, stamp: str, criteria: dict | None = None) -> dict[str, str]:
        """Item id -> status of the stage records under fingerprint ``stamp`` (the latest
        where several runs recorded one)."""
        found = document_store(self.store, RECORDS).query(
            {
                "campaign": self.campaign,
                "stage": stage.value,
                "fingerprint": stamp,
                **(criteria or {}),
            },
            properties=["item_id", "status", "written_at"],
            sort={"written_at": 1},
        )
        return {doc["item_id"]: doc["status"] for doc in found}

    def exists(self) -> bool:
        return self.store.count({"metadata.campaign": self.campaign}) > 0


def json_ready(doc: dict) -> dict:
    """A stored document as plain JSON (structures as dicts, datetimes as ISO strings)."""
    return jsanitize({k: v for k, v in doc.items() if k != "_id"}, strict=True, enum_values=True)


def documents_csv(docs: list[dict]) -> str:
    """Every scalar field of the documents (and the space group), one row each."""
    rows = []
    for doc in docs:
        row = {k: v for k, v in doc.items() if isinstance(v, str | int | float | bool) or v is None}
        row.pop("_id", None)
        row["space_group"] = (doc.get("symmetry") or {}).get("symbol")
        row["decomposes_to"] = " + ".join(doc.get("decomposes_to") or [])
        rows.append(row)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def campaign_flow(maker_output: Job | Flow, name: str, collection: str) -> Flow:
    """A campaign's flow: its jobs tagged with the campaign and given the store (to record
    their results), and a last job that builds the campaign's ``collection`` documents."""
    documents = DocumentsMaker(collections=(collection,)).make(maker_output.output)
    flow = Flow([maker_output, documents])
    flow.update_metadata({"campaign": name}, dynamic=True)
    flow.update_config({"expose_store": True}, attributes="expose_store", dynamic=True)
    return flow


def run_flow_locally(flow: Flow, store: JobStore, output_dir: Path) -> None:
    """Run a campaign's flow in this process, stopping at the first failed job."""
    output_dir.mkdir(parents=True, exist_ok=True)
    run_locally(
        flow,
        store=store,
        log=False,
        ensure_success=True,
        allow_external_references=True,
        raise_immediately=True,
    )


class Campaign(ABC):
    """A campaign of some kind, as every command sees it: check, build, run, report."""

    kind: ClassVar[str]
    config_type: ClassVar[type[CampaignConfigBase]]
    collection: ClassVar[str]
    """The per-item documents it fills (``candidates`` or ``mofs``)."""

    def __init__(self, config: CampaignConfigBase) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def output_dir(self) -> Path:
        return Path(self.config.output_dir)

    def routing_table(self) -> dict[str, dict]:
        return self.config.resources.routing_table()

    def describe(self) -> str:
        return self.config.describe()

    @abstractmethod
    def check_inputs(self) -> list[str]:
        """Problems with the inputs, one readable line each (empty when all is well)."""

    @abstractmethod
    def build_flow(self, store: JobStore) -> Flow | None:
        """The flow that finishes the campaign from what ``store`` holds; None if complete.

        Finished per-item results (relaxations, MD, GCMC) of unfinished jobs are read back
        from the campaign's documents in ``store``.
        """

    def run(self, store: JobStore) -> None:
        """Run (or finish) the campaign in this process; its flow's last job builds the
        documents, and a run that reuses everything, or stops at a failed job, builds them
        here."""
        for name in DOCUMENT_COLLECTIONS:
            ensure_document_indexes(document_store(store, name))
        flow = self.build_flow(store)
        finished = False
        try:
            if flow is not None:
                run_flow_locally(flow, store, self.output_dir)
            finished = True
        finally:
            self.build_view(store, documents_built=finished and flow is not None)

    def view_selection(self, store: JobStore) -> RecordSelection:
        """Which stage records make the campaign's documents (every record by default)."""
        return RecordSelection()

    def build_view(self, store: JobStore, documents_built: bool = False) -> None:
        """The campaign's per-item documents, built from its records for its settings (unless
        the flow that just ran built them)."""
        if not documents_built:
            build_documents(store, self.name, self.collection, self.view_selection(store))

    @abstractmethod
    def status_report(self, store: JobStore) -> list[RenderableType]:
        """Tables of what is done, read from the store."""

    @abstractmethod
    def results_report(
        self, store: JobStore, wanted: ResultFilter | None = None, limit: int | None = None
    ) -> list[RenderableType]:
        """Tables of the results ``wanted`` (at most ``limit`` rows)."""

    @abstractmethod
    def results_json(self, store: JobStore, wanted: ResultFilter | None = None) -> list[dict]:
        """The stored per-item documents ``wanted``, JSON-ready."""

    @abstractmethod
    def results_csv(self, store: JobStore, wanted: ResultFilter | None = None) -> str:
        """Every scalar field of the results ``wanted``, one row each."""

    def summary_json(self, store: JobStore) -> dict:
        """The campaign's summary document (its scorecard), JSON-ready."""
        raise DiscoverflowError(f"{self.kind} campaigns keep no scorecard")

    def summary_report(self, store: JobStore) -> list[RenderableType]:
        """Tables of the campaign's summary document."""
        raise DiscoverflowError(f"{self.kind} campaigns keep no scorecard")

    def summary_page(self, store: JobStore) -> Path:
        """The campaign's HTML page in ``output_dir``."""
        raise DiscoverflowError(f"{self.kind} campaigns have no campaign page")

    def run_report(self, store: JobStore) -> list[RenderableType]:
        """What ``discoverflow run`` prints at the end."""
        return [*self.status_report(store), *self.results_report(store, limit=15)]
