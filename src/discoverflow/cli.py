"""The ``discoverflow`` command."""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from discoverflow.errors import DiscoverflowError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="AI-assisted materials discovery."
)
console = Console()
error_console = Console(stderr=True)
_state = {"debug": False}

ConfigArg = Annotated[Path, typer.Argument(help="Campaign JSON file")]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="Override a config value: key.path=value")
]
ProjectOpt = Annotated[
    str | None,
    typer.Option("--project", help="Read from this jobflow-remote project's JobStore"),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store folder, mongodb:// URI or 'memory' (default DISCOVERFLOW_STORE)"
    ),
]


class RichReporter:
    """Progress bars per stage; batches of one stage add to the same bar."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def start(self, description: str, total: int):
        if description not in self.tasks:
            self.tasks[description] = self.progress.add_task(description, total=total)
        else:
            task = self.tasks[description]
            self.progress.update(task, total=self.progress.tasks[task].total + total)
        task = self.tasks[description]
        return lambda n=1: self.progress.advance(task, n)

    def finish(self, description: str) -> None:
        self.progress.refresh()


def _load(config: Path, overrides: list[str] | None):
    from discoverflow.config import load_config

    return load_config(config, overrides or [])


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def validate(config: ConfigArg, set_: SetOpt = None) -> None:
    """Check the config and its inputs without running anything."""
    campaign = _load(config, set_)
    problems = _check_inputs(campaign)
    if problems:
        for problem in problems:
            error_console.print(f"error: {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    console.print(f"[green]ok[/green]: {config} ({campaign.name}: {_describe(campaign)})")


@app.command()
def run(config: ConfigArg, set_: SetOpt = None, store: StoreOpt = None) -> None:
    """Run (or resume) a campaign locally; results go to the store."""
    from discoverflow.campaign import run_campaign
    from discoverflow.progress import set_reporter
    from discoverflow.stores import describe_store

    campaign = _load(config, set_)
    console.print(
        f"campaign [bold]{campaign.name}[/bold] ({_describe(campaign)}) -> {describe_store(store)}"
    )
    columns = (
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        set_reporter(RichReporter(progress))
        try:
            if _is_mof(campaign):
                from discoverflow.mof_campaign import run_mof_campaign

                run_mof_campaign(campaign, store)
            else:
                run_campaign(campaign, store)
        finally:
            set_reporter(None)
    if _is_mof(campaign):
        _print_mof(campaign, store)
        console.print(f"outputs in {campaign.output_dir}")
        return
    _print_status(campaign, store)
    _print_results(campaign, store, limit=15, promising_only=True)
    console.print(f"outputs in {campaign.output_dir}")


@app.command()
def submit(config: ConfigArg, set_: SetOpt = None, project: ProjectOpt = None) -> None:
    """Submit what the campaign still needs to a jobflow-remote project."""
    from discoverflow.remote import submit_campaign

    campaign = _load(config, set_)
    if problems := _check_inputs(campaign):
        raise DiscoverflowError(problems[0])
    ids = submit_campaign(campaign, project)
    if not ids:
        console.print(f"campaign {campaign.name} is complete; nothing to submit")
        return
    console.print(
        f"submitted {len(ids)} jobs of campaign {campaign.name} (db ids {ids[0]}...{ids[-1]})"
    )
    console.print("follow them with `jf job list` and `discoverflow status CONFIG --project ...`")


@app.command()
def status(
    config: ConfigArg, set_: SetOpt = None, store: StoreOpt = None, project: ProjectOpt = None
) -> None:
    """What is done per stage for this campaign."""
    campaign = _load(config, set_)
    if _is_mof(campaign):
        _print_mof(campaign, _store(store, project), mofs=False)
        return
    _print_status(campaign, _store(store, project))


@app.command()
def results(
    config: ConfigArg,
    set_: SetOpt = None,
    store: StoreOpt = None,
    project: ProjectOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list")] = False,
    everything: Annotated[bool, typer.Option("--all", help="Every generated candidate")] = False,
) -> None:
    """A table of candidates with predicted and relaxed energies and hull distances."""
    campaign = _load(config, set_)
    if _is_mof(campaign):
        _print_mof(campaign, _store(store, project), as_json=as_json)
        return
    if as_json:
        from discoverflow.report import campaign_results

        rows = campaign_results(_record(campaign, _store(store, project)), everything)
        print(json.dumps([row.as_dict() for row in rows], indent=1))
        return
    _print_results(campaign, _store(store, project), everything=everything)


remote_app = typer.Typer(help="jobflow-remote helpers.", no_args_is_help=True)
app.add_typer(remote_app, name="remote")


@remote_app.command("init")
def remote_init(
    name: Annotated[str, typer.Option(help="Project name")] = "discoverflow",
    mongo_uri: Annotated[str, typer.Option(help="MongoDB URI for queue and results")] = (
        "mongodb://localhost:27017"
    ),
    work_dir: Annotated[
        str, typer.Option(help="Run folder on the cluster")
    ] = "~/discoverflow-runs",
    host: Annotated[
        str | None, typer.Option(help="Cluster login host (omit to run locally)")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Login user")] = None,
    gpu_partition: Annotated[str, typer.Option(help="SLURM partition for GPU jobs")] = "gpu",
    cpu_partition: Annotated[str, typer.Option(help="SLURM partition for CPU jobs")] = "cpu",
    python_env: Annotated[
        str | None, typer.Option(help="Virtual environment on the cluster to activate")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="File to write (default ~/.jfremote/NAME.yaml)")
    ] = None,
) -> None:
    """Write a starter jobflow-remote project: SLURM GPU and CPU workers, MongoDB stores."""
    from discoverflow.remote import write_starter_project

    path = output or Path.home() / ".jfremote" / f"{name}.yaml"
    write_starter_project(
        path,
        name=name,
        mongo_uri=mongo_uri,
        work_dir=work_dir,
        host=host,
        user=user,
        gpu_partition=gpu_partition,
        cpu_partition=cpu_partition,
        python_env=python_env,
    )
    console.print(
        f"wrote {path}; check it with `jf project check -p {name}`, then `jf runner start`"
    )


def _is_mof(campaign) -> bool:
    return getattr(campaign, "workflow", "crystal") == "mof"


def _describe(campaign) -> str:
    if _is_mof(campaign):
        return f"MOFs: {campaign.assembly.node} on {campaign.assembly.topology}"
    return "-".join(campaign.elements)


def _check_inputs(campaign) -> list[str]:
    if _is_mof(campaign):
        from discoverflow.mof_campaign import check_mof_inputs

        return check_mof_inputs(campaign)
    from discoverflow.campaign import check_inputs

    return check_inputs(campaign)


def _print_mof(campaign, store, mofs: bool = True, as_json: bool = False) -> None:
    """Per-round summary and, with ``mofs``, every MOF of a MOF campaign."""
    from jobflow import JobStore

    from discoverflow.mof_campaign import round_states, stored_summary
    from discoverflow.stores import make_store

    job_store = store if isinstance(store, JobStore) else make_store(store)
    document = stored_summary(job_store, campaign.name)
    states = round_states(job_store, campaign.name)
    rounds = document.rounds if document else (states[-1].summaries if states else [])
    results = document.results if document else (states[-1].results if states else [])
    if not rounds:
        raise DiscoverflowError(f"no results for campaign {campaign.name!r} in this store")
    if as_json:
        print(json.dumps([r.model_dump() for r in results], indent=1))
        return
    table = Table(title=f"{campaign.name}: rounds ({'finished' if document else 'running'})")
    for column in (
        "round",
        "gen",
        "linkers",
        "MOFs",
        "rejected",
        "stable",
        "CO2 max",
        "trained on",
    ):
        table.add_column(column, no_wrap=True)
    for s in rounds:
        table.add_row(
            str(s.round),
            f"v{s.generator_version}",
            f"{s.linkers_valid}/{s.linkers_proposed}",
            str(s.mofs_assembled),
            str(s.mofs_rejected),
            f"{s.stable}/{s.mofs_validated}",
            _fmt(s.best_uptake),
            f"{s.training_set}, {s.training_basis}" if s.retrained else "",
        )
    console.print(table)
    if not mofs:
        return
    ranked = sorted(
        results,
        key=lambda r: (-(r.uptake_mol_per_kg or -1), r.strain if r.strain is not None else 9),
    )
    table = Table(title=f"{campaign.name}: MOFs ({len(results)})")
    for column in ("id", "linkers", "strain", "stable", "group", "a conv", "CO2"):
        table.add_column(column, overflow="fold", no_wrap=column != "linkers")
    for r in ranked:
        table.add_row(
            r.mof_id.rsplit("-", 1)[-1],
            r.linkers[0] + (f" + {r.pillar}" if r.pillar else ""),
            _fmt(r.strain),
            "yes" if r.stable else "no",
            r.space_group or "",
            f"{r.conventional_abc[0]:.2f}" if r.conventional_abc else "",
            _fmt(r.uptake_mol_per_kg),
        )
    console.print(table)
    if document and document.plot:
        console.print(f"strain per round: {document.plot}")


def _store(store: str | None, project: str | None):
    """A store spec, or the JobStore of a jobflow-remote project."""
    if project is None:
        return store
    if store is not None:
        raise DiscoverflowError("give either --store or --project, not both")
    from discoverflow.remote import project_jobstore

    return project_jobstore(project)


def _record(campaign, store):
    """The campaign's documents in a store spec (str or None) or a project's JobStore."""
    from jobflow import JobStore

    from discoverflow.campaign import CampaignRecord
    from discoverflow.stores import describe_store, make_store

    job_store = store if isinstance(store, JobStore) else make_store(store)
    record = CampaignRecord(job_store, campaign.name)
    if not record.exists():
        where = "project's store" if isinstance(store, JobStore) else describe_store(store)
        raise DiscoverflowError(f"no results for campaign {campaign.name!r} in the {where}")
    return record


def _print_status(campaign, store) -> None:
    from discoverflow.report import campaign_status

    table = Table(title=f"{campaign.name}: stages")
    for column in ("stage", "state", "detail"):
        table.add_column(column)
    for stage in campaign_status(_record(campaign, store)):
        table.add_row(
            stage.stage,
            "[green]done[/green]" if stage.done else "[yellow]to do[/yellow]",
            stage.detail,
        )
    console.print(table)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _print_results(
    campaign, store, limit: int | None = None, promising_only=False, everything=False
) -> None:
    from discoverflow.report import campaign_results

    rows = campaign_results(_record(campaign, store), everything)
    if promising_only:
        rows = [r for r in rows if r.status in ("on hull", "promising")]
    title = f"{campaign.name}: {'promising ' if promising_only else ''}candidates ({len(rows)})"
    table = Table(title=title)
    for column in (
        "candidate_id",
        "formula",
        "template",
        "Ef pred",
        "Ef relaxed",
        "E hull",
        "status",
    ):
        table.add_column(column, justify="right" if column.startswith("E") else "left")
    for row in rows[:limit] if limit else rows:
        table.add_row(
            row.candidate_id,
            row.formula,
            row.template or "",
            _fmt(row.predicted_formation_energy),
            _fmt(row.relaxed_formation_energy),
            _fmt(row.e_above_hull),
            row.status
            + (f" ({row.reason})" if row.reason and row.status not in ("duplicate",) else ""),
        )
    console.print(table)


def main() -> None:
    """Entry point: one readable line and exit 2 for bad input; tracebacks with --debug."""
    warnings.filterwarnings("ignore")
    logging.getLogger("jobflow").setLevel(logging.WARNING)
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    try:
        code = app(standalone_mode=False)
    except DiscoverflowError as exc:
        if _state["debug"]:
            raise
        error_console.print(f"error: {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        error_console.print("interrupted; run the same command again to resume")
        sys.exit(130)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        if _state["debug"]:
            raise
        error_console.print(f"error: {type(exc).__name__}: {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
