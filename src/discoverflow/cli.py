"""The ``discoverflow`` command."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from discoverflow.console import (
    Command,
    ConfigArg,
    SetOpt,
    commands,
    complain,
    make_console,
    say,
)
from discoverflow.errors import DiscoverflowError, NotStarted
from discoverflow.remote_cli import remote_app

app = commands("AI-assisted materials discovery.")
_state = {"debug": False}


ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project", metavar="NAME", help="Read from this jobflow-remote project's JobStore"
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="FOLDER|URI|memory",
        help="Store folder, mongodb:// URI or 'memory' (default: DISCOVERFLOW_STORE, else "
        "discoverflow-data beside the campaign file)",
    ),
]


def load(config: Path, overrides: list[str] | None):
    from discoverflow.campaigns import load_campaign

    return load_campaign(config, overrides or [])


def campaign_store(store: str | None, config: Path) -> str:
    """The store spec of a campaign: --store, DISCOVERFLOW_STORE, or beside its file."""
    from discoverflow.locations import store_spec

    return store_spec(store, config.expanduser().resolve().parent)


def job_store(store: str | None, project: str | None, config: Path, quiet: bool = False):
    """The JobStore of the campaign's store (said on one line; on stderr when ``quiet``), or
    of a jobflow-remote project. An embedded store that does not exist yet is not made (the
    campaign has not started)."""
    if project is None:
        from discoverflow.locations import embedded_folder
        from discoverflow.stores import describe_store, make_store

        spec = campaign_store(store, config)
        folder = embedded_folder(spec)
        if folder is not None and not folder.exists():
            raise NotStarted(f"not started: no store at {folder}")
        results = make_store(spec, reading=True)
        make_console(stderr=quiet).print(f"store: {describe_store(spec)}", highlight=False)
        return results
    if store is not None:
        raise DiscoverflowError("give either --store or --project, not both")
    from discoverflow.remote import project_jobstore

    results = project_jobstore(project)
    where = f"project {project}" if project else "default project"
    make_console(stderr=quiet).print(f"store: the JobStore of jobflow-remote's {where}")
    return results


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    _state["debug"] = debug


@app.command(cls=Command)
def validate(config: ConfigArg, set_: SetOpt = None) -> None:
    """Check the config and its inputs without running anything."""
    from discoverflow.campaigns.loading import input_problems, load_config

    campaign_file = load_config(config, set_)
    problems = input_problems(campaign_file)
    if problems:
        for problem in problems:
            complain(f"error: {problem}")
        raise typer.Exit(2)
    say(f"[green]ok[/green]: {config} ({campaign_file.name}: {campaign_file.describe()})")


@app.command(cls=Command)
def run(config: ConfigArg, set_: SetOpt = None, store: StoreOpt = None) -> None:
    """Run (or resume) a campaign locally; results go to the store."""
    from discoverflow.progress_display import run_progress
    from discoverflow.stores import describe_store, exclusive_run, make_store

    campaign = load(config, set_)
    if problems := campaign.check_inputs():
        raise DiscoverflowError(problems[0])
    spec = campaign_store(store, config)
    results = make_store(spec)
    console = make_console()
    console.print(
        f"campaign [bold]{campaign.name}[/bold] ({campaign.describe()}) -> {describe_store(spec)}"
    )
    with exclusive_run(spec), run_progress(console):
        campaign.run(results)
    console.print(*campaign.run_report(results))
    console.print(f"outputs in {campaign.output_dir}")


@app.command(cls=Command)
def submit(
    config: ConfigArg,
    set_: SetOpt = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            metavar="NAME",
            help="jobflow-remote project to submit to (default: jobflow-remote's default)",
        ),
    ] = None,
) -> None:
    """Submit what the campaign still needs to a jobflow-remote project."""
    from discoverflow.campaigns.loading import campaign_of, load_config
    from discoverflow.remote_project import reachable_project

    campaign_file = load_config(config, set_)
    reachable_project(project)  # before the flow machinery loads: one line in seconds if not
    from discoverflow.remote import submit_campaign

    campaign = campaign_of(campaign_file)
    if problems := campaign.check_inputs():
        raise DiscoverflowError(problems[0])
    ids = submit_campaign(campaign, project)
    if not ids:
        say(f"campaign {campaign.name} is complete; nothing to submit")
        return
    say(f"submitted {len(ids)} jobs of campaign {campaign.name} (db ids {ids[0]}...{ids[-1]})")
    say("follow them with `jf job list` and `discoverflow status CONFIG --project ...`")


@app.command(cls=Command)
def status(
    config: ConfigArg, set_: SetOpt = None, store: StoreOpt = None, project: ProjectOpt = None
) -> None:
    """What is done per stage for this campaign, and what a rerun would redo."""
    campaign = load(config, set_)
    try:
        say(*campaign.status_report(job_store(store, project, config)))
    except NotStarted as reason:
        say(f"campaign {campaign.name}: {reason}")


@app.command(cls=Command)
def results(
    config: ConfigArg,
    set_: SetOpt = None,
    store: StoreOpt = None,
    project: ProjectOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="The stored documents as JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Every scalar field as CSV")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Every generated candidate, not only relaxed ones")
    ] = False,
    stable: Annotated[bool, typer.Option("--stable", help="Only those on the hull")] = False,
    max_ehull: Annotated[
        float | None,
        typer.Option("--max-ehull", metavar="EV", help="Only within this of the hull (eV/atom)"),
    ] = None,
    formula: Annotated[
        str | None, typer.Option("--formula", metavar="FORMULA", help="Only this formula")
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            metavar="FIELD",
            help="Order by a document field, -FIELD for descending (e.g. -probability_stable)",
        ),
    ] = None,
) -> None:
    """Candidates (or MOFs) with their predicted and computed values, from the store."""
    from discoverflow.campaigns.base import ResultFilter

    if as_json and as_csv:
        raise DiscoverflowError("give --json or --csv, not both")

    campaign = load(config, set_)
    results_store = job_store(store, project, config, quiet=as_json or as_csv)
    wanted = ResultFilter(everything, stable, max_ehull, formula, sort)
    if as_json:
        print(json.dumps(campaign.results_json(results_store, wanted), indent=1))
    elif as_csv:
        sys.stdout.write(campaign.results_csv(results_store, wanted))
    else:
        say(*campaign.results_report(results_store, wanted))


@app.command(cls=Command)
def report(
    config: ConfigArg,
    set_: SetOpt = None,
    store: StoreOpt = None,
    project: ProjectOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The campaign's summary document as JSON")
    ] = False,
    as_html: Annotated[
        bool, typer.Option("--html", help="Write the campaign's page into its output folder")
    ] = False,
) -> None:
    """The campaign's scorecard: hit rate, and the screen judged by the relaxed results."""
    campaign = load(config, set_)
    summary_store = job_store(store, project, config, quiet=as_json)
    if as_html:
        say(f"campaign page: {campaign.summary_page(summary_store)}")
    if as_json:
        print(json.dumps(campaign.summary_json(summary_store), indent=1))
    elif as_html:
        return
    else:
        say(*campaign.summary_report(summary_store))


