"""User settings from DISCOVERFLOW_* environment variables and ~/.discoverflow.yaml."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CONFIG_FILE = "~/.discoverflow.yaml"

PositiveInt = Annotated[int, Field(gt=0)]


def annotation_name(annotation: Any) -> str:
    """A field's type as a reader writes it (``int | None``, ``list[str]``)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return annotation_name(args[0])
    if origin in (Union, UnionType):
        return " | ".join(annotation_name(a) for a in args)
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None:
        inner = ", ".join(annotation_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return "None" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


def field_parameters(model: type[BaseModel]) -> str:
    """A numpydoc ``Parameters`` section of a model's fields, from their descriptions (a
    section's: the first line of its model's docstring)."""
    lines = ["Parameters", "----------"]
    for name, info in model.model_fields.items():
        text = info.description
        if text is None and isinstance(info.annotation, type) and info.annotation.__doc__:
            text = inspect.cleandoc(info.annotation.__doc__).splitlines()[0].rstrip(".")
        default = ""
        if info.default_factory is None and not info.is_required():
            default = f" (default: {info.default!r})"
        lines.append(f"{name} : {annotation_name(info.annotation)}")
        lines.append(f"    {text or name.replace('_', ' ').capitalize()}{default}.")
    return "\n".join(lines)


class StageSettings(BaseModel):
    """The settings of one stage: a campaign file's section, a Maker's ``settings`` and the
    argument of the core function that does the work, declared once.

    A subclass's docstring gets a numpydoc ``Parameters`` section of its fields (from their
    ``description``) unless it has one, so that each setting is described once."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        doc = inspect.cleandoc(cls.__doc__ or f"The {cls.__name__} settings.")
        if cls.model_fields and "\nParameters\n" not in f"\n{doc}\n":
            cls.__doc__ = f"{doc}\n\n{field_parameters(cls)}\n"


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
