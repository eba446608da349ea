"""Plugins by name: energy and property models, relax engines, structure and linker generators,
each an entry-point group ``discoverflow.*`` (a package registers its own in its metadata)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from discoverflow.errors import DiscoverflowError

MODELS = "discoverflow.models"
RELAXERS = "discoverflow.relaxers"
GENERATORS = "discoverflow.generators"
PROPERTIES = "discoverflow.properties"
LINKER_GENERATORS = "discoverflow.linker_generators"


def available_plugins(group: str) -> list[str]:
    return sorted(ep.name for ep in entry_points(group=group))


def load_plugin(group: str, name: str) -> type:
    matches = [ep for ep in entry_points(group=group) if ep.name == name]
    if not matches:
        known = ", ".join(available_plugins(group)) or "none installed"
        raise DiscoverflowError(f"no plugin named {name!r} in {group} (available: {known})")
    return matches[0].load()


def load_model(name: str, **options: Any):
    """An energy model instance by entry-point name."""
    return load_plugin(MODELS, name)(**options)


def load_relaxer(name: str, **options: Any):
    """A relax engine instance by entry-point name."""
    return load_plugin(RELAXERS, name)(**options)


def load_linker_generator(name: str, **options: Any):
    """A linker generator (``propose``, ``retrain``, ``state``) by entry-point name."""
    return load_plugin(LINKER_GENERATORS, name)(**options)
