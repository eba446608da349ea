"""The one rounds loop: each round's jobs run, an update folds their outputs into the state,
and the next round replaces the update, until the state says the work is done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from jobflow import Flow, Job, Maker, Response, job

from discoverflow.routing import route_new_jobs


@dataclass
class RoundsMaker(Maker):
    """Base of Makers that work in rounds on a pydantic state with a ``round`` counter.

    Subclasses say when to stop (``finished``), what a round runs (``plan``: its jobs and
    the outputs the update needs), how the outputs change the state (``advance``) and what
    the last round leaves (``finish``: a document, or a job whose output is the result).
    Each update job outputs the state after its round (stage ``<stage>-update``), from which
    a campaign resumes.
    """

    name: str = "rounds"
    stage: ClassVar[str] = "rounds"
    runs_on: ClassVar[str] = "cpu"

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
        return self.tagged(self.round(state, inputs), "round")

    def tagged(self, step: Job, part: str) -> Job:
        step.metadata.update({"stage": f"{self.stage}-{part}", "runs_on": self.runs_on})
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
        update = self.tagged(self.update(state, outputs, inputs), "update")
        flow = Flow([*jobs, update], output=update.output, name=f"{self.name} round {state.round}")
        return Response(replace=route_new_jobs(flow))

    @job
    def update(self, state: Any, outputs: dict[str, Any], inputs: Any = None) -> Response:
        state = self.advance(state, outputs, inputs)
        return Response(output=state, replace=route_new_jobs(self.next_round(state, inputs)))
