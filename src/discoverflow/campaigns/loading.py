"""Any campaign file into its campaign: JSON, ``--set`` overrides, and validation by kind."""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import get_close_matches
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from discoverflow.campaigns.config import CampaignConfigBase
from discoverflow.campaigns.schema import annotated_defaults, close_key
from discoverflow.errors import ConfigError

if TYPE_CHECKING:
    from discoverflow.campaigns.base import Campaign


def imported(path: str) -> Any:
    """The object ``module:name`` names, importing its module."""
    module, name = path.split(":")
    return getattr(import_module(module), name)


@dataclass(frozen=True)
class CampaignKind:
    """A kind of campaign file, each part ``module:name`` imported when a command needs it:
    reading a crystal file loads no MOF science, and reading or checking a file loads neither
    jobflow, the Makers nor the models (seconds of start-up) as running a campaign does."""

    config: str
    """Its file's model."""
    inputs: str
    """Its inputs' check: config -> problems, one line each."""
    campaign: str
    """Its ``Campaign``: runs and reports it."""

    @property
    def config_type(self) -> type[CampaignConfigBase]:
        return imported(self.config)

    def check_inputs(self, config: CampaignConfigBase) -> list[str]:
        return imported(self.inputs)(config)

    def campaign_type(self) -> type[Campaign]:
        return imported(self.campaign)


def kind_modules(package: str, config: str, inputs: str, campaign: str) -> CampaignKind:
    where = f"discoverflow.campaigns.{package}"
    return CampaignKind(
        f"{where}.config:{config}", f"{where}.inputs:{inputs}", f"{where}.campaign:{campaign}"
    )


CAMPAIGN_KINDS: dict[str, CampaignKind] = {
    "crystal": kind_modules("crystal", "CampaignConfig", "check_inputs", "CrystalCampaign"),
    "mof": kind_modules("mof", "MOFCampaignConfig", "check_mof_inputs", "MOFCampaign"),
    "existing-mofs": kind_modules(
        "existing_mofs", "ExistingMOFsConfig", "check_existing_inputs", "ExistingMOFsCampaign"
    ),
}
DEFAULT_KIND = "crystal"


def format_validation_error(error: ValidationError, model: type[CampaignConfigBase]) -> str:
    """One line per problem: the key path, what is wrong and the offending value."""
    lines = []
    for problem in error.errors():
        location = list(problem["loc"])
        where = ".".join(str(part) for part in location) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
            if meant := close_key(model, location):
                message += f"; did you mean {meant!r}?"
        value = problem.get("input")
        shown = json.dumps(value, default=str) if not isinstance(value, dict) else None
        lines.append(f"{where}: {message}" + (f" (got {shown})" if shown else ""))
    return "; ".join(lines)


def unknown_workflow(name: Any) -> str:
    message = f"unknown workflow (known: {', '.join(CAMPAIGN_KINDS)})"
    if meant := get_close_matches(str(name), list(CAMPAIGN_KINDS), n=1):
        message += f"; did you mean {meant[0]!r}?"
    return message


def config_type(workflow: str) -> type[CampaignConfigBase]:
    """The campaign file model of a workflow (crystal, mof, existing-mofs)."""
    if workflow not in CAMPAIGN_KINDS:
        raise ConfigError(f"{workflow!r}: {unknown_workflow(workflow)}")
    return CAMPAIGN_KINDS[workflow].config_type


def campaign_schema(workflow: str = DEFAULT_KIND) -> dict:
    """The JSON schema of a workflow's campaign file."""
    return config_type(workflow).model_json_schema()


def default_file(workflow: str = DEFAULT_KIND) -> str:
    """A workflow's campaign file with every key, its default and its description."""
    return annotated_defaults(config_type(workflow), {"workflow": workflow})


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """``key.path=value`` with the value read as JSON when it parses, else as a string."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {assignment!r}: expected key.path=value")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    for assignment in overrides:
        path, value = parse_override(assignment)
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {assignment!r}: {part} is not a section")
            node = child
        node[path[-1]] = value
    return data


def load_config(path: str | Path, overrides: list[str] | None = None):
    """Read, override and validate a campaign file; raise ConfigError naming each problem.

    ``"workflow"`` selects the kind (``crystal`` by default, ``mof``, ``existing-mofs``);
    relative paths in the file are made absolute against its folder.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    data = apply_overrides(data, overrides or [])
    workflow = data.get("workflow", DEFAULT_KIND)
    if workflow not in CAMPAIGN_KINDS:
        raise ConfigError(f"{path}: workflow: {unknown_workflow(workflow)}")
    model = CAMPAIGN_KINDS[workflow].config_type
    try:
        config = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {format_validation_error(exc, model)}") from None
    return config.resolve_paths(path.parent.resolve())


def input_problems(config: CampaignConfigBase) -> list[str]:
    """What stops a campaign file's inputs from running, one line each (empty when none)."""
    return CAMPAIGN_KINDS[config.workflow].check_inputs(config)


def campaign_of(config: CampaignConfigBase) -> Campaign:
    """The campaign of a loaded file, ready to check, run or report."""
    return CAMPAIGN_KINDS[config.workflow].campaign_type()(config)


def load_campaign(path: str | Path, overrides: list[str] | None = None) -> Campaign:
    """The campaign a file describes, ready to check, run or report."""
    return campaign_of(load_config(path, overrides))
