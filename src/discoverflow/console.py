"""What every command shares: typer groups and commands, consoles, common arguments."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup


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
