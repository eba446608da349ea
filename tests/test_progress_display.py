"""Progress of a run written to a log: stage lines and counts, not bars."""

import io

from rich.console import Console

from discoverflow.progress import stage_progress
from discoverflow.progress_display import LineReporter, run_progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_stage_starts_ends_and_counts_now_and_then():
    out, clock = io.StringIO(), Clock()
    reporter = LineReporter(Console(file=out, width=200), every=30, clock=clock)
    for _ in range(3):  # three batches of 4 screened, 10 s each: one stage
        advance = reporter.start("screen", 4)
        for _ in range(4):
            clock.now += 2.5
            advance()
        reporter.finish("screen")
    advance = reporter.start("relax", 2)  # the next stage starts: screening has ended
    clock.now += 5
    advance(2)
    reporter.finish("relax")
    reporter.end_finished()  # the run ends
    assert out.getvalue().splitlines() == [
        "screen: started (4 to do)",
        "screen: 12/12",  # 30 s after it started
        "screen: done 12/12 in 30 s",
        "relax: started (2 to do)",
        "relax: done 2/2 in 5 s",
    ]


def test_a_run_piped_to_a_file_reports_in_lines():
    out = io.StringIO()
    console = Console(file=out, width=200)
    assert not console.is_terminal
    with run_progress(console), stage_progress("relax", 3) as advance:
        for _ in range(3):
            advance()
    assert out.getvalue().splitlines()[0] == "relax: started (3 to do)"
    assert out.getvalue().splitlines()[-1].startswith("relax: done 3/3 in ")
    assert "━" not in out.getvalue()  # no bar
