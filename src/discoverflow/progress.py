"""Progress hooks: jobs report work done; the CLI shows it, elsewhere it goes nowhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from discoverflow.routing import JobStage, running_job_stage


class ProgressReporter(Protocol):
    def start(self, description: str, total: int) -> Callable[[int], None]: ...

    def finish(self, description: str) -> None: ...


_reporter: ProgressReporter | None = None


def set_reporter(reporter: ProgressReporter | None) -> None:
    global _reporter
    _reporter = reporter


@contextmanager
def stage_progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n=1)`` for a unit of work of size ``total``."""
    if _reporter is None:
        yield lambda n=1: None
        return
    advance = _reporter.start(description, total)
    try:
        yield lambda n=1: advance(n)
    finally:
        _reporter.finish(description)


def running_stage(default: str) -> str:
    """A progress label from the running job's stage (e.g. references vs candidates)."""
    labels = {JobStage.REFERENCE_RELAX: "references", JobStage.RELAX_BATCH: "relax"}
    return labels.get(running_job_stage(), default)
