"""The campaign JSON file as a validated pydantic model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from discoverflow.core.elements import EXA_AMD_EXCLUDED_ELEMENTS, check_element_symbols
from discoverflow.errors import ConfigError

PositiveInt = Annotated[int, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class InputsConfig(_Section):
    templates: Path | None = Field(
        None,
        description="Folder of template CIFs (substitution) or of candidate structures (user)",
    )
    reference_phases: Path | None = Field(
        None, description="Optional folder of CIFs of known phases added to the hull"
    )


class GenerationConfig(_Section):
    method: str = Field(
        "substitution", description="Generator plugin: substitution, random (pyxtal), user, ..."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Settings of a non-substitution generator"
    )
    lattice_scales: list[Annotated[float, Field(gt=0.5, lt=2.0)]] = Field(
        [0.96, 0.98, 1.00, 1.02, 1.04], min_length=1, description="Lattice-parameter scales"
    )
    volume: Literal["template", "elemental"] = Field(
        "elemental",
        description="Start from the template's volume, or rescale it to the sum of the "
        "substituted elements' atomic volumes before applying the scales",
    )
    excluded_template_elements: list[str] = Field(
        sorted(EXA_AMD_EXCLUDED_ELEMENTS),
        description="Templates containing any of these elements are skipped (exa-AMD's list)",
    )
    symmetry_reduce: bool = Field(True, description="Produce equivalent assignments once")
    primitive: bool = Field(True, description="Reduce templates to primitive cells first")

    @field_validator("excluded_template_elements")
    @classmethod
    def _real_elements(cls, symbols: list[str]) -> list[str]:
        check_element_symbols(symbols)
        return symbols


class ValidityConfig(_Section):
    enabled: bool | None = Field(
        None, description="Filter generated structures (default: on unless substitution)"
    )
    max_elements: PositiveInt = 10
    charge_neutral: bool = True
    reject_p1: bool = True
    symprec: float = Field(0.1, gt=0)
    min_distance: float = Field(0.5, ge=0, description="Closest allowed atoms (A)")
    deduplicate: bool = True


class ScreeningConfig(_Section):
    model: str = Field("chgnet", description="Energy model plugin (entry point name)")
    model_options: dict[str, Any] = Field(default_factory=dict)
    formation_energy_threshold: float = Field(
        -0.2, description="Keep candidates with predicted formation energy below this (eV/atom)"
    )
    max_candidates: PositiveInt | None = Field(
        None, description="Keep at most this many (lowest formation energy first)"
    )
    batch_size: PositiveInt = Field(512, description="Structures per screening job")


class PropertyScreenConfig(_Section):
    model: str = Field("chgnet-magmom", description="Property-model plugin (entry point name)")
    model_options: dict[str, Any] = Field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None


class DedupConfig(_Section):
    enabled: bool = True
    ltol: float = Field(0.2, gt=0)
    stol: float = Field(0.3, gt=0)
    angle_tol: float = Field(5.0, gt=0)


class VaspConfig(_Section):
    incar: dict[str, Any] = Field(
        default_factory=dict,
        description="INCAR keys over exa-AMD's defaults (ENCUT, EDIFFG, NSW, ...)",
    )
    static_incar: dict[str, Any] = Field(default_factory=dict)
    kpoint_density: PositiveInt = Field(64, description="k-points per reciprocal atom volume")
    static: bool = Field(True, description="Recompute the energy statically after relaxing")
    vasp_cmd: str | None = Field(None, description="Default: atomate2's VASP_CMD")
    max_errors: PositiveInt = Field(5, description="Custodian corrections before giving up")
    wall_time: PositiveInt | None = Field(None, description="Seconds; adds a walltime handler")
    max_force_threshold: float = Field(0.25, gt=0)


class RelaxConfig(_Section):
    engine: str = Field("chgnet", description="'vasp' or an ML relax-engine plugin name")
    engine_options: dict[str, Any] = Field(default_factory=dict)
    fmax: float = Field(0.05, gt=0, description="Force convergence criterion (eV/A)")
    steps: PositiveInt = Field(500, description="Maximum optimiser steps")
    relax_cell: bool = True
    batch_size: PositiveInt = Field(16, description="Structures per relaxation job (ML engines)")
    vasp: VaspConfig = Field(default_factory=VaspConfig)


class HullConfig(_Section):
    e_above_hull_threshold: float = Field(
        0.1, ge=0, description="Promising candidates lie within this of the hull (eV/atom)"
    )
    plot: bool = True


class WorkerRoute(_Section):
    worker: str = Field(description="jobflow-remote worker name")
    exec_config: str | None = Field(None, description="A named exec_config of the project")
    resources: dict[str, Any] = Field(
        default_factory=dict, description="Queue resources (qtoolkit QResources keys)"
    )


class ResourcesConfig(_Section):
    gpu: WorkerRoute = Field(
        default_factory=lambda: WorkerRoute(worker="gpu"),
        description="Where ML inference, training and generation jobs run",
    )
    cpu: WorkerRoute = Field(
        default_factory=lambda: WorkerRoute(worker="cpu"),
        description="Where DFT, MD, dedup and hull jobs run",
    )


class CampaignConfig(_Section):
    """A crystal discovery campaign."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Campaign id")
    workflow: Literal["crystal"] = "crystal"
    elements: list[str] = Field(min_length=1, max_length=10)
    inputs: InputsConfig = Field(default_factory=InputsConfig)
    output_dir: Path = Field(Path("results"), description="Promising CIFs and plots go here")
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    validity: ValidityConfig = Field(default_factory=ValidityConfig)
    screening: ScreeningConfig = Field(default_factory=ScreeningConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    property_screen: PropertyScreenConfig | None = Field(
        None, description="Optional surrogate filter on a predicted property before relaxing"
    )
    relax: RelaxConfig = Field(default_factory=RelaxConfig)
    hull: HullConfig = Field(default_factory=HullConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)

    @field_validator("elements")
    @classmethod
    def _distinct_real_elements(cls, symbols: list[str]) -> list[str]:
        check_element_symbols(symbols)
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"repeated element in {symbols}")
        return symbols

    @property
    def validity_enabled(self) -> bool:
        if self.validity.enabled is None:
            return self.generation.method != "substitution"
        return self.validity.enabled

    def resolve_paths(self, base: Path) -> CampaignConfig:
        """Make relative paths absolute against ``base`` (the config file's folder)."""

        def resolve(path: Path | None) -> Path | None:
            if path is None:
                return None
            path = path.expanduser()
            return path if path.is_absolute() else (base / path).resolve()

        self.inputs.templates = resolve(self.inputs.templates)
        self.inputs.reference_phases = resolve(self.inputs.reference_phases)
        self.output_dir = resolve(self.output_dir)
        return self


def _format_location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def format_validation_error(error: ValidationError) -> str:
    """One line per problem: the key path, what is wrong and the offending value."""
    lines = []
    for problem in error.errors():
        where = _format_location(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
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

    ``"workflow": "mof"`` selects a MOFCampaignConfig, anything else a (crystal) CampaignConfig.
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
    model = CampaignConfig
    if data.get("workflow") == "mof":
        from discoverflow.mof_campaign import MOFCampaignConfig

        model = MOFCampaignConfig
    try:
        config = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {format_validation_error(exc)}") from None
    return config.resolve_paths(path.parent.resolve())
