"""User settings from DISCOVERFLOW_* environment variables and ~/.discoverflow.yaml."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CONFIG_FILE = "~/.discoverflow.yaml"

PositiveInt = Annotated[int, Field(gt=0)]


class StageSettings(BaseModel):
    """The settings of one stage: a campaign file's section, a Maker's ``settings`` and the
    argument of the core function that does the work, declared once."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DiscoverflowSettings(BaseSettings):
    """Settings read from the environment first, then the YAML file named by
    DISCOVERFLOW_CONFIG_FILE (default ~/.discoverflow.yaml)."""

    model_config = SettingsConfigDict(env_prefix="DISCOVERFLOW_", extra="forbid")

    CONFIG_FILE: str = Field(DEFAULT_CONFIG_FILE, description="YAML file with these settings")
    STORE: str | None = Field(
        None,
        description="Folder of the embedded on-disk store, a mongodb:// URI, or 'memory' "
        "(default: a 'discoverflow-data' folder beside the campaign file)",
    )
    DATABASE: str = Field("discoverflow", description="MongoDB database of a mongodb:// STORE")
    DEVICE: Literal["cpu", "cuda", "mps"] = Field("cpu", description="Torch device for ML models")
    TORCH_THREADS: PositiveInt | None = Field(
        None,
        description="CPU threads per process for torch (default: torch's own, one per core); "
        "1 on nodes shared with other jobs, where more threads than free cores slow CHGNet "
        "down many times",
    )
    DEFAULT_MODEL: str = Field("chgnet", description="Energy model used when a config names none")
    MODEL_DIR: str | None = Field(
        None,
        description="Folder for fine-tuned model files (default: a 'models' folder inside the "
        "embedded store, or ~/.cache/discoverflow/models for MongoDB and memory stores)",
    )

    @model_validator(mode="before")
    @classmethod
    def _load_yaml(cls, values: dict) -> dict:
        config_file = values.get("CONFIG_FILE") or os.environ.get(
            "DISCOVERFLOW_CONFIG_FILE", DEFAULT_CONFIG_FILE
        )
        path = Path(config_file).expanduser()
        if path.is_file():
            file_values = yaml.safe_load(path.read_text()) or {}
            if not isinstance(file_values, dict):
                raise ValueError(f"{path}: expected a mapping of setting names to values")
            file_values = {
                k.upper().removeprefix("DISCOVERFLOW_"): v for k, v in file_values.items()
            }
            return {**file_values, **values}
        return values


def get_settings() -> DiscoverflowSettings:
    """Fresh settings (the environment may change between calls, e.g. in tests)."""
    return DiscoverflowSettings()
