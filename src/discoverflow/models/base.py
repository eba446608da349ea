"""The small protocols a model or relax-engine plugin implements."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from pymatgen.core import Structure

from discoverflow.settings import get_settings


def configure_torch() -> None:
    """Apply DISCOVERFLOW_TORCH_THREADS (if set) before a model runs."""
    threads = get_settings().TORCH_THREADS
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


@runtime_checkable
class EnergyModel(Protocol):
    """Predicts total energy per atom (eV/atom) for a batch of structures.

    Attributes
    ----------
    name
        The model's name and version, recorded with its predictions.
    """

    name: str

    def predict_energy_per_atom(self, structures: Sequence[Structure]) -> np.ndarray:
        """Total energy per atom of each structure (eV/atom).

        Parameters
        ----------
        structures
            The structures, evaluated as given (no relaxation).

        Returns
        -------
        numpy.ndarray
            One energy per structure.
        """
        ...


@runtime_checkable
class UncertaintyModel(EnergyModel, Protocol):
    """An energy model that also reports a standard deviation per structure (eV/atom)."""

    def predict_with_uncertainty(
        self, structures: Sequence[Structure]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Energy per atom of each structure and its standard deviation (both eV/atom).

        Parameters
        ----------
        structures
            The structures, evaluated as given.

        Returns
        -------
        tuple of numpy.ndarray
            The means and the standard deviations, one per structure.
        """
        ...


@runtime_checkable
class PropertyModel(Protocol):
    """Predicts one property per structure (surrogate screening beyond energy).

    Attributes
    ----------
    name
        The model's name and version.
    property_name
        The property it predicts (a document field name).
    unit
        Its unit.
    """

    name: str
    property_name: str
    unit: str

    def predict(self, structures: Sequence[Structure]) -> np.ndarray:
        """The property of each structure, in ``unit``.

        Parameters
        ----------
        structures
            The structures.

        Returns
        -------
        numpy.ndarray
            One value per structure.
        """
        ...


@runtime_checkable
class FineTunable(Protocol):
    """A model that trains a copy of itself on new energies and says how to load the copy."""

    def finetuned(
        self,
        structures: Sequence[Structure],
        energies_per_atom: Sequence[float],
        epochs: int,
        learning_rate: float,
        stem: Path,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Train a copy, save it in files named ``<stem>.*`` and return the model options
        (merged into this model's own) that load the copy."""
        ...
