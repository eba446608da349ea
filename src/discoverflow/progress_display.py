"""What ``discoverflow run`` shows while a campaign runs: bars on a terminal, and in a log
(stdout a file or a pipe) a line when a stage starts and when it ends, and its count now
and then in between."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from discoverflow.progress import ProgressReporter, set_reporter

COUNT_EVERY_S = 30.0


class RichReporter:
    """Progress bars per stage; batches of one stage add to the same bar."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def start(self, description: str, total: int) -> Callable[[int], None]:
        if description not in self.tasks:
            self.tasks[description] = self.progress.add_task(description, total=total)
        else:
            task = self.tasks[description]
            self.progress.update(task, total=self.progress.tasks[task].total + total)
        task = self.tasks[description]
        return lambda n=1: self.progress.advance(task, n)

    def finish(self, description: str) -> None:
        self.progress.refresh()


@dataclass
class StageCount:
    total: int
    started: float
    done: int = 0
    shown: float = 0.0
    ended: bool = False


class LineReporter:
    """Progress as lines for a log: ``stage: started (N to do)`` when a stage starts, its
    count every ``every`` seconds while it runs, and ``stage: done N/N in T s`` when it ends
    (another stage starts, or the run ends). Batches of one stage add to its count."""

    def __init__(
        self,
        console: Console,
        every: float = COUNT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.every = every
        self.clock = clock
        self.stages: dict[str, StageCount] = {}

    def say(self, line: str) -> None:
        self.console.print(line, highlight=False, markup=False)

    def start(self, description: str, total: int) -> Callable[[int], None]:
        self.end_finished(but=description)
        now = self.clock()
        stage = self.stages.get(description)
        if stage is None or stage.ended:
            stage = self.stages[description] = StageCount(total, now, shown=now)
            self.say(f"{description}: started ({total} to do)")
        else:
            stage.total += total

        def advance(n: int = 1) -> None:
            stage.done += n
            if self.clock() - stage.shown >= self.every:
                stage.shown = self.clock()
                self.say(f"{description}: {stage.done}/{stage.total}")

        return advance

    def finish(self, description: str) -> None:
        """A batch ended; its stage ends when the next stage starts or the run ends."""

    def end_finished(self, but: str | None = None) -> None:
        """Say that each stage whose work is all done has ended (all but ``but``)."""
        for description, stage in self.stages.items():
            if description != but and not stage.ended and stage.done >= stage.total:
                stage.ended = True
                seconds = self.clock() - stage.started
                self.say(f"{description}: done {stage.done}/{stage.total} in {seconds:.0f} s")


@contextmanager
def reporting(reporter: ProgressReporter) -> Iterator[ProgressReporter]:
    set_reporter(reporter)
    try:
        yield reporter
    finally:
        set_reporter(None)


@contextmanager
def run_progress(console: Console) -> Iterator[ProgressReporter]:
    """The progress of a run, for as long as it runs: bars when ``console`` is a terminal,
    else lines."""
    if console.is_terminal:
        columns = (
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with (
            Progress(*columns, console=console, transient=False) as progress,
            reporting(RichReporter(progress)) as reporter,
        ):
            yield reporter
        return
    lines = LineReporter(console)
    try:
        with reporting(lines) as reporter:
            yield reporter
    finally:
        lines.end_finished()
