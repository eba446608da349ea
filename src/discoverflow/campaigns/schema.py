"""The keys of a campaign file: an annotated file of defaults, and the key a mistyped one
was meant to be."""

from __future__ import annotations

import json
from difflib import get_close_matches
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

REQUIRED = "<required>"
INDENT = "  "


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's type holds (itself, or inside Optional, list, dict...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in models_in(arg)]


def close_key(model: type[BaseModel], location: list[str | int]) -> str | None:
    """The known key nearest to the unknown one at ``location`` (its last part), if any is
    close: the names of the fields of the section the key is in."""
    models = [model]
    for part in location[:-1]:
        inner = [
            found
            for model in models
            if part in model.model_fields
            for found in models_in(model.model_fields[part].annotation)
        ]
        models = inner or models  # a list index or a dict key stays in the same models
    names = list(dict.fromkeys(name for model in models for name in model.model_fields))
    matches = get_close_matches(str(location[-1]), names, n=1)
    return matches[0] if matches else None


def default_of(field: FieldInfo) -> Any:
    if field.is_required():
        return REQUIRED
    return to_jsonable_python(field.get_default(call_default_factory=True))


def annotated_defaults(model: type[BaseModel], fixed: dict[str, Any]) -> str:
    """Every key of a campaign file with its default and description: JSON with ``//``
    comments (``<required>`` where a key has no default; ``fixed`` values win)."""
    return "\n".join(["{", *section_lines(model, fixed, 1, ""), "}"])


def section_lines(
    model: type[BaseModel], values: dict[str, Any] | None, depth: int, prefix: str
) -> list[str]:
    lines = []
    fields = list(model.model_fields.items())
    for position, (name, field) in enumerate(fields):
        comma = "," if position < len(fields) - 1 else ""
        value = values[name] if values is not None and name in values else default_of(field)
        nested = models_in(field.annotation)
        about = field.description or (nested[0].__doc__ if len(nested) == 1 else None) or ""
        about = " ".join(about.split())
        head = f"{prefix}{INDENT * depth}{json.dumps(name)}: "
        if len(nested) == 1 and isinstance(value, dict):
            lines.append(f"{head}{{  // {about}" if about else f"{head}{{")
            lines += section_lines(nested[0], value, depth + 1, prefix)
            lines.append(f"{prefix}{INDENT * depth}}}{comma}")
        elif len(nested) == 1 and value is None:
            lines.append(f"{head}null{comma}  // {about}; when given, an object of:")
            lines += section_lines(nested[0], None, depth + 1, prefix + "// ")
        else:
            required = value == REQUIRED
            shown = value if required else json.dumps(value)
            notes = "; ".join(note for note in ("required" if required else "", about) if note)
            lines.append(f"{head}{shown}{comma}" + (f"  // {notes}" if notes else ""))
    return lines
