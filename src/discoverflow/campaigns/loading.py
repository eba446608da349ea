"""Any campaign file into its campaign: JSON, ``--set`` overrides, and validation by kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter, ValidationError

from discoverflow.campaigns.base import Campaign
from discoverflow.campaigns.crystal.campaign import CrystalCampaign
from discoverflow.campaigns.mof.campaign import MOFCampaign
from discoverflow.errors import ConfigError

CAMPAIGN_KINDS: dict[str, type[Campaign]] = {
    kind.kind: kind for kind in (CrystalCampaign, MOFCampaign)
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
        | Annotated[MOFCampaign.config_type, Tag(MOFCampaign.kind)],
        Discriminator(campaign_kind),
    ]
)


def format_validation_error(error: ValidationError) -> str:
    """One line per problem: the key path, what is wrong and the offending value."""
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        if location and location[0] in CAMPAIGN_KINDS:
            location = location[1:]  # the union's tag, not a key of the file
        where = ".".join(location) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        elif problem["type"] == "union_tag_invalid":
            where = "workflow"
            message = f"unknown workflow (known: {', '.join(CAMPAIGN_KINDS)})"
        value = problem.get("input")
        shown = json.dumps(value, default=str) if not isinstance(value, dict) else None
        lines.append(f"{where}: {message}" + (f" (got {shown})" if shown else ""))
    return "; ".join(lines)


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

    ``"workflow"`` selects the kind (``crystal`` by default, ``mof``); relative paths in the
    file are made absolute against its folder.
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
