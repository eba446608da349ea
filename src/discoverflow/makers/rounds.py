"""The one rounds loop: each round's jobs run, an update folds their outputs into the state,
and the next round replaces the update, until the state says the work is done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from jobflow import Flow, Job, Maker, Response, job

from discoverflow.routing import JobStage, RunsOn, place, route_new_jobs


@dataclass
class RoundsMaker(Maker):
    """Base of Makers that work in rounds on a pydantic state with a ``round`` counter.

    Subclasses say when to stop (``finished``), what a round runs (``plan``: its jobs and
    the outputs the update needs), how the outputs change the state (``advance``) and what
    the last round leaves (``finish``: a document, or a job whose output is the result).
    Each update job outputs the state after its round (stage ``update_stage``), from which
    a campaign resumes; round jobs have stage ``round_stage``; both run on ``runs_on``.
    """

    name: str = "rounds"
    round_stage: ClassVar[JobStage]
    update_stage: ClassVar[JobStage]
    runs_on: ClassVar[RunsOn] = RunsOn.CPU

    def finished(self, state: Any, inputs: Any) -> bool:
        raise NotImplementedError

    def plan(self, state: Any, inputs: Any) -> tuple[list[Job | Flow], dict[str, Any]]:
        raise NotImplementedError

    def advance(self, state: Any, outputs: dict[str, Any], inputs: Any) -> Any:
        raise NotImplementedError

    def finish(self, state: Any) -> Job | Any:
        raise NotImplementedError

    def next_round(self, state: Any, inputs: Any = None) -> Job:
        """The job that runs (or ends) the rounds from ``state``."""
        return self.tagged(self.round(state, inputs), self.round_stage, "round")

    def tagged(self, step: Job, stage: JobStage, part: str, runs_on: RunsOn | None = None) -> Job:
        """``step`` as the ``part`` of the rounds: its stage, where it runs (``runs_on``, by
        default the rounds'), and its name."""
        place(step, stage, runs_on or self.runs_on, dynamic=False)
        step.name = f"{self.name} {part}"
        return step

    @job
    def round(self, state: Any, inputs: Any = None) -> Response:
        if self.finished(state, inputs):
            final = self.finish(state)
            if isinstance(final, Job | Flow):
                return Response(addition=route_new_jobs(final), output=final.output)
            return Response(output=final)
        jobs, outputs = self.plan(state, inputs)
        update = self.tagged(self.update(state, outputs, inputs), self.update_stage, "update")
        flow = Flow([*jobs, update], output=update.output, name=f"{self.name} round {state.round}")
        return Response(replace=route_new_jobs(flow))

    @job
    def update(self, state: Any, outputs: dict[str, Any], inputs: Any = None) -> Response:
        state = self.advance(state, outputs, inputs)
        return Response(output=state, replace=route_new_jobs(self.next_round(state, inputs)))
