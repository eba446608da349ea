"""A crystal discovery campaign file: each section is its stage's settings; an optional
stage's section has an ``enabled`` bool."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from discoverflow.campaigns.config import CampaignConfigBase, resolve_path
from discoverflow.core.crystal.coordinate import CoordinateSettings
from discoverflow.core.crystal.dedup import DedupSettings
from discoverflow.core.crystal.elements import check_element_symbols
from discoverflow.core.crystal.screening import PropertyScreenSettings, ScreeningSettings
from discoverflow.core.crystal.stability import HullSettings
from discoverflow.core.crystal.substitution import SubstitutionSettings
from discoverflow.core.crystal.validity import ValiditySettings
from discoverflow.core.crystal.vasp import VaspSettings
from discoverflow.core.relax import RelaxSettings
from discoverflow.settings import StageSettings


class InputsConfig(StageSettings):
    """The campaign's input structures: templates and known phases."""

    templates: Path | None = Field(
        None,
        description="Folder of template CIFs (substitution) or of candidate structures (user)",
    )
    known_phases: Path | None = Field(
        None,
        description="Known phases on the hull: a JSON list of pymatgen ComputedStructureEntry "
        "(as MPRester.get_entries_in_chemsys returns) or a folder of structure files, with "
        "energies in energies.json or none; relaxed with the campaign's engine unless their "
        "energies come from it",
    )
    reference_phases: Path | None = Field(
        None, description="Folder of structure files of known phases (as known_phases)"
    )


class GenerationConfig(SubstitutionSettings):
    """Substitution's settings, or another generator plugin with its options."""

    method: str = Field(
        "substitution",
        description="Generator plugin: substitution, prototypes (AFLOW library), random "
        "(pyxtal), user, ...",
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Settings of a non-substitution generator"
    )

    def substitution(self) -> SubstitutionSettings:
        return SubstitutionSettings(**self.model_dump(exclude={"method", "options"}))


class ValidityConfig(ValiditySettings):
    """The validity filter's section: its settings and whether it runs. When the file does
    not say, ``enabled`` is on for every ``generation.method`` except ``substitution`` (whose
    candidates are decorations of known structures); the loaded config holds that bool."""

    enabled: bool = Field(
        False,
        description="Filter generated structures (when not given: on unless "
        "generation.method is substitution, the default method)",
    )


class DedupConfig(DedupSettings):
    """The deduplication's section: its settings and whether it runs (default: on)."""

    enabled: bool = Field(True, description="Remove near-duplicates among screened candidates")


class PropertyScreenConfig(PropertyScreenSettings):
    """The property screen's section: its window and whether it runs (on when the file has
    this section and does not say otherwise; off without the section)."""

    enabled: bool = Field(
        True,
        description="Filter on a predicted property before relaxing (off without this section)",
    )


def property_screen_off() -> PropertyScreenConfig:
    return PropertyScreenConfig(enabled=False)


class RelaxConfig(RelaxSettings):
    """The relaxation's section: an ML engine's settings, VASP's, or any atomate2 Maker, and
    the pattern (relax every selected candidate, or coordinate)."""

    pattern: Literal["relax", "coordinate"] = Field(
        "relax",
        description="'relax': relax every selected candidate; 'coordinate': look it up among "
        "computed results, else predict it with relax.coordinate.model and relax it (with "
        "this engine) only when the model's spread is above the threshold, fine-tuning the "
        "model on those relaxations",
    )
    coordinate: CoordinateSettings = Field(
        default_factory=CoordinateSettings, description="Settings of the coordinate pattern"
    )
    vasp: VaspSettings = Field(
        default_factory=VaspSettings, description="Settings of the 'vasp' engine"
    )
    maker: dict[str, Any] | None = Field(
        None,
        description="Instead of a named engine: any jobflow Maker taking one structure and "
        "returning an atomate2 task document, as its MSONable dict (@module, @class, fields), "
        "e.g. atomate2.forcefields.jobs.ForceFieldRelaxMaker; one job per structure",
    )

    def ml(self) -> RelaxSettings:
        return RelaxSettings(**self.model_dump(include=set(RelaxSettings.model_fields)))


class CampaignConfig(CampaignConfigBase):
    """A crystal discovery campaign."""

    workflow: Literal["crystal"] = Field("crystal", description="The campaign kind")
    elements: list[str] = Field(
        min_length=1, max_length=10, description="The chemical system's elements (1 to 10)"
    )
    inputs: InputsConfig = Field(default_factory=InputsConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    validity: ValidityConfig = Field(default_factory=ValidityConfig)
    screening: ScreeningSettings = Field(default_factory=ScreeningSettings)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    property_screen: PropertyScreenConfig = Field(
        default_factory=property_screen_off,
        description="Optional surrogate filter on a predicted property before relaxing",
    )
    relax: RelaxConfig = Field(default_factory=RelaxConfig)
    hull: HullSettings = Field(default_factory=HullSettings)

    @field_validator("elements")
    @classmethod
    def distinct_real_elements(cls, symbols: list[str]) -> list[str]:
        check_element_symbols(symbols)
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"repeated element in {symbols}")
        return symbols

    def describe(self) -> str:
        return "-".join(self.elements)

    @model_validator(mode="after")
    def validity_by_generation_method(self) -> CampaignConfig:
        """``validity.enabled``, when the file does not say, from ``generation.method``."""
        if "enabled" not in self.validity.model_fields_set:
            self.validity.enabled = self.generation.method != "substitution"
        return self

    def resolve_paths(self, base: Path) -> CampaignConfig:
        super().resolve_paths(base)
        self.inputs.templates = resolve_path(self.inputs.templates, base)
        self.inputs.reference_phases = resolve_path(self.inputs.reference_phases, base)
        self.inputs.known_phases = resolve_path(self.inputs.known_phases, base)
        return self
