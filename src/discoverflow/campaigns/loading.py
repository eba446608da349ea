"""Any campaign file into its campaign: JSON, ``--set`` overrides, and validation by kind."""

from __future__ import annotations

import json
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter, ValidationError

from discoverflow.campaigns.base import Campaign, CampaignConfigBase
from discoverflow.campaigns.crystal.campaign import CrystalCampaign
from discoverflow.campaigns.existing_mofs.campaign import ExistingMOFsCampaign
from discoverflow.campaigns.mof.campaign import MOFCampaign
from discoverflow.campaigns.schema import annotated_defaults, close_key
from discoverflow.errors import ConfigError

CAMPAIGN_KINDS: dict[str, type[Campaign]] = {
    kind.kind: kind for kind in (CrystalCampaign, MOFCampaign, ExistingMOFsCampaign)
}
DEFAULT_KIND = CrystalCampaign.kind


def campaign_kind(data: Any) -> str:
    """The ``workflow`` key of a campaign file (crystal when absent)."""
    if isinstance(data, dict):
        return data.get("workflow", DEFAULT_KIND)
    return getattr(data, "workflow", DEFAULT_KIND)


CAMPAIGN_FILE = TypeAdapter(
    Annotated[
        Annotated[CrystalCampaign.config_type, Tag(CrystalCampaign.kind)]
        | Annotated[MOFCampaign.config_type, Tag(MOFCampaign.kind)]
        | Annotated[ExistingMOFsCampaign.config_type, Tag(ExistingMOFsCampaign.kind)],
        Discriminator(campaign_kind),
    ]
)


def format_validation_error(error: ValidationError) -> str:
    """One line per problem: the key path, what is wrong and the offending value."""
    lines = []
    for problem in error.errors():
        location = list(problem["loc"])
        kind = DEFAULT_KIND
        if location and location[0] in CAMPAIGN_KINDS:
            kind, location = location[0], location[1:]  # the union's tag, not a key of the file
        where = ".".join(str(part) for part in location) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
            if meant := close_key(CAMPAIGN_KINDS[kind].config_type, location):
                message += f"; did you mean {meant!r}?"
        elif problem["type"] == "union_tag_invalid":
            where = "workflow"
            message = unknown_workflow(problem.get("input", {}).get("workflow"))
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
    try:
        config = CAMPAIGN_FILE.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {format_validation_error(exc)}") from None
    return config.resolve_paths(path.parent.resolve())


def load_campaign(path: str | Path, overrides: list[str] | None = None) -> Campaign:
    """The campaign a file describes, ready to check, run or report."""
    config = load_config(path, overrides)
    return CAMPAIGN_KINDS[config.workflow](config)
