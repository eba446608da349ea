"""The ``discoverflow`` command."""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperCommand, TyperGroup

from discoverflow.errors import DiscoverflowError, NotStarted


class FlagsWithoutValues:
    """Help that shows flags (``--json``, ``--help``) without a ``<bool>`` value."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class Group(FlagsWithoutValues, TyperGroup):
    pass


class Command(FlagsWithoutValues, TyperCommand):
    pass


def commands(help: str) -> typer.Typer:
    return typer.Typer(cls=Group, add_completion=False, no_args_is_help=True, help=help)


app = commands("AI-assisted materials discovery.")
_state = {"debug": False}
UNWRAPPED_WIDTH = 100_000


def make_console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr): as wide as the terminal, or never wrapping when the
    output goes to a file or a pipe, whatever COLUMNS says."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=UNWRAPPED_WIDTH, soft_wrap=True)


def say(*renderables) -> None:
    make_console().print(*renderables)


def complain(message: str) -> None:
    make_console(stderr=True).print(message, highlight=False, soft_wrap=True, markup=False)


ConfigArg = Annotated[Path, typer.Argument(metavar="CONFIG", help="Campaign JSON file")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY.PATH=VALUE",
        help="Override a config value (repeatable; the value is read as JSON when it parses)",
    ),
]
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


def load(config: Path, overrides: list[str] | None):
    from discoverflow.campaigns import load_campaign

    return load_campaign(config, overrides or [])


def campaign_store(store: str | None, config: Path) -> str:
    """The store spec of a campaign: --store, DISCOVERFLOW_STORE, or beside its file."""
    from discoverflow.stores import store_spec

    return store_spec(store, config.expanduser().resolve().parent)


def job_store(store: str | None, project: str | None, config: Path, quiet: bool = False):
    """The JobStore of the campaign's store (said on one line; on stderr when ``quiet``), or
    of a jobflow-remote project. An embedded store that does not exist yet is not made (the
    campaign has not started)."""
    if project is None:
        from discoverflow.stores import describe_store, embedded_folder, make_store

        spec = campaign_store(store, config)
        folder = embedded_folder(spec)
        if folder is not None and not folder.exists():
            raise NotStarted(f"not started: no store at {folder}")
        results = make_store(spec)
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
    campaign = load(config, set_)
    problems = campaign.check_inputs()
    if problems:
        for problem in problems:
            complain(f"error: {problem}")
        raise typer.Exit(2)
    say(f"[green]ok[/green]: {config} ({campaign.name}: {campaign.describe()})")


@app.command(cls=Command)
def run(config: ConfigArg, set_: SetOpt = None, store: StoreOpt = None) -> None:
    """Run (or resume) a campaign locally; results go to the store."""
    from discoverflow.progress import set_reporter
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
    columns = (
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with exclusive_run(spec), Progress(*columns, console=console, transient=False) as progress:
        set_reporter(RichReporter(progress))
        try:
            campaign.run(results)
        finally:
            set_reporter(None)
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
    from discoverflow.remote import submit_campaign

    campaign = load(config, set_)
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

    campaign = load(config, set_)
    results_store = job_store(store, project, config, quiet=as_json or as_csv)
    wanted = ResultFilter(everything, stable, max_ehull, formula, sort)
    if as_json:
        print(json.dumps(campaign.results_json(results_store, wanted), indent=1))
    elif as_csv:
        sys.stdout.write(campaign.results_csv(results_store, wanted))
    else:
        say(*campaign.results_report(results_store, wanted))


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


remote_app = commands("jobflow-remote helpers.")
app.add_typer(remote_app, name="remote")


@remote_app.command("init", cls=Command)
def remote_init(
    name: Annotated[str, typer.Option(help="Project name")] = "discoverflow",
    mongo_uri: Annotated[str, typer.Option(help="MongoDB URI for queue and results")] = (
        "mongodb://localhost:27017"
    ),
    work_dir: Annotated[
        str | None,
        typer.Option(help="Run folder (absolute; default ~/discoverflow-runs for local workers)"),
    ] = None,
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
        Path | None,
        typer.Option(
            help="File to write (default NAME.yaml in $JFREMOTE_PROJECTS_FOLDER, else ~/.jfremote)"
        ),
    ] = None,
) -> None:
    """Write a starter jobflow-remote project: SLURM GPU and CPU workers, MongoDB stores."""
    from discoverflow.remote import write_starter_project

    folder = os.environ.get("JFREMOTE_PROJECTS_FOLDER", str(Path.home() / ".jfremote"))
    path = output or Path(folder).expanduser() / f"{name}.yaml"
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
    say(f"wrote {path}; check it with `jf project check -p {name}`, then `jf runner start`")


def main() -> None:
    """Entry point: one readable line and exit 2 for bad input; tracebacks with --debug."""
    warnings.filterwarnings("ignore")
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
