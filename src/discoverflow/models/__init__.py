"""ML plugins: energy models and relax engines, chosen by name through entry points."""

from discoverflow.models.base import EnergyModel, UncertaintyModel
from discoverflow.plugins import available_plugins, load_model, load_relaxer

__all__ = [
    "EnergyModel",
    "UncertaintyModel",
    "available_plugins",
    "load_model",
    "load_relaxer",
]