config_app = commands("The campaign file's keys.")
app.add_typer(config_app, name="config")


@config_app.command("show", cls=Command)
def config_show(
    kind: Annotated[
        str,
        typer.Argument(metavar="KIND", help="Kind of campaign file: crystal, mof, existing-mofs"),
    ] = "crystal",
    as_json: Annotated[
        bool, typer.Option("--json", help="The JSON schema instead of the annotated defaults")
    ] = False,
) -> None:
    """Every key of a campaign file with its default and description (or its JSON schema)."""
    from discoverflow.campaigns.loading import campaign_schema, default_file

    if as_json:
        print(json.dumps(campaign_schema(kind), indent=1))
    else:
        print(default_file(kind))


app.add_typer(remote_app, name="remote")


def main() -> None:
    """Entry point: one readable line and exit 2 for bad input; tracebacks with --debug."""
    logging.getLogger("jobflow").setLevel(logging.WARNING)
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    try:
        code = app(standalone_mode=False, prog_name="discoverflow")
    except DiscoverflowError as exc:
        if _state["debug"]:
            raise
        complain(f"error: {exc}")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        complain("interrupted; run the same command again to resume")
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: unknown command or option, bad value
        context = getattr(exc, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        complain(f"error: {exc.format_message()}{hint}")
        sys.exit(2)
    except Exception as exc:
        if _state["debug"]:
            raise
        complain(f"error: {type(exc).__name__}: {exc}")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
